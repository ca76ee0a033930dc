/// `0.5s`, `2s`, `1m`: a short human form of a nanosecond duration.
public func formatSeconds(_ ns: Int64) -> String {
    let ms = ns / 1_000_000
    if ms % 60_000 == 0 && ms >= 60_000 { return "\(ms / 60_000)m" }
    if ms % 1000 == 0 { return "\(ms / 1000)s" }
    var fraction = String(ms % 1000)
    fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(ms / 1000).\(fraction)s"
}
