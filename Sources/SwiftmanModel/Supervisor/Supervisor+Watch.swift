/// `--watch`: a change to a type's files restarts it the way `restart TYPE`
/// does, after a quiet period; a watched type that crashed and stopped waits
/// for a change instead of ending the formation; the types `--after` it
/// restart once it is ready again.
extension Supervisor {
    /// Changes to one type not acted on yet: the paths in the order first
    /// seen, and when the quiet period ends.
    struct PendingChange: Equatable, Sendable {
        var paths: [String] = []
        var seen: Set<String> = []
        var due: Int64 = 0
        /// Every change came while the type started, stopped or had just
        /// ended: it may have made them itself.
        var ownOnly = true
    }

    func isWatched(_ type: String) -> Bool { config.watch.types.contains(type) }

    /// Every instance has ended for good: none runs or will, and none waits
    /// for a change to its files.
    var nothingLeft: Bool {
        instances.allSatisfy { $0.intent == .retire || ($0.hasExited && ($0.intent == .hold || !isWatched($0.spec.type))) }
    }

    /// `.changed`: the paths join the type's pending change, whose quiet
    /// period starts again.
    func changed(type: String, paths: [String], now: Int64) {
        guard phase == .running, isWatched(type), !paths.isEmpty else { return }
        let own = mayHaveMade(type, now: now)
        // After a loop, only changes from outside count.
        if ownChangesIgnored.contains(type) && own { return }
        var pending = pendingChanges[type] ?? PendingChange()
        if !own { pending.ownOnly = false }
        for path in paths where pending.seen.insert(path).inserted { pending.paths.append(path) }
        pending.due = now + config.watch.delay
        pendingChanges[type] = pending
    }

    /// Acts on the changes whose quiet period is over, in Procfile order.
    func changesDue(now: Int64) {
        for type in plan.procfile.types.map(\.name) {
            guard let pending = pendingChanges[type], pending.due <= now else { continue }
            pendingChanges[type] = nil
            if isLoop(type, pending, now: now) { continue }
            restartForChange(type, pending, now: now)
        }
    }

    /// Running instances stop gracefully and start again once exited (one
    /// already stopping to restart just starts once: changes coalesce);
    /// ended ones (crashed, done, in backoff) start now. One stopped on
    /// request stays stopped.
    func restartForChange(_ type: String, _ change: PendingChange, now: Int64) {
        let mark = effectMark
        var restarting = false
        var starting = false
        for slot in members(of: type) where instances[slot].intent != .hold {
            switch instances[slot].state {
            case .running, .stopping:
                stop(slot, now: now, intent: .restart)
                instances[slot].restartingForChange = true
                restarting = true
            case .exited, .backoff:
                reactivate(slot)
                instances[slot].changeRestarts += 1
                launchOrWait(slot, now: now)
                starting = true
            case .pending, .waiting:
                break
            }
        }
        guard restarting || starting else { return }
        if !order.dependents(of: type).isEmpty { cascade.insert(type) }
        let named = Array(change.paths.prefix(WatchMatcher.namedPaths))
        emit(.report(.changed(type: type, paths: named, count: change.paths.count,
                              action: restarting ? "restarting" : "starting")), at: mark)
    }

    /// Whether `type` may itself have made a change seen at `now`: one of its
    /// instances is stopping to restart, waits to start, or started, became
    /// ready or ended within `ownChangeWindow` (a log written at start, a
    /// file closed at exit, an asset compiled while starting up).
    func mayHaveMade(_ type: String, now: Int64) -> Bool {
        let window = config.watch.ownChangeWindow
        return members(of: type).contains { slot in
            let instance = instances[slot]
            switch instance.state {
            case .stopping: return instance.intent == .restart
            case .pending: return true
            case .running:
                return awaitsReadiness(instance) || now - max(instance.startedAt, instance.readyAt ?? 0) < window
            case .backoff, .exited: return instance.endedAt.map { now - $0 < window } ?? false
            case .waiting: return false
            }
        }
    }

    /// Counts a restart caused only by the type's own changes; the
    /// `loopRestarts`-th in a row within `loopWindow` is a loop: said once,
    /// it does not happen, and from then on the type's own changes are
    /// ignored: only a change from outside restarts it. A change from
    /// outside starts the count again.
    func isLoop(_ type: String, _ change: PendingChange, now: Int64) -> Bool {
        guard change.ownOnly else {
            selfCausedRestarts[type] = nil
            return false
        }
        var recent = (selfCausedRestarts[type] ?? []).filter { now - $0 < config.watch.loopWindow }
        recent.append(now)
        guard recent.count >= config.watch.loopRestarts else {
            selfCausedRestarts[type] = recent
            return false
        }
        selfCausedRestarts[type] = nil
        ownChangesIgnored.insert(type)
        let named = change.paths.prefix(WatchMatcher.namedPaths).joined(separator: ", ")
        emit(.report(.notice("\(type): changed by itself \(recent.count) times in a row while starting or stopping (\(named)): "
                             + "a loop; from now on only changes from outside restart \(type) (see --watch-ignore)")))
        return true
    }

    /// An instance of a watched type ended in a way that would stop the
    /// formation: it waits for a change to its files instead.
    func awaitChange(_ slot: Int, because reason: String) {
        emit(.report(.notice("\(instances[slot].spec.name) \(reason): waiting for a change to its files")))
    }

    /// Once a type restarted for a change is ready again (every instance
    /// that should run runs its new process and passed its check), the
    /// types `--after` it restart, in start order: theirs follow when they
    /// are ready in turn.
    func restartDependents(now: Int64) {
        for type in plan.procfile.types.map(\.name) where cascade.contains(type) && isReadyAgain(type) {
            cascade.remove(type)
            for dependent in order.dependents(of: type) {
                var names: [String] = []
                for slot in members(of: dependent) where instances[slot].intent != .hold {
                    guard case .running = instances[slot].state else { continue }
                    stop(slot, now: now, intent: .restart)
                    instances[slot].restartingForChange = true
                    names.append(instances[slot].spec.name)
                }
                guard !names.isEmpty else { continue }
                if !order.dependents(of: dependent).isEmpty { cascade.insert(dependent) }
                emit(.report(.notice("\(type) is ready again: restarting \(names.joined(separator: ", "))")))
            }
        }
    }

    /// Every instance of `type` that should run has started again and is
    /// ready (a one-shot `exit` check: finished well).
    func isReadyAgain(_ type: String) -> Bool {
        let slots = members(of: type).filter { instances[$0].intent != .hold }
        guard !slots.isEmpty else { return false }
        return slots.allSatisfy { slot in
            guard instances[slot].readyAt != nil, pendingChanges[type] == nil else { return false }
            switch instances[slot].state {
            case .running: return instances[slot].intent == .normal
            case .exited(let status?): return status.isSuccess && config.readiness.checks[type] == .exit
            default: return false
            }
        }
    }
}
