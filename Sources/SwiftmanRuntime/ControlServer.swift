import SwiftmanModel
import SwiftmanPlatform
import Glibc
import CSwiftman

/// The control socket of a running `swiftman start`, served by the event loop
/// without ever blocking it: every client is non-blocking, a request must
/// arrive whole within `requestTimeout` and fit in `ControlRequest.maxLength`,
/// and past `maxClients` new connections are closed at once. Only our own uid
/// (SO_PEERCRED) is served.
final class ControlServer {
    let path: String
    let listenFD: Int32
    static let maxClients = 32
    static let requestTimeout: Int64 = 5_000_000_000

    private final class Client {
        var input: [UInt8] = []
        var output: [UInt8] = []
        var written = 0
        let deadline: Int64
        init(deadline: Int64) { self.deadline = deadline }
        var replying: Bool { !output.isEmpty }
    }
    private var clients: [Int32: Client] = [:]
    private let uid = getuid()
    /// Takes over the connection of an `attach` request (with the bytes read
    /// past its request line): nil once it owns the descriptor, else the
    /// error reply to send. Without it `attach` is refused.
    var adopt: ((_ request: ControlRequest, _ fd: Int32, _ extra: [UInt8]) -> ControlReply?)?

    /// Held for the formation's life: only its holder may replace or remove
    /// the socket.
    private let lock: SocketLock
    /// The socket file we bound, to remove it at exit only if it is still ours.
    private var boundFile: (dev: UInt, ino: UInt)?

    /// Opens the socket at `path`, creating and checking its private
    /// directory (`defaultDirectory`: the directory of a derived path). Under
    /// the lock `PATH.lock`: a socket that accepts connections (a swiftman,
    /// even a stopped one, or another program) is never touched, and is an
    /// error naming it; only one that refuses connections (left by a killed
    /// run) is replaced.
    init(path: String, defaultDirectory: String?) throws(Diagnostic) {
        self.path = path
        try ControlSocketSafety.validateExplicit(path)
        if let dir = defaultDirectory { try ControlSocketSafety.preparePrivateDirectory(dir) }
        guard let lock = try SocketLock.acquire(path + ".lock") else {
            switch ControlSocketSafety.probe(path) {
            case .swiftman(let pid, let root): throw ControlServer.alreadyRunning(path, pid: pid, root: root)
            default: throw Diagnostic(path, "another swiftman holds this control socket (\(path).lock is locked): it is starting, stopping, or stopped (Ctrl-Z: continue it with fg); stop it first, or use --socket for a second formation")
            }
        }
        self.lock = lock
        switch ControlSocketSafety.probe(path) {
        case .absent: break
        case .stale: unlink(path)  // left by a run that was killed: nobody listens
        case .swiftman(let pid, let root): throw ControlServer.alreadyRunning(path, pid: pid, root: root)
        case .symlink: throw Diagnostic(path, "is a symbolic link; give the socket's own path (swiftman never binds through a symlink)")
        case .notASocket: throw Diagnostic(path, "exists and is not a socket")
        case .live(let detail): throw Diagnostic(path, "another program is listening on this socket (\(detail)); it is left alone: choose another --socket")
        }
        listenFD = sm_unix_listen(path, 64)
        guard listenFD >= 0 else { throw Diagnostic(path, "cannot listen: \(errnoDescription())") }
        var st = stat()
        if lstat(path, &st) == 0 { boundFile = (UInt(st.st_dev), UInt(st.st_ino)) }
    }

    private var closed = false

    /// A server dropped without `close()` (start-up failed after it opened)
    /// still removes its socket and lock.
    deinit { close() }

    private static func alreadyRunning(_ path: String, pid: String, root: String) -> Diagnostic {
        Diagnostic(path, "swiftman is already running for \(root) (pid \(pid)); stop it first, or use --socket for a second formation")
    }

    /// Closes every connection and the listening socket, removes the socket
    /// file if it is still the one we bound, and releases the lock.
    func close() {
        guard !closed else { return }
        closed = true
        for fd in clients.keys { Glibc.close(fd) }
        clients = [:]
        Glibc.close(listenFD)
        var st = stat()
        if let bound = boundFile, lstat(path, &st) == 0, UInt(st.st_dev) == bound.dev, UInt(st.st_ino) == bound.ino {
            unlink(path)
        }
        boundFile = nil
        lock.release()
    }

    func appendPollEntries(to fds: inout [pollfd]) {
        fds.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
        for (fd, client) in clients {
            fds.append(pollfd(fd: fd, events: Int16(client.replying ? POLLOUT : POLLIN), revents: 0))
        }
    }

    var nextDeadline: Int64? { clients.values.map(\.deadline).min() }

    /// Drops clients that did not finish within the timeout (slowloris).
    func expire(now: Int64) {
        for (fd, client) in clients where client.deadline <= now { drop(fd) }
    }

    /// Handles poll events on `fd`; false when `fd` is not ours.
    func handle(fd: Int32, now: Int64, execute: (ControlRequest) -> ControlReply) -> Bool {
        if fd == listenFD {
            acceptAll(now: now)
            return true
        }
        guard let client = clients[fd] else { return false }
        if client.replying { flush(fd, client) } else { receive(fd, client, execute: execute) }
        return true
    }

    private func acceptAll(now: Int64) {
        while true {
            var peer: uid_t = 0
            let fd = sm_accept(listenFD, &peer)
            if fd < 0 { return }
            guard peer == uid || peer == 0 else {
                reply(fd, .error(ControlFailure("permission denied: uid \(peer) does not own this formation")))
                continue
            }
            if clients.count >= ControlServer.maxClients {
                // Full: the oldest silent connection makes room, so idle
                // connections cannot lock the owner out for their timeout.
                guard let oldest = clients.filter({ !$0.value.replying }).min(by: { $0.value.deadline < $1.value.deadline })?.key else {
                    reply(fd, .error(ControlFailure("busy: too many control connections")))
                    continue
                }
                reply(oldest, .error(ControlFailure("busy: too many control connections")))
                clients[oldest] = nil
            }
            clients[fd] = Client(deadline: now + ControlServer.requestTimeout)
        }
    }

    private func receive(_ fd: Int32, _ client: Client, execute: (ControlRequest) -> ControlReply) {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress!, $0.count) }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard n > 0 else { return drop(fd) }
        client.input += buffer[0..<n]
        if let newline = client.input.firstIndex(of: 10) {
            let line = Array(client.input[..<newline])
            let answer: ControlReply
            do throws(ControlFailure) {
                let request = try ControlRequest.parse(line)
                if case .attach = request {
                    guard let adopt else { throw ControlFailure("attach is not available here") }
                    if let refusal = adopt(request, fd, Array(client.input[(newline + 1)...])) {
                        answer = refusal
                    } else {
                        clients[fd] = nil  // an attach session now: no longer ours
                        return
                    }
                } else {
                    answer = execute(request)
                }
            } catch {
                answer = .error(error)
            }
            client.output = Array(answer.encoded.utf8)
            flush(fd, client)
        } else if client.input.count >= ControlRequest.maxLength {
            client.output = Array(ControlReply.error(ControlFailure("request too long")).encoded.utf8)
            flush(fd, client)
        }
    }

    private func flush(_ fd: Int32, _ client: Client) {
        while client.written < client.output.count {
            let n = client.output.withUnsafeBytes {
                send(fd, $0.baseAddress! + client.written, $0.count - client.written, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return }
            if n <= 0 { break }
            client.written += n
        }
        drop(fd)
    }

    /// A one-shot reply to a connection we will not serve.
    private func reply(_ fd: Int32, _ answer: ControlReply) {
        var text = answer.encoded
        text.withUTF8 { _ = send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        // Read what the client already sent, so closing does not reset the
        // connection before it has read our reply.
        var scratch = [UInt8](repeating: 0, count: 4096)
        _ = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        Glibc.close(fd)
    }

    private func drop(_ fd: Int32) {
        clients[fd] = nil
        Glibc.close(fd)
    }
}

/// The client side: one request, one reply, from a server of our own uid
/// (or root) only.
public enum ControlClient {
    public enum Failure: Error, Equatable {
        /// Nothing there (ENOENT).
        case notRunning(String)
        /// A socket nobody listens on (ECONNREFUSED): stale.
        case refused(String)
        /// The server runs as another user: its answer is not believed.
        case untrusted(uid_t)
        case failed(String)
    }

    public static func send(_ request: ControlRequest, to path: String, timeoutMs: Int32 = 10_000) throws(Failure) -> ControlReply {
        if path.isEmpty { throw .failed("empty socket path") }
        let fd = sm_unix_connect(path, timeoutMs)
        guard fd >= 0 else {
            let reason = errnoDescription()
            if errno == ENOENT { throw .notRunning(reason) }
            if errno == ECONNREFUSED { throw .refused(reason) }
            throw .failed(reason)
        }
        defer { Glibc.close(fd) }
        // A server of another user could be a forgery planted in a shared
        // directory: only our own uid or root may answer.
        var peer: uid_t = 0
        guard sm_peer_uid(fd, &peer) == 0 else { throw .failed("cannot identify the server: \(errnoDescription())") }
        let me = getuid()
        guard peer == me || peer == 0 else { throw .untrusted(peer) }
        var text = request.encoded
        let sent = text.withUTF8 { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let sendError = sent > 0 ? nil : errnoDescription()
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            // A server that refused us closes without reading our request;
            // the reply it sent first is what counts.
            if n < 0 && errno == ECONNRESET && (sendError != nil || !response.isEmpty) { break }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw .failed("no reply within \(timeoutMs / 1000) s (is the formation stopped, e.g. with Ctrl-Z?)") }
            if n < 0 { throw .failed("no reply: \(errnoDescription())") }
            if n == 0 { break }
            response += buffer[0..<n]
            if response.count > 1 << 24 { throw .failed("reply too long") }
        }
        // A server that refused us may have said why before closing.
        guard let reply = ControlReply.parse(String(decoding: response, as: UTF8.self)) else {
            throw .failed(sendError.map { "send: \($0)" } ?? "malformed reply (not a swiftman control socket?)")
        }
        return reply
    }
}
