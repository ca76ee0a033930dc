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

/// `--watch`: which types restart on a change to their files, and the quiet
/// period after the last change before they do.
public struct WatchSettings: Equatable, Sendable {
    public var types: Set<String> = []
    public var delay: Int64 = 200_000_000
    /// A change within this long of a type's last start or exit (or while it
    /// stops or restarts) is counted as made by the type itself.
    public var ownChangeWindow: Int64 = 1_000_000_000
    /// This many restarts in a row caused only by such changes, within
    /// `loopWindow`, are a loop: watching the type pauses.
    public var loopRestarts = 3
    public var loopWindow: Int64 = 30_000_000_000
    public init(types: Set<String> = [], delay: Int64 = 200_000_000) {
        self.types = types
        self.delay = delay
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
    /// `--watch`, `--watch-delay`.
    public var watch = WatchSettings()
    /// `--health`, `--health-interval`, `--health-retries`.
    public var health = HealthConfig()

    public init() {}
}
