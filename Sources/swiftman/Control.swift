import Glibc
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
        let uid = UInt32(getuid())
        let canonicalRoot = FileSystem.canonical(root) ?? FileSystem.absolute(root)
        let path = ControlSocketPath.derive(root: canonicalRoot, uid: uid, environment: environment)
        return (path, FileSystem.directory(of: path))
    }

    /// The root a control command talks about: -d, else the Procfile's directory.
    static func root(_ args: Arguments) -> String {
        args["root"] ?? FileSystem.directory(of: args["procfile"] ?? "Procfile")
    }
}

/// `scale`, `ps`, `restart`, `stop`: requests to a running `swiftman start`.
enum Control {
    static func help(_ command: String) -> String {
        let usage: String
        switch command {
        case "scale": usage = """
            Usage: swiftman scale TYPE=N [TYPE=N…] [OPTIONS]

            Changes the running formation: new instances start with their scheme port
            (base + 100 × type index + N − 1); removed ones, highest numbers first, get
            their stop signal, then SIGKILL after the timeout. Other instances are untouched.
            """
        case "ps": usage = """
            Usage: swiftman ps [--json] [--timings] [OPTIONS]

            One line per instance: name, pid, state (starting, waiting for TYPE, ready,
            running, stopping, backoff, done, crashed, stopped), uptime, restarts, port,
            and with --ready checks the time it took to become ready.
            --timings prints the disposability report so far: per type, time to ready,
            stop signal to exit, SIGKILLs needed, restarts.
            """
        case "restart": usage = """
            Usage: swiftman restart TYPE|TYPE.N [OPTIONS]

            Stops the instance(s) gracefully and starts them again.
            """
        default: usage = """
            Usage: swiftman stop TYPE|TYPE.N [OPTIONS]

            Stops the instance(s) gracefully; they stay stopped (whatever the restart
            policy) until `restart` or `scale`.
            """
        }
        return usage + "\n\nOptions:\n" + describe(options(command))
    }

    static func options(_ command: String) -> [Option] {
        command == "ps" ? ControlOptions.options + [Option(long: "json", short: nil, valueName: nil, help: "print JSON"),
                                                    Option(long: "timings", short: nil, valueName: nil, help: "print the disposability report")]
            : ControlOptions.options
    }

    static func run(_ command: String, _ rawArgs: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try Arguments.parse(rawArgs, options: options(command), help: help(command),
                                             environment: environment) else { return 0 }
        var request = try makeRequest(command, args.positionals)
        if command == "ps" && args.flag("timings") { request = .timings }
        let root = ControlOptions.root(args)
        let path = try ControlOptions.socketPath(args, root: root, environment: environment).path
        let reply: ControlReply
        do throws(ControlClient.Failure) {
            reply = try ControlClient.send(request, to: path)
        } catch {
            let where_ = FileSystem.canonical(root) ?? root
            switch error {
            case .notRunning, .refused:
                CLI.printError("\(command): no running formation for \(where_) (no live control socket at \(path))")
            case .untrusted(let uid):
                CLI.printError("\(command): \(path): the server there runs as \(Platform.describeUser(uid)), not as you: not trusting its answer (another user may have planted it)")
            case .failed(let reason): CLI.printError("\(command): \(path): \(reason)")
            }
            return 1
        }
        switch reply {
        case .error(let message):
            CLI.printError("\(command): \(message)")
            // The server checks the names against its Procfile: a name it does not
            // know is a bad argument (exit 2, as in the README); other refusals exit 1.
            return message.hasPrefix("unknown process type") ? 2 : 1
        case .ok(let lines):
            if request == .timings {
                guard let report = DisposabilityReport(encoded: lines) else {
                    CLI.printError("\(command): unexpected reply")
                    return 1
                }
                print(args.flag("json") ? report.json : report.table.joined(separator: "\n"))
            } else if command == "ps" {
                let rows = lines.compactMap(InstanceStatus.init(encoded:))
                print(args.flag("json") ? psJSON(rows) : psTable(rows))
            } else {
                for line in lines { print(line) }
            }
            return 0
        }
    }

    /// Validates the arguments as strictly as the server will.
    static func makeRequest(_ command: String, _ words: [String]) throws(UsageError) -> ControlRequest {
        do throws(ControlFailure) {
            switch command {
            case "ps":
                guard words.isEmpty else { throw ControlFailure("unexpected argument \"\(words[0])\"") }
                return .ps
            case "scale":
                guard !words.isEmpty else { throw ControlFailure("missing TYPE=N") }
                return .scale(try words.map { w throws(ControlFailure) in try ControlRequest.parseScaleItem(w) })
            default:
                guard words.count == 1, ControlRequest.isName(words[0]) else {
                    throw ControlFailure("expected one TYPE or TYPE.N")
                }
                return command == "stop" ? .stop(words[0]) : .restart(words[0])
            }
        } catch {
            throw UsageError(message: error.description)
        }
    }

    /// `ps`: one row per instance. PROCS counts its process group; RESTARTS
    /// are the restart policy's, REQUESTED the `restart` commands'; a `done`
    /// or `crashed` row shows how it ended.
    static func psTable(_ rows: [InstanceStatus]) -> String {
        // READY (time to ready) only when some type has a ready check.
        let showReady = rows.contains { $0.readyAfter != nil || $0.state.hasPrefix("waiting") || $0.state == "starting" || $0.state == "ready" }
        var header = ["NAME", "PID", "PROCS", "STATE", "UPTIME", "RESTARTS", "REQUESTED", "PORT"]
        if showReady { header.append("READY") }
        let table: [[String]] = [header] + rows.map { (row: InstanceStatus) -> [String] in
            let pid = row.pid.map(String.init) ?? "-"
            let processes = row.pid == nil ? "-" : String(row.processes)
            let state = row.exitCode.map { "\(row.state) (exit \($0))" } ?? row.state
            let uptime = ["running", "ready", "starting", "not ready"].contains(row.state) ? formatUptime(row.uptime) : "-"
            let cells = [row.name, pid, processes, state, uptime, String(row.restarts), String(row.requestedRestarts), String(row.port)]
            return showReady ? cells + [row.readyAfter.map(formatMilliseconds) ?? "-"] : cells
        }
        let widths = (0..<table[0].count).map { c in table.map { $0[c].count }.max()! }
        return table.map { row in
            row.enumerated().map { c, cell in cell + String(repeating: " ", count: widths[c] - cell.count) }
                .joined(separator: "  ").trimmingTrailingSpaces
        }.joined(separator: "\n")
    }

    static func psJSON(_ rows: [InstanceStatus]) -> String {
        "[" + rows.map { r in
            "{\"name\":\"\(r.name)\",\"pid\":\(r.pid.map(String.init) ?? "null"),\"processes\":\(r.processes),"
                + "\"state\":\"\(r.state)\",\"exit_code\":\(r.exitCode.map(String.init) ?? "null"),"
                + "\"uptime\":\(Double(r.uptime / 1_000_000) / 1000),\"restarts\":\(r.restarts),"
                + "\"requested_restarts\":\(r.requestedRestarts),\"port\":\(r.port),"
                + "\"ready_ms\":\(r.readyAfter.map { String(Double($0 / 1000) / 1000) } ?? "null")}"
        }.joined(separator: ",") + "]"
    }

    static func formatUptime(_ ns: Int64) -> String {
        let s = ns / 1_000_000_000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\(s % 3600 / 60)m"
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
