/// A signal, as a value (the way swift-subprocess types them). The numbers are
/// Linux's (x86-64 and arm64 share them); SwiftmanRuntimeTests checks them
/// against Glibc's constants.
public struct Signal: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: Int32
    public init(integerLiteral value: Int32) { rawValue = value }
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let hangup = Signal(1)
    public static let interrupt = Signal(2)
    public static let quit = Signal(3)
    public static let illegal = Signal(4)
    public static let trap = Signal(5)
    public static let abort = Signal(6)
    public static let bus = Signal(7)
    public static let floatingPoint = Signal(8)
    public static let kill = Signal(9)
    public static let user1 = Signal(10)
    public static let segmentation = Signal(11)
    public static let user2 = Signal(12)
    public static let pipe = Signal(13)
    public static let alarm = Signal(14)
    public static let terminate = Signal(15)
    public static let stackFault = Signal(16)
    public static let child = Signal(17)
    public static let `continue` = Signal(18)
    public static let stop = Signal(19)
    public static let terminalStop = Signal(20)
    public static let terminalInput = Signal(21)
    public static let terminalOutput = Signal(22)
    public static let urgent = Signal(23)
    public static let cpuLimit = Signal(24)
    public static let fileSizeLimit = Signal(25)
    public static let virtualAlarm = Signal(26)
    public static let profiling = Signal(27)
    public static let windowChange = Signal(28)
    public static let io = Signal(29)
    public static let power = Signal(30)
    public static let badSystemCall = Signal(31)

    /// `SIGTERM`, or `signal 42` for numbers without a name.
    public var description: String { Signals.name(self) }

    public static func < (a: Signal, b: Signal) -> Bool { a.rawValue < b.rawValue }
}

/// Signal names as users write them (`TERM`, `SIGTERM`, `15`).
public enum Signals {
    public static let table: [(name: String, signal: Signal)] = [
        ("HUP", .hangup), ("INT", .interrupt), ("QUIT", .quit), ("KILL", .kill),
        ("USR1", .user1), ("USR2", .user2), ("TERM", .terminate), ("PIPE", .pipe),
        ("ALRM", .alarm), ("CHLD", .child), ("CONT", .continue), ("STOP", .stop),
        ("TSTP", .terminalStop), ("WINCH", .windowChange), ("ABRT", .abort), ("SEGV", .segmentation),
        ("ILL", .illegal), ("FPE", .floatingPoint), ("BUS", .bus), ("TRAP", .trap),
        ("TTIN", .terminalInput), ("TTOU", .terminalOutput), ("XCPU", .cpuLimit), ("XFSZ", .fileSizeLimit),
        ("SYS", .badSystemCall), ("URG", .urgent), ("VTALRM", .virtualAlarm), ("PROF", .profiling),
        ("PWR", .power), ("IO", .io), ("STKFLT", .stackFault),
    ]

    /// Parses `TERM`, `SIGTERM`, `term` or a number; nil when unknown.
    public static func parse(_ text: String) -> Signal? {
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let n = Int32(name), n > 0, n < 65 { return Signal(n) }
        return table.first { $0.name == name }?.signal
    }

    /// `SIGTERM` for 15; `signal 42` for numbers without a name.
    public static func name(_ signal: Signal) -> String {
        if let entry = table.first(where: { $0.signal == signal }) { return "SIG" + entry.name }
        return "signal \(signal.rawValue)"
    }
}

extension Signals {
    /// Why a signal cannot be a stop signal, or nil when it can: it must end a
    /// process that does not catch it (its default action terminates), and the
    /// process must be able to catch it to stop gracefully (KILL is the exception
    /// users ask for on purpose).
    public static func cannotStop(_ signal: Signal) -> String? {
        switch signal {
        case .stop, .terminalStop, .terminalInput, .terminalOutput: return "only pauses a process"
        case .continue: return "only resumes a process"
        case .child, .windowChange, .urgent: return "is ignored by default"
        default: return nil
        }
    }
}

/// How a child ended, decoded from a wait status.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Signal)

    /// The shell convention: the exit code, or 128 + n for death by signal n.
    public var code: Int32 {
        switch self {
        case .exited(let c): return c
        case .signaled(let s): return 128 + s.rawValue
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
