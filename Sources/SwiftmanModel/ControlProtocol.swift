/// The control protocol between `swiftman start` and the control commands
/// (`scale`, `ps`, `restart`, `stop`, `signal`, `connect`): one request line
/// `swiftman/1 COMMAND ARG…`, answered by `ok` and body lines or by
/// `error KIND MESSAGE`, then the server closes the connection.
public enum ControlRequest: Equatable, Sendable {
    case hello
    case ps
    /// The disposability report so far (`ps --timings`).
    case timings
    case scale([ScaleItem])
    case restart(String)
    case stop(String)
    /// `signal TARGET NUMBER`: the signal to every running instance's process
    /// group of a type, or to one instance's. Answered by the names signalled.
    case signal(target: String, signal: Signal)
    /// `attach TARGET ROWS COLS` (`swiftman connect`): the connection becomes
    /// an attach session (see `AttachFrame`). ROWS and COLS are the client's
    /// terminal size, 0 0 when it has none.
    case attach(target: String, rows: Int, cols: Int)
    /// `quit` (`swiftman quit`): the formation stops as on Ctrl-C; the reply
    /// comes once it has stopped: `exit=CODE`, then the disposability report.
    case quit
    /// `wait GOAL TARGET…` (`swiftman wait`): the reply comes once every
    /// target has reached the goal (ok), or can no longer (error).
    case wait(targets: [String], goal: WaitGoal)
    /// `logs FLAGS LAST SINCE TARGET…` (`swiftman logs`): the reply is `ok`,
    /// then the history rendered as asked, raw; with `follow` new lines
    /// follow until the formation ends.
    case logs(LogsQuery)
    /// `events FLAGS` (`swiftman events`): `ok`, then the lifecycle events
    /// kept so far (FLAGS `j`: as JSON lines), then with `f` new ones until
    /// the formation ends; `-` for neither.
    case events(follow: Bool, json: Bool)

    /// Requests whose connection the runtime keeps past the request: their
    /// reply (or session) comes later.
    public var holdsConnection: Bool {
        switch self {
        case .attach, .quit, .wait, .logs, .events: return true
        default: return false
        }
    }

    public struct ScaleItem: Equatable, Sendable {
        public let type: String
        public let count: Int
        public init(type: String, count: Int) {
            self.type = type
            self.count = count
        }
    }

    public static let version = "swiftman/1"
    /// Longest request line accepted, newline included.
    public static let maxLength = 4096

    /// The request as sent on the wire, newline included.
    public var encoded: String {
        let body: String
        switch self {
        case .hello: body = "hello"
        case .ps: body = "ps"
        case .timings: body = "timings"
        case .scale(let items): body = "scale " + items.map { "\($0.type)=\($0.count)" }.joined(separator: " ")
        case .restart(let target): body = "restart \(target)"
        case .stop(let target): body = "stop \(target)"
        case .signal(let target, let signal): body = "signal \(target) \(signal.rawValue)"
        case .attach(let target, let rows, let cols): body = "attach \(target) \(rows) \(cols)"
        case .quit: body = "quit"
        case .wait(let targets, let goal): body = "wait \(goal.rawValue) " + targets.joined(separator: " ")
        case .logs(let query): body = "logs " + query.encoded
        case .events(let follow, let json):
            let flags = (follow ? "f" : "") + (json ? "j" : "")
            body = "events " + (flags.isEmpty ? "-" : flags)
        }
        return "\(Self.version) \(body)\n"
    }

    /// Parses and validates one request line (without its newline), as
    /// strictly as command-line input.
    public static func parse(_ line: [UInt8]) throws(ControlFailure) -> ControlRequest {
        guard line.count < maxLength else { throw ControlFailure("request too long") }
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw ControlFailure("request must be printable ASCII")
        }
        let words = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
        guard words.first == version else {
            throw ControlFailure("unsupported protocol (expected \(version))")
        }
        guard words.count >= 2 else { throw ControlFailure("missing command") }
        let args = Array(words.dropFirst(2))
        switch words[1] {
        case "hello", "ps", "timings", "quit":
            guard args.isEmpty else { throw ControlFailure("\(words[1]) takes no arguments") }
            return ["ps": .ps, "timings": .timings, "quit": .quit][words[1]] ?? .hello
        case "scale":
            guard !args.isEmpty, args.count <= 64 else { throw ControlFailure("scale needs 1 to 64 TYPE=COUNT items") }
            return .scale(try args.map { arg throws(ControlFailure) in try parseScaleItem(arg) })
        case "restart", "stop":
            guard args.count == 1, isName(args[0]) else { throw ControlFailure("\(words[1]) needs one TYPE or TYPE.N") }
            return words[1] == "stop" ? .stop(args[0]) : .restart(args[0])
        case "signal":
            guard args.count == 2, isName(args[0]), let number = parseSignalNumber(args[1]) else {
                throw ControlFailure("signal needs TYPE or TYPE.N, then a signal number (1-64)")
            }
            return .signal(target: args[0], signal: Signal(number))
        case "attach":
            guard args.count == 3, isName(args[0]), let rows = Int(args[1]), let cols = Int(args[2]),
                  (0...65535).contains(rows), (0...65535).contains(cols) else {
                throw ControlFailure("attach needs TYPE or TYPE.N, then ROWS and COLS (0-65535)")
            }
            return .attach(target: args[0], rows: rows, cols: cols)
        case "wait":
            guard args.count >= 2, args.count <= 65, let goal = WaitGoal(rawValue: args[0]),
                  args.dropFirst().allSatisfy(isName) else {
                throw ControlFailure("wait needs ready, running or exited, then 1 to 64 TYPE or TYPE.N")
            }
            return .wait(targets: Array(args.dropFirst()), goal: goal)
        case "logs":
            return .logs(try LogsQuery(words: args))
        case "events":
            guard args.count == 1, ["-", "f", "j", "fj"].contains(args[0]) else { throw ControlFailure("events needs FLAGS: f, j, fj or -") }
            return .events(follow: args[0].contains("f"), json: args[0].contains("j"))
        default:
            throw ControlFailure("unknown command \"\(words[1].prefix(40))\"")
        }
    }

    /// `web=3`: a process type name and a count in 0…10000.
    public static func parseScaleItem(_ text: String) throws(ControlFailure) -> ScaleItem {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, isName(String(parts[0])), !parts[0].contains(".") else {
            throw ControlFailure("expected TYPE=COUNT, got \"\(text.prefix(40))\"")
        }
        guard let count = Int(parts[1]), count >= 0, count <= 10_000 else {
            throw ControlFailure("invalid count \"\(parts[1].prefix(20))\" for \(parts[0]) (expected 0…10000)")
        }
        return ScaleItem(type: String(parts[0]), count: count)
    }

    /// `10`: a signal number in 1…64, plain decimal digits (no sign, no leading zero).
    static func parseSignalNumber(_ text: String) -> Int32? {
        guard let first = text.utf8.first, first != 0x30, text.utf8.count <= 2,
              text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int32(text), n <= 64 else { return nil }
        return n
    }

    public static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 200 && s.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E
        }
    }
}

/// What `swiftman logs` asks for: which lines, and how they are printed.
public struct LogsQuery: Equatable, Sendable {
    /// Types or instances (none: everything, system lines included).
    public var targets: [String] = []
    /// The last N lines (after the target filter).
    public var last: Int?
    /// Lines printed at or after this many milliseconds since the epoch.
    public var since: Int?
    public var follow = false
    public var json = false
    public var color = false
    public var timestamp = true
    public var prefix = true

    public init() {}

    /// `FLAGS LAST SINCE TARGET…`: FLAGS letters f(ollow) j(son) c(olor)
    /// t(imestamp) p(refix), `-` for none; LAST and SINCE a number or `-`.
    var encoded: String {
        var flags = ""
        if follow { flags += "f" }
        if json { flags += "j" }
        if color { flags += "c" }
        if timestamp { flags += "t" }
        if prefix { flags += "p" }
        return ([flags.isEmpty ? "-" : flags, last.map(String.init) ?? "-", since.map(String.init) ?? "-"] + targets)
            .joined(separator: " ")
    }

    init(words: [String]) throws(ControlFailure) {
        let usage = ControlFailure("logs needs FLAGS (fjctp or -), LAST and SINCE (a number or -), then up to 64 TYPE or TYPE.N")
        guard words.count >= 3, words.count <= 67 else { throw usage }
        let flags = words[0]
        guard flags == "-" || (flags.utf8.count <= 5 && flags.allSatisfy({ "fjctp".contains($0) })
                                && Set(flags).count == flags.count) else { throw usage }
        func number(_ text: String, max: Int) throws(ControlFailure) -> Int? {
            if text == "-" { return nil }
            guard text.utf8.count <= 15, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(text), n <= max else { throw usage }
            return n
        }
        follow = flags.contains("f")
        json = flags.contains("j")
        color = flags.contains("c")
        timestamp = flags.contains("t")
        prefix = flags.contains("p")
        last = try number(words[1], max: 100_000_000)
        since = try number(words[2], max: 1 << 48)
        targets = Array(words.dropFirst(3))
        guard targets.allSatisfy(ControlRequest.isName) else { throw usage }
    }
}

/// What kind of refusal an `error` reply is: the CLI turns it into an exit
/// code without reading the message.
public enum ControlErrorKind: String, CaseIterable, Equatable, Sendable {
    /// The request names a type or instance the formation's Procfile does not
    /// have: a bad argument (exit 2).
    case badTarget = "bad-target"
    /// Anything else: a request that cannot be carried out now or here (no
    /// such instance number, shutting down, busy, a malformed request; exit 1).
    case refused
}

/// Why a control request could not be carried out: a kind and a message for people.
public struct ControlFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public let kind: ControlErrorKind
    public let message: String
    public var description: String { message }

    public init(_ message: String, kind: ControlErrorKind = .refused) {
        self.message = message
        self.kind = kind
    }

    /// A type or instance the Procfile does not have (`stop nope`, `scale wbe=2`).
    public static func unknownTarget(_ message: String) -> ControlFailure {
        ControlFailure(message, kind: .badTarget)
    }
}

extension ControlReply {
    /// A refusal that depends on the formation's state (exit 1).
    public static func refused(_ message: String) -> ControlReply { .error(ControlFailure(message)) }
}

/// A reply: `ok` and body lines, or `error KIND MESSAGE`.
public enum ControlReply: Equatable, Sendable {
    case ok([String])
    case error(ControlFailure)

    public var encoded: String {
        switch self {
        case .ok(let lines): return (["ok"] + lines).map { $0 + "\n" }.joined()
        case .error(let failure): return "error \(failure.kind.rawValue) \(failure.message)\n"
        }
    }

    public static func parse(_ text: String) -> ControlReply? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first else { return nil }
        if first == "ok" { return .ok(Array(lines.dropFirst())) }
        guard first.hasPrefix("error ") else { return nil }
        let rest = first.dropFirst(6).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard let kind = ControlErrorKind(rawValue: String(rest[0])) else { return nil }
        return .error(ControlFailure(rest.count > 1 ? String(rest[1]) : "", kind: kind))
    }
}

/// One `ps` row on the wire: `name pid state uptime-ms restarts port
/// requested-restarts exit-code processes ready-us change-restarts health
/// ready exit-signal command` (`-` for no pid, exit code, time to ready or
/// signal; the state as one word, `InstanceState.encoded`; health as
/// `InstanceHealth.encoded`, `off` without a health check; ready `1`, `0`, or
/// `-` without a ready check; the command last, `WireText.encode`d; an older
/// peer's row ends before the last fields).
extension InstanceStatus {
    public var encoded: String {
        "\(name) \(pid.map(String.init) ?? "-") \(state.encoded) \(uptime / 1_000_000) \(restarts) \(port) "
            + "\(requestedRestarts) \(exitCode.map(String.init) ?? "-") \(processes) \(readyAfter.map { String($0 / 1000) } ?? "-") \(changeRestarts) \(health?.encoded ?? "off") "
            + "\(ready.map { $0 ? "1" : "0" } ?? "-") \(exitSignal.map { String($0.rawValue) } ?? "-") \(WireText.encode(command))"
    }

    public init?(encoded: String) {
        let f = encoded.split(separator: " ").map(String.init)
        guard (9...12).contains(f.count) || f.count == 15, let state = InstanceState(encoded: f[2]), let ms = Int64(f[3]),
              let restarts = Int(f[4]), let port = Int(f[5]), let requested = Int(f[6]), let processes = Int(f[8]) else { return nil }
        self.init(name: f[0], pid: Int32(f[1]), state: state, uptime: ms * 1_000_000,
                  restarts: restarts, port: port, requestedRestarts: requested, exitCode: Int32(f[7]), processes: processes)
        if f.count >= 10 { readyAfter = Int64(f[9]).map { $0 * 1000 } }
        if f.count >= 11 { guard let changed = Int(f[10]) else { return nil }; changeRestarts = changed }
        if f.count >= 12 && f[11] != "off" {
            guard let health = InstanceHealth(encoded: f[11]) else { return nil }
            self.health = health
        }
        if f.count == 15 {
            switch f[12] {
            case "1": ready = true
            case "0": ready = false
            case "-": ready = nil
            default: return nil
            }
            if f[13] != "-" {
                guard let number = Int32(f[13]) else { return nil }
                exitSignal = Signal(number)
            }
            guard let command = WireText.decode(f[14]) else { return nil }
            self.command = command
        }
    }
}

/// Free text as one space-free wire word: `%`, space and control bytes
/// percent-encoded (`%25`, `%20`, `%0A`), `-` for the empty text (and `%2D`
/// for a lone `-`).
public enum WireText {
    public static func encode(_ text: String) -> String {
        if text.isEmpty { return "-" }
        if text == "-" { return "%2D" }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: " ") || byte < 0x20 || byte == 0x7F {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ word: String) -> String? {
        if word == "-" { return "" }
        var bytes: [UInt8] = []
        var utf8 = word.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Where a project's control socket lives: a private directory (0700) under
/// $XDG_RUNTIME_DIR or /tmp, and a name derived from the root directory that
/// keeps the whole path under the 108-byte `sun_path` limit however deep the
/// project is.
public enum ControlSocketPath {
    public static let limit = 107

    public static func directory(uid: UInt32, environment: [String: String]) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/"), runtime.utf8.count <= 60 {
            return runtime + "/swiftman"
        }
        return "/tmp/swiftman-\(uid)"
    }

    /// `DIR/<root's basename, at most 24 bytes>-<16 hex digits of a hash of the root>.sock`.
    public static func derive(root: String, uid: UInt32, environment: [String: String]) -> String {
        let dir = directory(uid: uid, environment: environment)
        let base = root.split(separator: "/").last.map(String.init) ?? "root"
        let safe = String(base.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }.prefix(24))
        let hash = String(fnv1a(root), radix: 16)
        let name = (safe.isEmpty ? "" : safe + "-") + String(repeating: "0", count: 16 - hash.count) + hash + ".sock"
        let path = dir + "/" + name
        return path.utf8.count <= limit ? path : "/tmp/swiftman-\(uid)/" + hash + ".sock"
    }

    /// FNV-1a, 64 bit: stable across runs (Swift's Hasher is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100000001b3
        }
        return hash
    }
}
