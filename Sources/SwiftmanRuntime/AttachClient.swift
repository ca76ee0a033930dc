import SwiftmanModel
import SwiftmanPlatform

/// `swiftman connect`'s side of an attach session (`AttachHub` is the
/// formation's): this terminal, attached over the control socket to one
/// running instance (see `AttachFrame` for the wire format). Keys and window
/// size go to the formation, output comes back to the terminal, all on one
/// `EventLoop`. The CLI says what happened; nothing here prints.
public final class AttachClient {
    /// Why no session began.
    public enum Refusal: Error {
        /// No trusted connection (see `ControlClient.connect`).
        case connect(ControlClient.Failure)
        /// The request could not be sent.
        case send(Errno)
        /// The formation closed the connection (nil) or failed before replying.
        case noReply(Errno?)
        /// The formation said no: its message.
        case refused(ControlFailure)
        case malformedReply
    }

    /// How a session ended.
    public enum Outcome: Equatable, Sendable {
        /// The detach key (or end of input): the instance runs on.
        case detached
        /// The formation ended the session (the process ended): its reason.
        case ended(String)
        /// The connection failed or broke the protocol.
        case lost(String?)
        /// A signal (its number) that stops `connect`.
        case signal(Int32)
    }

    /// The signals a session reads: window size, and the ones that end it.
    static let signals: [Signal] = [.windowChange, .interrupt, .terminate, .hangup, .quit]

    /// The instance (`web.1`) and its pid, as the formation named them.
    public let name: String
    public let pid: String
    /// The instance has a terminal: keys go to it raw (Ctrl-C included).
    /// Otherwise lines are edited here, and Ctrl-C detaches.
    public let raw: Bool

    private let socket: FileDescriptor
    private var decoder = AttachFrameDecoder()
    private var outcome: Outcome?
    /// The terminal's output: a private non-blocking re-open of stdout when
    /// possible, so that a terminal that does not take output never keeps
    /// a signal from being handled.
    private var out = FileDescriptor.standardOutput
    /// The rest of a data frame the terminal has not taken yet: until it has,
    /// no further frame is decoded and the socket is not read.
    private var pending: [UInt8] = []
    private var written = 0

    private init(socket: FileDescriptor, name: String, pid: String, raw: Bool, leftover: [UInt8]) {
        self.socket = socket
        self.name = name
        self.pid = pid
        self.raw = raw
        decoder.feed(leftover)
    }

    deinit { socket.close() }

    /// This terminal's size (stdin's, else stdout's), nil when neither is one.
    static var terminalSize: WindowSize? {
        FileDescriptor.standardInput.windowSize ?? FileDescriptor.standardOutput.windowSize
    }

    /// Connects to the formation at `path` and asks to attach to `target`
    /// (a type or TYPE.N), with this terminal's size.
    public static func open(path: String, target: String) throws(Refusal) -> AttachClient {
        let size = terminalSize ?? WindowSize(rows: 0, cols: 0)
        let socket: FileDescriptor
        do throws(ControlClient.Failure) {
            socket = try ControlClient.connect(to: path, timeoutMs: 10_000)
        } catch {
            throw .connect(error)
        }
        do throws(Refusal) {
            do throws(Errno) {
                try socket.sendAll(Array(ControlRequest.attach(target: target, rows: Int(size.rows), cols: Int(size.cols)).encoded.utf8))
            } catch {
                throw Refusal.send(error)
            }
            // The reply: `ok` and `NAME PID MODE`, or `error MESSAGE`; frames follow `ok`.
            var received: [UInt8] = []
            var lines: [String] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while lines.count < 2 && !(lines.first?.hasPrefix("error ") ?? false) {
                let read = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try socket.read(into: raw) } }
                guard case .success(let n) = read, n > 0 else {
                    if case .failure(let error) = read { throw Refusal.noReply(error) }
                    throw Refusal.noReply(nil)
                }
                received += buffer[0..<n]
                while lines.count < 2, let newline = received.firstIndex(of: 10) {
                    lines.append(String(decoding: received[..<newline], as: UTF8.self))
                    received.removeSubrange(...newline)
                }
            }
            if let first = lines.first, first.hasPrefix("error ") {
                guard case .error(let failure)? = ControlReply.parse(first) else { throw Refusal.malformedReply }
                throw Refusal.refused(failure)
            }
            guard lines[0] == "ok" else { throw Refusal.malformedReply }
            let words = lines[1].split(separator: " ").map(String.init)
            guard words.count == 3 else { throw Refusal.malformedReply }
            // Attached: no more timeouts, the session lasts as long as the user wants.
            socket.clearTimeouts()
            return AttachClient(socket: socket, name: words[0], pid: words[1], raw: words[2] == "tty", leftover: received)
        } catch {
            socket.close()
            throw error
        }
    }

    /// The session, until it ends: the terminal in raw mode (or with
    /// `detachKey` ending a line) while attached, restored on every way out,
    /// signals included. `attached` is called once the terminal is set up
    /// (keys typed after it count).
    public func run(detachKey: UInt8, attached: () -> Void) -> Outcome {
        let mask = SignalMask(AttachClient.signals.map(\.rawValue))
        mask.block()
        SignalSetup.ignore(Signal.pipe.rawValue)
        let signalFD = try? SignalFD.open(mask)
        let own = FileDescriptor.reopenStandardOutputNonBlocking()
        out = own ?? .standardOutput
        defer { own?.close() }
        let input = FileDescriptor.standardInput
        let terminal = input.isTerminal && (try? Terminal.attach(input, raw: raw, detachKey: detachKey)) != nil
        defer { if terminal { Terminal.restore() } }
        attached()

        let loop = EventLoop()
        // In this order each turn: signals first, then keys, then output.
        if let signalFD {
            let source = SignalSource(signalFD)
            source.onSignal = { [unowned self] signal, _ in self.handle(signal: signal) }
            loop.add(source)
        }
        loop.add(Keyboard(client: self, detachKey: detachKey))
        loop.add(Connection(client: self))
        loop.add(TerminalOutput(client: self))
        deliver()
        if let error = loop.run(wake: { _ in }, until: { [unowned self] _ in self.outcome != nil }) {
            outcome = .lost(error.description)
        }
        return outcome ?? .lost(nil)
    }

    private func send(_ frame: AttachFrame) -> Bool {
        (try? socket.sendAll(frame.encoded)) != nil
    }

    /// A resize is passed on; the others end the session.
    private func handle(signal: Int32) {
        guard outcome == nil else { return }
        switch Signal(signal) {
        case .windowChange:
            if let size = AttachClient.terminalSize, !send(.resize(rows: size.rows, cols: size.cols)) { outcome = .lost(nil) }
        case .interrupt where !raw:
            _ = send(.detach)
            outcome = .detached
        default:
            outcome = .signal(signal)
        }
    }

    /// What was typed; the detach key ends the session.
    private func typed(_ bytes: ArraySlice<UInt8>, detachKey: UInt8) {
        if let at = bytes.firstIndex(of: detachKey) {
            // Keys typed before it in raw mode; in line mode an unfinished line, dropped.
            if at > bytes.startIndex && raw { _ = send(.data(Array(bytes[..<at]))) }
            _ = send(.detach)
            outcome = .detached
        } else if !send(.data(Array(bytes))) {
            outcome = .lost(nil)
        }
    }

    /// Nothing more to type (a pipe at its end): detach.
    private func inputEnded() {
        _ = send(.detach)
        outcome = .detached
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        decoder.feed(bytes)
        deliver()
    }

    /// Carries out the frames received so far, in order, until the terminal
    /// stops taking output or the session is over.
    private func deliver() {
        while outcome == nil && pending.isEmpty {
            let frame: AttachFrame?
            do throws(AttachFrameError) {
                frame = try decoder.next()
            } catch {
                outcome = .lost(error.description)
                return
            }
            switch frame {
            case nil: return
            case .data(let bytes)?:
                pending = bytes
                written = 0
                writePending()
            case .end(let reason)?: outcome = .ended(reason)
            case .resize?, .detach?: outcome = .lost("unexpected frame from the formation")
            }
        }
    }

    /// Writes what the terminal takes now.
    private func writePending() {
        while written < pending.count {
            let result = pending.withUnsafeBytes { bytes in
                Result { () throws(Errno) in try out.write(UnsafeRawBufferPointer(rebasing: bytes[written...])) }
            }
            switch result {
            case .success(let n) where n > 0: written += n
            case .failure(.wouldBlock): return
            case .failure(let error):
                outcome = .lost("cannot write to the terminal: \(error)")
                return
            case .success:
                outcome = .lost("cannot write to the terminal: \(Errno.ioError)")
                return
            }
        }
        pending = []
        written = 0
    }

    // MARK: the loop's sources

    /// What is typed (stdin).
    private final class Keyboard: EventSource {
        unowned let client: AttachClient
        let detachKey: UInt8
        private var buffer = [UInt8](repeating: 0, count: 4096)

        init(client: AttachClient, detachKey: UInt8) {
            self.client = client
            self.detachKey = detachKey
        }

        func register(in set: inout PollSet, now: Int64) {
            set.watch(.standardInput, events: .readable)
        }

        func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
            guard client.outcome == nil else { return }
            let read = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
            switch read {
            case .success(let n) where n > 0: client.typed(buffer[0..<n], detachKey: detachKey)
            case .failure(.wouldBlock): break
            default: client.inputEnded()
            }
        }
    }

    /// Frames from the formation, read while the terminal keeps up.
    private final class Connection: EventSource {
        unowned let client: AttachClient
        private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)

        init(client: AttachClient) { self.client = client }
        deinit { buffer.deallocate() }

        func register(in set: inout PollSet, now: Int64) {
            if client.pending.isEmpty { set.watch(client.socket, events: .readable) }
        }

        func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
            guard client.outcome == nil else { return }
            do throws(Errno) {
                let n = try fd.read(into: buffer)
                if n > 0 {
                    client.received(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                } else {
                    client.outcome = .lost(nil)
                }
            } catch {
                if error != .wouldBlock { client.outcome = .lost(error.description) }
            }
        }
    }

    /// The terminal, watched while it has output to take.
    private final class TerminalOutput: EventSource {
        unowned let client: AttachClient

        init(client: AttachClient) { self.client = client }

        func register(in set: inout PollSet, now: Int64) {
            if !client.pending.isEmpty { set.watch(client.out, events: .writable) }
        }

        func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
            guard client.outcome == nil else { return }
            client.writePending()
            client.deliver()
        }
    }
}
