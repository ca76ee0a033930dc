import Glibc

/// Which signals `swiftman start` takes over, and the signalfd that delivers
/// them to the loop. They are blocked in every thread before anything else
/// starts, so none is lost and no handler runs.
public enum SignalSetup {
    /// Signals the loop reads: child exits, window size, the two forwarded
    /// ones, and every asynchronous signal whose default action would end
    /// swiftman (those stop the formation first: see `stopping`).
    public static let handled: [Int32] = {
        var set: [Int32] = [SIGCHLD, SIGWINCH, SIGUSR1, SIGUSR2] + stopping
        // Real-time signals also terminate by default.
        set += Array(SIGRTMIN()...SIGRTMAX())
        return set
    }()

    /// Signals that stop the formation gracefully. Ctrl-\ (SIGQUIT) stops too,
    /// as in foreman, rather than being forwarded: a core dump of every child
    /// is never what Ctrl-\ at a process manager means. Fault signals (SIGSEGV,
    /// SIGBUS, SIGILL, SIGFPE, SIGTRAP) keep their default: a crash of
    /// swiftman itself must not be hidden.
    public static let stopping: [Int32] = [
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
        SIGPWR, SIGSTKFLT, SIGIO, SIGSYS, SIGABRT,
    ]

    /// Blocks the handled signals and ignores SIGPIPE (writes to a closed
    /// stdout then fail with EPIPE) and SIGTTIN/SIGTTOU. Call first thing.
    public static func install() {
        SignalMask(handled).block()
        for s in [SIGPIPE, SIGTTIN, SIGTTOU] { ignore(s) }
    }

    /// A signalfd over the handled signals.
    public static func openSignalFD() throws(Errno) -> SignalFD {
        try SignalFD.open(SignalMask(handled))
    }

    /// signal(SIG_IGN): the signal is discarded (and stays so across exec).
    public static func ignore(_ signal: Int32) {
        _ = Glibc.signal(signal, SIG_IGN)
    }
}

/// A set of signals (raw numbers), and blocking them in the calling thread.
public struct SignalMask {
    var set = sigset_t()

    public init(_ signals: [Int32]) {
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
    }

    /// sigprocmask(SIG_BLOCK): they stay pending until read from a signalfd.
    public func block() {
        var set = set
        sigprocmask(SIG_BLOCK, &set, nil)
    }
}

/// glibc's SIGRTMIN/SIGRTMAX are functions (some real-time signals are
/// reserved for the threads library).
private func SIGRTMIN() -> Int32 { __libc_current_sigrtmin() }
private func SIGRTMAX() -> Int32 { __libc_current_sigrtmax() }
