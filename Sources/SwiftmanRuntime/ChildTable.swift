import SwiftmanModel
import SwiftmanPlatform
import Glibc
import CSwiftman

/// One running instance as the runtime sees it: a process group led by `pid`,
/// its output pipes and its stdin.
final class RunningChild {
    /// The supervisor's id for the instance: stable across restarts and scale.
    let slot: Int
    let name: String
    /// The group leader; the group's id is the same number.
    let pid: Int32
    /// Write end of the child's stdin pipe (-1: none, or closed). Nothing is
    /// written unless the user sends input; it closes when the instance ends
    /// or swiftman exits, and the child then sees end-of-file.
    var stdin: Int32
    /// Output read ends not yet at EOF.
    var outputs: Set<Int32>
    let ptyMaster: Int32?
    /// Set once the leader is reaped: the instance is draining until its
    /// group is empty.
    var leaderStatus: ExitStatus?
    /// The supervisor has been told the leader died with its group alive.
    var toldLeaderExited = false
    /// The group is empty; the exit waits for these pipes' leftover bytes.
    var ending = false
    var owed: Set<Int32> = []
    /// Inside `ChildTable.drain`: pipe events are only bookkeeping then.
    var draining = false

    /// The exit can be reported: group empty, leftover output relayed.
    var canFinish: Bool { ending && owed.isEmpty && !draining }

    init(slot: Int, name: String, process: SpawnedProcess) {
        self.slot = slot
        self.name = name
        pid = process.pid
        stdin = process.stdin
        outputs = Set(process.outputs.map(\.fd))
        ptyMaster = process.ptyMaster
    }

    func closeStdin() {
        if stdin >= 0 { close(stdin) }
        stdin = -1
    }
}

/// The running instances, by leader pid: spawn, reap and drain.
final class ChildTable {
    private(set) var byPid: [Int32: RunningChild] = [:]
    private let spawner: Spawner
    private let output: ChildOutput

    init(spawner: Spawner, output: ChildOutput) {
        self.spawner = spawner
        self.output = output
    }

    var count: Int { byPid.count }
    var all: Dictionary<Int32, RunningChild>.Values { byPid.values }
    subscript(pid: Int32) -> RunningChild? { byPid[pid] }

    /// The instance whose output arrives on `fd`, if it is still running.
    func owner(of fd: Int32) -> RunningChild? {
        byPid.values.first { $0.outputs.contains(fd) }
    }

    /// Starts `spec` as `/bin/sh -c SCRIPT` in its own group, its output
    /// framed under `labels` (one per stream).
    func spawn(_ spec: InstanceSpec, slot: Int, labels: [Int], tty: Bool) -> Result<Int32, SpawnError> {
        let mode: Spawner.Output = tty ? .pty : (labels.count > 1 ? .pipes : .pipe)
        let result = spawner.spawn(script: ShellCommand.script(for: spec.command),
                                   extraEnvironment: ["PORT=\(spec.port)", "PS=\(spec.name)"], output: mode)
        switch result {
        case .failure(let error): return .failure(SpawnError(error.description, permanent: error.permanent))
        case .success(let process):
            for (fd, stream) in process.outputs { output.open(fd, label: labels[stream]) }
            byPid[process.pid] = RunningChild(slot: slot, name: spec.name, process: process)
            return .success(process.pid)
        }
    }

    /// Reaps every exited child, instance leaders and orphans alike (as
    /// subreaper or PID 1 they are all ours). Returns them, and whether any
    /// child is left.
    func reap() -> (exits: [(pid: Int32, status: ExitStatus)], childrenLeft: Bool) {
        var exits: [(Int32, ExitStatus)] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid == 0 { return (exits, true) }
            if pid < 0 {
                if errno == EINTR { continue }
                return (exits, false)
            }
            exits.append((pid, sm_wifsignaled(status) != 0 ? .signaled(Signal(sm_wtermsig(status))) : .exited(sm_wexitstatus(status))))
        }
    }

    /// The group is empty: relays what its pipes hold now and notes the ones
    /// that still owe bytes (stdout backed up). Returns true when the exit
    /// can be reported at once.
    func drain(_ child: RunningChild) -> Bool {
        child.ending = true
        child.draining = true
        defer { child.draining = false }
        child.closeStdin()
        for fd in child.outputs {
            if !output.drain(fd) {
                child.outputs.remove(fd)
            } else if output.owes(fd) {
                child.owed.insert(fd)
            }
        }
        return child.owed.isEmpty
    }

    func remove(_ child: RunningChild) {
        child.closeStdin()
        byPid[child.pid] = nil
    }
}
