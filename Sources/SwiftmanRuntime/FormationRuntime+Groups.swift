import SwiftmanModel
import SwiftmanPlatform

/// Process groups: signalling them, reaping, and settling an instance once
/// its group is empty and its output relayed.
extension FormationRuntime {
    // MARK: process groups

    /// The signal to an instance's process group. A leader that moved itself
    /// into another group leaves its own empty (kill fails with ESRCH): then
    /// the signal goes to the leader's pid and every process descended from
    /// it, and the first time it is said. No failure is silent.
    func deliver(_ signal: Signal, toGroup group: Int32) {
        let error: Errno
        do throws(Errno) {
            try ProcessGroup(group).send(signal.rawValue)
            return
        } catch let failure {
            error = failure
        }
        let name = children[group]?.name ?? "pid \(group)"
        // Reaped already, with nothing left of its group: nothing to stop.
        guard error == .noSuchProcess, let child = children[group], child.stage == .running else {
            if error != .noSuchProcess {
                report(.notice("could not send \(Signals.name(signal)) to \(name)'s process group \(group): \(error)"))
            }
            return
        }
        let others = canSweep ? ProcessTable.descendants(of: group) : []
        var failed: Errno?
        do throws(Errno) { try ProcessID(group).send(signal.rawValue) } catch let failure { failed = failure }
        for pid in others { try? ProcessID(pid).send(signal.rawValue) }
        if let failed {
            report(.notice("could not send \(Signals.name(signal)) to \(name) (pid \(group), which left its process group): \(failed)"))
        } else if leftTheirGroup.insert(group).inserted {
            let extra = others.isEmpty ? "" : " and the \(others.count) process\(others.count == 1 ? "" : "es") it started"
            report(.notice("\(name) (pid \(group)) has left its process group: signals go to its pid\(extra)"))
        }
    }

    /// Reaps every exited child and settles the instances whose leader is
    /// gone. Returns whether any child is still alive.
    func reapChildren(now: Int64) -> Bool {
        let (exits, childrenLeft) = children.reap()
        for (pid, status) in exits {
            if probes.reaped(pid: pid, status: status, now: now) { continue }
            if let child = children[pid] {
                children.leaderReaped(child, status: status)
            } else {
                orphansSignalled[pid] = nil
            }
        }
        // Each reap may have emptied a group that was draining: the group's
        // orphans re-parent to us (subreaper, or PID 1), so its last process
        // is reaped here too. No polling.
        for child in Array(children.all) {
            if case .leaderGone = child.stage { settle(child, now: now) }
        }
        return childrenLeft
    }

    /// An instance whose leader is reaped: while its group lives on, the rest
    /// is stopped (the supervisor decides); once empty, its output is relayed
    /// and its exit reported.
    func settle(_ child: RunningChild, now: Int64) {
        guard case .leaderGone(let status, _) = child.stage else { return }
        if ProcessGroup(child.pid).isAlive {
            if supervisor.isRunning(pid: child.pid) && children.tellLeaderGone(child) {
                let remaining = ProcessTable.groupSizes([child.pid])[child.pid] ?? 1
                send(.leaderExited(pid: child.pid, status: status, remaining: remaining), now: now)
            }
            return
        }
        if children.groupEmptied(child) { finish(child, now: now) }
    }

    func finish(_ child: RunningChild, now: Int64) {
        let status = children.end(child)
        attached.processEnded(pid: child.pid, reason: LifecycleEvent.exited(instance: child.name, pid: child.pid, status: status).text)
        send(.childExited(pid: child.pid, status: status), now: now)
    }

    /// A pipe reached EOF, or relayed the bytes its ended instance owed.
    func pipeSettled(_ fd: FileDescriptor, closed: Bool) {
        guard let child = children.owner(of: fd) else { return }
        if children.pipeSettled(fd, of: child, closed: closed) {
            finish(child, now: monotonicNow())
        } else if closed, case .leaderGone = child.stage {
            settle(child, now: monotonicNow())
        }
    }
}
