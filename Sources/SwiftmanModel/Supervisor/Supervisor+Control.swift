/// Live control over the socket: scale, restart, stop, signal, ps.
extension Supervisor {
    /// A control request: the effects it causes, then its `.reply`. The
    /// runtime answers `hello`, `ps` (it adds the process counts) and
    /// `attach` (the connection becomes a session) itself.
    /// The request's line (`scaled web: 1 → 2 on request`) comes before the
    /// lines of what it caused (`web.2 started`), though worded from the outcome.
    func control(_ request: ControlRequest, now: Int64) {
        let mark = effectMark
        do throws(ControlFailure) {
            switch request {
            case .scale(let items):
                // All or nothing: every type is checked before anything changes.
                for item in items where plan.procfile.index(of: item.type) == nil { throw unknownTarget(item.type, typeOnly: true) }
                var lines: [String] = []
                for item in items { lines.append(try scale(item.type, to: item.count, now: now)) }
                emit(.report(.request(action: "scaled", targets: lines)), at: mark)
                emit(.reply(.ok(lines)))
            case .restart(let target):
                let names = try restart(target, now: now)
                emit(.report(.request(action: "restarting", targets: names)), at: mark)
                emit(.reply(.ok(names)))
            case .stop(let target):
                let names = try stop(target, now: now)
                emit(.report(.request(action: "stopping", targets: names)), at: mark)
                emit(.reply(.ok(names)))
            case .timings:
                emit(.reply(.ok(disposability().encoded)))
            case .signal(let target, let signal):
                let names = try send(signal, to: target)
                emit(.report(.request(action: "sending \(signal) to", targets: names)), at: mark)
                emit(.reply(.ok(names)))
            case .quit:
                // As Ctrl-C: the first cause of a shutdown sets the exit code.
                if phase == .running {
                    emit(.report(.quitRequested))
                    stopAll(exitCode: 0, now: now)
                }
                emit(.reply(.ok([])))
            case .hello, .ps, .attach, .wait, .logs, .events:
                throw ControlFailure("\(request.encoded.dropLast()) is answered by the runtime")
            }
        } catch {
            emit(.reply(.error(error)))
        }
    }

    /// Makes `count` instances of a type run. Stopped or finished instances
    /// come back first (lowest numbers), then new numbers get their scheme
    /// ports; scaling down retires what is not running, then the highest
    /// numbers, stopped gracefully. Returns `type: before → after`, counted in
    /// running instances.
    func scale(_ type: String, to count: Int, now: Int64) throws(ControlFailure) -> String {
        guard phase == .running else { throw ControlFailure("shutting down") }
        guard let typeIndex = plan.procfile.index(of: type) else {
            throw unknownTarget(type, typeOnly: true)
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

    func reactivate(_ slot: Int) {
        instances[slot].intent = .normal
        instances[slot].recentFailures = []
        instances[slot].failuresInARow = 0
        instances[slot].backoff = 0
    }

    /// Brings a stopped, finished or retired slot back into the formation. One
    /// whose group is still stopping starts again only once that group is
    /// gone (never two copies of an instance).
    func comeBack(_ slot: Int, now: Int64) {
        reactivate(slot)
        if instances[slot].pid != nil {
            instances[slot].intent = .restart
        } else {
            launchOrWait(slot, now: now)
        }
    }

    /// `signal TARGET SIGNAL`: the signal to the process group of each running
    /// instance of a type (`web`) or to one instance (`web.2`).
    func send(_ signal: Signal, to target: String) throws(ControlFailure) -> [String] {
        guard phase == .running else { throw ControlFailure("shutting down") }
        var names: [String] = []
        for slot in try resolve(target) {
            guard case .running(let pid) = instances[slot].state else { continue }
            emit(.signal(group: pid, signal))
            names.append(instances[slot].spec.name)
        }
        if names.isEmpty { throw ControlFailure("\(target) is not running") }
        return names
    }

    /// Restarts a type's instances (`web`) or one instance (`web.2`): a running
    /// one is stopped gracefully and started again once it has exited.
    func restart(_ target: String, now: Int64) throws(ControlFailure) -> [String] {
        guard phase == .running else { throw ControlFailure("shutting down") }
        return try resolve(target).map { slot in
            switch instances[slot].state {
            case .running, .stopping:
                stop(slot, now: now, intent: .restart)
                instances[slot].restartingForChange = false
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
    func stop(_ target: String, now: Int64) throws(ControlFailure) -> [String] {
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
                let state: InstanceState
                var exitCode: Int32?
                var exitSignal: Signal?
                switch instance.state {
                case .pending: state = .starting
                case .waiting: state = .waiting(for: unready(dependenciesOf: instance.spec.type))
                case .running:
                    if config.readiness.checks[instance.spec.type] == nil { state = .running }
                    else if instance.readyAt != nil { state = .ready }
                    else { state = instance.readyGaveUp ? .notReady : .starting }
                case .stopping: state = .stopping
                case .backoff: state = .backoff
                case .exited(let status):
                    exitCode = status?.code
                    if case .signaled(let signal)? = status { exitSignal = signal }
                    // Stopped on request, or by the shutdown (its stop signal's
                    // exit status, 143 for SIGTERM, is no crash).
                    let stoppedByShutdown = phase != .running && instance.stopSignalledAt != nil
                    if instance.intent == .hold || status == nil || stoppedByShutdown { state = .stopped }
                    else if isWatched(instance.spec.type) { state = .awaitingChange }
                    else { state = status!.isSuccess ? .done : .crashed }
                }
                var uptime: Int64 = 0
                if case .running = instance.state { uptime = now - instance.startedAt }
                var row = InstanceStatus(name: instance.spec.name, pid: instance.pid, state: state,
                                         uptime: uptime, restarts: instance.restarts, port: instance.spec.port,
                                         requestedRestarts: instance.requestedRestarts, exitCode: exitCode)
                row.changeRestarts = instance.changeRestarts
                if config.readiness.checks[instance.spec.type] != nil, let readyAt = instance.readyAt {
                    row.readyAfter = readyAt - instance.startedAt
                }
                row.health = healthStatus(instance)
                row.exitSignal = exitSignal
                row.command = instance.spec.command
                if config.readiness.checks[instance.spec.type] != nil {
                    // A one-shot task's `exit` check keeps its verdict once done.
                    row.ready = state == .ready || (state == .done && instance.readyAt != nil)
                }
                return row
            }
    }

    /// The slots of a type's instances still in the formation, by number.
    func members(of type: String) -> [Int] {
        instances.indices
            .filter { instances[$0].spec.type == type && instances[$0].intent != .retire }
            .sorted { instances[$0].spec.number < instances[$1].spec.number }
    }

    /// The one target resolver: `web` → every instance of web (by number);
    /// `web.2` → that one. Used by restart, stop, signal and attach.
    public func resolve(_ target: String) throws(ControlFailure) -> [Int] {
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
        throw unknownTarget(target, typeOnly: false)
    }

    /// A name the Procfile does not have: a bad argument.
    func unknownTarget(_ name: String, typeOnly: Bool) -> ControlFailure {
        ControlFailure.unknownTarget("unknown process type\(typeOnly ? "" : " or instance") \"\(name)\" (Procfile has: \(plan.procfile.typeNames))")
    }
}
