/// Readiness and the start/stop order gate: a type starts once every type it
/// comes after is ready; a failure before ready stops what waits for it.
extension Supervisor {
    /// The host's check found the instance led by `pid` ready.
    func instanceReady(pid: Int32, now: Int64) {
        guard phase == .running, let slot = slotByPid[pid], case .running = instances[slot].state,
              instances[slot].readyAt == nil else { return }
        markReady(slot, now: now)
        releaseTypes(now: now)
    }

    /// Running, with a check not yet passed nor given up on.
    func awaitsReadiness(_ instance: Instance) -> Bool {
        instance.readyAt == nil && !instance.readyGaveUp && config.readiness.checks[instance.spec.type] != nil
    }

    func markReady(_ slot: Int, now: Int64) {
        let spec = instances[slot].spec
        instances[slot].readyAt = now
        if case .running = instances[slot].state { scheduleHealth(slot, now: now) }
        let after = now - instances[slot].startedAt
        guard let check = config.readiness.checks[spec.type] else { return }
        stats[spec.type, default: .init(type: spec.type)].ready.append(after)
        emit(.report(.ready(instance: spec.name, after: after, check: check.awaited(port: spec.port))))
    }

    /// Every instance of `type` that should run is ready (a type with none
    /// is: it is not part of this run). One stopped on request (`stop`)
    /// before it was ready is not: what waits for it waits on.
    func isReady(_ type: String) -> Bool {
        instances.allSatisfy { $0.spec.type != type || $0.readyAt != nil || (!$0.isActive && $0.intent != .hold) }
    }

    /// Starts the instances of every type whose dependencies are now all ready.
    func releaseTypes(now: Int64) {
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
    func wait(_ slot: Int) {
        instances[slot].state = .waiting
        emit(.report(.waiting(instance: instances[slot].spec.name, for: awaited(by: instances[slot].spec.type))))
    }

    /// The types `type` comes after that are not ready yet.
    func unready(dependenciesOf type: String) -> [String] {
        order.dependencies(of: type).filter { !isReady($0) }
    }

    /// `postgres (port 5300)` for each dependency of `type` that is not ready.
    func awaited(by type: String) -> [String] {
        unready(dependenciesOf: type).map { dep in
            let first = instances.first { $0.spec.type == dep && $0.isActive && $0.readyAt == nil }
                ?? instances.first { $0.spec.type == dep && $0.intent == .hold && $0.readyAt == nil }
            let what = config.readiness.checks[dep].map { $0.awaited(port: first?.spec.port ?? 0) } ?? "start"
            let stopped = first.map { $0.intent == .hold } ?? false
            return "\(dep) (\(stopped ? "stopped; " : "")\(what))"
        }
    }

    /// An instance failed before it was ready. When a type waits for it, the
    /// formation stops with `code`; returns whether it did.
    func failIfAwaited(_ slot: Int, reason: String, code: Int32, now: Int64) -> Bool {
        let waiting = order.dependents(of: instances[slot].spec.type).filter { !released.contains($0) }
        guard !waiting.isEmpty else { return false }
        emit(.report(.dependencyFailed(instance: instances[slot].spec.name, reason: reason, dependents: waiting)))
        stopAll(exitCode: code == 0 ? 1 : code, now: now)
        return true
    }
}
