/// swiftman's own events, as values: the supervisor and the runtime report
/// these, and one formatter renders them as a `system` line (text) or a JSON
/// object with the event's fields. Nothing parses the text back.
public enum LifecycleEvent: Equatable, Sendable {
    case started(instance: String, pid: Int32)
    case spawnFailed(instance: String, reason: String)
    /// The instance has ended: its leader is reaped, its group is empty and its
    /// output relayed. `status` is the leader's.
    case exited(instance: String, pid: Int32, status: ExitStatus)
    /// The leader died on its own but other processes of its group live on:
    /// they are stopped before anything restarts.
    case leaderExited(instance: String, pid: Int32, status: ExitStatus, remaining: Int)
    /// The stop signal went to these instances' groups (every one when `all`).
    case stopping(instances: [String], signal: Signal, all: Bool)
    /// Still alive after the grace time: SIGKILL sent to its group.
    case killedAfterGrace(instance: String, pid: Int32, grace: Int64)
    /// A second SIGINT/SIGTERM during shutdown: SIGKILL to what is left.
    case killedOnRequest(instances: [String])
    case restarting(instance: String, delay: Int64)
    /// Past the crash-loop guard: more than `limit` failures in a row with no
    /// run as long as `healthyRun` (nil: more than `limit` within `window`).
    case restartLimit(instance: String, limit: Int, window: Int64, healthyRun: Int64?)
    /// A spawn error that no retry can fix (an argument list too long).
    case cannotStart(instance: String, reason: String)
    case signalReceived(signal: Signal)
    case outputClosed
    /// `swiftman quit`: the formation stops as on Ctrl-C.
    case quitRequested
    case allFinished
    case nothingToStart
    /// Something the user asked for over the control socket.
    case request(action: String, targets: [String])
    /// A warning or note about the setup (a skipped .env line, a degraded feature).
    case notice(String)
    /// Before it started, its PORT was already bound by these processes (none
    /// named: by a process whose descriptors cannot be read, another user's).
    /// A warning: a worker may never bind its port.
    case portInUse(instance: String, port: Int, by: [PortHolder])
    /// `failures` health checks in a row failed, the last for `reason`: it is
    /// stopped and restarted (as a failure).
    case unhealthy(instance: String, check: String, reason: String, failures: Int)
    /// A health check passed after `failures` failed ones.
    case healthy(instance: String, check: String, failures: Int)
    /// Not started yet: these types (with what is awaited) are not ready.
    case waiting(instance: String, for: [String])
    /// Its ready check passed `after` ns after it started.
    case ready(instance: String, after: Int64, check: String)
    /// Not ready within the ready timeout; nothing waits for it, so it runs on.
    case notReady(instance: String, after: Int64, check: String)
    /// A type others wait for failed before it was ready: the formation stops.
    case dependencyFailed(instance: String, reason: String, dependents: [String])
    /// The disposability report, at the end of a run (its table).
    case disposability(DisposabilityReport)
    /// The report's one line (`stopped 3 types in 12ms`), at the end of a run
    /// without --report.
    case stoppedSummary(DisposabilityReport)
    /// `--watch`: `count` files of `type` changed (`paths`: the first few,
    /// as seen); `action` is what follows (`restarting`, `starting`…).
    case changed(type: String, paths: [String], count: Int, action: String)

    /// The instance the event is about, if any.
    public var instance: String? {
        switch self {
        case .started(let i, _), .spawnFailed(let i, _), .exited(let i, _, _), .leaderExited(let i, _, _, _),
             .killedAfterGrace(let i, _, _), .restarting(let i, _), .restartLimit(let i, _, _, _),
             .cannotStart(let i, _), .waiting(let i, _), .ready(let i, _, _), .notReady(let i, _, _),
             .dependencyFailed(let i, _, _), .portInUse(let i, _, _),
             .unhealthy(let i, _, _, _), .healthy(let i, _, _):
            return i
        default:
            return nil
        }
    }

    /// The event's name in JSON logs.
    public var name: String {
        switch self {
        case .started: return "started"
        case .spawnFailed: return "spawn_failed"
        case .exited: return "exited"
        case .leaderExited: return "leader_exited"
        case .stopping: return "stopping"
        case .killedAfterGrace: return "killed_after_grace"
        case .killedOnRequest: return "killed"
        case .restarting: return "restarting"
        case .restartLimit: return "restart_limit"
        case .cannotStart: return "cannot_start"
        case .signalReceived: return "signal"
        case .outputClosed: return "output_closed"
        case .quitRequested: return "quit"
        case .allFinished: return "finished"
        case .nothingToStart: return "nothing_to_start"
        case .request: return "request"
        case .notice: return "notice"
        case .waiting: return "waiting"
        case .portInUse: return "port_in_use"
        case .unhealthy: return "unhealthy"
        case .healthy: return "healthy"
        case .ready: return "ready"
        case .notReady: return "not_ready"
        case .dependencyFailed: return "dependency_failed"
        case .disposability: return "disposability"
        case .stoppedSummary: return "stopped"
        case .changed: return "changed"
        }
    }

    /// The `system` line's text.
    public var text: String {
        switch self {
        case .started(let i, let pid): return "\(i) started with pid \(pid)"
        case .spawnFailed(let i, let reason): return "\(i) could not start: \(reason)"
        case .exited(let i, _, let status): return "\(i) \(status)"
        case .leaderExited(let i, let pid, let status, let remaining):
            return "\(i): pid \(pid) \(status), \(remaining) process\(remaining == 1 ? "" : "es") of its group still running; stopping them"
        case .stopping(let names, let signal, let all):
            return "sending \(Signals.name(signal)) to \(all ? "all processes" : names.joined(separator: ", "))"
        case .killedAfterGrace(let i, _, let grace):
            return "sending SIGKILL to \(i) (still running \(Durations.setting(grace)) after its stop signal)"
        case .killedOnRequest(let names): return "sending SIGKILL to \(names.joined(separator: ", "))"
        case .restarting(let i, let delay): return "\(i) restarting in \(Durations.setting(delay))"
        case .restartLimit(let i, let limit, let window, let healthyRun):
            let how = healthyRun.map { "without running \(Durations.setting($0)) in between" }
                ?? "within \(Durations.setting(window))"
            return "\(i) failed \(limit + 1) times \(how) (restart limit \(limit)); stopping"
        case .cannotStart(let i, let reason): return "\(i) cannot start: \(reason); stopping"
        case .signalReceived(let signal): return "\(Signals.name(signal)) received"
        case .outputClosed: return "output closed"
        case .quitRequested: return "quit requested"
        case .allFinished: return "all processes have finished"
        case .nothingToStart: return "no processes to start"
        case .request(let action, let targets): return "\(action) \(targets.joined(separator: ", ")) on request"
        case .notice(let text): return text
        case .portInUse(let i, let port, let holders):
            let who = holders.isEmpty ? "a process of another user"
                : holders.map { "pid \($0.pid) (\($0.command))" }.joined(separator: ", ")
            return "\(i): port \(port) is already in use by \(who)"
        case .unhealthy(let i, let check, let reason, let failures):
            return "\(i) unhealthy (\(check): \(reason), \(failures) time\(failures == 1 ? "" : "s")): restarting"
        case .healthy(let i, let check, let failures):
            return "\(i) healthy again (\(check)) after \(failures) failed check\(failures == 1 ? "" : "s")"
        case .waiting(let i, let awaited): return "\(i) waiting for \(awaited.joined(separator: ", "))"
        case .ready(let i, let after, let check): return "\(i) ready after \(Durations.measured(after)) (\(check))"
        case .notReady(let i, let after, let check):
            return "\(i) not ready after \(Durations.setting(after)) (still waiting for \(check)); it keeps running"
        case .dependencyFailed(let i, let reason, let dependents):
            return "\(i) \(reason); \(dependents.joined(separator: ", ")) \(dependents.count == 1 ? "waits" : "wait") for it: stopping"
        case .disposability(let report):
            return (["disposability report:"] + report.table.map { "  " + $0 }).joined(separator: "\n")
        case .stoppedSummary(let report): return report.summary ?? "stopped"
        case .changed(let type, let paths, let count, let action):
            let more = count > paths.count ? ", …" : ""
            return "\(type): \(count) file\(count == 1 ? "" : "s") changed (\(paths.joined(separator: ", "))\(more)): \(action)"
        }
    }

    /// The fields a JSON log line carries besides time, process, stream and
    /// message: numbers stay numbers.
    public var fields: [(key: String, value: JSONScalar)] {
        var f: [(String, JSONScalar)] = [("event", .string(name))]
        switch self {
        case .started(_, let pid): f.append(("pid", .number(Int64(pid))))
        case .exited(_, let pid, let status), .leaderExited(_, let pid, let status, _):
            f.append(("pid", .number(Int64(pid))))
            switch status {
            case .exited(let code): f.append(("exit_code", .number(Int64(code))))
            case .signaled(let s): f.append(("signal", .string(Signals.name(s))))
            }
            if case .leaderExited(_, _, _, let remaining) = self { f.append(("remaining", .number(Int64(remaining)))) }
        case .stopping(let names, let signal, _):
            f.append(("signal", .string(Signals.name(signal))))
            f.append(("targets", .string(names.joined(separator: ","))))
        case .killedAfterGrace(_, let pid, let grace):
            f.append(("pid", .number(Int64(pid))))
            f.append(("signal", .string("SIGKILL")))
            f.append(("grace_ms", .number(grace / 1_000_000)))
        case .killedOnRequest(let names):
            f.append(("signal", .string("SIGKILL")))
            f.append(("targets", .string(names.joined(separator: ","))))
        case .restarting(_, let delay): f.append(("delay_ms", .number(delay / 1_000_000)))
        case .restartLimit(_, let limit, let window, let healthyRun):
            f.append(("limit", .number(Int64(limit))))
            if let healthyRun { f.append(("healthy_run_ms", .number(healthyRun / 1_000_000))) }
            else { f.append(("window_ms", .number(window / 1_000_000))) }
        case .signalReceived(let signal): f.append(("signal", .string(Signals.name(signal))))
        case .portInUse(_, let port, let holders):
            f.append(("port", .number(Int64(port))))
            f.append(("holders", .raw("[" + holders.map {
                "{\"pid\":\($0.pid),\"command\":\"\(JSON.escape($0.command))\"}"
            }.joined(separator: ",") + "]")))
        case .unhealthy(_, let check, let reason, let failures):
            f.append(("check", .string(check)))
            f.append(("reason", .string(reason)))
            f.append(("failures", .number(Int64(failures))))
        case .healthy(_, let check, let failures):
            f.append(("check", .string(check)))
            f.append(("failures", .number(Int64(failures))))
        case .waiting(_, let awaited): f.append(("waiting_for", .string(awaited.joined(separator: ", "))))
        case .ready(_, let after, let check), .notReady(_, let after, let check):
            f.append(("after_ms", .number(after / 1_000_000)))
            f.append(("check", .string(check)))
        case .dependencyFailed(_, let reason, let dependents):
            f.append(("reason", .string(reason)))
            f.append(("dependents", .string(dependents.joined(separator: ","))))
        case .disposability(let report), .stoppedSummary(let report): f.append(("types", .raw(report.json)))
        case .request(let action, let targets):
            f.append(("action", .string(action)))
            f.append(("targets", .string(targets.joined(separator: ","))))
        case .changed(let type, let paths, let count, let action):
            f.append(("type", .string(type)))
            f.append(("count", .number(Int64(count))))
            f.append(("paths", .raw("[" + paths.map { "\"" + JSON.escape($0) + "\"" }.joined(separator: ",") + "]")))
            f.append(("action", .string(action)))
        default: break
        }
        return f.map { (key: $0.0, value: $0.1) }
    }
}

/// A process that holds a port open: its pid and command line.
public struct PortHolder: Equatable, Sendable {
    public let pid: Int32
    public let command: String

    public init(pid: Int32, command: String) {
        self.pid = pid
        self.command = command
    }
}

/// A JSON value that fits on one log line without nesting.
public enum JSONScalar: Equatable, Sendable {
    case string(String)
    case number(Int64)
    /// Already JSON (an array of the report's figures).
    case raw(String)

    var rendered: String {
        switch self {
        case .raw(let json): return json
        case .string(let s): return "\"" + JSON.escape(s) + "\""
        case .number(let n): return String(n)
        }
    }
}
