#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// Why a control request could not be carried out.
public struct ControlFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One row of `swiftman ps`.
public struct InstanceStatus: Equatable, Sendable {
    public let name: String
    public let pid: Int32?
    /// running, stopping, backoff, done, crashed, stopped or starting.
    public let state: String
    /// Nanoseconds since it started, while running.
    public let uptime: Int64
    public let restarts: Int
    public let port: Int
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
        /// Sent its stop signal; SIGKILL follows at `deadline` unless `killed`.
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
        public internal(set) var restarts = 0
        var recentFailures: [Int64] = []
        var backoff: Int64 = 0

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

    public init(plan: FormationPlan, config: SupervisorConfig, host: SupervisorHost) {
        self.plan = plan
        self.instances = plan.instances.map { Instance(spec: $0) }
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
        var deadlines: [Int64] = []
        if case .stopping(let deadline, false) = phase { deadlines.append(deadline) }
        for instance in instances {
            switch instance.state {
            case .backoff(let until) where phase == .running: deadlines.append(until)
            case .stopping(_, let deadline, false): deadlines.append(deadline)
            default: break
            }
        }
        return deadlines.min()
    }

    /// Reports a reaped child. Returns false when the pid is not an instance
    /// (an orphan reaped as subreaper or PID 1).
    @discardableResult
    public func childExited(pid: Int32, status: ExitStatus, now: Int64) -> Bool {
        guard let slot = slotByPid.removeValue(forKey: pid) else { return false }
        host.system("\(instances[slot].spec.name) \(status)")
        instances[slot].state = .exited(status)
        guard phase == .running else { return true }
        switch instances[slot].intent {
        case .normal: decide(slot, status: status, now: now)
        case .restart:
            instances[slot].intent = .normal
            relaunch(slot, now: now)
        case .hold, .retire: break
        }
        return true
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
                host.system("\(spec.name) failed \(limit + 1) times within \(formatSeconds(window)) (restart limit \(limit)); stopping")
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

    /// Restarts instances whose backoff is over; sends SIGKILL to whatever
    /// outlived its grace timeout.
    public func tick(now: Int64) {
        var overdue: [String] = []
        for slot in instances.indices {
            switch instances[slot].state {
            case .backoff(let until) where until <= now && phase == .running:
                relaunch(slot, now: now)
            case .stopping(let pid, let deadline, false) where deadline <= now:
                host.signal(group: pid, SIGKILL)
                instances[slot].state = .stopping(pid: pid, deadline: deadline, killed: true)
                overdue.append(instances[slot].spec.name)
            default:
                break
            }
        }
        if !overdue.isEmpty { host.system("sending SIGKILL to \(overdue.joined(separator: ", "))") }
        if case .stopping(let deadline, false) = phase, deadline <= now {
            phase = .stopping(deadline: deadline, killed: true)
            host.signalOrphans(SIGKILL)
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
            if !killed && (signal == SIGINT || signal == SIGTERM) { killAll(now: now) }
        }
    }

    /// Passes SIGUSR1/SIGUSR2 on to every running instance's group.
    public func forward(signal: Int32) {
        for instance in instances {
            if case .running(let pid) = instance.state { host.signal(group: pid, signal) }
        }
    }

    // MARK: live control (scale, restart, stop, ps)

    /// Changes a type's instance count: new instances get their scheme port;
    /// removed ones, highest numbers first, are stopped gracefully.
    public func scale(_ type: String, to count: Int, now: Int64) throws(ControlFailure) -> String {
        guard phase == .running else { throw ControlFailure("shutting down") }
        guard let typeIndex = plan.procfile.index(of: type) else {
            throw ControlFailure("unknown process type \"\(type)\" (Procfile has: \(plan.procfile.typeNames))")
        }
        let active = members(of: type)
        if count > active.count {
            for number in (active.count + 1)...count {
                let spec = plan.instance(type: plan.procfile.types[typeIndex], typeIndex: typeIndex, number: number)
                let slot: Int
                if let reusable = instances.indices.first(where: {
                    instances[$0].spec == spec && instances[$0].intent == .retire && instances[$0].hasExited
                }) {
                    slot = reusable
                    instances[slot].intent = .normal
                    instances[slot].recentFailures = []
                    instances[slot].backoff = 0
                } else {
                    slot = instances.count
                    instances.append(Instance(spec: spec))
                }
                launch(slot, now: now)
            }
        } else {
            for slot in active.dropFirst(count).reversed() { stop(slot, now: now, intent: .retire) }
        }
        return "\(type): \(active.count) → \(count)"
    }

    /// Restarts a type's instances (`web`) or one instance (`web.2`): a running
    /// one is stopped gracefully and started again once it has exited.
    public func restart(_ target: String, now: Int64) throws(ControlFailure) -> [String] {
        guard phase == .running else { throw ControlFailure("shutting down") }
        return try resolve(target).map { slot in
            switch instances[slot].state {
            case .running, .stopping:
                stop(slot, now: now, intent: .restart)
            case .pending, .backoff, .exited:
                instances[slot].intent = .normal
                relaunch(slot, now: now)
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

    /// One row per instance in the formation, for `ps`.
    public func snapshot(now: Int64) -> [InstanceStatus] {
        instances.filter { !($0.intent == .retire && $0.hasExited) }.map { instance in
            let state: String
            switch instance.state {
            case .pending: state = "starting"
            case .running: state = "running"
            case .stopping: state = "stopping"
            case .backoff: state = "backoff"
            case .exited(let status):
                if instance.intent == .hold || status == nil { state = "stopped" } else { state = status!.isSuccess ? "done" : "crashed" }
            }
            var uptime: Int64 = 0
            if case .running = instance.state { uptime = now - instance.startedAt }
            return InstanceStatus(name: instance.spec.name, pid: instance.pid, state: state,
                                  uptime: uptime, restarts: instance.restarts, port: instance.spec.port)
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
            instances[slot].state = .exited(.exited(127))
            // Like a shell that cannot run its command; the restart policy applies.
            decide(slot, status: .exited(127), now: now)
        }
    }

    private func relaunch(_ slot: Int, now: Int64) {
        instances[slot].restarts += 1
        launch(slot, now: now)
    }

    /// Asks one instance to stop: its stop signal now, SIGKILL after the grace
    /// timeout. `intent` says what happens once it has exited.
    private func stop(_ slot: Int, now: Int64, intent: Intent) {
        instances[slot].intent = intent
        switch instances[slot].state {
        case .running(let pid):
            host.signal(group: pid, config.stopSignal[instances[slot].spec.type])
            instances[slot].state = .stopping(pid: pid, deadline: now + config.timeout, killed: false)
        case .pending, .backoff:
            instances[slot].state = .exited(nil)
        case .stopping, .exited:
            break
        }
    }

    /// Begins shutdown: the stop signal to every running group and to orphans,
    /// SIGKILL after the grace timeout. The first cause sets the exit code.
    private func stopAll(exitCode code: Int32, now: Int64) {
        guard phase == .running else { return }
        exitCode = code
        phase = .stopping(deadline: now + config.timeout, killed: false)
        var bySignal: [Int32: [String]] = [:]
        for slot in instances.indices {
            if case .running = instances[slot].state {
                bySignal[config.stopSignal[instances[slot].spec.type], default: []].append(instances[slot].spec.name)
            }
            stop(slot, now: now, intent: instances[slot].intent)
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

    private func killAll(now: Int64) {
        guard case .stopping(let deadline, _) = phase else { return }
        phase = .stopping(deadline: deadline, killed: true)
        var alive: [String] = []
        for slot in instances.indices {
            if case .stopping(let pid, let d, false) = instances[slot].state {
                host.signal(group: pid, SIGKILL)
                instances[slot].state = .stopping(pid: pid, deadline: d, killed: true)
                alive.append(instances[slot].spec.name)
            }
        }
        if !alive.isEmpty { host.system("sending SIGKILL to \(alive.joined(separator: ", "))") }
        host.signalOrphans(SIGKILL)
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
