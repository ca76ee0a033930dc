import SwiftmanModel

/// `swiftman ps`: the running formation's instances, or its disposability report.
enum PSCommand {
    static let command = Command(
        name: "ps", usage: "ps", summary: "list the running formation's instances",
        help: """
            Usage: swiftman ps [--json] [--timings] [OPTIONS]

            One line per instance: name, pid, state (starting, waiting for TYPE, ready,
            running, stopping, backoff, done, crashed, stopped, waiting for a change), uptime,
            restarts, port, with --ready checks the time it took to become ready, and once
            --watch has restarted something, the restarts changes caused (CHANGED).
            --timings prints the disposability report so far: per type, time to ready,
            stop signal to exit, SIGKILLs needed, restarts.
            """,
        options: ControlOptions.options + [Option(long: "json", short: nil, valueName: nil, help: "print JSON"),
                                           Option(long: "timings", short: nil, valueName: nil, help: "print the disposability report")],
        run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        if let extra = args.positionals.first { throw UsageError(message: "unexpected argument \"\(extra)\"") }
        let timings = args.flag("timings")
        let lines = try ControlCall.send(timings ? .timings : .ps, for: command.name, args, environment: environment)
        if timings {
            guard let report = DisposabilityReport(encoded: lines) else {
                CLI.printError("\(command.name): unexpected reply")
                return 1
            }
            print(args.flag("json") ? report.json : report.table.joined(separator: "\n"))
        } else {
            let rows = lines.compactMap(InstanceStatus.init(encoded:))
            if args.flag("json") {
                // The formation itself: its pid and root from `hello`, the socket we used.
                let hello = try ControlCall.send(.hello, for: command.name, args, environment: environment)
                let field = { (key: String) in hello.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) } }
                let socket = try ControlOptions.socketPath(args, root: ControlOptions.root(args), environment: environment).path
                print(json(rows, formation: Formation(pid: field("pid").flatMap { Int32($0) }, root: field("root") ?? "", socket: socket)))
            } else {
                print(table(rows))
            }
        }
        return 0
    }

    /// One row per instance. PROCS counts its process group; RESTARTS are the
    /// restart policy's, REQUESTED the `restart` commands', CHANGED --watch's; a `done` or
    /// `crashed` row shows how it ended.
    static func table(_ rows: [InstanceStatus]) -> String {
        // READY (time to ready) only when some type has a ready check.
        let showReady = rows.contains { $0.readyAfter != nil || $0.state.belongsToReadiness }
        var header = ["NAME", "PID", "PROCS", "STATE", "UPTIME", "RESTARTS", "REQUESTED", "PORT"]
        if showReady { header.append("READY") }
        // CHANGED (restarts caused by --watch) only when a change restarted something.
        let showChanged = rows.contains { $0.changeRestarts > 0 || $0.state == .awaitingChange }
        if showChanged { header.append("CHANGED") }
        // HEALTH only when some type has a --health check.
        let showHealth = rows.contains { $0.health != nil }
        if showHealth { header.append("HEALTH") }
        let table: [[String]] = [header] + rows.map { (row: InstanceStatus) -> [String] in
            let pid = row.pid.map(String.init) ?? "-"
            let processes = row.pid == nil ? "-" : String(row.processes)
            let state = row.exitCode.map { "\(row.state) (exit \($0))" } ?? row.state.description
            let uptime = row.state.isUp ? Durations.uptime(row.uptime) : "-"
            var cells = [row.name, pid, processes, state, uptime, String(row.restarts), String(row.requestedRestarts), String(row.port)]
            if showReady { cells.append(row.readyAfter.map(Durations.measured) ?? "-") }
            if showChanged { cells.append(String(row.changeRestarts)) }
            if showHealth { cells.append(row.health?.description ?? "-") }
            return cells
        }
        return TextTable.lines(table).joined(separator: "\n")
    }

    /// The formation `ps --json` adds to every row.
    struct Formation {
        let pid: Int32?
        let root: String
        let socket: String

        var json: String {
            "{\"pid\":\(pid.map(String.init) ?? "null"),\"root\":\(quoted(root)),\"socket\":\(quoted(socket))}"
        }
    }

    static func json(_ rows: [InstanceStatus], formation: Formation) -> String {
        "[" + rows.map { r in
            "{\"name\":\(quoted(r.name)),\"type\":\(quoted(r.type)),\"index\":\(r.index),"
                + "\"pid\":\(r.pid.map(String.init) ?? "null"),\"processes\":\(r.processes),\"process_group\":\(r.pid.map(String.init) ?? "null"),"
                + "\"state\":\"\(r.state)\",\"ready\":\(r.ready.map { $0 ? "true" : "false" } ?? "null"),"
                + "\"exit_code\":\(r.exitCode.map(String.init) ?? "null"),"
                + "\"exit_signal\":\(r.exitSignal.map { quoted(Signals.name($0)) } ?? "null"),"
                + "\"uptime\":\(Double(r.uptime / 1_000_000) / 1000),\"restarts\":\(r.restarts),"
                + "\"requested_restarts\":\(r.requestedRestarts),\"change_restarts\":\(r.changeRestarts),\"port\":\(r.port),"
                + "\"ready_ms\":\(r.readyAfter.map { String(Double($0 / 1000) / 1000) } ?? "null"),"
                + "\"health\":\(r.health.map { "\"\($0 == .unchecked ? "unchecked" : $0.description)\"" } ?? "null"),"
                + "\"command\":\(quoted(r.command)),\"formation\":\(formation.json)}"
        }.joined(separator: ",") + "]"
    }

    static func quoted(_ text: String) -> String { "\"" + JSON.escape(text) + "\"" }
}

extension InstanceState {
    /// A process runs (or is about to): `ps` shows its uptime.
    fileprivate var isUp: Bool {
        switch self {
        case .starting, .running, .ready, .notReady: return true
        default: return false
        }
    }

    /// Only types with a ready check or an order are in these states: `ps` adds its READY column.
    fileprivate var belongsToReadiness: Bool {
        switch self {
        case .starting, .waiting, .ready: return true
        default: return false
        }
    }
}
