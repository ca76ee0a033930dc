import SwiftmanModel
import SwiftmanPlatform

/// The attached terminals (`swiftman connect`): control connections whose
/// `attach` request was accepted, now carrying `AttachFrame`s. Each session
/// sees the raw output of one process (tapped from `ChildOutput`) and types
/// into its instance (through `ChildInput`). Never blocks the loop: a session
/// whose terminal does not keep up loses its oldest output bytes.
final class AttachHub: EventSource {
    static let maxSessions = 16
    /// Output waiting for one attached terminal, on top of the frame in flight.
    static let bufferSize = 1 << 18

    final class Session: OutputTap {
        let fd: FileDescriptor
        let slot: Int
        let pid: Int32
        var decoder = AttachFrameDecoder()
        let pending = ByteRing(capacity: AttachHub.bufferSize)
        /// Bytes on their way out: the reply line at first, then one frame.
        var wire: [UInt8]
        var sent = 0
        var blocked = false
        /// A send failed: the client is gone (dropped on the next turn).
        var closed = false

        init(fd: FileDescriptor, slot: Int, pid: Int32, greeting: [UInt8]) {
            self.fd = fd
            self.slot = slot
            self.pid = pid
            wire = greeting
        }

        /// A keeping-up terminal gets the bytes at once, straight from the
        /// read buffer; otherwise they queue (dropping the oldest).
        func output(_ bytes: UnsafeRawBufferPointer) {
            guard !blocked && !closed && sent == wire.count && pending.isEmpty else {
                pending.append(bytes)
                return
            }
            var rest = bytes
            while !rest.isEmpty {
                let length = min(rest.count, AttachFrame.maxPayload)
                switch send(UnsafeRawBufferPointer(rebasing: rest[..<length])) {
                case .sent: rest = UnsafeRawBufferPointer(rebasing: rest[length...])
                case .inFlight:
                    pending.append(UnsafeRawBufferPointer(rebasing: rest[length...]))
                    return
                case .wouldBlock:
                    blocked = true
                    pending.append(rest)
                    return
                case .failed:
                    // Found by the next turn (POLLIN: EOF or error), which drops it.
                    closed = true
                    return
                }
            }
        }

        enum SendResult { case sent, inFlight, wouldBlock, failed }

        /// One data frame, header and payload in one writev, nothing in
        /// flight before it. A partial send leaves the rest in `wire`.
        func send(_ payload: UnsafeRawBufferPointer) -> SendResult {
            let header = AttachFrame.header(.data, length: payload.count)
            let written = header.withUnsafeBytes { head in
                Result { () throws(Errno) in try fd.write(head, payload) }
            }
            let n: Int
            switch written {
            case .success(let count): n = count
            case .failure(let error): return error == .wouldBlock ? .wouldBlock : .failed
            }
            if n == header.count + payload.count { return .sent }
            guard n > 0 else { return .failed }
            wire.removeAll(keepingCapacity: true)
            wire += header
            wire.append(contentsOf: payload)
            sent = n
            return .inFlight
        }
    }

    private var sessions: [FileDescriptor: Session] = [:]
    private let output: ChildOutput
    private let input: ChildInput
    /// A session's terminal changed size (its process, rows, cols).
    var onResize: (_ pid: Int32, _ rows: UInt16, _ cols: UInt16) -> Void = { _, _, _ in }
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)

    init(output: ChildOutput, input: ChildInput) {
        self.output = output
        self.input = input
    }

    deinit {
        readBuffer.deallocate()
        for fd in sessions.keys { fd.close() }
    }

    var count: Int { sessions.count }

    /// Takes over a control connection: `greeting` (the `ok` reply) goes out
    /// first, `extra` are bytes the client sent past its request line.
    func adopt(fd: FileDescriptor, slot: Int, pid: Int32, outputs: Set<FileDescriptor>, greeting: [UInt8], extra: [UInt8]) {
        let session = Session(fd: fd, slot: slot, pid: pid, greeting: greeting)
        sessions[fd] = session
        // First the instance's recent output, ending with its partial line
        // (a prompt waiting for input), then what it writes from now on.
        let replay = output.recentOutput(of: outputs)
        if !replay.isEmpty { replay.withUnsafeBytes { session.output($0) } }
        for pipe in outputs { output.addTap(session, to: pipe) }
        if !extra.isEmpty {
            session.decoder.feed(extra)
            process(session)
        }
    }

    func register(in set: inout PollSet, now: Int64) {
        guard !sessions.isEmpty else { return }
        for session in Array(sessions.values) {
            if session.closed {
                drop(session)
                continue
            }
            if !session.blocked && !flush(session) { continue }
            set.watch(session.fd, events: session.blocked ? [.readable, .writable] : .readable)
        }
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        guard let session = sessions[fd] else { return }
        if events.contains(.writable) {
            session.blocked = false
            guard flush(session) else { return }
        }
        guard !events.isDisjoint(with: [.readable, .hangUp, .error]) else { return }
        do throws(Errno) {
            let n = try fd.read(into: readBuffer)
            if n > 0 {
                session.decoder.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
                process(session)
            } else {
                end(session, reason: nil)
            }
        } catch {
            if error != .wouldBlock { end(session, reason: nil) }
        }
    }

    /// Carries out the frames received so far.
    private func process(_ session: Session) {
        do throws(AttachFrameError) {
            while let frame = try session.decoder.next() {
                switch frame {
                case .data(let bytes): input.send(slot: session.slot, bytes)
                case .resize(let rows, let cols): onResize(session.pid, rows, cols)
                case .detach:
                    end(session, reason: nil)
                    return
                case .end:
                    throw AttachFrameError("unexpected end frame from the client")
                }
            }
        } catch {
            end(session, reason: "protocol error: \(error.description)")
        }
    }

    /// Writes what the session's terminal takes now. False when the session
    /// is gone (its client went away).
    @discardableResult
    private func flush(_ session: Session) -> Bool {
        while true {
            if session.sent == session.wire.count {
                guard !session.pending.isEmpty else { return true }
                // Nothing in flight: header and bytes go straight from the
                // queue (one writev); only a partial send is copied aside.
                let chunk = session.pending.readable
                let length = min(chunk.count, AttachFrame.maxPayload)
                switch session.send(UnsafeRawBufferPointer(rebasing: chunk[0..<length])) {
                case .sent, .inFlight:
                    session.pending.consume(length)
                    continue
                case .wouldBlock:
                    session.blocked = true
                    return true
                case .failed:
                    drop(session)
                    return false
                }
            }
            let sent = session.wire.withUnsafeBytes { wire in
                Result { () throws(Errno) in
                    try session.fd.send(UnsafeRawBufferPointer(rebasing: wire[session.sent...]), nonBlocking: true)
                }
            }
            switch sent {
            case .success(let n) where n > 0:
                session.sent += n
            case .failure(.wouldBlock):
                session.blocked = true
                return true
            default:
                drop(session)
                return false
            }
        }
    }

    /// The process `pid` has ended: its sessions get what is left of its
    /// output (as far as their terminals take it now), then `reason`.
    func processEnded(pid: Int32, reason: String) {
        for session in sessions.values where session.pid == pid { end(session, reason: reason) }
    }

    func endAll(reason: String) {
        for session in Array(sessions.values) { end(session, reason: reason) }
    }

    /// Ends a session, telling the client why when it can take it now.
    private func end(_ session: Session, reason: String?) {
        guard sessions[session.fd] != nil else { return }
        if let reason, flush(session), !session.blocked {
            let frame = AttachFrame.end(reason).encoded
            _ = frame.withUnsafeBytes { try? session.fd.send($0, nonBlocking: true) }
        }
        drop(session)
    }

    private func drop(_ session: Session) {
        guard sessions.removeValue(forKey: session.fd) != nil else { return }
        output.removeTap(session)
        session.fd.close()
    }
}
