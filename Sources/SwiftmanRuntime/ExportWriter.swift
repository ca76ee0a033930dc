import Glibc
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
        if mkdir(path, 0o777) != 0 && !(errno == EEXIST && FileSystem.isDirectory(path)) {
            throw Diagnostic(path, "cannot create directory: \(errnoDescription())")
        }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(Diagnostic) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        if fd < 0 { throw Diagnostic(path, "cannot write: \(errnoDescription())") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Diagnostic(path, "cannot write: \(errnoDescription())")
            }
            offset += n
        }
    }
}
