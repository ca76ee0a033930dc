import Glibc
import CSwiftman
import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman connect TARGET`: this terminal attached to a running instance
/// over the control socket (see `AttachFrame` for the wire format).
enum ConnectCommand {
    static let command = Command(
        name: "connect", usage: "connect TARGET", summary: "attach this terminal to a running instance (Ctrl-] detaches)",
        help: """
            Usage: swiftman connect TARGET [OPTIONS]

            Attaches this terminal to a running instance of `swiftman start` (TARGET: a type,
            meaning its first instance, or TYPE.N): its output appears here as it is, what
            you type goes to it, and the window size follows. An instance of a --tty type is
            attached through its pseudo-terminal, so debuggers, REPLs and full-screen programs
            work as in a plain terminal; other instances get the keys on their stdin.
            The detach key (Ctrl-] unless --detach-keys says otherwise) returns to the shell
            and leaves the process running; when the process ends, so does connect.
            The formation's own output keeps showing the instance's lines.
            """,
        options: ControlOptions.options + [
            Option(long: "detach-keys", short: nil, valueName: "KEY", help: "the key that detaches: ctrl-X (default: ctrl-])"),
        ],
        positionals: .types, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
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
                CLI.printError(ControlCall.notRunning(command.name, root: root, path: path))
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
        guard Attach.sendAll(fd, Array(ControlRequest.attach(target: target, rows: Int(rows), cols: Int(cols)).encoded.utf8)) else {
            CLI.printError("connect: \(path): \(errnoDescription())")
            return 1
        }
        // The reply: `ok` and `NAME PID MODE`, or `error KIND MESSAGE`; frames follow `ok`.
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
            guard case .error(let failure) = ControlReply.parse(first) else {
                CLI.printError("connect: malformed reply from the formation")
                return 1
            }
            CLI.printError("connect: \(failure.message)")
            return ControlCall.exitCode(failure.kind)
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

        var session = Attach.Session(socket: fd, detachKey: key, raw: raw, decoder: AttachFrameDecoder())
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
}
