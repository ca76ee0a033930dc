import SwiftmanModel
import SwiftmanPlatform

/// The client side of the control socket: a connection to a server of our own
/// uid (or root) only, for one request and its reply, or for an attach session.
public enum ControlClient {
    public enum Failure: Error, Equatable {
        /// Nothing there (ENOENT).
        case notRunning(String)
        /// A socket nobody listens on (ECONNREFUSED): stale.
        case refused(String)
        /// The server runs as another user: its answer is not believed.
        case untrusted(UserID)
        /// No reply within the timeout.
        case timedOut
        case failed(String)
    }

    /// A blocking connection to the server at `path` (reads and writes time
    /// out after `timeoutMs`), once it is known to run as us or as root: a
    /// server of another user could be a forgery planted in a shared
    /// directory. Every client (the control commands, `connect`) comes here.
    public static func connect(to path: String, timeoutMs: Int32) throws(Failure) -> FileDescriptor {
        if path.isEmpty { throw .failed("empty socket path") }
        let fd: FileDescriptor
        do throws(Errno) {
            fd = try UnixSocket.connect(to: path, timeoutMilliseconds: timeoutMs)
        } catch {
            if error == .noEntry { throw .notRunning(error.description) }
            if error == .connectionRefused { throw .refused(error.description) }
            throw .failed(error.description)
        }
        let peer: UserID
        do throws(Errno) {
            peer = try fd.peerUser()
        } catch {
            fd.close()
            throw .failed("cannot identify the server: \(error)")
        }
        guard peer == .current || peer == .root else {
            fd.close()
            throw .untrusted(peer)
        }
        return fd
    }

    /// One request, one reply. `timeoutMs` 0: wait for the reply as long as it takes.
    public static func send(_ request: ControlRequest, to path: String, timeoutMs: Int32 = 10_000) throws(Failure) -> ControlReply {
        let fd = try connect(to: path, timeoutMs: timeoutMs == 0 ? 10_000 : timeoutMs)
        if timeoutMs == 0 { fd.clearTimeouts() }
        defer { fd.close() }
        var text = request.encoded
        let sent = text.withUTF8 { utf8 in Result { () throws(Errno) in try fd.send(UnsafeRawBufferPointer(utf8)) } }
        let sendError: String?
        switch sent {
        case .success(let n): sendError = n > 0 ? nil : "nothing was sent"
        case .failure(let error): sendError = error.description
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let received = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
            let n: Int
            switch received {
            case .success(let count): n = count
            // A server that refused us closes without reading our request;
            // the reply it sent first is what counts.
            case .failure(.connectionReset) where sendError != nil || !response.isEmpty: n = 0
            case .failure(.wouldBlock):
                throw .timedOut
            case .failure(let error): throw .failed("no reply: \(error)")
            }
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
