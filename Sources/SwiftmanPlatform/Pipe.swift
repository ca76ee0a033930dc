import CSwiftman

/// A pipe: both ends close-on-exec.
public struct Pipe: Sendable {
    public let readEnd: FileDescriptor
    public let writeEnd: FileDescriptor

    /// pipe2(O_CLOEXEC); the read end also non-blocking when asked.
    public static func make(nonBlockingRead: Bool) throws(Errno) -> Pipe {
        var fds: [Int32] = [-1, -1]
        try check(sm_pipe(&fds, nonBlockingRead ? 1 : 0))
        return Pipe(readEnd: FileDescriptor(rawValue: fds[0]), writeEnd: FileDescriptor(rawValue: fds[1]))
    }
}
