import Glibc
import CSwiftman

/// A process id, as a value. Signals are raw numbers here (the model's
/// `Signal` carries their meaning; pass its `rawValue`).
public struct ProcessID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// swiftman's own.
    public static var current: ProcessID { ProcessID(getpid()) }

    public var description: String { String(rawValue) }

    /// kill(2) of this one process.
    public func send(_ signal: Int32) throws(Errno) {
        try check(kill(rawValue, signal))
    }

    /// Its process group (getpgid), or nil once it is gone.
    public var group: ProcessGroup? {
        let id = getpgid(rawValue)
        return id < 0 ? nil : ProcessGroup(id)
    }
}

/// A process group, named by its leader's pid: each instance runs in its own.
public struct ProcessGroup: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    /// The group `leader` leads (same number).
    public init(leader: ProcessID) { rawValue = leader.rawValue }

    public var description: String { String(rawValue) }

    /// kill(2) of every process in the group.
    public func send(_ signal: Int32) throws(Errno) {
        try check(kill(-rawValue, signal))
    }

    /// True while any process of the group exists (zombies included: a
    /// process is gone once its parent has reaped it).
    public var isAlive: Bool {
        kill(-rawValue, 0) == 0 || errno == EPERM
    }
}

/// How a child ended, decoded from its wait status.
public enum Termination: Equatable, Sendable {
    case exited(code: Int32)
    /// Killed by this signal number.
    case signaled(Int32)

    init(status: Int32) {
        self = sm_wifsignaled(status) != 0 ? .signaled(sm_wtermsig(status)) : .exited(code: sm_wexitstatus(status))
    }
}

/// Our children: reaping them, and being the reaper of their orphans.
public enum Children {
    public enum Reaped: Equatable, Sendable {
        case exited(ProcessID, Termination)
        /// Children remain, none has exited.
        case noneExited
        /// No child is left (ECHILD).
        case noChildren
    }

    /// waitpid(-1, WNOHANG): one exited child, if any.
    public static func reapOne() -> Reaped {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { return .exited(ProcessID(pid), Termination(status: status)) }
            if pid == 0 { return .noneExited }
            if errno != EINTR { return .noChildren }
        }
    }

    /// Waits for the child `pid` to end and reaps it; nil when it is not our
    /// child (or was reaped already).
    public static func wait(for pid: ProcessID) -> Termination? {
        var status: Int32 = 0
        while true {
            if waitpid(pid.rawValue, &status, 0) == pid.rawValue { return Termination(status: status) }
            if errno != EINTR { return nil }
        }
    }

    /// Waits for and reaps every child, until none is left.
    public static func reapAllBlocking() {
        var status: Int32 = 0
        while waitpid(-1, &status, 0) > 0 || errno == EINTR {}
    }

    /// Orphans of our children re-parent to us instead of init, so a group's
    /// last process is always reaped here (and counted as gone).
    @discardableResult
    public static func becomeSubreaper() -> Bool { sm_set_child_subreaper() == 0 }
}
