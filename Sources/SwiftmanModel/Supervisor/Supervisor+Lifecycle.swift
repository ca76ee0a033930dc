/// Starting instances, their exits, the restart policy and its backoff, timers.
extension Supervisor {
    /// Starts every instance. A launch that fails may begin shutdown: then
    /// the rest are never started (nothing starts once shutdown has begun).
    func start(now: Int64) {
        noteExcludedDependencies()
        // Types that wait for nothing start now; the others once what they
        // come after is ready.
        for type in plan.procfile.types where order.dependencies(of: type.name).isEmpty { released.insert(type.name) }
        for slot in instances.indices where released.contains(instances[slot].spec.type) { launch(slot, now: now) }
        releaseTypes(now: now)
        for slot in instances.indices where instances[slot].state == .pending && !queued.contains(slot) {
            if phase == .running { wait(slot) } else { instances[slot].state = .exited(nil) }
        }
        if instances.isEmpty {
            emit(.report(.nothingToStart))
            stopAll(exitCode: 0, now: now)
        }
    }

    /// One line per excluded type that others come after: they do not wait
    /// for it (the user runs it elsewhere).
    func noteExcludedDependencies() {
        for excluded in plan.procfile.types.map(\.name) where plan.excluded.contains(excluded) {
            let dependents = order.dependents(of: excluded).filter { plan.count(for: $0) > 0 }
            guard !dependents.isEmpty else { continue }
            let verb = dependents.count == 1 ? "starts" : "start"
            emit(.report(.notice("\(excluded) is excluded: \(dependents.joined(separator: ", ")) \(verb) without waiting for it")))
        }
    }

    /// Launches the instance, or puts it in line when its type waits.
    func launchOrWait(_ slot: Int, now: Int64) {
        if released.contains(instances[slot].spec.type) { launch(slot, now: now) } else { wait(slot) }
    }

    /// At most this many spawns per input: a big `scale` (or the start of a
    /// big formation) goes on in batches, one per loop turn, so output,
    /// signals and control requests are served in between.
    public static let launchBatch = 32

    func launch(_ slot: Int, now: Int64) {
        // A slot whose group still lives never gets a second process.
        guard instances[slot].pid == nil else { return }
        // Once shutdown has begun nothing new starts.
        guard phase == .running else {
            instances[slot].state = .exited(nil)
            return
        }
        // Over this input's budget, or behind others in line: it waits its
        // turn (in order, so `started` lines keep their order). A slot in
        // line already keeps its place.
        if queued.contains(slot) {
            instances[slot].state = .pending
            return
        }
        if launchesThisInput >= Supervisor.launchBatch || !queued.isEmpty {
            if queued.isEmpty { queuedAt = now }
            instances[slot].state = .pending
            queued.insert(slot)
            launchQueue.append(slot)
            return
        }
        spawnNow(slot, now: now)
    }

    /// Launches the next batch of instances in line (`.timers`).
    func launchQueued(now: Int64) {
        while queueHead < launchQueue.count && launchesThisInput < Supervisor.launchBatch && phase == .running {
            let slot = launchQueue[queueHead]
            queueHead += 1
            guard queued.remove(slot) != nil, instances[slot].state == .pending, instances[slot].pid == nil else { continue }
            spawnNow(slot, now: now)
        }
        if queued.isEmpty || phase != .running { clearLaunchQueue() }
    }

    func clearLaunchQueue() {
        launchQueue.removeAll()
        queued.removeAll()
        queueHead = 0
    }

    private func spawnNow(_ slot: Int, now: Int64) {
        launchesThisInput += 1
        let spec = instances[slot].spec
        instances[slot].startedAt = now
        instances[slot].readyAt = nil
        instances[slot].readyGaveUp = false
        instances[slot].stopSignalledAt = nil
        instances[slot].killedAfterGrace = false
        instances[slot].health = HealthState()
        switch spawner(spec, slot) {
        case .success(let pid):
            instances[slot].state = .running(pid: pid)
            slotByPid[pid] = slot
            emit(.report(.started(instance: spec.name, pid: pid)))
            switch config.readiness.checks[spec.type] {
            case nil:
                instances[slot].readyAt = now
                scheduleHealth(slot, now: now)
            case .exit: break
            case let check?: emit(.watchReadiness(spec, pid: pid, check: check))
            }
        case .failure(let error) where error.permanent:
            emit(.report(.cannotStart(instance: spec.name, reason: error.description)))
            instances[slot].state = .exited(.exited(127))
            stopAll(exitCode: 127, now: now)
        case .failure(let error):
            emit(.report(.spawnFailed(instance: spec.name, reason: error.description)))
            instances[slot].state = .exited(.exited(127))
            if failIfAwaited(slot, reason: "could not start", code: 127, now: now) { return }
            // Like a shell that cannot run its command; the restart policy applies.
            decide(slot, status: .exited(127), now: now)
        }
    }

    /// An instance has ended: its leader `pid` was reaped with `status`, its
    /// process group is empty and its output relayed. Returns false when the
    /// pid is not an instance (an orphan reaped as subreaper or PID 1).
    @discardableResult
    func childExited(pid: Int32, status: ExitStatus, now: Int64) -> Bool {
        guard let slot = slotByPid.removeValue(forKey: pid) else { return false }
        emit(.report(.exited(instance: instances[slot].spec.name, pid: pid, status: status)))
        let type = instances[slot].spec.type
        if instances[slot].readyAt == nil { emit(.cancelReadiness(pid: pid)) }
        endHealthChecks(slot, pid: pid)
        if let signalled = instances[slot].stopSignalledAt {
            stats[type, default: .init(type: type)].stop.append(now - signalled)
            if instances[slot].killedAfterGrace { stats[type, default: .init(type: type)].killed += 1 }
        }
        instances[slot].state = .exited(status)
        instances[slot].endedAt = now
        guard phase == .running else {
            shutdownEnded = now
            advanceShutdown(now: now)
            return true
        }
        switch instances[slot].intent {
        case .normal where instances[slot].health.restarting:
            // Stopped as unhealthy: a failure, whatever its exit status.
            decide(slot, status: status.isSuccess ? .exited(1) : status, now: now)
        case .normal:
            // A one-shot task is done: it is ready, whatever the restart policy.
            if config.readiness.checks[type] == .exit && status.isSuccess {
                markReady(slot, now: now)
                releaseTypes(now: now)
                if nothingLeft {
                    emit(.report(.allFinished))
                    stopAll(exitCode: 0, now: now)
                }
                return true
            }
            // (A watched type that fails before it is ready is fixed and saved:
            // what waits for it waits on.)
            if instances[slot].readyAt == nil, !isWatched(type),
               failIfAwaited(slot, reason: "\(status) before it was ready", code: status.isSuccess ? 1 : status.code, now: now) {
                return true
            }
            decide(slot, status: status, now: now)
        case .restart:
            instances[slot].intent = .normal
            if instances[slot].restartingForChange { instances[slot].changeRestarts += 1 }
            else { instances[slot].requestedRestarts += 1 }
            instances[slot].restartingForChange = false
            launch(slot, now: now)
        case .hold, .retire: break
        }
        return true
    }

    /// An instance's leader died but `remaining` processes of its group live
    /// on. Unless it is already being stopped, the rest gets the stop signal
    /// (SIGKILL after the grace time): nothing restarts until the group is
    /// empty, so an instance never runs twice.
    func leaderExited(pid: Int32, status: ExitStatus, remaining: Int, now: Int64) {
        guard let slot = slotByPid[pid], case .running = instances[slot].state else { return }
        emit(.report(.leaderExited(instance: instances[slot].spec.name, pid: pid, status: status, remaining: remaining)))
        sendStopSignal(slot, pid: pid, now: now)
    }

    /// Handles an instance that ended by itself while the formation runs.
    func decide(_ slot: Int, status: ExitStatus, now: Int64) {
        let spec = instances[slot].spec
        instances[slot].lastExit = status
        let policy = config.restart[spec.type]
        if policy == .never {
            if isWatched(spec.type) { return awaitChange(slot, because: "\(status)") }
            stopAll(exitCode: status.code, now: now)
            return
        }
        if status.isSuccess && policy == .onFailure {
            // A one-shot task stays done; when nothing is left, we are done.
            if nothingLeft {
                emit(.report(.allFinished))
                stopAll(exitCode: 0, now: now)
            }
            return
        }
        let ranFor = now - instances[slot].startedAt
        if !status.isSuccess {
            // The crash-loop guard (docs/lifecycle.md, "The crash-loop guard"):
            // more than `limit` failures in a row, none after a healthy run
            // (one as long as the backoff reset), or more than `limit` within
            // the window, stop the formation. The first rule is what fires
            // under the defaults: the backoff spaces quick failures out so far
            // that at most 7 fit in the default 60 s window.
            if ranFor >= config.backoffReset { instances[slot].failuresInARow = 0 }
            let window = config.restartWindow
            instances[slot].recentFailures.removeAll { $0 <= now - window }
            let limit = config.restartLimit[spec.type]
            if instances[slot].failuresInARow >= limit || instances[slot].recentFailures.count >= limit {
                let inARow = instances[slot].failuresInARow >= limit
                if isWatched(spec.type) {
                    return awaitChange(slot, because: "restart limit reached (\(limit) failures)")
                }
                emit(.report(.restartLimit(instance: spec.name, limit: limit, window: window,
                                           healthyRun: inARow ? config.backoffReset : nil)))
                stopAll(exitCode: status.code, now: now)
                return
            }
            instances[slot].recentFailures.append(now)
            instances[slot].failuresInARow += 1
        }
        let previous = instances[slot].backoff
        let delay = (previous == 0 || ranFor >= config.backoffReset)
            ? config.backoffInitial : min(previous * 2, config.backoffMax)
        instances[slot].backoff = delay
        instances[slot].state = .backoff(until: now + delay)
        emit(.report(.restarting(instance: spec.name, delay: delay)))
    }

    /// Restarts instances whose backoff is over; sends SIGKILL to whatever
    /// outlived its grace timeout.
    func timersDue(now: Int64) {
        if phase == .running { launchQueued(now: now) }
        if phase == .running { changesDue(now: now) }
        healthChecksDue(now: now)
        for slot in instances.indices {
            switch instances[slot].state {
            case .backoff(let until) where until <= now && phase == .running:
                instances[slot].restarts += 1
                launch(slot, now: now)
            case .stopping(let pid, let deadline, false) where deadline <= now:
                // Announced for the instance it hits, before the kill.
                emit(.report(.killedAfterGrace(instance: instances[slot].spec.name, pid: pid, grace: config.timeout)))
                emit(.signal(group: pid, .kill))
                instances[slot].state = .stopping(pid: pid, deadline: deadline, killed: true)
                instances[slot].killedAfterGrace = true
            case .running(let pid) where phase == .running && awaitsReadiness(instances[slot])
                && instances[slot].startedAt + config.readiness.timeout <= now:
                let spec = instances[slot].spec
                let awaited = config.readiness.checks[spec.type]!.awaited(port: spec.port)
                let limit = Durations.setting(config.readiness.timeout)
                if !failIfAwaited(slot, reason: "was not ready within \(limit) (\(awaited))", code: 1, now: now) {
                    instances[slot].readyGaveUp = true
                    emit(.cancelReadiness(pid: pid))
                    emit(.report(.notReady(instance: spec.name, after: now - instances[slot].startedAt, check: awaited)))
                }
            default:
                break
            }
        }
        if case .stopping(let deadline, false) = phase, deadline <= now {
            phase = .stopping(deadline: deadline, killed: true)
            emit(.signalOrphans(.kill))
        }
    }

    /// Asks one instance to stop: its stop signal now, SIGKILL after the grace
    /// timeout. `intent` says what happens once it has exited.
    func stop(_ slot: Int, now: Int64, intent: Intent) {
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
    func sendStopSignal(_ slot: Int, pid: Int32, now: Int64) {
        let signal = config.stopSignal[instances[slot].spec.type]
        emit(.signal(group: pid, signal))
        if signal != .continue && signal != .kill { emit(.signal(group: pid, .continue)) }
        instances[slot].state = .stopping(pid: pid, deadline: now + config.timeout, killed: false)
        if instances[slot].stopSignalledAt == nil { instances[slot].stopSignalledAt = now }
        if instances[slot].readyAt == nil { emit(.cancelReadiness(pid: pid)) }
        endHealthChecks(slot, pid: pid)
    }
}
