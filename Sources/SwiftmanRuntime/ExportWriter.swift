import SwiftmanModel
import SwiftmanPlatform

extension Exporter {
    /// Creates `dir` (and parents) and writes each file, replacing what is
    /// there. Files of an earlier export that this one no longer names are kept.
    public static func write(_ files: [ExportedFile], to dir: String) throws(Diagnostic) {
        try makeDirectories(dir)
        for file in files {
            guard !file.path.hasPrefix("/"), !file.path.split(separator: "/").contains("..") else {
                throw Diagnostic(file.path, "refusing to write outside \(dir)")
            }
            let path = FileSystem.join(dir, file.path)
            try makeDirectories(FileSystem.directory(of: path))
            try writeFile(path, Array(file.contents.utf8))
        }
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(Diagnostic) {
        if path.isEmpty || FileSystem.isDirectory(path) { return }
        let parent = FileSystem.directory(of: path)
        if parent != path { try makeDirectories(parent) }
        do throws(Errno) {
            try FileSystem.makeDirectory(path, permissions: 0o777)
        } catch where !(error == .exists && FileSystem.isDirectory(path)) {
            throw Diagnostic(path, "cannot create directory: \(error)")
        } catch {}
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(Diagnostic) {
        do throws(Errno) {
            try FileSystem.write(bytes, to: path)
        } catch {
            throw Diagnostic(path, "cannot write: \(error)")
        }
    }
}
