import Glibc
import CSwiftman

/// Unix stream sockets at a path (the control socket): the server's
/// listening socket and its clients, and a client's connection. Every
/// descriptor is close-on-exec.
public enum UnixSocket {
    /// A listening socket at `path`, non-blocking, created with mode 0600
    /// (no moment in which others could connect). ENAMETOOLONG when the path
    /// does not fit in a socket address.
    public static func listen(at path: String, backlog: Int32) throws(Errno) -> FileDescriptor {
        let fd = sm_unix_listen(path, backlog)
        if fd < 0 { throw Errno.current }
        return FileDescriptor(rawValue: fd)
    }

    /// The next waiting connection (non-blocking) and the uid of the process
    /// that made it (SO_PEERCRED). `.wouldBlock` when none is waiting.
    public static func accept(_ listener: FileDescriptor) throws(Errno) -> (connection: FileDescriptor, peer: UserID) {
        var uid: uid_t = 0
        let fd = try retryingInterrupts { sm_accept(listener.rawValue, &uid) }
        return (FileDescriptor(rawValue: fd), UserID(rawValue: uid))
    }

    /// A blocking connection to the socket at `path`; reads and writes on it
    /// fail with `.wouldBlock` after `timeoutMilliseconds` (see
    /// `clearTimeouts`).
    public static func connect(to path: String, timeoutMilliseconds: Int32) throws(Errno) -> FileDescriptor {
        let fd = sm_unix_connect(path, timeoutMilliseconds)
        if fd < 0 { throw Errno.current }
        return FileDescriptor(rawValue: fd)
    }
}

extension FileDescriptor {
    /// The uid of the process at the other end of this Unix socket (SO_PEERCRED).
    public func peerUser() throws(Errno) -> UserID {
        var uid: uid_t = 0
        try check(sm_peer_uid(rawValue, &uid))
        return UserID(rawValue: uid)
    }

    /// send(2), never raising SIGPIPE (EPIPE instead); with `nonBlocking`,
    /// MSG_DONTWAIT: a descriptor whose open file description is shared (and
    /// must stay blocking for the others) is written without waiting.
    @inlinable
    public func send(_ bytes: UnsafeRawBufferPointer, nonBlocking: Bool = false) throws(Errno) -> Int {
        try retryingInterrupts {
            nonBlocking ? sm_send_nonblocking(rawValue, bytes.baseAddress, bytes.count)
                : Glibc.send(rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        }
    }

    /// Sends every byte (a blocking socket).
    public func sendAll(_ bytes: [UInt8]) throws(Errno) {
        var sent = 0
        while sent < bytes.count {
            sent += try bytes.withUnsafeBytes { raw in
                Result { () throws(Errno) in try send(UnsafeRawBufferPointer(rebasing: raw[sent...])) }
            }.get()
        }
    }

    /// recv(2); with `nonBlocking`, MSG_DONTWAIT.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, nonBlocking: Bool = false) throws(Errno) -> Int {
        try retryingInterrupts { recv(rawValue, buffer.baseAddress, buffer.count, nonBlocking ? Int32(MSG_DONTWAIT) : 0) }
    }

    /// Lifts the send and receive timeouts `UnixSocket.connect` set.
    public func clearTimeouts() {
        var none = timeval()
        setsockopt(rawValue, SOL_SOCKET, SO_RCVTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(rawValue, SOL_SOCKET, SO_SNDTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The socket's pending error (SO_ERROR): nil once a non-blocking
    /// connect has succeeded.
    public var pendingError: Errno? {
        let code = sm_socket_error(rawValue)
        return code == 0 ? nil : Errno(code)
    }
}

/// TCP, for `port` readiness checks.
public enum TCPSocket {
    /// A non-blocking connection to 127.0.0.1:`port`: connected at once, or in
    /// progress (poll for writable, then check `pendingError`).
    public static func connectLocal(port: Int) throws(Errno) -> (socket: FileDescriptor, connected: Bool) {
        var connected: Int32 = 0
        let fd = sm_tcp_connect_local(Int32(port), &connected)
        if fd < 0 { throw Errno.current }
        return (FileDescriptor(rawValue: fd), connected == 1)
    }
}
