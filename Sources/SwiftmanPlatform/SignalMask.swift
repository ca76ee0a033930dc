import Glibc

/// The signals a command takes over (the list is the model's `SignalTable`;
/// the platform only carries it out): blocked in every thread before anything
/// else starts, so none is lost and no handler runs, and read from a signalfd;
/// and the ones it ignores.
public enum SignalSetup {
    nonisolated(unsafe) private static var blocked: [Int32] = []
    nonisolated(unsafe) private static var ignored: [Int32] = []

    /// Blocks `blocking` and ignores `ignoring` (SIG_IGN). Call first thing.
    public static func install(blocking: [Int32], ignoring: [Int32]) {
        blocked = blocking
        ignored = ignoring
        SignalMask(blocking).block()
        for s in ignoring { ignore(s) }
    }

    /// A signalfd over the blocked signals.
    public static func openSignalFD() throws(Errno) -> SignalFD {
        try SignalFD.open(SignalMask(blocked))
    }

    /// Undoes `install` (exec keeps the mask and ignored signals).
    public static func restore() {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        for s in ignored { _ = Glibc.signal(s, SIG_DFL) }
    }

    /// `install` again, as it was (after an exec that failed).
    public static func reinstall() { install(blocking: blocked, ignoring: ignored) }

    /// signal(SIG_IGN): the signal is discarded (and stays so across exec).
    public static func ignore(_ signal: Int32) {
        _ = Glibc.signal(signal, SIG_IGN)
    }

    /// The real-time signals glibc leaves to programs (it keeps the first two
    /// for its threads library).
    public static var realTime: ClosedRange<Int32> { __libc_current_sigrtmin()...__libc_current_sigrtmax() }
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
