/// Health while running (`--health`): once an instance is ready its check is
/// due every interval, one at a time; `retries` failures in a row stop it
/// gracefully, and its exit counts as a failure (the restart policy, its
/// backoff and its limit decide what follows).
extension Supervisor {
    /// The instance is ready (or has no ready check): its first check is due
    /// one interval from now.
    func scheduleHealth(_ slot: Int, now: Int64) {
        guard config.health.checks[instances[slot].spec.type] != nil else { return }
        instances[slot].health = HealthState()
        instances[slot].health.nextCheck = now + config.health.interval
    }

    /// Starts the checks that are due (`.timers`).
    func healthChecksDue(now: Int64) {
        guard phase == .running else { return }
        for slot in instances.indices {
            guard case .running(let pid) = instances[slot].state, let due = instances[slot].health.nextCheck, due <= now,
                  let check = config.health.checks[instances[slot].spec.type] else { continue }
            instances[slot].health.nextCheck = nil
            instances[slot].health.checking = true
            emit(.checkHealth(instances[slot].spec, pid: pid, check: check))
        }
    }

    /// The answer of the check of the instance led by `pid`; `detail` says
    /// why it failed (`503`, `timed out`).
    func healthChecked(pid: Int32, passed: Bool, detail: String, now: Int64) {
        guard phase == .running, let slot = slotByPid[pid], case .running = instances[slot].state,
              instances[slot].health.checking, let check = config.health.checks[instances[slot].spec.type] else { return }
        let name = instances[slot].spec.name
        instances[slot].health.checking = false
        instances[slot].health.checked = true
        if passed {
            let failures = instances[slot].health.failures
            instances[slot].health.failures = 0
            if failures > 0 { emit(.report(.healthy(instance: name, check: check.description, failures: failures))) }
        } else {
            instances[slot].health.failures += 1
            let failures = instances[slot].health.failures
            if failures >= config.health.retries {
                emit(.report(.unhealthy(instance: name, check: check.description, reason: detail, failures: failures)))
                instances[slot].health.restarting = true
                sendStopSignal(slot, pid: pid, now: now)
                return
            }
        }
        instances[slot].health.nextCheck = now + config.health.interval
    }

    /// No more checks for this run (it is being stopped or has exited); a
    /// running one is called off.
    func endHealthChecks(_ slot: Int, pid: Int32) {
        if instances[slot].health.checking { emit(.cancelHealth(pid: pid)) }
        instances[slot].health.checking = false
        instances[slot].health.nextCheck = nil
    }

    /// What `ps` shows: nil for a type without a health check.
    func healthStatus(_ instance: Instance) -> InstanceHealth? {
        guard config.health.checks[instance.spec.type] != nil else { return nil }
        if instance.health.failures > 0 { return .unhealthy(failures: instance.health.failures, retries: config.health.retries) }
        return instance.health.checked ? .healthy : .unchecked
    }
}
