/// Why a control request could not be carried out.
public struct ControlFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One row of `swiftman ps`.
public struct InstanceStatus: Equatable, Sendable {
    public let name: String
    /// The group leader: the program itself for a simple command.
    public let pid: Int32?
    /// running, stopping, backoff, done, crashed, stopped or starting.
    public let state: String
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

    public init(name: String, pid: Int32?, state: String, uptime: Int64, restarts: Int, port: Int,
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

public struct SpawnError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    /// No retry can succeed (E2BIG: the environment is too large): the
    /// formation stops instead of crash-looping.
    public let permanent: Bool
    public init(_ description: String, permanent: Bool = false) {
        self.description = description
        self.permanent = permanent
    }
}

/// Restart, stop and crash-loop rules. Times are nanoseconds.
public struct SupervisorConfig: Equatable, Sendable {
    public var timeout: Int64 = 5_000_000_000
    public var restart = PerType(RestartPolicy.onFailure)
    public var stopSignal = PerType(Signal.terminate)
    /// More than this many restarts within `restartWindow` stops the formation.
    public var restartLimit = PerType(10)
    public var restartWindow: Int64 = 60_000_000_000
    public var backoffInitial: Int64 = 500_000_000
    public var backoffMax: Int64 = 30_000_000_000
    /// An instance that ran this long starts again from the initial backoff.
    public var backoffReset: Int64 = 10_000_000_000
    /// `--ready`, `--after`, `--ready-timeout`.
    public var readiness = ReadinessConfig()

    public init() {}
}
