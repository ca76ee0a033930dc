import SwiftmanModel
import SwiftmanPlatform

/// `start --log-dir DIR`: each instance's lines, as it printed them, appended
/// to `DIR/TYPE.N.log`; a file that would grow past `rotateBytes` becomes
/// `TYPE.N.log.1` (replacing the older one) and a new file begins. Each file
/// is opened once (a regular file: writes never wait) and kept open. A write
/// that fails drops that file, with one `system` notice (given by the loop,
/// not from inside the framer).
public final class LogDirectory: LineSink, EventSource {
    /// The default rotation size: 10 MiB.
    static let defaultRotateBytes = 10 << 20
    private static let newline: [UInt8] = [10]

    private final class File {
        let name: String
        let path: String
        var fd: FileDescriptor?
        var size: Int
        init(name: String, path: String, fd: FileDescriptor, size: Int) {
            self.name = name
            self.path = path
            self.fd = fd
            self.size = size
        }
    }

    let directory: String
    let rotateBytes: Int
    /// The flag or variable that named the directory, for errors.
    let source: String
    private var files: [File?] = []
    private var idByName: [String: Int] = [:]
    private var notes: [String] = []
    var onNote: ((String) -> Void)?

    /// Creates `directory` (and its parents) if needed and opens the file of
    /// every instance in `names`.
    init(directory: String, rotateBytes: Int, source: String, names: [String]) throws(Diagnostic) {
        self.directory = directory
        self.rotateBytes = max(1, rotateBytes)
        self.source = source
        try LogDirectory.makeDirectories(directory, source: source)
        for name in names {
            do throws(Failure) {
                _ = try open(name)
            } catch {
                throw Diagnostic(source, "cannot open \(path(of: name)): \(error)")
            }
        }
    }

    deinit {
        for file in files { file?.fd?.close() }
    }

    /// `directory` and its missing parents, like mkdir -p.
    public static func makeDirectories(_ directory: String, source: String) throws(Diagnostic) {
        if FileSystem.isDirectory(directory) { return }
        var path = ""
        for component in directory.split(separator: "/", omittingEmptySubsequences: true) {
            path += (path.isEmpty && !directory.hasPrefix("/") ? "" : "/") + component
            if FileSystem.isDirectory(path) { continue }
            do throws(Errno) {
                try FileSystem.makeDirectory(path, permissions: 0o755)
            } catch {
                if error == .exists && FileSystem.isDirectory(path) { continue }
                if error == .exists { throw Diagnostic(source, "cannot create directory \(directory): \(path) is not a directory") }
                throw Diagnostic(source, "cannot create directory \(path): \(error)")
            }
        }
        if !FileSystem.isDirectory(directory) { throw Diagnostic(source, "\(directory) is not a directory") }
    }

    func path(of name: String) -> String { FileSystem.join(directory, name + ".log") }

    /// Opens (appending) the file of instance `name`: its id.
    private func open(_ name: String) throws(Failure) -> Int {
        if let id = idByName[name], files[id]?.fd != nil { return id }
        let path = self.path(of: name)
        let (fd, size) = try LogDirectory.openFile(path)
        let file = File(name: name, path: path, fd: fd, size: size)
        if let id = idByName[name] {
            files[id] = file
            return id
        }
        files.append(file)
        idByName[name] = files.count - 1
        return files.count - 1
    }

    /// A regular file opened to append (created 0644), and its size. A FIFO
    /// or a device would make writes wait: refused.
    private static func openFile(_ path: String) throws(Failure) -> (FileDescriptor, Int) {
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .append, .nonBlocking], permissions: 0o644)
        } catch { throw .errno(error) }
        let status: FileStatus
        do throws(Errno) { status = try fd.status() } catch {
            fd.close()
            throw .errno(error)
        }
        guard status.kind == .regular else {
            fd.close()
            throw .notRegular
        }
        return (fd, status.size)
    }

    enum Failure: Error, CustomStringConvertible {
        case errno(Errno)
        case notRegular
        var description: String {
            switch self {
            case .errno(let errno): return errno.description
            case .notRegular: return "not a regular file"
            }
        }
    }

    // MARK: LineSink

    public func addLabel(name: String) -> Int {
        if let id = idByName[name] { return id }
        do throws(Failure) {
            return try open(name)
        } catch {
            // An instance added later (scale) whose file cannot be opened.
            files.append(nil)
            idByName[name] = files.count - 1
            notes.append("log-dir: cannot open \(path(of: name)) (\(error)); \(name)'s lines are not logged")
            return files.count - 1
        }
    }

    public func write(label: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int) {
        guard label >= 0, label < files.count, let file = files[label], let fd = file.fd, count > 0 else { return }
        let newline = bytes[count - 1] != 10
        let total = count + (newline ? 1 : 0)
        var target = fd
        do throws(Failure) {
            if file.size > 0 && file.size + total > rotateBytes {
                fd.close()
                file.fd = nil
                do throws(Errno) { try FileSystem.rename(file.path, to: file.path + ".1") } catch { throw .errno(error) }
                let (fresh, size) = try LogDirectory.openFile(file.path)
                file.fd = fresh
                file.size = size
                target = fresh
            }
            do throws(Errno) {
                try target.writeAll(UnsafeRawBufferPointer(start: bytes, count: count))
                if newline { try target.writeAll(LogDirectory.newline) }
            } catch { throw .errno(error) }
            file.size += total
        } catch {
            file.fd?.close()
            file.fd = nil
            files[label] = nil
            notes.append("log-dir: cannot write \(file.path) (\(error)); \(file.name)'s lines are no longer logged")
        }
    }

    // MARK: EventSource (the notices, once the framer is done)

    func register(in set: inout PollSet, now: Int64) {}
    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {}
    var nextDeadline: Int64? { notes.isEmpty ? nil : 0 }
    func due(now: Int64) {
        guard !notes.isEmpty else { return }
        let pending = notes
        notes.removeAll()
        for note in pending { onNote?(note) }
    }
}
