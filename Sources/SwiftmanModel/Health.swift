/// `--health TYPE=CHECK`: a check run every `interval` once an instance is
/// ready; `retries` failures in a row restart it gracefully (as a failure:
/// counted in RESTARTS, subject to the restart policy's backoff and limit).
public struct HealthConfig: Equatable, Sendable {
    /// `port`, `http:PATH[=STATUS]` or `cmd:COMMAND` per type.
    public var checks: [String: ReadyCheck] = [:]
    public var interval: Int64 = 10_000_000_000
    public var retries = 3

    public init() {}

    /// Parses every `--health` value as `--ready` values are parsed; `line:`
    /// and `exit` are refused (they say nothing about a running instance).
    public static func parseHealth(_ values: [String], source: String, types: [String]) throws(Diagnostic) -> [String: ReadyCheck] {
        let checks = try ReadinessConfig.parseReady(values, source: source, types: types)
        for (type, check) in checks.sorted(by: { $0.key < $1.key }) {
            switch check {
            case .port, .http, .command: continue
            case .line, .exit:
                throw Diagnostic(source, "\(check) cannot check \(type)'s health (expected port, http:PATH or cmd:COMMAND)")
            }
        }
        return checks
    }

    /// `0.5`, `10` (seconds) or `500ms`, `2s`, `1m` (`Durations.parse`):
    /// nanoseconds, from 1 ms to a day.
    public static func parseInterval(_ text: String) -> Int64? {
        guard let ns = Durations.parse(text), ns >= 1_000_000, ns <= 86_400_000_000_000 else { return nil }
        return ns
    }
}

/// An instance's health as `ps` shows it.
public enum InstanceHealth: Hashable, Sendable, CustomStringConvertible {
    /// Not checked yet in this run (not ready, or the first check is due).
    case unchecked
    case healthy
    /// `failures` in a row out of the `retries` that restart it.
    case unhealthy(failures: Int, retries: Int)

    /// `-`, `healthy`, `unhealthy 2/3`.
    public var description: String {
        switch self {
        case .unchecked: return "-"
        case .healthy: return "healthy"
        case .unhealthy(let failures, let retries): return "unhealthy \(failures)/\(retries)"
        }
    }

    /// One word on the control socket: `-`, `healthy`, `unhealthy:2/3`.
    public var encoded: String {
        if case .unhealthy(let failures, let retries) = self { return "unhealthy:\(failures)/\(retries)" }
        return description
    }

    public init?(encoded: String) {
        switch encoded {
        case "-": self = .unchecked
        case "healthy": self = .healthy
        default:
            guard encoded.hasPrefix("unhealthy:") else { return nil }
            let parts = encoded.dropFirst("unhealthy:".count).split(separator: "/")
            guard parts.count == 2, let failures = Int(parts[0]), let retries = Int(parts[1]) else { return nil }
            self = .unhealthy(failures: failures, retries: retries)
        }
    }
}

/// Where an instance's health checks are, in its current run.
struct HealthState: Equatable, Sendable {
    /// Failed checks in a row.
    var failures = 0
    /// When the next check is due; nil while one runs or none is scheduled.
    var nextCheck: Int64?
    /// A check runs (the host answers with `.health`).
    var checking = false
    /// At least one check has answered in this run.
    var checked = false
    /// Stopped after `retries` failures: its exit is a failure, whatever its status.
    var restarting = false
}
