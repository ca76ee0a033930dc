/// What the supervisor needs from the outside world: the seam that lets tests
/// drive it with fake processes and a fake clock.
public protocol SupervisorHost: AnyObject {
    /// Starts an instance in its own process group; returns its pid (= pgid)
    /// or why it could not start.
    func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError>
    /// Sends `signal` to a whole process group.
    func signal(group: Int32, _ signal: Int32)
    /// Sends `signal` to orphans handed to swiftman (subreaper / PID 1).
    func signalOrphans(_ signal: Int32)
    /// Prints one of swiftman's own events under the name `system`.
    func system(_ message: String)
}

public struct SpawnError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Restart, stop and crash-loop rules. Times are nanoseconds.
public struct SupervisorConfig: Equatable, Sendable {
    public var timeout: Int64 = 5_000_000_000
    public var restart = PerType(RestartPolicy.onFailure)
    public var stopSignal = PerType(Int32(15))
    /// More than this many restarts within `restartWindow` stops the formation.
    public var restartLimit = PerType(10)
    public var restartWindow: Int64 = 60_000_000_000
    public var backoffInitial: Int64 = 500_000_000
    public var backoffMax: Int64 = 30_000_000_000
    /// An instance that ran this long starts again from the initial backoff.
    public var backoffReset: Int64 = 10_000_000_000

    public init() {}
}

/// The formation's state machine. It decides; the host does. Every entry point
/// takes `now` (monotonic nanoseconds) so tests control time.
public final class Supervisor {
    public enum State: Equatable, Sendable {
        case pending
        case running(pid: Int32)
        /// Waiting to be restarted.
        case backoff(until: Int64)
        /// Sent its stop signal; waiting for it to exit.
        case stopping(pid: Int32)
        /// Ended and stays ended (clean exit under on-failure, or stopped).
        case exited(ExitStatus?)
    }

    public struct Instance: Equatable, Sendable {
        public let spec: InstanceSpec
        public internal(set) var state: State = .pending
        public internal(set) var startedAt: Int64 = 0
        public internal(set) var restarts = 0
        var recentFailures: [Int64] = []
        var backoff: Int64 = 0

        public var pid: Int32? {
            switch state {
            case .running(let pid), .stopping(let pid): return pid
            default: return nil
            }
        }
    }

    public enum Phase: Equatable, Sendable {
        case running
        /// Shutting down; SIGKILL goes out at `deadline` unless `killed`.
        case stopping(deadline: Int64, killed: Bool)
    }

    public private(set) var instances: [Instance]
    public private(set) var phase = Phase.running
    /// Set by whatever brought the formation down first.
    public private(set) var exitCode: Int32 = 0
    public let config: SupervisorConfig
    /// The host owns the supervisor and outlives it.
    private unowned let host: SupervisorHost
    private var slotByPid: [Int32: Int] = [:]

    public init(instances: [InstanceSpec], config: SupervisorConfig, host: SupervisorHost) {
        self.instances = instances.map { Instance(spec: $0) }
        self.config = config
        self.host = host
    }

    /// Starts every instance.
    public func start(now: Int64) {
        for slot in instances.indices { launch(slot, now: now) }
        if instances.isEmpty {
            host.system("no processes to start")
            stopAll(exitCode: 0, now: now)
        }
    }

    /// True once shutting down and every instance has been reaped.
    public var isFinished: Bool {
        guard case .stopping = phase else { return false }
        return instances.allSatisfy { $0.pid == nil }
    }

    /// The earliest moment `tick` has work to do.
    public var nextDeadline: Int64? {
        switch phase {
        case .stopping(let deadline, let killed):
            return killed ? nil : deadline
        case .running:
            return instances.compactMap {
                if case .backoff(let until) = $0.state { return until }
                return nil
            }.min()
        }
    }

    /// Reports a reaped child. Returns false when the pid is not an instance
    /// (an orphan reaped as subreaper or PID 1).
    @discardableResult
    public func childExited(pid: Int32, status: ExitStatus, now: Int64) -> Bool {
        guard let slot = slotByPid.removeValue(forKey: pid) else { return false }
        let name = instances[slot].spec.name
        host.system("\(name) \(status)")
        if case .stopping = phase {
            instances[slot].state = .exited(status)
        } else {
            decide(slot, status: status, now: now)
        }
        return true
    }

    /// Handles an instance that ended while the formation runs.
    private func decide(_ slot: Int, status: ExitStatus, now: Int64) {
        let spec = instances[slot].spec
        let policy = config.restart[spec.type]
        if policy == .never {
            instances[slot].state = .exited(status)
            stopAll(exitCode: status.code, now: now)
            return
        }
        if status.isSuccess && policy == .onFailure {
            instances[slot].state = .exited(status)
            if instances.allSatisfy({ if case .exited = $0.state { return true } else { return false } }) {
                host.system("all processes have finished")
                stopAll(exitCode: 0, now: now)
            }
            return
        }
        if !status.isSuccess {
            let window = config.restartWindow
            instances[slot].recentFailures.removeAll { $0 <= now - window }
            let limit = config.restartLimit[spec.type]
            if instances[slot].recentFailures.count >= limit {
                instances[slot].state = .exited(status)
                host.system("\(spec.name) crashed more than \(limit) times in \(formatSeconds(window)); stopping")
                stopAll(exitCode: status.code, now: now)
                return
            }
            instances[slot].recentFailures.append(now)
        }
        let ranFor = now - instances[slot].startedAt
        let previous = instances[slot].backoff
        let delay = (previous == 0 || ranFor >= config.backoffReset)
            ? config.backoffInitial : min(previous * 2, config.backoffMax)
        instances[slot].backoff = delay
        instances[slot].state = .backoff(until: now + delay)
        host.system("\(spec.name) restarting in \(formatSeconds(delay))")
    }

    /// Restarts instances whose backoff is over; sends SIGKILL when the grace
    /// timeout has run out.
    public func tick(now: Int64) {
        switch phase {
        case .running:
            for slot in instances.indices {
                if case .backoff(let until) = instances[slot].state, until <= now {
                    instances[slot].restarts += 1
                    launch(slot, now: now)
                }
            }
        case .stopping(let deadline, let killed):
            if !killed && deadline <= now { killAll() }
        }
    }

    /// SIGINT, SIGTERM or SIGHUP from outside (or stdout closing). The first
    /// stops the formation gracefully with exit code 0; a second SIGINT or
    /// SIGTERM during shutdown kills at once.
    public func requestStop(signal: Int32?, now: Int64) {
        switch phase {
        case .running:
            host.system(signal.map { "\(Signals.name($0)) received" } ?? "output closed")
            stopAll(exitCode: 0, now: now)
        case .stopping(_, let killed):
            if !killed && (signal == 2 || signal == 15) { killAll() }
        }
    }

    /// Passes SIGUSR1/SIGUSR2 on to every running instance's group.
    public func forward(signal: Int32) {
        for instance in instances {
            if case .running(let pid) = instance.state { host.signal(group: pid, signal) }
        }
    }

    private func launch(_ slot: Int, now: Int64) {
        let spec = instances[slot].spec
        instances[slot].startedAt = now
        switch host.spawn(spec, slot: slot) {
        case .success(let pid):
            instances[slot].state = .running(pid: pid)
            slotByPid[pid] = slot
            host.system("\(spec.name) started with pid \(pid)")
        case .failure(let error):
            host.system("\(spec.name) could not start: \(error)")
            // Like a shell that cannot run its command; the restart policy applies.
            decide(slot, status: .exited(127), now: now)
        }
    }

    /// Begins shutdown: the stop signal to every running group and to orphans,
    /// SIGKILL after the grace timeout. The first cause sets the exit code.
    private func stopAll(exitCode code: Int32, now: Int64) {
        guard case .running = phase else { return }
        exitCode = code
        phase = .stopping(deadline: now + config.timeout, killed: false)
        var bySignal: [Int32: [String]] = [:]
        for slot in instances.indices {
            switch instances[slot].state {
            case .running(let pid):
                let signal = config.stopSignal[instances[slot].spec.type]
                host.signal(group: pid, signal)
                instances[slot].state = .stopping(pid: pid)
                bySignal[signal, default: []].append(instances[slot].spec.name)
            case .pending, .backoff:
                instances[slot].state = .exited(nil)
            case .stopping, .exited:
                break
            }
        }
        if bySignal.count == 1, let signal = bySignal.keys.first {
            host.system("sending \(Signals.name(signal)) to all processes")
        } else {
            for (signal, names) in bySignal.sorted(by: { $0.key < $1.key }) {
                host.system("sending \(Signals.name(signal)) to \(names.joined(separator: ", "))")
            }
        }
        host.signalOrphans(config.stopSignal.fallback)
    }

    private func killAll() {
        guard case .stopping(let deadline, _) = phase else { return }
        phase = .stopping(deadline: deadline, killed: true)
        let alive = instances.compactMap(\.pid)
        if !alive.isEmpty { host.system("sending SIGKILL to \(alive.count) process\(alive.count == 1 ? "" : "es")") }
        for pid in alive { host.signal(group: pid, 9) }
        host.signalOrphans(9)
    }
}

/// `0.5s`, `2s`, `1m`: a short human form of a nanosecond duration.
public func formatSeconds(_ ns: Int64) -> String {
    let ms = ns / 1_000_000
    if ms % 60_000 == 0 && ms >= 60_000 { return "\(ms / 60_000)m" }
    if ms % 1000 == 0 { return "\(ms / 1000)s" }
    var fraction = String(ms % 1000)
    fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(ms / 1000).\(fraction)s"
}
