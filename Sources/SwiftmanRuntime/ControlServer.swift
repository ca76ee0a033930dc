import SwiftmanModel
import SwiftmanPlatform

/// The control socket of a running `swiftman start`, served by the event loop
/// without ever blocking it: every client is non-blocking, a request must
/// arrive whole within `requestTimeout` and fit in `ControlRequest.maxLength`,
/// and past `maxClients` new connections are closed at once. Only our own uid
/// (SO_PEERCRED) is served.
final class ControlServer {
    let path: String
    let listenFD: FileDescriptor
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
    private var clients: [FileDescriptor: Client] = [:]
    private let uid = UserID.current
    /// Takes over the connection of a request that holds it (`attach`,
    /// `wait`, `quit`; with the bytes read past its request line): nil once
    /// it owns the descriptor, else the reply to send now. Without it those
    /// requests are refused.
    var onHeld: ((_ request: ControlRequest, _ fd: FileDescriptor, _ extra: [UInt8]) -> ControlReply?)?

    /// Held for the formation's life: only its holder may replace or remove
    /// the socket.
    private let lock: SocketLock
    /// The socket file we bound, to remove it at exit only if it is still ours.
    private var boundFile: FileStatus?

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
        case .stale: try? FileSystem.remove(path)  // left by a run that was killed: nobody listens
        case .swiftman(let pid, let root): throw ControlServer.alreadyRunning(path, pid: pid, root: root)
        case .symlink: throw Diagnostic(path, "is a symbolic link; give the socket's own path (swiftman never binds through a symlink)")
        case .notASocket: throw Diagnostic(path, "exists and is not a socket")
        case .live(let detail): throw Diagnostic(path, "another program is listening on this socket (\(detail)); it is left alone: choose another --socket")
        }
        do throws(Errno) {
            listenFD = try UnixSocket.listen(at: path, backlog: 64)
        } catch {
            throw Diagnostic(path, "cannot listen: \(error)")
        }
        boundFile = try? FileSystem.status(path, followingLinks: false)
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
        for fd in clients.keys { fd.close() }
        clients = [:]
        listenFD.close()
        if let bound = boundFile, let now = try? FileSystem.status(path, followingLinks: false), now.isSameFile(as: bound) {
            try? FileSystem.remove(path)
        }
        boundFile = nil
        lock.release()
    }

    func register(in set: inout PollSet) {
        set.watch(listenFD, events: .readable)
        for (fd, client) in clients { set.watch(fd, events: client.replying ? .writable : .readable) }
    }

    var nextDeadline: Int64? { clients.values.map(\.deadline).min() }

    /// Drops clients that did not finish within the timeout (slowloris).
    func expire(now: Int64) {
        for (fd, client) in clients where client.deadline <= now { drop(fd) }
    }

    /// Handles poll events on `fd`; false when `fd` is not ours.
    func handle(fd: FileDescriptor, now: Int64, execute: (ControlRequest) -> ControlReply) -> Bool {
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
            guard let (fd, peer) = try? UnixSocket.accept(listenFD) else { return }
            guard peer == uid || peer == .root else {
                reply(fd, .refused("permission denied: uid \(peer) does not own this formation"))
                continue
            }
            if clients.count >= ControlServer.maxClients {
                // Full: the oldest silent connection makes room, so idle
                // connections cannot lock the owner out for their timeout.
                guard let oldest = clients.filter({ !$0.value.replying }).min(by: { $0.value.deadline < $1.value.deadline })?.key else {
                    reply(fd, .refused("busy: too many control connections"))
                    continue
                }
                reply(oldest, .refused("busy: too many control connections"))
                clients[oldest] = nil
            }
            clients[fd] = Client(deadline: now + ControlServer.requestTimeout)
        }
    }

    private func receive(_ fd: FileDescriptor, _ client: Client, execute: (ControlRequest) -> ControlReply) {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let received = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
        if case .failure(.wouldBlock) = received { return }
        guard case .success(let n) = received, n > 0 else { return drop(fd) }
        client.input += buffer[0..<n]
        if let newline = client.input.firstIndex(of: 10) {
            let line = Array(client.input[..<newline])
            let answer: ControlReply
            do throws(ControlFailure) {
                let request = try ControlRequest.parse(line)
                if request.holdsConnection {
                    guard let onHeld else { throw ControlFailure("\(request.encoded.dropLast()) is not available here") }
                    if let reply = onHeld(request, fd, Array(client.input[(newline + 1)...])) {
                        answer = reply
                    } else {
                        clients[fd] = nil  // held elsewhere now: no longer ours
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
            client.output = Array(ControlReply.refused("request too long").encoded.utf8)
            flush(fd, client)
        }
    }

    private func flush(_ fd: FileDescriptor, _ client: Client) {
        while client.written < client.output.count {
            let sent = client.output.withUnsafeBytes { output in
                Result { () throws(Errno) in try fd.send(UnsafeRawBufferPointer(rebasing: output[client.written...])) }
            }
            if case .failure(.wouldBlock) = sent { return }
            guard case .success(let n) = sent, n > 0 else { break }
            client.written += n
        }
        drop(fd)
    }

    /// A one-shot reply to a connection we will not serve.
    private func reply(_ fd: FileDescriptor, _ answer: ControlReply) {
        var text = answer.encoded
        text.withUTF8 { _ = try? fd.send(UnsafeRawBufferPointer($0), nonBlocking: true) }
        // Read what the client already sent, so closing does not reset the
        // connection before it has read our reply.
        var scratch = [UInt8](repeating: 0, count: 4096)
        _ = scratch.withUnsafeMutableBytes { try? fd.receive(into: $0, nonBlocking: true) }
        fd.close()
    }

    private func drop(_ fd: FileDescriptor) {
        clients[fd] = nil
        fd.close()
    }
}
