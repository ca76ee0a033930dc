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
    /// `--health`, `--health-interval`, `--health-retries`.
    public var health = HealthConfig()

    public init() {}
}
