/// What swiftman does with each signal it receives, per command: the one
/// place this is decided. `start`'s runtime and supervisor, `run` and
/// `connect` read it; docs/lifecycle.md shows `SignalTable.markdown` (a test
/// keeps the two equal).
public enum SignalTable {
    /// What `swiftman start` does with a signal.
    public enum StartAction: Equatable, Sendable {
        /// Stops the formation gracefully (exit 0). During shutdown a second
        /// one kills what is left at once and drops output a stalled reader
        /// holds up when `escalates`; otherwise it is noted and shutdown goes on.
        case stop(escalates: Bool)
        /// Passed on to every running instance's process group.
        case forward
        /// A child changed state: reap it.
        case reap
        /// Our terminal changed size: so do the children's ptys.
        case resize
        /// Ignored (SIG_IGN), so it cannot end swiftman.
        case ignore
        /// Left at its default action: a fault of swiftman's own (SIGSEGV…)
        /// must not be hidden; SIGKILL and SIGSTOP cannot be caught.
        case `default`
    }

    /// What `swiftman connect` does with a signal.
    public enum ConnectAction: Equatable, Sendable {
        /// The terminal's new size is sent to the instance's pty.
        case resize
        /// Detaches when the terminal is in line mode (Ctrl-C); in raw mode
        /// Ctrl-C is a key for the program, and a SIGINT from elsewhere ends
        /// the session like `end`.
        case detachInLineMode
        /// Ends the session: the terminal is restored, swiftman exits 128+n.
        case end
        /// Left at its default action.
        case `default`
    }

    public struct Rule: Sendable {
        public let signal: Signal
        public let start: StartAction
        public let connect: ConnectAction
    }

    /// Glibc keeps the first two real-time signals for its threads library;
    /// the rest, like every asynchronous signal that ends a process by
    /// default, stop `start`'s formation first.
    public static let realTime: ClosedRange<Int32> = 34...64

    public static let rules: [Rule] = [
        Rule(signal: .interrupt, start: .stop(escalates: true), connect: .detachInLineMode),
        Rule(signal: .terminate, start: .stop(escalates: true), connect: .end),
        Rule(signal: .quit, start: .stop(escalates: true), connect: .end),
        Rule(signal: .hangup, start: .stop(escalates: false), connect: .end),
        Rule(signal: .alarm, start: .stop(escalates: false), connect: .default),
        Rule(signal: .virtualAlarm, start: .stop(escalates: false), connect: .default),
        Rule(signal: .profiling, start: .stop(escalates: false), connect: .default),
        Rule(signal: .cpuLimit, start: .stop(escalates: false), connect: .default),
        Rule(signal: .fileSizeLimit, start: .stop(escalates: false), connect: .default),
        Rule(signal: .power, start: .stop(escalates: false), connect: .default),
        Rule(signal: .stackFault, start: .stop(escalates: false), connect: .default),
        Rule(signal: .io, start: .stop(escalates: false), connect: .default),
        Rule(signal: .badSystemCall, start: .stop(escalates: false), connect: .default),
        Rule(signal: .abort, start: .stop(escalates: false), connect: .default),
        Rule(signal: .user1, start: .forward, connect: .default),
        Rule(signal: .user2, start: .forward, connect: .default),
        Rule(signal: .child, start: .reap, connect: .default),
        Rule(signal: .windowChange, start: .resize, connect: .resize),
        Rule(signal: .pipe, start: .ignore, connect: .default),
        Rule(signal: .terminalInput, start: .ignore, connect: .default),
        Rule(signal: .terminalOutput, start: .ignore, connect: .default),
    ]

    /// What `start` does with `signal`.
    public static func start(_ signal: Signal) -> StartAction {
        if let rule = rules.first(where: { $0.signal == signal }) { return rule.start }
        return realTime.contains(signal.rawValue) ? .stop(escalates: false) : .default
    }

    /// What `connect` does with `signal`.
    public static func connect(_ signal: Signal) -> ConnectAction {
        rules.first { $0.signal == signal }?.connect ?? .default
    }

    /// The signals `start` reads from its signal fd (blocked from the start,
    /// so none is lost and no handler runs), real-time ones included.
    public static var startHandles: [Signal] {
        rules.filter { $0.start != .ignore && $0.start != .default }.map(\.signal)
            + realTime.map(Signal.init(rawValue:))
    }

    /// The signals `start` ignores.
    public static var startIgnores: [Signal] { rules.filter { $0.start == .ignore }.map(\.signal) }

    /// The signals `connect` reads from its signal fd.
    public static var connectHandles: [Signal] { rules.filter { $0.connect != .default }.map(\.signal) }

    /// The table as docs/lifecycle.md shows it. `run` replaces itself with
    /// the command (exec), so every signal is the command's own.
    public static var markdown: String {
        func start(_ action: StartAction) -> String {
            switch action {
            case .stop(true): return "stops the formation (exit 0); a second one during shutdown sends SIGKILL to every group and stops waiting for a stalled stdout reader (the same signal again within 0.2 s is the same request: `timeout` sends two)"
            case .stop(false): return "stops the formation (exit 0); a second one changes nothing"
            case .forward: return "forwarded to every running instance's process group"
            case .reap: return "reaps exited children"
            case .resize: return "resizes the instances' ptys (`--tty`)"
            case .ignore: return "ignored"
            case .default: return "default action"
            }
        }
        func connect(_ action: ConnectAction) -> String {
            switch action {
            case .resize: return "sends the new terminal size"
            case .detachInLineMode: return "detaches in line mode (in raw mode Ctrl-C is a key for the program)"
            case .end: return "ends the session, restores the terminal"
            case .default: return "default action"
            }
        }
        var lines = ["| signal | `start` | `connect` | `run` |", "|---|---|---|---|"]
        for rule in rules {
            lines.append("| \(Signals.name(rule.signal)) | \(start(rule.start)) | \(connect(rule.connect)) | the command's own (exec) |")
        }
        lines.append("| real-time (SIGRTMIN+2 … SIGRTMAX) | \(start(.stop(escalates: false))) | default action | the command's own (exec) |")
        lines.append("| SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP | default action (a crash of swiftman is not hidden) | default action | the command's own (exec) |")
        return lines.joined(separator: "\n") + "\n"
    }
}
