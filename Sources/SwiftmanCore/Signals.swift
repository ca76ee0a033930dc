import Glibc

/// Signal names as users write them (`TERM`, `SIGTERM`, `15`).
public enum Signals {
    static let table: [(name: String, number: Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("KILL", SIGKILL),
        ("USR1", SIGUSR1), ("USR2", SIGUSR2), ("TERM", SIGTERM), ("PIPE", SIGPIPE),
        ("ALRM", SIGALRM), ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP),
        ("TSTP", SIGTSTP), ("WINCH", SIGWINCH), ("ABRT", SIGABRT), ("SEGV", SIGSEGV),
        ("ILL", SIGILL), ("FPE", SIGFPE), ("BUS", SIGBUS), ("TRAP", SIGTRAP),
        ("TTIN", SIGTTIN), ("TTOU", SIGTTOU), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ),
        ("SYS", SIGSYS), ("URG", SIGURG), ("VTALRM", SIGVTALRM), ("PROF", SIGPROF),
    ]

    /// Parses `TERM`, `SIGTERM`, `term` or a number; nil when unknown.
    public static func parse(_ text: String) -> Int32? {
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let n = Int32(name), n > 0, n < 65 { return n }
        return table.first { $0.name == name }?.number
    }

    /// `SIGTERM` for 15; `signal 42` for numbers without a name.
    public static func name(_ number: Int32) -> String {
        if let entry = table.first(where: { $0.number == number }) { return "SIG" + entry.name }
        return "signal \(number)"
    }
}

/// How a child ended, decoded from a wait status.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// The shell convention: the exit code, or 128 + n for death by signal n.
    public var code: Int32 {
        switch self {
        case .exited(let c): return c
        case .signaled(let s): return 128 + s
        }
    }

    public var isSuccess: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let c): return "exited with code \(c)"
        case .signaled(let s): return "terminated by \(Signals.name(s))"
        }
    }
}
