/// The formation's state machine. It takes one input at a time (a child
/// exited, a signal, a timer, a control request…) and returns the effects the
/// runtime carries out (signal a group, report an event, reply…); tests drive
/// it with values. Its parts, each in its own file:
/// - Supervisor+Lifecycle: start, exits, the restart policy and backoff, timers
/// - Supervisor+Order: readiness and the start/stop order gate
/// - Supervisor+Shutdown: signals received, stopping the formation, escalation
/// - Supervisor+Control: live control (scale, restart, stop, signal, ps)
public final class Supervisor {
    public enum State: Equatable, Sendable {
        case pending
        /// Not started: a type it comes after is not ready yet.
        case waiting
        case running(pid: Int32)
        /// Waiting to be restarted.
        case backoff(until: Int64)
        /// Its group was sent the stop signal (on request, at shutdown, or
        /// because the leader died while the rest lived on); SIGKILL follows at
        /// `deadline` unless `killed`. It ends when the group is empty.
        case stopping(pid: Int32, deadline: Int64, killed: Bool)
        /// Ended and stays ended (clean exit under on-failure, or stopped).
        case exited(ExitStatus?)
    }

    /// What happens when an instance that is being stopped has exited.
    public enum Intent: Equatable, Sendable {
        /// The restart policy decides.
        case normal
        /// `restart`: start it again at once.
        case restart
        /// `stop`: it stays stopped until restarted or scaled.
        case hold
        /// Scaled away: it leaves the formation.
        case retire
    }

    public struct Instance: Equatable, Sendable {
        public let spec: InstanceSpec
        public internal(set) var state: State = .pending
        public internal(set) var intent = Intent.normal
        public internal(set) var startedAt: Int64 = 0
        /// Restarts decided by the restart policy.
        public internal(set) var restarts = 0
        /// Restarts asked for over the control socket.
        public internal(set) var requestedRestarts = 0
        /// How its last process ended by itself (`wait` names it).
        public internal(set) var lastExit: ExitStatus?
        /// Restarts caused by a change to its files (`--watch`), or to its
        /// dependency's.
        public internal(set) var changeRestarts = 0
        /// It is being stopped to restart for a change.
        var restartingForChange = false
        /// When its last run ended.
        var endedAt: Int64?
        var recentFailures: [Int64] = []
        /// Failures since the last healthy run (one of at least the backoff reset).
        var failuresInARow = 0
        var backoff: Int64 = 0
        /// When its ready check passed in the current run (kept after an
        /// `exit` check's clean exit).
        public internal(set) var readyAt: Int64?
        /// Not ready within the ready timeout, and nothing waited for it.
        var readyGaveUp = false
        /// When its group got the stop signal, for the report.
        var stopSignalledAt: Int64?
        /// Its group got SIGKILL: after the grace time, or at a second Ctrl-C.
        var killedAfterGrace = false
        /// Its health checks in the current run (`--health`).
        var health = HealthState()

        public var pid: Int32? {
            switch state {
            case .running(let pid), .stopping(let pid, _, _): return pid
            default: return nil
            }
        }

        var hasExited: Bool {
            if case .exited = state { return true }
            return false
        }

        /// Counts toward the type's running formation (`scale` targets these).
        var isActive: Bool { intent != .retire && intent != .hold && !hasExited }
    }

    public enum Phase: Equatable, Sendable {
        case running
        /// Shutting down; orphans get SIGKILL at `deadline` unless `killed`.
        case stopping(deadline: Int64, killed: Bool)
    }

    public internal(set) var instances: [Instance]
    public internal(set) var phase = Phase.running
    /// Set by whatever brought the formation down first.
    public internal(set) var exitCode: Int32 = 0
    public let config: SupervisorConfig
    public let plan: FormationPlan
    /// Starts an instance as the leader of a new process group: its pid (=
    /// pgid), or why it could not start. The one question the supervisor asks
    /// the world and waits for (what it does next depends on the answer);
    /// everything else it decides is an effect.
    public typealias Spawner = (_ instance: InstanceSpec, _ slot: Int) -> Result<Int32, SpawnError>
    let spawner: Spawner
    var slotByPid: [Int32: Int] = [:]
    /// Types whose dependencies have all been ready: their instances start.
    var released: Set<String> = []
    /// Figures for the disposability report, per type.
    var stats: [String: DisposabilityReport.Row] = [:]
    /// When shutdown began, and when the last instance exited after that.
    var shutdownBegan: Int64?
    var shutdownEnded: Int64?
    var order: StartOrder { config.readiness.order }
    /// The last stop signal that counted, and when (see `repeatWindow`).
    var lastStopSignal: (signal: Signal, at: Int64)?
    /// What the input being handled has decided so far.
    private var effects: [SupervisorEffect] = []
    /// Instances waiting for their turn to spawn (see `launchBatch`), in
    /// order from `queueHead`; `queued` holds the same slots.
    var launchQueue: [Int] = []
    var queueHead = 0
    var queued: Set<Int> = []
    /// When the line formed: the next batch is due at once.
    var queuedAt: Int64 = 0
    /// Spawns made by the input being handled.
    var launchesThisInput = 0
    /// `--watch`: changes waiting for their type's quiet period to end.
    var pendingChanges: [String: PendingChange] = [:]
    /// Types restarted for a change whose dependents restart once they are
    /// ready again.
    var cascade: Set<String> = []
    /// Per type: when its recent restarts caused only by its own changes were.
    var selfCausedRestarts: [String: [Int64]] = [:]
    /// Types found in a loop: their own changes no longer restart them.
    public internal(set) var ownChangesIgnored: Set<String> = []

    public init(plan: FormationPlan, config: SupervisorConfig, spawner: @escaping Spawner) {
        self.plan = plan
        self.instances = plan.instances.map { Instance(spec: $0) }
        self.config = config
        self.spawner = spawner
    }

    /// Handles one input at `now` (monotonic nanoseconds: tests control time)
    /// and returns what to do, in order.
    public func handle(_ input: SupervisorInput, now: Int64) -> [SupervisorEffect] {
        effects.removeAll(keepingCapacity: true)
        launchesThisInput = 0
        switch input {
        case .start: start(now: now)
        case .childExited(let pid, let status): childExited(pid: pid, status: status, now: now)
        case .leaderExited(let pid, let status, let remaining): leaderExited(pid: pid, status: status, remaining: remaining, now: now)
        case .ready(let pid): instanceReady(pid: pid, now: now)
        case .health(let pid, let passed, let detail): healthChecked(pid: pid, passed: passed, detail: detail, now: now)
        case .signal(let signal): received(signal, now: now)
        case .outputClosed: requestStop(signal: nil, now: now)
        case .outputFailed(let code): stopAll(exitCode: code, now: now)
        case .timers: timersDue(now: now)
        case .control(let request): control(request, now: now)
        case .changed(let type, let paths): changed(type: type, paths: paths, now: now)
        }
        if !cascade.isEmpty && phase == .running { restartDependents(now: now) }
        return effects
    }

    func emit(_ effect: SupervisorEffect) { effects.append(effect) }

    /// Where the next effect will go: `emit(_:at:)` puts one there later.
    var effectMark: Int { effects.count }

    /// Emits `effect` before everything emitted since `mark`: what was asked
    /// is said before what happened, though its text needs the outcome.
    func emit(_ effect: SupervisorEffect, at mark: Int) { effects.insert(effect, at: mark) }

    // MARK: queries

    /// True once shutting down and every instance has been reaped.
    public var isFinished: Bool {
        guard case .stopping = phase else { return false }
        return instances.allSatisfy { $0.pid == nil }
    }

    /// The earliest moment `tick` has work to do.
    public var nextDeadline: Int64? {
        var deadlines: [Int64] = []
        if case .stopping(let deadline, false) = phase { deadlines.append(deadline) }
        if !queued.isEmpty && phase == .running { deadlines.append(queuedAt) }
        if phase == .running { deadlines += pendingChanges.values.map(\.due) }
        for instance in instances {
            switch instance.state {
            case .backoff(let until) where phase == .running: deadlines.append(until)
            case .stopping(_, let deadline, false): deadlines.append(deadline)
            case .running where phase == .running && awaitsReadiness(instance):
                deadlines.append(instance.startedAt + config.readiness.timeout)
            default: break
            }
            if case .running = instance.state, phase == .running, let due = instance.health.nextCheck { deadlines.append(due) }
        }
        return deadlines.min()
    }

    /// Whether `pid` leads an instance that runs and is not being stopped.
    public func isRunning(pid: Int32) -> Bool {
        guard let slot = slotByPid[pid], case .running = instances[slot].state else { return false }
        return true
    }

    /// Instances of `type` that run or are about to (what `scale` counts).
    public func activeCount(of type: String) -> Int {
        instances.filter { $0.spec.type == type && $0.isActive }.count
    }

    /// The per-type figures so far: time to ready, stop time, SIGKILLs, restarts.
    public func disposability() -> DisposabilityReport {
        var rows: [DisposabilityReport.Row] = []
        for type in plan.procfile.types.map(\.name) {
            let members = instances.filter { $0.spec.type == type }
            guard !members.isEmpty else { continue }
            var row = stats[type] ?? .init(type: type)
            row.restarts = members.reduce(0) { $0 + $1.restarts }
            row.stopSignal = config.stopSignal[type]
            rows.append(row)
        }
        var shutdown: Int64?
        if isFinished, let began = shutdownBegan { shutdown = max(0, (shutdownEnded ?? began) - began) }
        return DisposabilityReport(rows: rows, grace: config.timeout, shutdown: shutdown)
    }
}
