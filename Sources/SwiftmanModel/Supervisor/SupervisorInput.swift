/// Everything the supervisor hears, as values: one input is one event.
public enum SupervisorInput: Equatable, Sendable {
    /// Start the formation.
    case start
    /// An instance has ended: its leader `pid` was reaped with `status`, its
    /// process group is empty and its output relayed. (A pid that is not an
    /// instance's, an orphan reaped as subreaper or PID 1, is ignored.)
    case childExited(pid: Int32, status: ExitStatus)
    /// An instance's leader died but `remaining` processes of its group live on.
    case leaderExited(pid: Int32, status: ExitStatus, remaining: Int)
    /// The ready check of the instance led by `pid` passed.
    case ready(pid: Int32)
    /// The health check of the instance led by `pid` passed or failed
    /// (`detail`: why, for the `unhealthy` line).
    case health(pid: Int32, passed: Bool, detail: String)
    /// swiftman received a signal that `SignalTable` says stops or is forwarded.
    case signal(Signal)
    /// The reader of swiftman's stdout went away.
    case outputClosed
    /// Writing to stdout failed for another reason: stop with `exitCode`.
    case outputFailed(exitCode: Int32)
    /// `nextDeadline` has come: restarts after backoff, SIGKILL after the
    /// grace time, ready timeouts.
    case timers
    /// `--watch`: files of a watched `type` changed (`paths` relative to the
    /// Procfile's directory). The type restarts after the quiet period.
    case changed(type: String, paths: [String])
    /// A request from the control socket (answered with a `.reply` effect).
    case control(ControlRequest)
}

/// What the supervisor decided, in order, for the runtime to carry out.
public enum SupervisorEffect: Equatable, Sendable {
    /// Send `signal` to the process group `group` (= its leader's pid).
    case signal(group: Int32, Signal)
    /// Send `signal` to orphans handed to swiftman (subreaper / PID 1).
    case signalOrphans(Signal)
    /// Say it (a `system` line, or a JSON event).
    case report(LifecycleEvent)
    /// Start checking whether the instance led by `pid` is ready (`port`,
    /// `line:`, `cmd:`; `exit` is the supervisor's own): the answer is `.ready`.
    case watchReadiness(InstanceSpec, pid: Int32, check: ReadyCheck)
    /// Stop checking (it exited, is being stopped, or the check gave up).
    case cancelReadiness(pid: Int32)
    /// Run the health check once; the answer is `.health`.
    case checkHealth(InstanceSpec, pid: Int32, check: ReadyCheck)
    /// Call off a running health check (the instance is stopping or exited).
    case cancelHealth(pid: Int32)
    /// The answer to a `.control` input.
    case reply(ControlReply)
}
