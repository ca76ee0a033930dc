import Glibc

/// Minimal file access without Foundation.
public enum FileSystem {
    /// Reads a whole file.
    public static func read(_ path: String) throws(Errno) -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { fd.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }.get()
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Opens `path` for reading (without blocking on a FIFO that has no
    /// writer when `nonBlocking`) and says what it is. The caller closes it.
    public static func openForReading(_ path: String, nonBlocking: Bool) throws(Errno) -> (FileDescriptor, FileStatus) {
        let fd = try FileDescriptor.open(path, .readOnly, options: nonBlocking ? [.nonBlocking] : [])
        do throws(Errno) {
            return (fd, try fd.status())
        } catch {
            fd.close()
            throw error
        }
    }

    /// Reads `fd` to its end, at most `limit` bytes: nil when it holds more.
    /// A non-blocking descriptor (a FIFO opened so) is switched to blocking first.
    public static func readAll(_ fd: FileDescriptor, limit: Int) throws(Errno) -> [UInt8]? {
        let flags = fcntl(fd.rawValue, F_GETFL)
        if flags >= 0 && flags & O_NONBLOCK != 0 { _ = fcntl(fd.rawValue, F_SETFL, flags & ~O_NONBLOCK) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }.get()
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit { return nil }
        }
    }

    /// Creates or replaces the file at `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws(Errno) {
        let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate])
        defer { fd.close() }
        try fd.writeAll(bytes)
    }

    /// mkdir(2) of one directory (EEXIST when something is there).
    public static func makeDirectory(_ path: String, permissions: UInt32) throws(Errno) {
        try check(mkdir(path, mode_t(permissions)))
    }

    /// rename(2): `to` is replaced if it exists.
    public static func rename(_ from: String, to: String) throws(Errno) {
        try check(Glibc.rename(from, to))
    }

    /// unlink(2).
    public static func remove(_ path: String) throws(Errno) {
        try check(unlink(path))
    }

    /// stat(2), or lstat(2) when `followingLinks` is false (a symbolic link
    /// is then described, not where it points).
    public static func status(_ path: String, followingLinks: Bool = true) throws(Errno) -> FileStatus {
        var st = stat()
        try check(followingLinks ? stat(path, &st) : lstat(path, &st))
        return FileStatus(st)
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        (try? status(path))?.kind == .directory
    }

    /// The directory part of a path ("." when there is none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `path` joined to `base` unless it is already absolute.
    public static func join(_ base: String, _ path: String) -> String {
        if path.hasPrefix("/") || base.isEmpty || base == "." { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    /// The current working directory.
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The canonical absolute path (symlinks resolved), or nil when it does not exist.
    public static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// An absolute form of `path` (lexical; symlinks untouched).
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : join(currentDirectory(), path)
    }
}

/// What stat(2) says about a file, as far as swiftman asks.
public struct FileStatus: Equatable, Sendable {
    public enum Kind: Sendable { case regular, directory, symbolicLink, socket, fifo, other }

    public let kind: Kind
    /// The permission bits (mode & 07777).
    public let permissions: UInt32
    public let owner: UserID
    /// Device and inode: the file's identity.
    public let device: UInt64
    public let inode: UInt64
    /// Bytes (st_size).
    public let size: Int

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        case S_IFSOCK: kind = .socket
        case S_IFIFO: kind = .fifo
        default: kind = .other
        }
        permissions = UInt32(st.st_mode & 0o7777)
        owner = UserID(rawValue: st.st_uid)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int(st.st_size)
    }

    /// The same file (device and inode).
    public func isSameFile(as other: FileStatus) -> Bool {
        device == other.device && inode == other.inode
    }
}
