/// Durations as swiftman prints them, from nanoseconds: the one formatter of
/// the system lines, `ps`, the disposability report and their JSON.
public enum Durations {
    /// `0.5s`, `2s`, `1.25s`, `1m`: a duration someone set (a grace time, a
    /// delay, a window), exact to the millisecond.
    public static func setting(_ ns: Int64) -> String {
        let ms = ns / 1_000_000
        if ms % 60_000 == 0 && ms >= 60_000 { return "\(ms / 60_000)m" }
        return seconds(ms: ms)
    }

    /// `<1ms`, `12ms`, `1.25s`, `12s`, `2m3s`: a duration measured, to the
    /// millisecond below 10 s.
    public static func measured(_ ns: Int64) -> String {
        let ms = ns / 1_000_000
        if ms < 1 { return "<1ms" }
        if ms < 1000 { return "\(ms)ms" }
        if ms < 10_000 { return seconds(ms: ms) }
        let s = ms / 1000
        return s < 60 ? "\(s)s" : minutes(s)
    }

    /// `5s`, `2m3s`, `1h2m`: how long an instance has been up, to the second.
    public static func uptime(_ ns: Int64) -> String {
        let s = ns / 1_000_000_000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return minutes(s) }
        return "\(s / 3600)h\(s % 3600 / 60)m"
    }

    /// `12.345`: milliseconds with three decimals, a JSON number.
    public static func milliseconds(_ ns: Int64) -> String {
        let us = ns / 1000
        let fraction = String(us % 1000)
        return "\(us / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// `1.25s`, `2s`: seconds with the milliseconds that are not zero.
    private static func seconds(ms: Int64) -> String {
        var fraction = String(ms % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(ms / 1000)s" : "\(ms / 1000).\(fraction)s"
    }

    /// A duration someone typed, in nanoseconds: plain seconds (`0.5`, `5`)
    /// or a number with a unit (`500ms`, `2s`, `1.5m`, `1h`); nil for
    /// anything else, negative, or over a year. Every duration option reads
    /// its value here.
    public static func parse(_ text: String) -> Int64? {
        // Bytes, not Characters: no Unicode comparison or float parsing code
        // runs for `-t 10` (each would map more of the binary at start-up).
        var digits = Array(text.utf8)
        var scale: Int64 = 1_000_000_000
        for (suffix, ns) in [(Array("ms".utf8), Int64(1_000_000)), (Array("s".utf8), 1_000_000_000),
                             (Array("m".utf8), 60_000_000_000), (Array("h".utf8), 3_600_000_000_000)]
        where digits.count >= suffix.count && Array(digits.suffix(suffix.count)) == suffix {
            digits.removeLast(suffix.count)
            scale = ns
            break
        }
        // Digits and at most one dot: no sign, exponent, inf or nan.
        var whole: Int64 = 0, fraction: Int64 = 0, fractionScale: Int64 = 1
        var dot = false, any = false
        for byte in digits {
            if byte == UInt8(ascii: ".") {
                guard !dot else { return nil }
                dot = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                any = true
                if dot {
                    // Digits past nanoseconds change nothing.
                    if fractionScale < 1_000_000_000_000 { fraction = fraction * 10 + Int64(byte - 48); fractionScale *= 10 }
                } else {
                    whole = whole * 10 + Int64(byte - 48)
                    guard whole <= 86_400 * 365 * 1000 else { return nil }
                }
            } else {
                return nil
            }
        }
        guard any else { return nil }
        let (ns, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        let total = ns + Int64(Double(fraction) / Double(fractionScale) * Double(scale))
        guard total <= 86_400_000_000_000 * 365 else { return nil }
        return total
    }

    /// `2m3s`.
    private static func minutes(_ s: Int64) -> String { "\(s / 60)m\(s % 60)s" }
}
