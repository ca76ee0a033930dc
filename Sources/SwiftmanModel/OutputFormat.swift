
/// How output lines look.
public struct OutputStyle: Equatable, Sendable {
    public enum Format: String, Equatable, Sendable, CaseIterable { case text, json }
    public var color: Bool
    public var timestamps: Bool
    public var format: Format
    /// The `HH:MM:SS name | ` prefix in text format (`--no-prefix` turns it off).
    public var prefix = true
    /// Types whose output is dropped (`--quiet redis`): their streams get no
    /// label, so nothing is framed for them; `system` lines still mention them.
    public var quiet: Set<String> = []

    public init(color: Bool, timestamps: Bool, format: Format = .text) {
        self.color = color
        self.timestamps = timestamps
        self.format = format
    }

    /// foreman's palette order, by the type's position in the Procfile.
    static let palette = ["36", "33", "32", "35", "31", "34", "1;36", "1;33", "1;32", "1;35", "1;31", "1;34"]
    static let systemColor = "1;37"

    public static func colorCode(typeIndex: Int) -> String { palette[typeIndex % palette.count] }
}

/// The prefix of one output source (`web.1`'s stdout, `system`), rendered once
/// into a buffer whose time field is patched in place when the clock moves:
/// text `ESC[36m12:00:00 web.1  | ESC[0m`, or JSON up to the message's opening quote.
final class Label {
    let name: String
    let color: String
    let stream: String
    /// Its id in the framer's `history` (`OutputHistory.system` for system).
    var historyID = OutputHistory.system
    /// Its id in the framer's `sink` (-1: none).
    var sinkID = -1
    private(set) var bytes: [UInt8] = []
    private var time: (offset: Int, json: Bool)?
    private var stampedTick = Int.min

    init(name: String, color: String, stream: String) {
        self.name = name
        self.color = color
        self.stream = stream
    }

    func render(style: OutputStyle, width: Int) {
        var text = ""
        switch style.format {
        case .json:
            text = "{\"time\":\""
            time = (text.utf8.count, true)
            text += String(repeating: "0", count: WallClock.rfc3339Length)
            text += "\",\"process\":\"" + JSON.escape(name) + "\",\"stream\":\"" + stream + "\",\"message\":\""
        case .text:
            guard style.prefix else {
                time = nil
                break
            }
            if style.color { text += "\u{1B}[\(color)m" }
            time = style.timestamps ? (text.utf8.count, false) : nil
            if style.timestamps { text += "00:00:00 " }
            text += name
            text += String(repeating: " ", count: max(0, width - name.utf8.count))
            text += " | "
            if style.color { text += "\u{1B}[0m" }
        }
        bytes = Array(text.utf8)
        stampedTick = Int.min
    }

    @inline(__always)
    func stamp(_ clock: WallClock) {
        guard let time else { return }
        let tick = time.json ? clock.millisecond : clock.second
        guard stampedTick != tick else { return }
        stampedTick = tick
        let source = time.json ? clock.rfc3339 : clock.hms
        for i in source.indices { bytes[time.offset + i] = source[i] }
    }
}

/// The current time as `HH:MM:SS` (local) and RFC 3339 UTC with milliseconds,
/// recomputed only when the second (or millisecond) changes.
public struct WallClock {
    static let rfc3339Length = 24
    public private(set) var second = Int.min
    public private(set) var millisecond = Int.min
    public private(set) var hms: [UInt8] = Array("00:00:00".utf8)
    public private(set) var rfc3339: [UInt8] = Array("1970-01-01T00:00:00.000Z".utf8)

    public init() {}

    /// Moves the clock to `ms` (milliseconds since the epoch). `localOffset`
    /// gives the local time zone's offset from UTC, in seconds, at a second
    /// (the runtime asks the platform); it is asked only when the second changes.
    public mutating func update(toMillisecond ms: Int, localOffset: (_ second: Int) -> Int = { _ in 0 }) {
        guard ms != millisecond else { return }
        millisecond = ms
        let sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        if sec != second {
            second = sec
            let local = WallClock.civil(sec + localOffset(sec))
            put(&hms, 0, local.hour, 2)
            put(&hms, 3, local.minute, 2)
            put(&hms, 6, local.second, 2)
            let utc = WallClock.civil(sec)
            put(&rfc3339, 0, utc.year, 4)
            put(&rfc3339, 5, utc.month, 2)
            put(&rfc3339, 8, utc.day, 2)
            put(&rfc3339, 11, utc.hour, 2)
            put(&rfc3339, 14, utc.minute, 2)
            put(&rfc3339, 17, utc.second, 2)
        }
        put(&rfc3339, 20, ((ms % 1000) + 1000) % 1000, 3)
    }

    /// The calendar date and time of `seconds` since the epoch (proleptic
    /// Gregorian, as gmtime: Howard Hinnant's days-to-civil).
    static func civil(_ seconds: Int) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    private func put(_ buffer: inout [UInt8], _ offset: Int, _ value: Int, _ digits: Int) {
        var v = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            buffer[offset + i] = UInt8(48 + v % 10)
            v /= 10
        }
    }
}

/// JSON string escaping that is correct for any bytes: quotes, backslashes and
/// control characters escaped, valid UTF-8 copied, invalid bytes replaced by U+FFFD.
public enum JSON {
    public static func escape(_ text: String) -> String {
        let queue = OutputQueue()
        var text = text
        text.withUTF8 { escape($0.baseAddress!, $0.count, into: queue) }
        return String(decoding: queue.contents, as: UTF8.self)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends the escaped form of `count` bytes at `p` to `queue`.
    static func escape(_ p: UnsafePointer<UInt8>, _ count: Int, into queue: OutputQueue) {
        var i = 0
        var run = 0
        while i < count {
            let b = p[i]
            if b >= 0x20 && b < 0x80 && b != 0x22 && b != 0x5C {
                i += 1
                continue
            }
            if b >= 0x80 {
                let length = validSequenceLength(p + i, count - i)
                if length > 0 {
                    i += length
                    continue
                }
            }
            queue.append(p + run, i - run)
            switch b {
            case 0x22: queue.append("\\\"")
            case 0x5C: queue.append("\\\\")
            case 0x0A: queue.append("\\n")
            case 0x0D: queue.append("\\r")
            case 0x09: queue.append("\\t")
            case 0x08: queue.append("\\b")
            case 0x0C: queue.append("\\f")
            case ..<0x20: queue.append([0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: queue.append("\u{FFFD}")
            }
            i += 1
            run = i
        }
        queue.append(p + run, count - run)
    }

    /// Length of the well-formed UTF-8 sequence at `p` (Unicode table 3-7), or 0.
    static func validSequenceLength(_ p: UnsafePointer<UInt8>, _ available: Int) -> Int {
        let b0 = p[0]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard available >= length, p[1] >= low, p[1] <= high else { return 0 }
        for k in 2..<length where p[k] & 0xC0 != 0x80 { return 0 }
        return length
    }
}
