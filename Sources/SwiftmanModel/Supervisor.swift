/// What the supervisor needs from the outside world: the seam that lets tests
/// drive it with fake processes and a fake clock.
public protocol SupervisorHost: AnyObject {
    /// Starts an instance as the leader of a new process group; returns its
    /// pid (= pgid) or why it could not start.
    func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError>
    /// Sends `signal` to a whole process group.
    func signal(group: Int32, _ signal: Signal)
    /// Sends `signal` to orphans handed to swiftman (subreaper / PID 1).
    func signalOrphans(_ signal: Signal)
    /// Reports one of swiftman's own events (printed as a `system` line).
    func report(_ event: LifecycleEvent)
    /// Starts checking whether the instance led by `pid` is ready (`port`,
    /// `line:`, `cmd:`; `exit` is the supervisor's own): the host calls
    /// `instanceReady` when it is.
    func watchReadiness(_ instance: InstanceSpec, pid: Int32, check: ReadyCheck)
    /// Stops checking (it exited, is being stopped, or gave up).
    func cancelReadiness(pid: Int32)
}

extension SupervisorHost {
    public func watchReadiness(_ instance: InstanceSpec, pid: Int32, check: ReadyCheck) {}
    public func cancelReadiness(pid: Int32) {}
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

/// The formation's state machine. It decides; the host does. Every entry point
/// takes `now` (monotonic nanoseconds) so tests control time.
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
        var recentFailures: [Int64] = []
        var backoff: Int64 = 0
        /// When its ready check passed in the current run (kept after an
        /// `exit` check's clean exit).
        public internal(set) var readyAt: Int64?
        /// Not ready within the ready timeout, and nothing waited for it.
        var readyGaveUp = false
        /// When its group got the stop signal, for the report.
        var stopSignalledAt: Int64?
        var killedAfterGrace = false

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

    public private(set) var instances: [Instance]
    public private(set) var phase = Phase.running
    /// Set by whatever brought the formation down first.
    public private(set) var exitCode: Int32 = 0
    public let config: SupervisorConfig
    public let plan: FormationPlan
    /// The host owns the supervisor and outlives it.
    private unowned let host: SupervisorHost
    private var slotByPid: [Int32: Int] = [:]
    /// Types whose dependencies have all been ready: their instances start.
    private var released: Set<String> = []
    /// Figures for the disposability report, per type.
    private var stats: [String: DisposabilityReport.Row] = [:]
    private var order: StartOrder { config.readiness.order }

    public init(plan: FormationPlan, config: SupervisorConfig, host: SupervisorHost) {
        self.plan = plan
        self.instances = plan.instances.map { Instance(spec: $0) }
        self.config = config
        self.host = host
    }

    /// Starts every instance. A launch that fails may begin shutdown: then
    /// the rest are never started (nothing starts once shutdown has begun).
    public func start(now: Int64) {
        // Types that wait for nothing start now; the others once what they
        // come after is ready.
        for type in plan.procfile.types where order.dependencies(of: type.name).isEmpty { released.insert(type.name) }
        for slot in instances.indices where released.contains(instances[slot].spec.type) { launch(slot, now: now) }
        releaseTypes(now: now)
        for slot in instances.indices where instances[slot].state == .pending {
            if phase == .running { wait(slot) } else { instances[slot].state = .exited(nil) }
        }
        if instances.isEmpty {
            host.report(.nothingToStart)
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
        var deadlines: [Int64] = []
        if case .stopping(let deadline, false) = phase { deadlines.append(deadline) }
        for instance in instances {
            switch instance.state {
            case .backoff(let until) where phase == .running: deadlines.append(until)
            case .stopping(_, let deadline, false): deadlines.append(deadline)
            case .running where phase == .running && awaitsReadiness(instance):
                deadlines.append(instance.startedAt + config.readiness.timeout)
            default: break
            }
        }
        return deadlines.min()
    }

    /// An instance has ended: its leader `pid` was reaped with `status`, its
    /// process group is empty and its output relayed. Returns false when the
    /// pid is not an instance (an orphan reaped as subreaper or PID 1).
    @discardableResult
    public func childExited(pid: Int32, status: ExitStatus, now: Int64) -> Bool {
        guard let slot = slotByPid.removeValue(forKey: pid) else { return false }
        host.report(.exited(instance: instances[slot].spec.name, pid: pid, status: status))
        let type = instances[slot].spec.type
        if instances[slot].readyAt == nil { host.cancelReadiness(pid: pid) }
        if let signalled = instances[slot].stopSignalledAt {
            stats[type, default: .init(type: type)].stop.append(now - signalled)
            if instances[slot].killedAfterGrace { stats[type, default: .init(type: type)].killed += 1 }
        }
        instances[slot].state = .exited(status)
        guard phase == .running else {
            advanceShutdown(now: now)
            return true
        }
        switch instances[slot].intent {
        case .normal:
            // A one-shot task is done: it is ready, whatever the restart policy.
            if config.readiness.checks[type] == .exit && status.isSuccess {
                markReady(slot, now: now)
                releaseTypes(now: now)
                if instances.allSatisfy({ $0.intent == .retire || $0.hasExited }) {
                    host.report(.allFinished)
                    stopAll(exitCode: 0, now: now)
                }
                return true
            }
            if instances[slot].readyAt == nil,
               failIfAwaited(slot, reason: "\(status) before it was ready", code: status.isSuccess ? 1 : status.code, now: now) {
                return true
            }
            decide(slot, status: status, now: now)
        case .restart:
            instances[slot].intent = .normal
            instances[slot].requestedRestarts += 1
            launch(slot, now: now)
        case .hold, .retire: break
        }
        return true
    }

    /// An instance's leader died but `remaining` processes of its group live
    /// on. Unless it is already being stopped, the rest gets the stop signal
    /// (SIGKILL after the grace time): nothing restarts until the group is
    /// empty, so an instance never runs twice.
    public func leaderExited(pid: Int32, status: ExitStatus, remaining: Int, now: Int64) {
        guard let slot = slotByPid[pid], case .running = instances[slot].state else { return }
        host.report(.leaderExited(instance: instances[slot].spec.name, pid: pid, status: status, remaining: remaining))
        sendStopSignal(slot, pid: pid, now: now)
    }

    /// Handles an instance that ended by itself while the formation runs.
    private func decide(_ slot: Int, status: ExitStatus, now: Int64) {
        let spec = instances[slot].spec
        let policy = config.restart[spec.type]
        if policy == .never {
            stopAll(exitCode: status.code, now: now)
            return
        }
        if status.isSuccess && policy == .onFailure {
            // A one-shot task stays done; when nothing is left, we are done.
            if instances.allSatisfy({ $0.intent == .retire || $0.hasExited }) {
                host.report(.allFinished)
                stopAll(exitCode: 0, now: now)
            }
            return
        }
        if !status.isSuccess {
            let window = config.restartWindow
            instances[slot].recentFailures.removeAll { $0 <= now - window }
            let limit = config.restartLimit[spec.type]
            if instances[slot].recentFailures.count >= limit {
                host.report(.restartLimit(instance: spec.name, limit: limit, window: window))
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
        host.report(.restarting(instance: spec.name, delay: delay))
    }

    /// Restarts instances whose backoff is over; sends SIGKILL to whatever
    /// outlived its grace timeout.
    public func tick(now: Int64) {
        for slot in instances.indices {
            switch instances[slot].state {
            case .backoff(let until) where until <= now && phase == .running:
                instances[slot].restarts += 1
                launch(slot, now: now)
            case .stopping(let pid, let deadline, false) where deadline <= now:
                // Announced for the instance it hits, before the kill.
                host.report(.killedAfterGrace(instance: instances[slot].spec.name, pid: pid, grace: config.timeout))
                host.signal(group: pid, .kill)
                instances[slot].state = .stopping(pid: pid, deadline: deadline, killed: true)
                instances[slot].killedAfterGrace = true
            case .running(let pid) where phase == .running && awaitsReadiness(instances[slot])
                && instances[slot].startedAt + config.readiness.timeout <= now:
                let spec = instances[slot].spec
                let awaited = config.readiness.checks[spec.type]!.awaited(port: spec.port)
                let limit = formatSeconds(config.readiness.timeout)
                if !failIfAwaited(slot, reason: "was not ready within \(limit) (\(awaited))", code: 1, now: now) {
                    instances[slot].readyGaveUp = true
                    host.cancelReadiness(pid: pid)
                    host.report(.notReady(instance: spec.name, after: now - instances[slot].startedAt, check: awaited))
                }
            default:
                break
            }
        }
        if case .stopping(let deadline, false) = phase, deadline <= now {
            phase = .stopping(deadline: deadline, killed: true)
            host.signalOrphans(.kill)
        }
    }

    /// A stopping signal from outside (SIGINT, SIGTERM, SIGHUP, SIGQUIT, …) or
    /// stdout closing. The first stops the formation gracefully with exit code
    /// 0; a second SIGINT, SIGTERM or SIGQUIT during shutdown kills at once.
    public func requestStop(signal: Signal?, now: Int64) {
        switch phase {
        case .running:
            host.report(signal.map { .signalReceived(signal: $0) } ?? .outputClosed)
            stopAll(exitCode: 0, now: now)
        case .stopping(_, let killed):
            if !killed && (signal == .interrupt || signal == .terminate || signal == .quit) { killAll(now: now) }
        }
    }

    /// Stops the formation for a cause outside it (stdout failed) with `code`.
    public func shutDown(exitCode code: Int32, now: Int64) {
        stopAll(exitCode: code, now: now)
    }

    /// The host's check found the instance led by `pid` ready.
    public func instanceReady(pid: Int32, now: Int64) {
        guard phase == .running, let slot = slotByPid[pid], case .running = instances[slot].state,
              instances[slot].readyAt == nil else { return }
        markReady(slot, now: now)
        releaseTypes(now: now)
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
        return DisposabilityReport(rows: rows, grace: config.timeout)
    }

    // MARK: readiness and order

    /// Running, with a check not yet passed nor given up on.
    private func awaitsReadiness(_ instance: Instance) -> Bool {
        instance.readyAt == nil && !instance.readyGaveUp && config.readiness.checks[instance.spec.type] != nil
    }

    private func markReady(_ slot: Int, now: Int64) {
        let spec = instances[slot].spec
        instances[slot].readyAt = now
        let after = now - instances[slot].startedAt
        guard let check = config.readiness.checks[spec.type] else { return }
        stats[spec.type, default: .init(type: spec.type)].ready.append(after)
        host.report(.ready(instance: spec.name, after: after, check: check.awaited(port: spec.port)))
    }

    /// Every instance of `type` that should run is ready (a type with none
    /// is: it is not part of this run).
    private func isReady(_ type: String) -> Bool {
        instances.allSatisfy { $0.spec.type != type || !$0.isActive || $0.readyAt != nil }
    }

    /// Starts the instances of every type whose dependencies are now all ready.
    private func releaseTypes(now: Int64) {
        var changed = true
        while changed && phase == .running {
            changed = false
            for type in plan.procfile.types.map(\.name) where !released.contains(type) && phase == .running {
                guard order.dependencies(of: type).allSatisfy(isReady) else { continue }
                released.insert(type)
                changed = true
                for slot in instances.indices where instances[slot].spec.type == type && phase == .running {
                    if instances[slot].state == .waiting || instances[slot].state == .pending { launch(slot, now: now) }
                }
            }
        }
    }

    /// Puts an instance in line behind the types it comes after, saying why.
    private func wait(_ slot: Int) {
        instances[slot].state = .waiting
        host.report(.waiting(instance: instances[slot].spec.name, for: awaited(by: instances[slot].spec.type)))
    }

    /// `postgres (port 5300)` for each dependency of `type` that is not ready.
    private func awaited(by type: String) -> [String] {
        order.dependencies(of: type).filter { !isReady($0) }.map { dep in
            let first = instances.first { $0.spec.type == dep && $0.isActive && $0.readyAt == nil }
            let what = config.readiness.checks[dep].map { $0.awaited(port: first?.spec.port ?? 0) } ?? "start"
            return "\(dep) (\(what))"
        }
    }

    /// An instance failed before it was ready. When a type waits for it, the
    /// formation stops with `code`; returns whether it did.
    private func failIfAwaited(_ slot: Int, reason: String, code: Int32, now: Int64) -> Bool {
        let waiting = order.dependents(of: instances[slot].spec.type).filter { !released.contains($0) }
        guard !waiting.isEmpty else { return false }
        host.report(.dependencyFailed(instance: instances[slot].spec.name, reason: reason, dependents: waiting))
        stopAll(exitCode: code == 0 ? 1 : code, now: now)
        return true
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

    /// Passes SIGUSR1/SIGUSR2 on to every running instance's group.
    public func forward(signal: Signal) {
        for instance in instances {
            if case .running(let pid) = instance.state { host.signal(group: pid, signal) }
        }
    }

    // MARK: live control (scale, restart, stop, ps)

    /// Makes `count` instances of a type run. Stopped or finished instances
    /// come back first (lowest numbers), then new numbers get their scheme
    /// ports; scaling down retires what is not running, then the highest
    /// numbers, stopped gracefully. Returns `type: before → after`, counted in
    /// running instances.
    public func scale(_ type: String, to count: Int, now: Int64) throws(ControlFailure) -> String {
        guard phase == .running else { throw ControlFailure("shutting down") }
        guard let typeIndex = plan.procfile.index(of: type) else {
            throw ControlFailure("unknown process type \"\(type)\" (Procfile has: \(plan.procfile.typeNames))")
        }
        let members = members(of: type)
        var active = members.filter { instances[$0].isActive }
        var inactive = members.filter { !instances[$0].isActive }
        let before = active.count
        // Check the ports before anything changes: all or nothing.
        let newNumbers = count > members.count ? Array((members.count + 1)...count) : []
        var newSpecs: [InstanceSpec] = []
        for number in newNumbers {
            let spec = plan.instance(type: plan.procfile.types[typeIndex], typeIndex: typeIndex, number: number)
            guard spec.port <= 65535 else {
                throw ControlFailure("\(spec.name) would get port \(spec.port), above 65535")
            }
            newSpecs.append(spec)
        }
        while active.count < count, !inactive.isEmpty {
            let slot = inactive.removeFirst()
            comeBack(slot, now: now)
            active.append(slot)
        }
        for spec in newSpecs.prefix(max(0, count - active.count)) {
            let slot: Int
            // A retired slot of the same number comes back, even one still
            // stopping: its new process then waits for the old group.
            if let reusable = instances.indices.first(where: {
                instances[$0].spec == spec && instances[$0].intent == .retire
                    && (instances[$0].hasExited || instances[$0].pid != nil)
            }) {
                slot = reusable
                comeBack(slot, now: now)
            } else {
                slot = instances.count
                instances.append(Instance(spec: spec))
                launchOrWait(slot, now: now)
            }
            active.append(slot)
        }
        for slot in inactive { instances[slot].intent = .retire }
        for slot in active.dropFirst(count).reversed() { stop(slot, now: now, intent: .retire) }
        releaseTypes(now: now)
        return "\(type): \(before) → \(min(count, active.count))"
    }

    private func reactivate(_ slot: Int) {
        instances[slot].intent = .normal
        instances[slot].recentFailures = []
        instances[slot].backoff = 0
    }

    /// Brings a stopped, finished or retired slot back into the formation. One
    /// whose group is still stopping starts again only once that group is
    /// gone (never two copies of an instance).
    private func comeBack(_ slot: Int, now: Int64) {
        reactivate(slot)
        if instances[slot].pid != nil {
            instances[slot].intent = .restart
        } else {
            launchOrWait(slot, now: now)
        }
    }

    /// Restarts a type's instances (`web`) or one instance (`web.2`): a running
    /// one is stopped gracefully and started again once it has exited.
    public func restart(_ target: String, now: Int64) throws(ControlFailure) -> [String] {
        guard phase == .running else { throw ControlFailure("shutting down") }
        return try resolve(target).map { slot in
            switch instances[slot].state {
            case .running, .stopping:
                stop(slot, now: now, intent: .restart)
            case .waiting:
                break
            case .pending, .backoff, .exited:
                instances[slot].intent = .normal
                instances[slot].requestedRestarts += 1
                launchOrWait(slot, now: now)
            }
            return instances[slot].spec.name
        }
    }

    /// Stops a type's instances or one instance; they stay stopped (whatever
    /// the restart policy) until restarted or scaled.
    public func stop(_ target: String, now: Int64) throws(ControlFailure) -> [String] {
        guard phase == .running else { throw ControlFailure("shutting down") }
        return try resolve(target).map { slot in
            stop(slot, now: now, intent: .hold)
            return instances[slot].spec.name
        }
    }

    /// One row per instance in the formation, for `ps`: in Procfile order,
    /// then by number (instances added by `scale` sit with their type).
    public func snapshot(now: Int64) -> [InstanceStatus] {
        instances.filter { !($0.intent == .retire && $0.hasExited) }
            .sorted { ($0.spec.typeIndex, $0.spec.number) < ($1.spec.typeIndex, $1.spec.number) }
            .map { instance in
                let state: String
                var exitCode: Int32?
                switch instance.state {
                case .pending: state = "starting"
                case .waiting: state = "waiting for " + awaited(by: instance.spec.type).map { $0.prefix { $0 != " " } }.joined(separator: ", ")
                case .running:
                    if config.readiness.checks[instance.spec.type] == nil { state = "running" }
                    else if instance.readyAt != nil { state = "ready" }
                    else { state = instance.readyGaveUp ? "not ready" : "starting" }
                case .stopping: state = "stopping"
                case .backoff: state = "backoff"
                case .exited(let status):
                    exitCode = status?.code
                    if instance.intent == .hold || status == nil { state = "stopped" } else { state = status!.isSuccess ? "done" : "crashed" }
                }
                var uptime: Int64 = 0
                if case .running = instance.state { uptime = now - instance.startedAt }
                var row = InstanceStatus(name: instance.spec.name, pid: instance.pid, state: state,
                                         uptime: uptime, restarts: instance.restarts, port: instance.spec.port,
                                         requestedRestarts: instance.requestedRestarts, exitCode: exitCode)
                if config.readiness.checks[instance.spec.type] != nil, let readyAt = instance.readyAt {
                    row.readyAfter = readyAt - instance.startedAt
                }
                return row
            }
    }

    /// The slots of a type's instances still in the formation, by number.
    private func members(of type: String) -> [Int] {
        instances.indices
            .filter { instances[$0].spec.type == type && instances[$0].intent != .retire }
            .sorted { instances[$0].spec.number < instances[$1].spec.number }
    }

    /// `web` → every instance of web; `web.2` → that one.
    private func resolve(_ target: String) throws(ControlFailure) -> [Int] {
        if plan.procfile.index(of: target) != nil {
            let slots = members(of: target)
            if slots.isEmpty { throw ControlFailure("\(target) has no instances (scale it up first)") }
            return slots
        }
        if let dot = target.lastIndex(of: "."), plan.procfile.index(of: String(target[..<dot])) != nil {
            let type = String(target[..<dot])
            if let slot = members(of: type).first(where: { instances[$0].spec.name == target }) { return [slot] }
            throw ControlFailure("no instance \(target) (\(type) has \(members(of: type).count))")
        }
        throw ControlFailure("unknown process type or instance \"\(target)\" (Procfile has: \(plan.procfile.typeNames))")
    }

    /// Launches the instance, or puts it in line when its type waits.
    private func launchOrWait(_ slot: Int, now: Int64) {
        if released.contains(instances[slot].spec.type) { launch(slot, now: now) } else { wait(slot) }
    }

    private func launch(_ slot: Int, now: Int64) {
        // A slot whose group still lives never gets a second process.
        guard instances[slot].pid == nil else { return }
        // Once shutdown has begun nothing new starts.
        guard phase == .running else {
            instances[slot].state = .exited(nil)
            return
        }
        let spec = instances[slot].spec
        instances[slot].startedAt = now
        instances[slot].readyAt = nil
        instances[slot].readyGaveUp = false
        instances[slot].stopSignalledAt = nil
        instances[slot].killedAfterGrace = false
        switch host.spawn(spec, slot: slot) {
        case .success(let pid):
            instances[slot].state = .running(pid: pid)
            slotByPid[pid] = slot
            host.report(.started(instance: spec.name, pid: pid))
            switch config.readiness.checks[spec.type] {
            case nil: instances[slot].readyAt = now
            case .exit: break
            case let check?: host.watchReadiness(spec, pid: pid, check: check)
            }
        case .failure(let error) where error.permanent:
            host.report(.cannotStart(instance: spec.name, reason: error.description))
            instances[slot].state = .exited(.exited(127))
            stopAll(exitCode: 127, now: now)
        case .failure(let error):
            host.report(.spawnFailed(instance: spec.name, reason: error.description))
            instances[slot].state = .exited(.exited(127))
            if failIfAwaited(slot, reason: "could not start", code: 127, now: now) { return }
            // Like a shell that cannot run its command; the restart policy applies.
            decide(slot, status: .exited(127), now: now)
        }
    }

    /// Asks one instance to stop: its stop signal now, SIGKILL after the grace
    /// timeout. `intent` says what happens once it has exited.
    private func stop(_ slot: Int, now: Int64, intent: Intent) {
        instances[slot].intent = intent
        switch instances[slot].state {
        case .running(let pid):
            sendStopSignal(slot, pid: pid, now: now)
        case .pending, .backoff, .waiting:
            instances[slot].state = .exited(nil)
        case .stopping, .exited:
            break
        }
    }

    /// The type's stop signal to the group, then SIGCONT (as systemd does) so
    /// a stopped group wakes up to handle it.
    private func sendStopSignal(_ slot: Int, pid: Int32, now: Int64) {
        let signal = config.stopSignal[instances[slot].spec.type]
        host.signal(group: pid, signal)
        if signal != .continue && signal != .kill { host.signal(group: pid, .continue) }
        instances[slot].state = .stopping(pid: pid, deadline: now + config.timeout, killed: false)
        if instances[slot].stopSignalledAt == nil { instances[slot].stopSignalledAt = now }
        if instances[slot].readyAt == nil { host.cancelReadiness(pid: pid) }
    }

    /// Begins shutdown: the stop signal to every running group and to orphans,
    /// SIGKILL after the grace timeout. The first cause sets the exit code.
    private func stopAll(exitCode code: Int32, now: Int64) {
        guard phase == .running else { return }
        exitCode = code
        phase = .stopping(deadline: now + config.timeout, killed: false)
        for slot in instances.indices {
            switch instances[slot].state {
            case .pending, .backoff, .waiting: instances[slot].state = .exited(nil)
            case .running(let pid) where instances[slot].readyAt == nil: host.cancelReadiness(pid: pid)
            default: break
            }
        }
        advanceShutdown(now: now, first: true)
        host.signalOrphans(config.stopSignal.fallback)
    }

    /// Shutdown in reverse start order: a running instance gets its stop
    /// signal once no instance of a type that comes after it is left (they
    /// have exited, or were killed after their grace time). Types without
    /// relations stop together.
    private func advanceShutdown(now: Int64, first: Bool = false) {
        // (After a second Ctrl-C nothing runs: everything got SIGKILL.)
        guard case .stopping = phase else { return }
        // Without relations everything got its signal at once: nothing is held.
        guard first || !order.isEmpty else { return }
        var live: Set<String> = []
        if !order.isEmpty {
            for instance in instances where instance.pid != nil { live.insert(instance.spec.type) }
        }
        var due: [Int] = []
        var held = false
        for slot in instances.indices {
            guard case .running = instances[slot].state else { continue }
            if order.dependents(of: instances[slot].spec.type).contains(where: live.contains) {
                held = true
            } else {
                due.append(slot)
            }
        }
        guard !due.isEmpty else { return }
        var bySignal: [Signal: [String]] = [:]
        for slot in due { bySignal[config.stopSignal[instances[slot].spec.type], default: []].append(instances[slot].spec.name) }
        if first && !held && bySignal.count == 1, let (signal, names) = bySignal.first {
            host.report(.stopping(instances: names, signal: signal, all: true))
        } else {
            for (signal, names) in bySignal.sorted(by: { $0.key < $1.key }) {
                host.report(.stopping(instances: names, signal: signal, all: false))
            }
        }
        for slot in due {
            if case .running(let pid) = instances[slot].state { sendStopSignal(slot, pid: pid, now: now) }
        }
    }

    private func killAll(now: Int64) {
        guard case .stopping(let deadline, _) = phase else { return }
        phase = .stopping(deadline: deadline, killed: true)
        var alive: [(slot: Int, pid: Int32)] = []
        for slot in instances.indices {
            switch instances[slot].state {
            case .running(let pid), .stopping(let pid, _, false): alive.append((slot, pid))
            default: break
            }
        }
        if !alive.isEmpty { host.report(.killedOnRequest(instances: alive.map { instances[$0.slot].spec.name })) }
        for (slot, pid) in alive {
            host.signal(group: pid, .kill)
            instances[slot].state = .stopping(pid: pid, deadline: now, killed: true)
        }
        host.signalOrphans(.kill)
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
