/// Signals received and stopping the formation: the first cause's exit code,
/// reverse start order, SIGKILL after the grace time or on a second signal.
extension Supervisor {
    /// A stopping signal from outside (SIGINT, SIGTERM, SIGHUP, SIGQUIT, …) or
    /// stdout closing (`signal` nil). The first stops the formation gracefully
    /// with exit code 0; a second one that `escalates` (SIGINT, SIGTERM,
    /// SIGQUIT) during shutdown kills at once.
    func requestStop(signal: Signal?, escalates: Bool = false, now: Int64) {
        let repeated = signal.map { isRepeat($0, now: now) } ?? false
        if let signal, !repeated { lastStopSignal = (signal, now) }
        switch phase {
        case .running:
            emit(.report(signal.map { .signalReceived(signal: $0) } ?? .outputClosed))
            stopAll(exitCode: 0, now: now)
        case .stopping(_, let killed):
            if !killed && escalates && !repeated { killAll(now: now) }
        }
    }

    /// Two identical stop signals this close together are one request: GNU
    /// `timeout` sends its signal to swiftman's pid and then to its process
    /// group, and `kill -TERM` to a pid and its group does the same. A
    /// person's second Ctrl-C comes later and still escalates.
    public static let repeatWindow: Int64 = 200_000_000

    /// `signal` is the same stop signal as the last one, within `repeatWindow`.
    func isRepeat(_ signal: Signal, now: Int64) -> Bool {
        guard let last = lastStopSignal, last.signal == signal else { return false }
        return now - last.at < Supervisor.repeatWindow
    }

    /// Whether `signal` arriving at `now` would kill what is left at once: a
    /// stop signal that escalates, during shutdown, and not a repeat.
    public func escalates(_ signal: Signal, now: Int64) -> Bool {
        guard case .stop(true) = SignalTable.start(signal), phase != .running else { return false }
        return !isRepeat(signal, now: now)
    }

    /// Passes SIGUSR1/SIGUSR2 on to every running instance's group.
    func forward(signal: Signal) {
        for instance in instances {
            if case .running(let pid) = instance.state { emit(.signal(group: pid, signal)) }
        }
    }

    /// Begins shutdown: the stop signal to every running group and to orphans,
    /// SIGKILL after the grace timeout. The first cause sets the exit code.
    func stopAll(exitCode code: Int32, now: Int64) {
        guard phase == .running else { return }
        exitCode = code
        shutdownBegan = now
        phase = .stopping(deadline: now + config.timeout, killed: false)
        clearLaunchQueue()
        for slot in instances.indices {
            switch instances[slot].state {
            case .pending, .backoff, .waiting: instances[slot].state = .exited(nil)
            case .running(let pid) where instances[slot].readyAt == nil: emit(.cancelReadiness(pid: pid))
            default: break
            }
        }
        advanceShutdown(now: now, first: true)
        emit(.signalOrphans(config.stopSignal.fallback))
    }

    /// Shutdown in reverse start order: a running instance gets its stop
    /// signal once no instance of a type that comes after it is left (they
    /// have exited, or were killed after their grace time). Types without
    /// relations stop together.
    func advanceShutdown(now: Int64, first: Bool = false) {
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
            emit(.report(.stopping(instances: names, signal: signal, all: true)))
        } else {
            for (signal, names) in bySignal.sorted(by: { $0.key < $1.key }) {
                emit(.report(.stopping(instances: names, signal: signal, all: false)))
            }
        }
        for slot in due {
            if case .running(let pid) = instances[slot].state { sendStopSignal(slot, pid: pid, now: now) }
        }
    }

    func killAll(now: Int64) {
        guard case .stopping(let deadline, _) = phase else { return }
        phase = .stopping(deadline: deadline, killed: true)
        var alive: [(slot: Int, pid: Int32)] = []
        for slot in instances.indices {
            switch instances[slot].state {
            case .running(let pid), .stopping(let pid, _, false): alive.append((slot, pid))
            default: break
            }
        }
        if !alive.isEmpty { emit(.report(.killedOnRequest(instances: alive.map { instances[$0.slot].spec.name }))) }
        for (slot, pid) in alive {
            emit(.signal(group: pid, .kill))
            instances[slot].state = .stopping(pid: pid, deadline: now, killed: true)
            // The report's KILLED column counts this SIGKILL too; an instance
            // still held back by the stop order is timed from now.
            instances[slot].killedAfterGrace = true
            if instances[slot].stopSignalledAt == nil { instances[slot].stopSignalledAt = now }
        }
        emit(.signalOrphans(.kill))
    }
}

extension Supervisor {
    /// A signal swiftman received: `SignalTable` says whether it stops the
    /// formation (and whether a second one escalates) or is forwarded.
    func received(_ signal: Signal, now: Int64) {
        switch SignalTable.start(signal) {
        case .forward: forward(signal: signal)
        case .stop(let escalates): requestStop(signal: signal, escalates: escalates, now: now)
        case .reap, .resize, .ignore, .default: break
        }
    }
}
