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

        let client: AttachClient
        do throws(AttachClient.Refusal) {
            client = try AttachClient.open(path: path, target: target)
        } catch {
            switch error {
            case .connect(.notRunning), .connect(.refused):
                CLI.printError(ControlCall.notRunning(command.name, root: root, path: path))
            case .connect(.untrusted):
                // As for every control command: only a server of our uid (or root) is believed.
                CLI.printError("connect: \(path): the server there does not run as you: not trusting it (another user may have planted it)")
            case .connect(.failed(let reason)): CLI.printError("connect: \(path): \(reason)")
            case .connect(.timedOut): CLI.printError("connect: \(path): no reply")
            case .send(let error): CLI.printError("connect: \(path): \(error)")
            case .noReply(let error): CLI.printError("connect: no reply from the formation\(error.map { ": \($0)" } ?? "")")
            case .refused(let failure):
                CLI.printError("connect: \(failure.message)")
                return ControlCall.exitCode(failure.kind)
            case .malformedReply: CLI.printError("connect: malformed reply from the formation")
            }
            return 1
        }
        // Said once the terminal is set up: keys typed after reading it count.
        let outcome = client.run(detachKey: key) {
            CLI.printError("connected to \(client.name) (pid \(client.pid)); detach with \(keyName(key))")
        }
        switch outcome {
        case .detached:
            CLI.printError("detached from \(client.name) (still running)")
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
