import Glibc

/// An error number from a system call, as a value: what every call of this
/// target that can fail throws (typed, so no existential box) or returns.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    @inlinable public init(_ rawValue: Int32) { self.rawValue = rawValue }
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }
    /// The calling thread's errno now.
    @inlinable public static var current: Errno { Errno(errno) }
    /// strerror: `No such file or directory`.
    public var description: String { errnoDescription(rawValue) }
    @inlinable public static func == (a: Errno, b: Errno) -> Bool { a.rawValue == b.rawValue }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    @inlinable public static var interrupted: Errno { Errno(EINTR) }
    /// EAGAIN (the same number as EWOULDBLOCK on Linux): a non-blocking call
    /// that would have waited.
    @inlinable public static var wouldBlock: Errno { Errno(EAGAIN) }
    @inlinable public static var noEntry: Errno { Errno(ENOENT) }
    /// ESRCH: no such process (or process group).
    @inlinable public static var noSuchProcess: Errno { Errno(ESRCH) }
    @inlinable public static var exists: Errno { Errno(EEXIST) }
    @inlinable public static var connectionRefused: Errno { Errno(ECONNREFUSED) }
    @inlinable public static var connectionReset: Errno { Errno(ECONNRESET) }
    @inlinable public static var brokenPipe: Errno { Errno(EPIPE) }
    @inlinable public static var ioError: Errno { Errno(EIO) }
    @inlinable public static var argumentListTooLong: Errno { Errno(E2BIG) }
    @inlinable public static var isADirectory: Errno { Errno(EISDIR) }
}

/// strerror(errno) as a Swift string.
public func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// The result of a call that returns -1 and sets errno on failure, retried
/// while it is interrupted by a signal.
@inlinable @inline(__always)
func retryingInterrupts<T: FixedWidthInteger>(_ call: () -> T) throws(Errno) -> T {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = errno
        if code != EINTR { throw Errno(code) }
    }
}

/// A call's -1 (errno set) as a thrown error.
@inlinable @inline(__always)
func check(_ result: Int32) throws(Errno) {
    if result < 0 { throw Errno.current }
}
