/// When an instance counts as ready (`--ready TYPE=CHECK`). Without a check a
/// type is ready as soon as it has started.
public enum ReadyCheck: Equatable, Sendable, CustomStringConvertible {
    /// Its PORT accepts a TCP connection on 127.0.0.1.
    case port
    /// A line of its output contains the text.
    case line(String)
    /// The command, run under `/bin/sh -c` with the app's env and the
    /// instance's PORT, exits 0 (retried with a short backoff).
    case command(String)
    /// It has exited 0: a one-shot task (`migrate`, `release`).
    case exit
    /// `GET PATH` on 127.0.0.1:PORT answers 2xx or 3xx, or exactly `status`.
    case http(path: String, status: Int?)

    public static func parse(_ text: String) -> ReadyCheck? {
        if text == "port" { return .port }
        if text == "exit" { return .exit }
        if text.hasPrefix("line:"), text.count > 5 { return .line(String(text.dropFirst(5))) }
        if text.hasPrefix("cmd:"), text.count > 4 { return .command(String(text.dropFirst(4))) }
        if let (path, status) = HTTPCheck.parse(text) { return .http(path: path, status: status) }
        return nil
    }

    public var description: String {
        switch self {
        case .port: return "port"
        case .exit: return "exit"
        case .line(let text): return "line:" + text
        case .command(let command): return "cmd:" + command
        case .http(let path, let status): return "http:" + path + (status.map { "=\($0)" } ?? "")
        }
    }

    /// What is awaited, for people: `port 5300`, `a line containing "ready"`.
    public func awaited(port: Int) -> String {
        switch self {
        case .port: return "port \(port)"
        case .exit: return "exit 0"
        case .line(let text): return "a line containing \"\(text)\""
        case .command(let command): return "`\(command)` to succeed"
        case .http(let path, let status): return "GET \(path) on port \(port) to answer \(status.map(String.init) ?? "2xx or 3xx")"
        }
    }
}

/// The start order of the process types: `--after TYPE=DEP+DEP` relations,
/// checked for unknown types and cycles, as stages (a stage starts once the
/// ones before it are ready; shutdown runs them backwards).
public struct StartOrder: Equatable, Sendable {
    /// Type → the types it waits for (Procfile order).
    public let dependencies: [String: [String]]
    /// Type → the types that wait for it (Procfile order).
    public let dependents: [String: [String]]
    /// Types grouped by depth: stage 0 waits for nothing, stage n for stages
    /// before it. Procfile order within a stage.
    public let stages: [[String]]

    public init() {
        dependencies = [:]
        dependents = [:]
        stages = []
    }

    /// `types` in Procfile order; `after` maps a type to its dependencies.
    /// Throws a message naming the unknown type or the cycle.
    public init(types: [String], after: [String: [String]]) throws(StartOrderError) {
        let known = Set(types)
        for (type, deps) in after.sorted(by: { $0.key < $1.key }) {
            for name in [type] + deps where !known.contains(name) {
                throw .unknownType(name)
            }
            if deps.contains(type) { throw .cycle([type, type]) }
        }
        // Linear in types + relations, and iterative (a 10,000-type chain
        // neither takes seconds nor overflows the stack).
        var position: [String: Int] = [:]
        for (index, type) in types.enumerated() where position[type] == nil { position[type] = index }
        var dependencies: [String: [String]] = [:]
        var dependents: [String: [String]] = [:]
        for type in types {
            guard dependencies[type] == nil, let deps = after[type], !deps.isEmpty else { continue }
            var seen = Set<String>()
            let ordered = deps.filter { seen.insert($0).inserted }.sorted { position[$0]! < position[$1]! }
            dependencies[type] = ordered
            for dep in ordered { dependents[dep, default: []].append(type) }
        }
        if let cycle = StartOrder.findCycle(types: types, dependencies: dependencies) { throw .cycle(cycle) }
        // Depth of each type, dependencies first (an iterative post-order walk).
        var depth: [String: Int] = [:]
        for root in types where depth[root] == nil {
            var stack: [(type: String, next: Int)] = [(root, 0)]
            while let top = stack.last {
                let deps = dependencies[top.type] ?? []
                if top.next < deps.count {
                    stack[stack.count - 1].next += 1
                    let dep = deps[top.next]
                    if depth[dep] == nil { stack.append((dep, 0)) }
                    continue
                }
                depth[top.type] = deps.map { depth[$0]! + 1 }.max() ?? 0
                stack.removeLast()
            }
        }
        var stages: [[String]] = []
        var placed = Set<String>()
        for type in types where placed.insert(type).inserted {
            let d = depth[type]!
            while stages.count <= d { stages.append([]) }
            stages[d].append(type)
        }
        self.dependencies = dependencies
        self.dependents = dependents
        self.stages = stages
    }

    /// No relations: everything starts and stops together.
    public var isEmpty: Bool { dependencies.isEmpty }

    public func dependencies(of type: String) -> [String] { dependencies[type] ?? [] }
    public func dependents(of type: String) -> [String] { dependents[type] ?? [] }

    /// `postgres, redis → migrate → web, worker`, restricted to `present` types.
    public func describe(present: Set<String>? = nil) -> String {
        stages.map { $0.filter { present?.contains($0) ?? true } }
            .filter { !$0.isEmpty }
            .map { $0.joined(separator: ", ") }
            .joined(separator: " → ")
    }

    /// The first cycle a depth-first walk meets (types in Procfile order,
    /// dependencies in order), iteratively.
    private static func findCycle(types: [String], dependencies: [String: [String]]) -> [String]? {
        var state: [String: Int] = [:]  // 1: on the path, 2: done
        var onPath: [String: Int] = [:]  // type → its index in `path`
        for root in types where state[root] == nil {
            var path: [(type: String, next: Int)] = [(root, 0)]
            state[root] = 1
            onPath[root] = 0
            while let top = path.last {
                let deps = dependencies[top.type] ?? []
                guard top.next < deps.count else {
                    state[top.type] = 2
                    onPath[top.type] = nil
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let dep = deps[top.next]
                switch state[dep] {
                case 2: continue
                case 1: return path[onPath[dep]!...].map(\.type) + [dep]
                default:
                    state[dep] = 1
                    onPath[dep] = path.count
                    path.append((dep, 0))
                }
            }
        }
        return nil
    }
}

public enum StartOrderError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownType(String)
    /// The types around the cycle, the first repeated at the end.
    case cycle([String])

    public var description: String {
        switch self {
        case .unknownType(let name): return "unknown process type \"\(name)\""
        case .cycle(let types):
            // Read as "a waits for b waits for a".
            return "cycle: " + types.joined(separator: " waits for ")
        }
    }
}

/// Everything about readiness and order that `start` and `check` take from
/// the command line: `--ready`, `--after`, `--ready-timeout`.
public struct ReadinessConfig: Equatable, Sendable {
    public var checks: [String: ReadyCheck] = [:]
    public var order = StartOrder()
    /// An instance not ready this long after it started has failed (when
    /// others wait for it) or is reported as not ready.
    public var timeout: Int64 = 60_000_000_000

    public init() {}

    /// Parses every `--ready` value (each `TYPE=CHECK[,TYPE=CHECK…]`). A
    /// piece after a comma that does not start a new `TYPE=CHECK` belongs to
    /// the `line:` or `cmd:` check before it; such a check is best given in
    /// its own `--ready`. `types` are the Procfile's.
    public static func parseReady(_ values: [String], source: String, types: [String]) throws(Diagnostic) -> [String: ReadyCheck] {
        var items: [String] = []
        for value in values {
            var current: String?
            for piece in value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                if let open = current, open.isTextCheck, !piece.startsReadyItem {
                    current = open + "," + piece
                    continue
                }
                if let open = current { items.append(open) }
                current = piece
            }
            if let open = current { items.append(open) }
        }
        var checks: [String: ReadyCheck] = [:]
        let known = Set(types)
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let type = parts[0].trimmingSpaces
            guard parts.count == 2, !type.isEmpty else {
                throw Diagnostic(source, "expected TYPE=CHECK (port, http:PATH, line:TEXT, cmd:COMMAND or exit), got \"\(item)\"")
            }
            guard known.contains(type) else {
                throw Diagnostic(source, "unknown process type \"\(type)\" (Procfile has: \(types.joined(separator: ", ")))")
            }
            let text = String(parts[1]).trimmingLeadingSpaces
            guard let check = ReadyCheck.parse(text) else {
                throw Diagnostic(source, "invalid check \"\(text)\" for \(type) (expected port, http:PATH, line:TEXT, cmd:COMMAND or exit)")
            }
            if let previous = checks[type], previous != check {
                throw Diagnostic(source, "\(type) is given two checks (\(previous) and \(check))")
            }
            checks[type] = check
        }
        return checks
    }

    /// Parses every `--after` value (`TYPE=DEP+DEP[,TYPE=DEP…]`) into a start
    /// order over `types` (Procfile order).
    public static func parseAfter(_ values: [String], source: String, types: [String]) throws(Diagnostic) -> StartOrder {
        var after: [String: [String]] = [:]
        for value in values {
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let type = parts[0].trimmingSpaces
                let deps = parts.count == 2
                    ? parts[1].split(separator: "+", omittingEmptySubsequences: false).map { $0.trimmingSpaces } : []
                guard parts.count == 2, !type.isEmpty, !deps.isEmpty, !deps.contains("") else {
                    throw Diagnostic(source, "expected TYPE=DEP[+DEP…], got \"\(item)\"")
                }
                after[type, default: []].append(contentsOf: deps)  // repeats are dropped by StartOrder
            }
        }
        do throws(StartOrderError) {
            return try StartOrder(types: types, after: after)
        } catch {
            if case .unknownType(let name) = error {
                throw Diagnostic(source, "unknown process type \"\(name)\" (Procfile has: \(types.joined(separator: ", ")))")
            }
            throw Diagnostic(source, error.description)
        }
    }
}

extension String {
    fileprivate var isTextCheck: Bool {
        guard let eq = firstIndex(of: "=") else { return false }
        let check = self[index(after: eq)...].trimmingLeadingSpaces
        return check.hasPrefix("line:") || check.hasPrefix("cmd:")
    }

    /// `name=port`, `name=exit`, `name=http:…`, `name=line:…`, `name=cmd:…` (name as in a Procfile).
    fileprivate var startsReadyItem: Bool {
        guard let eq = firstIndex(of: "=") else { return false }
        let name = self[..<eq].trimmingSpaces
        guard !name.isEmpty, name.utf8.allSatisfy({
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D
        }) else { return false }
        let check = self[index(after: eq)...].trimmingLeadingSpaces
        return check == "port" || check == "exit" || check.hasPrefix("http:") || check.hasPrefix("line:") || check.hasPrefix("cmd:")
    }
}

extension StringProtocol {
    var trimmingLeadingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" })
    }
}

/// Per process type, what factor IX asks for: how fast it becomes ready, how
/// fast it stops, whether it had to be killed, how often it restarted.
public struct DisposabilityReport: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public var type: String
        /// Time to ready of every start (instances and restarts), ns.
        public var ready: [Int64] = []
        /// Stop signal → exit, ns, for every instance we stopped.
        public var stop: [Int64] = []
        /// Stops that needed SIGKILL: after the grace time, or at a second
        /// Ctrl-C during shutdown.
        public var killed = 0
        public var restarts = 0
        public var stopSignal: Signal = .terminate

        public init(type: String) { self.type = type }
    }

    public var rows: [Row]
    public var grace: Int64
    /// From the start of shutdown to the last exit, once the formation has
    /// stopped (not sent over the control socket).
    public var shutdown: Int64?

    public init(rows: [Row], grace: Int64, shutdown: Int64? = nil) {
        self.rows = rows
        self.grace = grace
        self.shutdown = shutdown
    }

    /// A stop that took longer than this is named in the summary.
    public static let slowStop: Int64 = 1_000_000_000

    /// The hint for a type whose stop needed SIGKILL.
    static func hint(_ row: Row) -> String {
        let signal = Signals.name(row.stopSignal)
        return "\(row.type) needed SIGKILL (still running after \(signal)): handle \(signal) in the program, or set --stop-signal \(row.type)=SIGNAL"
    }

    /// The one line printed at the end of a run by default: `stopped 3 types
    /// in 12ms`, then each type that needed SIGKILL (with the hint) or took
    /// longer than a second to stop. Nil when nothing was stopped.
    public var summary: String? {
        let stopped = rows.filter { !$0.stop.isEmpty }
        guard !stopped.isEmpty else { return nil }
        var line = "stopped \(stopped.count) type\(stopped.count == 1 ? "" : "s")"
        if let shutdown { line += " in \(Durations.measured(shutdown))" }
        var notes: [String] = []
        for row in stopped {
            if row.killed > 0 {
                notes.append(DisposabilityReport.hint(row))
            } else if let slowest = row.stop.max(), slowest > DisposabilityReport.slowStop {
                notes.append("\(row.type) took \(Durations.measured(slowest)) to stop")
            }
        }
        if !notes.isEmpty { line += "; " + notes.joined(separator: "; ") + " (the table: --report)" }
        return line
    }

    static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// The table's lines, header first, then one hint per type that needed SIGKILL.
    public var table: [String] {
        func span(_ values: [Int64]) -> String {
            guard let median = DisposabilityReport.median(values), let max = values.max() else { return "-" }
            return values.count == 1 ? Durations.measured(median) : "\(Durations.measured(median)) / \(Durations.measured(max))"
        }
        var cells = [["TYPE", "READY (median / max)", "STOP (median / max)", "KILLED", "RESTARTS"]]
        for row in rows {
            cells.append([row.type, span(row.ready), span(row.stop),
                          row.stop.isEmpty ? "-" : (row.killed == 0 ? "no" : "\(row.killed) of \(row.stop.count)"),
                          String(row.restarts)])
        }
        var lines = TextTable.lines(cells)
        for row in rows where row.killed > 0 { lines.append(DisposabilityReport.hint(row)) }
        return lines
    }

    /// The figures as a JSON array (milliseconds), for the JSON log event.
    public var json: String {
        func ms(_ v: Int64?) -> String { v.map(Durations.milliseconds) ?? "null" }
        return "[" + rows.map { row in
            "{\"type\":\"\(JSON.escape(row.type))\",\"ready_count\":\(row.ready.count),"
                + "\"ready_median_ms\":\(ms(DisposabilityReport.median(row.ready))),\"ready_max_ms\":\(ms(row.ready.max())),"
                + "\"stop_count\":\(row.stop.count),"
                + "\"stop_median_ms\":\(ms(DisposabilityReport.median(row.stop))),\"stop_max_ms\":\(ms(row.stop.max())),"
                + "\"sigkill\":\(row.killed),\"restarts\":\(row.restarts)}"
        }.joined(separator: ",") + "]"
    }

    /// One line per type on the control socket: `type restarts killed signal
    /// ready,… stop,…` (ns; `-` for none).
    public var encoded: [String] {
        ["grace \(grace)"] + rows.map { row in
            func list(_ v: [Int64]) -> String { v.isEmpty ? "-" : v.map(String.init).joined(separator: ",") }
            return "\(row.type) \(row.restarts) \(row.killed) \(row.stopSignal.rawValue) \(list(row.ready)) \(list(row.stop))"
        }
    }

    public init?(encoded lines: [String]) {
        guard let first = lines.first, first.hasPrefix("grace "), let grace = Int64(first.dropFirst(6)) else { return nil }
        var rows: [Row] = []
        for line in lines.dropFirst() {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 6, let restarts = Int(f[1]), let killed = Int(f[2]), let signal = Int32(f[3]).map(Signal.init(rawValue:)) else { return nil }
            var row = Row(type: f[0])
            row.restarts = restarts
            row.killed = killed
            row.stopSignal = signal
            row.ready = f[4] == "-" ? [] : f[4].split(separator: ",").compactMap { Int64($0) }
            row.stop = f[5] == "-" ? [] : f[5].split(separator: ",").compactMap { Int64($0) }
            rows.append(row)
        }
        self.init(rows: rows, grace: grace)
    }
}
