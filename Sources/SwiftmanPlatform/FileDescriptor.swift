import Glibc
import CSwiftman

/// An open file descriptor, as a value (swift-system's shape): the number and
/// the calls that take one. Failures are thrown as `Errno` (typed: nothing is
/// boxed); a call interrupted by a signal is retried. Nothing closes a
/// descriptor for you: whoever opened it calls `close()`.
///
/// The calls on the relay path (`read(into:)`, `write(_:)`) are inlined into
/// their callers: one system call and an errno check, as written by hand.
public struct FileDescriptor: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }

    @inlinable public static var standardInput: FileDescriptor { FileDescriptor(rawValue: 0) }
    @inlinable public static var standardOutput: FileDescriptor { FileDescriptor(rawValue: 1) }
    @inlinable public static var standardError: FileDescriptor { FileDescriptor(rawValue: 2) }

    public var description: String { "fd \(rawValue)" }

    // Spelled out so that they inline across modules: descriptors key the
    // relay path's dictionaries.
    @inlinable public static func == (a: FileDescriptor, b: FileDescriptor) -> Bool { a.rawValue == b.rawValue }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

// MARK: opening and closing

extension FileDescriptor {
    public enum AccessMode: Sendable {
        case readOnly, writeOnly, readWrite

        var flags: Int32 {
            switch self {
            case .readOnly: return O_RDONLY
            case .writeOnly: return O_WRONLY
            case .readWrite: return O_RDWR
            }
        }
    }

    /// open(2) flags beyond the access mode; O_CLOEXEC is always set.
    public struct OpenOptions: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let create = OpenOptions(rawValue: O_CREAT)
        public static let truncate = OpenOptions(rawValue: O_TRUNC)
        /// O_APPEND: every write goes to the end of the file.
        public static let append = OpenOptions(rawValue: O_APPEND)
        /// Fails (ELOOP) when the last component is a symbolic link.
        public static let noFollow = OpenOptions(rawValue: O_NOFOLLOW)
        /// O_NONBLOCK: opening a FIFO does not wait for its other end.
        public static let nonBlocking = OpenOptions(rawValue: O_NONBLOCK)
    }

    /// open(2), close-on-exec. `permissions` apply when the file is created.
    public static func open(_ path: String, _ mode: AccessMode, options: OpenOptions = [],
                            permissions: UInt32 = 0o666) throws(Errno) -> FileDescriptor {
        let flags = mode.flags | options.rawValue | O_CLOEXEC
        let fd = try retryingInterrupts { Glibc.open(path, flags, mode_t(permissions)) }
        return FileDescriptor(rawValue: fd)
    }

    /// close(2). Its errors are not reported: the number is released either way.
    @inlinable public func close() {
        _ = Glibc.close(rawValue)
    }

    /// A private non-blocking re-open of swiftman's stdin when it is a pipe
    /// or a terminal: a new open file description (through /proc), so
    /// O_NONBLOCK never leaks into the one the caller shares. Nil otherwise.
    public static func reopenStandardInputNonBlocking() -> FileDescriptor? {
        let fd = sm_reopen_stdin_nonblocking()
        return fd >= 0 ? FileDescriptor(rawValue: fd) : nil
    }

    /// The same for stdout (a write descriptor).
    public static func reopenStandardOutputNonBlocking() -> FileDescriptor? {
        let fd = sm_reopen_stdout_nonblocking()
        return fd >= 0 ? FileDescriptor(rawValue: fd) : nil
    }
}

// MARK: reading and writing

extension FileDescriptor {
    /// read(2) once: the number of bytes read, 0 at end of file.
    @inlinable @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try retryingInterrupts { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// write(2) once: the number of bytes written (perhaps fewer than given).
    @inlinable @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try retryingInterrupts { Glibc.write(rawValue, bytes.baseAddress, bytes.count) }
    }

    /// writev(2) of two buffers (a header and its payload) in one call.
    @inlinable
    public func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try retryingInterrupts {
            var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
                           iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count))
            return withUnsafeBytes(of: &vectors) { raw in
                Glibc.writev(rawValue, raw.baseAddress!.assumingMemoryBound(to: iovec.self), 2)
            }
        }
    }

    /// Writes every byte, however many calls it takes (a blocking descriptor).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            offset += try write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws(Errno) {
        try bytes.withUnsafeBytes { raw in Result { () throws(Errno) in try writeAll(raw) } }.get()
    }

    public func writeAll(_ text: String) throws(Errno) {
        var text = text
        try text.withUTF8 { utf8 in Result { () throws(Errno) in try writeAll(UnsafeRawBufferPointer(utf8)) } }.get()
    }
}

// MARK: properties of the open file

extension FileDescriptor {
    /// Sets O_NONBLOCK on the open file description (shared with every copy
    /// of the descriptor: only for descriptions that are ours alone).
    public func setNonBlocking() throws(Errno) {
        try check(sm_set_nonblocking(rawValue))
    }

    /// Bytes waiting to be read (FIONREAD), or 0.
    public var bytesReadable: Int { Int(sm_bytes_readable(rawValue)) }

    /// Whether it is a socket (stdout under systemd's journal, a socketpair).
    public var isSocket: Bool { sm_is_socket(rawValue) != 0 }

    /// Whether it is a terminal.
    public var isTerminal: Bool { isatty(rawValue) == 1 }

    /// flock(LOCK_EX | LOCK_NB): false when another open file holds the lock.
    public func tryLock() throws(Errno) -> Bool {
        if sm_flock_nb(rawValue) == 0 { return true }
        let error = Errno.current
        if error == .wouldBlock { return false }
        throw error
    }

    /// fstat(2).
    public func status() throws(Errno) -> FileStatus {
        var st = stat()
        try check(fstat(rawValue, &st))
        return FileStatus(st)
    }
}
