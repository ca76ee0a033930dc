/// What `swiftman wait` waits for.
public enum WaitGoal: String, CaseIterable, Equatable, Sendable {
    /// Running and past its ready check (a type without one: once started).
    case ready
    /// Its process has started.
    case running
    /// Not running, and not about to be (done, crashed, stopped).
    case exited
}

/// Where a `wait` stands now.
public enum WaitOutcome: Equatable, Sendable {
    /// Not there yet, and it may still get there.
    case pending
    /// Every target is there: one line per instance (`web.1 ready`).
    case reached([String])
    /// A target can no longer get there: why, naming it.
    case failed(String)
}

extension Supervisor {
    /// Whether every instance of `targets` has reached `goal` now. Asked again
    /// after every input, so a wait is answered at the first moment all of
    /// them are there together. An unknown name is a bad target.
    public func waitOutcome(targets: [String], goal: WaitGoal) throws(ControlFailure) -> WaitOutcome {
        var slots: [Int] = []
        for target in targets {
            if plan.procfile.index(of: target) != nil && members(of: target).isEmpty {
                // A type scaled to zero has nothing that runs: exited, never ready.
                if goal == .exited { continue }
                return .failed("\(target) has no instances (scale it up first)")
            }
            slots += try resolve(target)
        }
        var lines: [String] = []
        var pending = false
        // The instance that ended is named before one that is merely stopping with it.
        var stopping: String?
        for slot in slots {
            let instance = instances[slot]
            let name = instance.spec.name
            if goal == .exited {
                switch instance.state {
                case .exited: lines.append("\(name) \(endedWord(instance))")
                default: pending = true
                }
                continue
            }
            switch instance.state {
            case .running where goal == .running || config.readiness.checks[instance.spec.type] == nil || instance.readyAt != nil:
                lines.append("\(name) \(goal.rawValue)")
            case .running where instance.readyGaveUp:
                return .failed("\(name) is not ready: its check gave up after \(Durations.setting(config.readiness.timeout)); it keeps running")
            case .exited(let status):
                let how = status.map(Supervisor.describe) ?? "was stopped"
                return .failed("\(name) \(how) before it was \(goal.rawValue)")
            case .backoff where phase == .running:
                // It crashed: a script waiting for it should hear so now, not
                // after the restart policy has given up.
                let how = instance.lastExit.map(Supervisor.describe) ?? "crashed"
                return .failed("\(name) \(how) before it was \(goal.rawValue) (restarting)")
            case _ where phase != .running:
                stopping = stopping ?? "\(name) is not \(goal.rawValue) and the formation is stopping"
            default:
                pending = true
            }
        }
        if let stopping { return .failed(stopping) }
        return pending ? .pending : .reached(lines)
    }

    private func endedWord(_ instance: Instance) -> String {
        guard case .exited(let status?) = instance.state else { return "stopped" }
        return Supervisor.describe(status)
    }

    /// `exited with code 3`, `terminated by SIGKILL (exit code 137)`.
    static func describe(_ status: ExitStatus) -> String {
        if case .signaled = status { return "\(status) (exit code \(status.code))" }
        return status.description
    }
}
