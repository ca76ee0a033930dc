import SwiftmanModel
import SwiftmanPlatform

/// One instance as the runtime sees it: a process group led by `pid`, its
/// output pipes and its stdin, and where it is in its life.
final class RunningChild {
    /// Where a running instance is, from its spawn to its end. It moves only
    /// through `ChildTable`, forward only.
    enum Stage: Equatable {
        /// The leader runs.
        case running
        /// The leader was reaped with `status`; other processes of its group
        /// may live on (`told`: the supervisor knows and is stopping them).
        case leaderGone(ExitStatus, told: Bool)
        /// The group is empty; what its pipes hold now is being relayed (pipe
        /// events are only bookkeeping meanwhile).
        case emptying(ExitStatus)
        /// The group is empty; the exit waits for the bytes its pipes still
        /// owe (stdout is backed up).
        case draining(ExitStatus)
        /// Its exit was reported: it is out of the table.
        case ended(ExitStatus)

        /// The leader's status, once reaped.
        var status: ExitStatus? {
            switch self {
            case .running: return nil
            case .leaderGone(let status, _), .emptying(let status), .draining(let status), .ended(let status): return status
            }
        }
    }

    /// The supervisor's id for the instance: stable across restarts and scale.
    let slot: Int
    let name: String
    /// The group leader; the group's id is the same number.
    let pid: Int32
    /// Write end of the child's stdin pipe (nil: none, or closed). Nothing is
    /// written unless the user sends input; it closes when the instance ends
    /// or swiftman exits, and the child then sees end-of-file.
    fileprivate(set) var stdin: FileDescriptor?
    /// Output read ends not yet at EOF.
    fileprivate(set) var outputs: Set<FileDescriptor>
    let ptyMaster: FileDescriptor?
    fileprivate(set) var stage = Stage.running
    /// Pipes that still owe bytes while `draining`.
    fileprivate var owed: Set<FileDescriptor> = []

    init(slot: Int, name: String, process: SpawnedProcess) {
        self.slot = slot
        self.name = name
        pid = process.id.rawValue
        stdin = process.input
        outputs = Set(process.output.map(\.fd))
        ptyMaster = process.terminal
    }

    /// Where input for it goes: its pty master under --tty (while open), else
    /// its stdin pipe; nil once its leader has exited.
    var inputDescriptor: FileDescriptor? {
        guard stage == .running else { return nil }
        if let master = ptyMaster { return outputs.contains(master) ? master : nil }
        return stdin
    }

    /// Its pty master while it is open.
    var openPtyMaster: FileDescriptor? { ptyMaster.flatMap { outputs.contains($0) ? $0 : nil } }

    fileprivate func closeStdin() {
        stdin?.close()
        stdin = nil
    }
}

/// The running instances, by leader pid, output fd and slot: spawn, reap, and
/// each instance's stage, moved here only.
final class ChildTable {
    private var byPid: [Int32: RunningChild] = [:]
    private var byFD: [FileDescriptor: RunningChild] = [:]
    private let spawner: Spawner
    private let output: ChildOutput

    init(spawner: Spawner, output: ChildOutput) {
        self.spawner = spawner
        self.output = output
    }

    var count: Int { byPid.count }
    var all: Dictionary<Int32, RunningChild>.Values { byPid.values }
    subscript(pid: Int32) -> RunningChild? { byPid[pid] }

    /// The instance whose output arrives on `fd`, if it is still in the table.
    func owner(of fd: FileDescriptor) -> RunningChild? { byFD[fd] }

    /// The process running `slot` now: not one whose leader has exited.
    func running(slot: Int) -> RunningChild? {
        byPid.values.first { $0.slot == slot && $0.stage == .running }
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
            for (fd, stream) in process.output { output.open(fd, label: labels[stream]) }
            let child = RunningChild(slot: slot, name: spec.name, process: process)
            byPid[child.pid] = child
            for fd in child.outputs { byFD[fd] = child }
            return .success(child.pid)
        }
    }

    /// Reaps every exited child, instance leaders and orphans alike (as
    /// subreaper or PID 1 they are all ours). Returns them, and whether any
    /// child is left.
    func reap() -> (exits: [(pid: Int32, status: ExitStatus)], childrenLeft: Bool) {
        var exits: [(Int32, ExitStatus)] = []
        while true {
            switch Children.reapOne() {
            case .exited(let pid, let termination): exits.append((pid.rawValue, ExitStatus(termination)))
            case .noneExited: return (exits, true)
            case .noChildren: return (exits, false)
            }
        }
    }

    // MARK: stages

    /// running → leaderGone: its leader was reaped.
    func leaderReaped(_ child: RunningChild, status: ExitStatus) {
        guard child.stage == .running else { return }
        child.stage = .leaderGone(status, told: false)
    }

    /// leaderGone(told: false) → leaderGone(told: true): the supervisor was
    /// told the group lives on. Returns whether this is news.
    func tellLeaderGone(_ child: RunningChild) -> Bool {
        guard case .leaderGone(let status, false) = child.stage else { return false }
        child.stage = .leaderGone(status, told: true)
        return true
    }

    /// leaderGone → emptying → draining or ended: the group is empty. Relays
    /// what its pipes hold now and notes the ones that still owe bytes (stdout
    /// backed up). Returns true when the exit can be reported at once.
    func groupEmptied(_ child: RunningChild) -> Bool {
        guard case .leaderGone(let status, _) = child.stage else { return false }
        child.stage = .emptying(status)
        child.closeStdin()
        for fd in child.outputs {
            if !output.drain(fd) {
                outputClosed(fd, of: child)
            } else if output.owes(fd) {
                child.owed.insert(fd)
            }
        }
        child.stage = .draining(status)
        return child.owed.isEmpty
    }

    /// A pipe reached EOF (`closed`) or paid what it owed. Returns true when
    /// the instance can now end (it was draining and owes nothing more).
    func pipeSettled(_ fd: FileDescriptor, of child: RunningChild, closed: Bool) -> Bool {
        if closed { outputClosed(fd, of: child) }
        child.owed.remove(fd)
        guard case .draining = child.stage else { return false }
        return child.owed.isEmpty
    }

    /// draining → ended: out of the table. Returns the leader's status.
    func end(_ child: RunningChild) -> ExitStatus {
        let status = child.stage.status ?? .exited(0)
        child.stage = .ended(status)
        child.closeStdin()
        for fd in child.outputs { byFD[fd] = nil }
        byPid[child.pid] = nil
        return status
    }

    private func outputClosed(_ fd: FileDescriptor, of child: RunningChild) {
        child.outputs.remove(fd)
        byFD[fd] = nil
    }
}
