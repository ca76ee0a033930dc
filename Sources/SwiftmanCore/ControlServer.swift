#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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

    /// Opens the socket at `path`, creating its private directory. A live
    /// socket there means another swiftman runs for this project: that is an
    /// error naming it; a stale one (nobody listening) is replaced.
    init(path: String, defaultDirectory: String?) throws(Diagnostic) {
        self.path = path
        if let dir = defaultDirectory { try ControlServer.preparePrivateDirectory(dir) }
        if FileSystem.exists(path) {
            if let reply = try? ControlClient.send(.hello, to: path), case .ok(let lines) = reply {
                let pid = lines.first { $0.hasPrefix("pid=") }.map { String($0.dropFirst(4)) } ?? "?"
                let root = lines.first { $0.hasPrefix("root=") }.map { String($0.dropFirst(5)) } ?? "?"
                throw Diagnostic(path, "swiftman is already running for \(root) (pid \(pid)); stop it first, or use --socket for a second formation")
            }
            var st = stat()
            if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFSOCK {
                throw Diagnostic(path, "exists and is not a socket")
            }
            unlink(path)  // stale: left by a run that was killed
        }
        listenFD = sm_unix_listen(path, 64)
        guard listenFD >= 0 else { throw Diagnostic(path, "cannot listen: \(errnoDescription())") }
    }

    /// mkdir -m 0700, or check that an existing one is ours and private.
    static func preparePrivateDirectory(_ dir: String) throws(Diagnostic) {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw Diagnostic(dir, "cannot create the control directory: \(errnoDescription())")
        }
        var st = stat()
        guard lstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw Diagnostic(dir, "the control directory is not a directory")
        }
        guard st.st_uid == getuid(), st.st_mode & 0o077 == 0 else {
            throw Diagnostic(dir, "the control directory must belong to you and have mode 0700")
        }
    }

    func close() {
        for fd in clients.keys { Glibc.close(fd) }
        clients = [:]
        Glibc.close(listenFD)
        unlink(path)
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
                reply(fd, .error("permission denied: uid \(peer) does not own this formation"))
                continue
            }
            if clients.count >= ControlServer.maxClients {
                // Full: the oldest silent connection makes room, so idle
                // connections cannot lock the owner out for their timeout.
                guard let oldest = clients.filter({ !$0.value.replying }).min(by: { $0.value.deadline < $1.value.deadline })?.key else {
                    reply(fd, .error("busy: too many control connections"))
                    continue
                }
                reply(oldest, .error("busy: too many control connections"))
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
                answer = execute(try ControlRequest.parse(line))
            } catch {
                answer = .error(error.description)
            }
            client.output = Array(answer.encoded.utf8)
            flush(fd, client)
        } else if client.input.count >= ControlRequest.maxLength {
            client.output = Array(ControlReply.error("request too long").encoded.utf8)
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

/// The client side: one request, one reply.
public enum ControlClient {
    public enum Failure: Error, Equatable {
        /// Nothing listens there (no file, or a stale socket).
        case notRunning(String)
        case failed(String)
    }

    public static func send(_ request: ControlRequest, to path: String, timeoutMs: Int32 = 10_000) throws(Failure) -> ControlReply {
        let fd = sm_unix_connect(path, timeoutMs)
        guard fd >= 0 else {
            let reason = errnoDescription()
            if errno == ENOENT || errno == ECONNREFUSED { throw .notRunning(reason) }
            throw .failed(reason)
        }
        defer { Glibc.close(fd) }
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
            if n < 0 { throw .failed("no reply: \(errnoDescription())") }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        // A server that refused us may have said why before closing.
        guard let reply = ControlReply.parse(String(decoding: response, as: UTF8.self)) else {
            throw .failed(sendError.map { "send: \($0)" } ?? "malformed reply")
        }
        return reply
    }
}
