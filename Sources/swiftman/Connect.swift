import Glibc
import CSwiftman
import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman connect TARGET`: this terminal attached to a running instance
/// over the control socket (see `AttachFrame` for the wire format).
enum Connect {
    static let options = ControlOptions.options + [
        Option(long: "detach-keys", short: nil, valueName: "KEY", help: "the key that detaches: ctrl-X (default: ctrl-])"),
    ]

    static let help = """
        Usage: swiftman connect TARGET [OPTIONS]

        Attaches this terminal to a running instance of `swiftman start` (TARGET: a type,
        meaning its first instance, or TYPE.N): its output appears here as it is, what
        you type goes to it, and the window size follows. An instance of a --tty type is
        attached through its pseudo-terminal, so debuggers, REPLs and full-screen programs
        work as in a plain terminal; other instances get the keys on their stdin.
        The detach key (Ctrl-] unless --detach-keys says otherwise) returns to the shell
        and leaves the process running; when the process ends, so does connect.
        The formation's own output keeps showing the instance's lines.

        Options:
        \(describe(options))
        """

    static func run(_ rawArgs: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try Arguments.parse(rawArgs, options: options, help: help, environment: environment) else { return 0 }
        guard args.positionals.count == 1, ControlRequest.isName(args.positionals[0]) else {
            throw UsageError(message: args.positionals.isEmpty ? "missing TARGET (a type or TYPE.N)" : "expected one TARGET (a type or TYPE.N)")
        }
        let target = args.positionals[0]
        let key = try detachKey(args["detach-keys"] ?? "ctrl-]", source: args.source("detach-keys"))
        let root = ControlOptions.root(args)
        let path = try ControlOptions.socketPath(args, root: root, environment: environment).path

        var rows: UInt16 = 0, cols: UInt16 = 0
        if sm_get_winsize(0, &rows, &cols) != 0 && sm_get_winsize(1, &rows, &cols) != 0 { rows = 0; cols = 0 }

        let fd = sm_unix_connect(path, 10_000)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ECONNREFUSED {
                CLI.printError("connect: no running formation for \(FileSystem.canonical(root) ?? root) (no live control socket at \(path))")
            } else {
                CLI.printError("connect: \(path): \(errnoDescription())")
            }
            return 1
        }
        defer { close(fd) }
        // As for every control command: only a server of our uid (or root) is believed.
        var peer: uid_t = 0
        guard sm_peer_uid(fd, &peer) == 0, peer == getuid() || peer == 0 else {
            CLI.printError("connect: \(path): the server there does not run as you: not trusting it (another user may have planted it)")
            return 1
        }
        guard sendAll(fd, Array(ControlRequest.attach(target: target, rows: Int(rows), cols: Int(cols)).encoded.utf8)) else {
            CLI.printError("connect: \(path): \(errnoDescription())")
            return 1
        }
        // The reply: `ok` and `NAME PID`, or `error MESSAGE`; frames follow `ok`.
        var received: [UInt8] = []
        var lines: [String] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while lines.count < 2 && !(lines.first?.hasPrefix("error ") ?? false) {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                CLI.printError("connect: no reply from the formation\(n < 0 ? ": \(errnoDescription())" : "")")
                return 1
            }
            received += buffer[0..<n]
            while lines.count < 2, let newline = received.firstIndex(of: 10) {
                lines.append(String(decoding: received[..<newline], as: UTF8.self))
                received.removeSubrange(...newline)
            }
        }
        if let first = lines.first, first.hasPrefix("error ") {
            CLI.printError("connect: \(first.dropFirst(6))")
            // As for the other control commands: a name the Procfile does not know is a bad argument.
            return first.hasPrefix("error unknown process type") ? 2 : 1
        }
        guard lines[0] == "ok" else {
            CLI.printError("connect: malformed reply from the formation")
            return 1
        }
        let words = lines[1].split(separator: " ").map(String.init)
        guard words.count == 3 else {
            CLI.printError("connect: malformed reply from the formation")
            return 1
        }
        let (name, pid, raw) = (words[0], words[1], words[2] == "tty")
        // Attached: no more timeouts, the session lasts as long as the user wants.
        var none = timeval()
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))

        var session = Session(socket: fd, detachKey: key, raw: raw, decoder: AttachFrameDecoder())
        // Said once the terminal is set up: keys typed after reading it count.
        let outcome = session.run(leftover: received,
                                  banner: "connected to \(name) (pid \(pid)); detach with \(keyName(key))")
        switch outcome {
        case .detached:
            CLI.printError("detached from \(name) (still running)")
            return 0
        case .ended(let reason):
            CLI.printError(reason)
            return 0
        case .lost(let reason):
            CLI.printError("connect: connection to the formation lost\(reason.map { ": \($0)" } ?? "")")
            return 1
        case .signal(let signal):
            return 128 + signal
        }
    }

    /// `ctrl-]`, `ctrl-a`…: the byte that key sends.
    static func detachKey(_ text: String, source: String) throws(UsageError) -> UInt8 {
        let lower = text.lowercased()
        guard lower.hasPrefix("ctrl-"), lower.count == 6, let c = lower.utf8.last else {
            throw UsageError(message: "\(source): expected ctrl-X (a letter or one of @ [ \\ ] ^ _), got \"\(text)\"")
        }
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 1
        case UInt8(ascii: "@"): return 0
        case UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "]"), UInt8(ascii: "^"), UInt8(ascii: "_"):
            return c - 0x40
        default:
            throw UsageError(message: "\(source): expected ctrl-X (a letter or one of @ [ \\ ] ^ _), got \"\(text)\"")
        }
    }

    static func keyName(_ key: UInt8) -> String {
        "Ctrl-" + String(UnicodeScalar(key + 0x40))
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    enum Outcome {
        case detached
        case ended(String)
        case lost(String?)
        case signal(Int32)
    }

    /// The attached terminal: raw mode while attached (restored on every way
    /// out, signals included), keys and window size to the formation, output
    /// to the terminal. A terminal that does not take output never stops it
    /// from handling a signal: stdout is written through a private
    /// non-blocking re-open.
    struct Session {
        let socket: Int32
        let detachKey: UInt8
        /// The instance has a terminal: keys go to it raw (Ctrl-C included).
        /// Otherwise lines are edited here, and Ctrl-C detaches.
        let raw: Bool
        var decoder: AttachFrameDecoder
        private var signalFD: Int32 = -1
        private var out: Int32 = 1

        init(socket: Int32, detachKey: UInt8, raw: Bool, decoder: AttachFrameDecoder) {
            self.socket = socket
            self.detachKey = detachKey
            self.raw = raw
            self.decoder = decoder
        }

        mutating func run(leftover: [UInt8], banner: String) -> Outcome {
            let signals: [Int32] = [SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT]
            var set = sigset_t()
            sigemptyset(&set)
            for s in signals { sigaddset(&set, s) }
            sigprocmask(SIG_BLOCK, &set, nil)
            signal(SIGPIPE, SIG_IGN)
            signalFD = sm_signalfd(&set)
            let reopened = sm_reopen_stdout_nonblocking()
            out = reopened >= 0 ? reopened : 1
            defer {
                if signalFD >= 0 { close(signalFD) }
                if reopened >= 0 { close(reopened) }
            }
            let terminal = isatty(0) == 1 && sm_tty_attach(0, raw ? 1 : 0, detachKey) == 0
            defer { if terminal { sm_tty_restore() } }
            CLI.printError(banner)

            decoder.feed(leftover)
            if let outcome = deliver() { return outcome }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
                if poll(&fds, nfds_t(fds.count), -1) < 0 {
                    if errno == EINTR { continue }
                    return .lost(errnoDescription())
                }
                if fds[2].revents != 0, let outcome = handleSignals() { return outcome }
                if fds[1].revents != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, 4096) }
                    if n > 0 {
                        let typed = buffer[0..<n]
                        if let at = typed.firstIndex(of: detachKey) {
                            // Keys typed before it in raw mode; in line mode an unfinished line, dropped.
                            if at > 0 && raw { _ = Connect.sendAll(socket, AttachFrame.data(Array(typed[..<at])).encoded) }
                            _ = Connect.sendAll(socket, AttachFrame.detach.encoded)
                            return .detached
                        }
                        guard Connect.sendAll(socket, AttachFrame.data(Array(typed)).encoded) else { return .lost(nil) }
                    } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                        // End of what there is to type (a pipe): detach.
                        _ = Connect.sendAll(socket, AttachFrame.detach.encoded)
                        return .detached
                    }
                }
                if fds[0].revents != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
                    if n > 0 {
                        decoder.feed(buffer[0..<n])
                        if let outcome = deliver() { return outcome }
                    } else if n == 0 {
                        return .lost(nil)
                    } else if errno != EAGAIN && errno != EINTR {
                        return .lost(errnoDescription())
                    }
                }
            }
        }

        /// Pending signals: a resize is passed on; an outcome when one ends the session.
        private func handleSignals() -> Outcome? {
            while true {
                let s = sm_signalfd_next(signalFD)
                guard s > 0 else { return nil }
                if s == SIGWINCH {
                    var rows: UInt16 = 0, cols: UInt16 = 0
                    if sm_get_winsize(0, &rows, &cols) == 0 || sm_get_winsize(1, &rows, &cols) == 0 {
                        guard Connect.sendAll(socket, AttachFrame.resize(rows: rows, cols: cols).encoded) else { return .lost(nil) }
                    }
                } else if s == SIGINT && !raw {
                    _ = Connect.sendAll(socket, AttachFrame.detach.encoded)
                    return .detached
                } else {
                    return .signal(s)
                }
            }
        }

        /// Writes the decoded output; an outcome when the session is over.
        private mutating func deliver() -> Outcome? {
            do throws(AttachFrameError) {
                while let frame = try decoder.next() {
                    switch frame {
                    case .data(let bytes): if let outcome = write(bytes[...]) { return outcome }
                    case .end(let reason): return .ended(reason)
                    case .resize, .detach: return .lost("unexpected frame from the formation")
                    }
                }
            } catch {
                return .lost(error.description)
            }
            return nil
        }

        /// Writes to the terminal, waiting for it as long as it takes, but
        /// still answering signals meanwhile.
        private func write(_ bytes: ArraySlice<UInt8>) -> Outcome? {
            var rest = bytes
            while !rest.isEmpty {
                let n = rest.withUnsafeBytes { Glibc.write(out, $0.baseAddress, $0.count) }
                if n > 0 {
                    rest = rest.dropFirst(n)
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && errno == EAGAIN {
                    var fds = [pollfd(fd: out, events: Int16(POLLOUT), revents: 0),
                               pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
                    _ = poll(&fds, 2, -1)
                    if fds[1].revents != 0, let outcome = handleSignals() { return outcome }
                } else {
                    return .lost("cannot write to the terminal: \(errnoDescription())")
                }
            }
            return nil
        }
    }
}
