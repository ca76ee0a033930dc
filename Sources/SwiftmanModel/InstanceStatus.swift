/// What an instance is doing, as `ps` shows it: the supervisor decides it, the
/// CLI renders it (`description`), the control socket carries it (`encoded`).
public enum InstanceState: Hashable, Sendable, CustomStringConvertible {
    /// Launched (or about to be), its ready check not passed yet.
    case starting
    /// Not launched: the types it starts after (`--after`) are not ready yet.
    case waiting(for: [String])
    /// Running; its type has no ready check.
    case running
    /// Running, and its ready check passed.
    case ready
    /// Running, but its ready check gave up (it keeps running).
    case notReady
    /// Sent its stop signal, not exited yet.
    case stopping
    /// Crashed, waiting to be restarted.
    case backoff
    /// Exited with code 0, not to be restarted.
    case done
    /// Exited with another code or a signal, not to be restarted.
    case crashed
    /// Stopped on request (`stop`, scale down, shutdown) or never started.
    case stopped
    /// `--watch`: ended (crashed, done, restart limit) and waits for a change
    /// to its files to start again.
    case awaitingChange

    /// `running`, `waiting for redis, migrate`, `not ready`.
    public var description: String {
        switch self {
        case .waiting(let types): return "waiting for " + types.joined(separator: ", ")
        case .notReady: return "not ready"
        case .awaitingChange: return "waiting for a change"
        default: return word
        }
    }

    /// One word on the wire: `running`, `waiting:redis,migrate`, `not-ready`.
    public var encoded: String {
        switch self {
        case .waiting(let types): return "waiting:" + types.joined(separator: ",")
        default: return word
        }
    }

    public init?(encoded: String) {
        if encoded.hasPrefix("waiting:") {
            let list = encoded.dropFirst("waiting:".count)
            let types = list.isEmpty ? [] : list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard types.allSatisfy(ControlRequest.isName) else { return nil }
            self = .waiting(for: types)
            return
        }
        guard let state = InstanceState.simple.first(where: { $0.word == encoded }) else { return nil }
        self = state
    }

    /// The states without a payload.
    static let simple: [InstanceState] = [.starting, .running, .ready, .notReady, .stopping, .backoff, .done, .crashed, .stopped, .awaitingChange]

    private var word: String {
        switch self {
        case .starting: return "starting"
        case .waiting: return "waiting"
        case .running: return "running"
        case .ready: return "ready"
        case .notReady: return "not-ready"
        case .stopping: return "stopping"
        case .backoff: return "backoff"
        case .done: return "done"
        case .crashed: return "crashed"
        case .stopped: return "stopped"
        case .awaitingChange: return "awaiting-change"
        }
    }
}

/// One row of `swiftman ps`.
public struct InstanceStatus: Equatable, Sendable {
    public let name: String
    /// The group leader: the program itself for a simple command.
    public let pid: Int32?
    public let state: InstanceState
    /// Nanoseconds since it started, while running.
    public let uptime: Int64
    /// Restarts after a crash (or a clean exit under `always`).
    public let restarts: Int
    public let port: Int
    /// Restarts asked for with `swiftman restart`.
    public var requestedRestarts: Int = 0
    /// How the last run ended, for `done` and `crashed` rows.
    public var exitCode: Int32? = nil
    /// Processes in the instance's group (filled in by the runtime).
    public var processes: Int = 0
    /// How long its current run took to become ready (types with a check).
    public var readyAfter: Int64? = nil
    /// Restarts caused by changes to its files (`--watch`) or its dependency's.
    public var changeRestarts: Int = 0
    /// Its `--health` check's verdict; nil when its type has none.
    public var health: InstanceHealth? = nil
    /// Whether it is ready; nil when its type has no ready check.
    public var ready: Bool? = nil
    /// The signal that ended the last run, for rows with an exit code.
    public var exitSignal: Signal? = nil
    /// Its Procfile command.
    public var command: String = ""

    /// Its type: the name without `.N`.
    public var type: String { name.lastIndex(of: ".").map { String(name[..<$0]) } ?? name }
    /// Its instance number: the `N` of `TYPE.N`.
    public var index: Int { name.lastIndex(of: ".").flatMap { Int(name[name.index(after: $0)...]) } ?? 0 }

    public init(name: String, pid: Int32?, state: InstanceState, uptime: Int64, restarts: Int, port: Int,
                requestedRestarts: Int = 0, exitCode: Int32? = nil, processes: Int = 0) {
        self.name = name
        self.pid = pid
        self.state = state
        self.uptime = uptime
        self.restarts = restarts
        self.port = port
        self.requestedRestarts = requestedRestarts
        self.exitCode = exitCode
        self.processes = processes
    }
}
