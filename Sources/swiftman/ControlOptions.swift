import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// Where the control socket is, shared by `start` and the control commands.
enum ControlOptions {
    static let socket = Option(long: "socket", short: nil, valueName: "PATH",
                               help: "control socket (default: derived from the root directory)")

    static let options: [Option] = [
        Option(long: "procfile", short: "f", valueName: "PATH", help: "Procfile of the running formation (finds its root)"),
        Option(long: "root", short: "d", valueName: "DIR", help: "root directory of the running formation"),
        socket,
    ]

    /// The socket path and, when derived, the private directory that holds
    /// it (the one actually used: `$XDG_RUNTIME_DIR/swiftman` or the
    /// `/tmp/swiftman-UID` fallback), which `start` creates and checks.
    static func socketPath(_ args: Arguments, root: String, environment: [String: String]) throws(UsageError)
        -> (path: String, directory: String?) {
        if let path = args["socket"] {
            do throws(Diagnostic) {
                try ControlSocketSafety.validateExplicit(path, source: args.source("socket"))
            } catch {
                throw UsageError(message: error.description)
            }
            return (path, nil)
        }
        let uid = UserID.current.rawValue
        let canonicalRoot = FileSystem.canonical(root) ?? FileSystem.absolute(root)
        let path = ControlSocketPath.derive(root: canonicalRoot, uid: uid, environment: environment)
        return (path, FileSystem.directory(of: path))
    }

    /// The root a control command talks about: -d, else the Procfile's directory.
    static func root(_ args: Arguments) -> String {
        args["root"] ?? FileSystem.directory(of: args["procfile"] ?? "Procfile")
    }
}

/// A control command's request to the running formation: the one place where
/// its failures are worded and become exit codes.
enum ControlCall {
    /// Sends `request` to the formation that `args` name and returns the reply's
    /// lines. A failure is printed as `COMMAND: …` and thrown as its exit code.
    /// `timeout`: how long to wait for the reply (0: as long as it takes),
    /// and the exit code when it does not come in time.
    static func send(_ request: ControlRequest, for command: String, _ args: Arguments,
                     environment: [String: String], timeout: (ms: Int32, exitCode: Int32) = (10_000, 1)) throws -> [String] {
        let root = ControlOptions.root(args)
        let path = try ControlOptions.socketPath(args, root: root, environment: environment).path
        let reply: ControlReply
        do throws(ControlClient.Failure) {
            reply = try ControlClient.send(request, to: path, timeoutMs: timeout.ms)
        } catch {
            switch error {
            case .notRunning, .refused:
                CLI.printError(notRunning(command, root: root, path: path))
            case .untrusted(let uid):
                CLI.printError("\(command): \(path): the server there runs as \(Platform.describeUser(uid)), not as you: not trusting its answer (another user may have planted it)")
            case .failed(let reason): CLI.printError("\(command): \(path): \(reason)")
            case .timedOut:
                CLI.printError("\(command): no reply within \(Durations.setting(Int64(timeout.ms) * 1_000_000))"
                               + (timeout.exitCode == 1 ? " (is the formation stopped, e.g. with Ctrl-Z?)" : ""))
                throw CommandExit(code: timeout.exitCode)
            }
            throw CommandExit(code: 1)
        }
        switch reply {
        case .ok(let lines):
            return lines
        case .error(let failure):
            CLI.printError("\(command): \(failure.message)")
            throw CommandExit(code: exitCode(failure.kind))
        }
    }

    /// A request whose reply is `ok`, then raw output (`logs`, `events`): the
    /// output is copied to stdout until the formation closes the connection
    /// (with `follow`: as long as the formation runs). Returns the exit code.
    static func stream(_ request: ControlRequest, for command: String, _ args: Arguments,
                       environment: [String: String], follow: Bool = false) throws -> Int32 {
        let root = ControlOptions.root(args)
        let path = try ControlOptions.socketPath(args, root: root, environment: environment).path
        let fd: FileDescriptor
        do throws(ControlClient.Failure) {
            fd = try ControlClient.connect(to: path, timeoutMs: 10_000)
        } catch {
            switch error {
            case .notRunning, .refused: CLI.printError(notRunning(command, root: root, path: path))
            case .untrusted: CLI.printError("\(command): \(path): the server there does not run as you: not trusting it")
            case .timedOut: CLI.printError("\(command): \(path): no reply")
            case .failed(let reason): CLI.printError("\(command): \(path): \(reason)")
            }
            return 1
        }
        defer { fd.close() }
        do throws(Errno) {
            try fd.sendAll(Array(request.encoded.utf8))
        } catch {
            CLI.printError("\(command): \(path): \(error)")
            return 1
        }
        // A follower waits for lines as long as the formation runs.
        if follow { fd.clearTimeouts() }
        var first: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var answered = false
        while true {
            let received = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
            guard case .success(let n) = received, n > 0 else {
                if case .failure(let error) = received {
                    CLI.printError("\(command): \(error == .wouldBlock ? "no reply within 10s" : "\(error)")")
                    return 1
                }
                break
            }
            var chunk = buffer[0..<n]
            if !answered {
                first += chunk
                guard let newline = first.firstIndex(of: 10) else { continue }
                let line = String(decoding: first[..<newline], as: UTF8.self)
                if line != "ok" {
                    guard case .error(let failure)? = ControlReply.parse(line) else {
                        CLI.printError("\(command): malformed reply from the formation")
                        return 1
                    }
                    CLI.printError("\(command): \(failure.message)")
                    return exitCode(failure.kind)
                }
                answered = true
                chunk = first[(newline + 1)...]
            }
            do throws(Errno) {
                try FileDescriptor.standardOutput.writeAll(Array(chunk))
            } catch {
                // Our reader left (a pipe into head): done.
                return error == .brokenPipe ? 0 : 1
            }
        }
        if !answered {
            CLI.printError("\(command): no reply from the formation")
            return 1
        }
        return 0
    }

    /// A name the formation's Procfile does not have is a bad argument, as on
    /// the command line; any other refusal depends on the formation's state.
    static func exitCode(_ kind: ControlErrorKind) -> Int32 {
        switch kind {
        case .badTarget: return 2
        case .refused: return 1
        }
    }

    static func notRunning(_ command: String, root: String, path: String) -> String {
        "\(command): no running formation for \(FileSystem.canonical(root) ?? root) (no live control socket at \(path))"
    }

    /// `restart`, `stop`: one TYPE or TYPE.N (checked as strictly as the server
    /// will), then the instances the formation names, one a line.
    static func run(_ command: Command, _ raw: [String], environment: [String: String],
                    request: (_ target: String) -> ControlRequest) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        guard args.positionals.count == 1, ControlRequest.isName(args.positionals[0]) else {
            throw UsageError(message: "expected one TYPE or TYPE.N")
        }
        for name in try send(request(args.positionals[0]), for: command.name, args, environment: environment) { print(name) }
        return 0
    }

    /// A `--timeout DURATION` option as milliseconds for the reply's wait
    /// (0 when not given: as long as it takes).
    static func timeoutMs(_ args: Arguments) throws(UsageError) -> Int32 {
        guard let text = args["timeout"] else { return 0 }
        guard let ns = Durations.parse(text) else {
            throw UsageError(message: "\(args.source("timeout")): invalid duration \"\(text)\" (e.g. 30, 0.5, 500ms, 2m)")
        }
        return Int32(clamping: max(1, ns / 1_000_000))
    }

    /// A ControlFailure of the request's own checks, as a usage error.
    static func usage<T>(_ body: () throws(ControlFailure) -> T) throws(UsageError) -> T {
        do throws(ControlFailure) {
            return try body()
        } catch {
            throw UsageError(message: error.message)
        }
    }
}
