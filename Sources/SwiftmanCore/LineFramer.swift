#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How output lines look.
public struct OutputStyle: Equatable, Sendable {
    public var color: Bool
    public var timestamps: Bool
    public init(color: Bool, timestamps: Bool) {
        self.color = color
        self.timestamps = timestamps
    }

    /// foreman's palette order, by the type's position in the Procfile.
    static let palette = ["36", "33", "32", "35", "31", "34", "1;36", "1;33", "1;32", "1;35", "1;31", "1;34"]
    static let systemColor = "1;37"

    public static func colorCode(typeIndex: Int) -> String { palette[typeIndex % palette.count] }
}

/// The prefix of one output name (`web.1`, `system`): colour, time, padded
/// name and separator, rendered once into a buffer whose time field is patched
/// in place when the second changes.
final class Label {
    let name: String
    let color: String
    private(set) var bytes: [UInt8] = []
    private var timeOffset: Int?
    var stampedSecond = Int.min

    init(name: String, color: String) {
        self.name = name
        self.color = color
    }

    func render(style: OutputStyle, width: Int) {
        var text = ""
        if style.color { text += "\u{1B}[\(color)m" }
        timeOffset = style.timestamps ? text.utf8.count : nil
        if style.timestamps { text += "00:00:00 " }
        text += name
        text += String(repeating: " ", count: max(0, width - name.utf8.count))
        text += " | "
        if style.color { text += "\u{1B}[0m" }
        bytes = Array(text.utf8)
        stampedSecond = Int.min
    }

    @inline(__always)
    func stamp(_ clock: WallClock) {
        guard stampedSecond != clock.second, let offset = timeOffset else { return }
        stampedSecond = clock.second
        for i in 0..<8 { bytes[offset + i] = clock.hms[i] }
    }
}

/// `HH:MM:SS` of the local time, recomputed only when the second changes.
public struct WallClock {
    public private(set) var second = Int.min
    public private(set) var hms: [UInt8] = Array("00:00:00".utf8)

    public init() {}

    public mutating func update(to epochSecond: Int) {
        guard epochSecond != second else { return }
        second = epochSecond
        var t = time_t(epochSecond)
        var parts = tm()
        localtime_r(&t, &parts)
        let fields = [parts.tm_hour, parts.tm_min, parts.tm_sec]
        for (i, value) in fields.enumerated() {
            hms[i * 3] = UInt8(48 + value / 10)
            hms[i * 3 + 1] = UInt8(48 + value % 10)
        }
    }
}

/// Turns the byte streams of many children into whole, prefixed lines in one
/// OutputQueue. A line is emitted only once it is complete, so two children's
/// bytes never share an output line; a partial line waits in its stream until
/// a newline, the quiet-period flush, or EOF. Lines longer than `lineLimit` are
/// emitted in pieces of `lineLimit` bytes. Bytes are never altered.
public final class LineFramer {
    public let queue: OutputQueue
    public private(set) var style: OutputStyle
    public let lineLimit: Int
    /// A partial line is flushed after this long without new bytes...
    public let quietPeriod: Int64
    /// ...or at the latest this long after it began.
    public let maxPartialAge: Int64
    public var clock = WallClock()

    private var labels: [Label] = []
    private let systemLabel: Label
    private var width = 6
    private var streams: [Int: Stream] = [:]
    private var partials: Set<Int> = []

    private final class Stream {
        let label: Label
        var pending: [UInt8] = []
        var pendingSince: Int64 = 0
        var lastData: Int64 = 0
        init(label: Label) { self.label = label }
    }

    public init(queue: OutputQueue, style: OutputStyle, lineLimit: Int = 16384,
                quietPeriod: Int64 = 250_000_000, maxPartialAge: Int64 = 1_000_000_000) {
        self.queue = queue
        self.style = style
        self.lineLimit = lineLimit
        self.quietPeriod = quietPeriod
        self.maxPartialAge = maxPartialAge
        systemLabel = Label(name: "system", color: OutputStyle.systemColor)
        systemLabel.render(style: style, width: width)
    }

    /// Registers an output name and returns its label id. Names wider than the
    /// current padding widen every prefix, so columns stay aligned.
    public func addLabel(name: String, typeIndex: Int) -> Int {
        let label = Label(name: name, color: OutputStyle.colorCode(typeIndex: typeIndex))
        labels.append(label)
        if name.utf8.count > width {
            width = name.utf8.count
            for l in labels { l.render(style: style, width: width) }
            systemLabel.render(style: style, width: width)
        } else {
            label.render(style: style, width: width)
        }
        return labels.count - 1
    }

    /// Reserves padding for names up to `width` characters.
    public func reserveWidth(_ width: Int) {
        guard width > self.width else { return }
        self.width = width
        for l in labels + [systemLabel] { l.render(style: style, width: width) }
    }

    /// Starts framing stream `id` (a pipe fd) under label `label`.
    public func open(stream id: Int, label: Int) {
        streams[id] = Stream(label: labels[label])
    }

    /// Frames the bytes just read from stream `id`.
    public func ingest(stream id: Int, _ base: UnsafePointer<UInt8>, _ count: Int, now: Int64) {
        guard let stream = streams[id] else { return }
        let label = stream.label
        label.stamp(clock)
        var p = 0
        if !stream.pending.isEmpty {
            // The first newline completes the waiting partial line.
            guard let nl = memchr(base, 10, count) else {
                keepPartial(stream, id: id, base, count, now: now)
                return
            }
            p = UnsafePointer<UInt8>(nl.assumingMemoryBound(to: UInt8.self)) - base + 1
            stream.pending.append(contentsOf: UnsafeBufferPointer(start: base, count: p))
            emitPending(stream, complete: true)
        }
        // Hot path: per line one memchr and two copies into the queue's free
        // window; no allocation, reference counting or bounds checks.
        label.bytes.withUnsafeBufferPointer { prefix in
            let prefixStart = prefix.baseAddress!
            let prefixLength = prefix.count
            var window = queue.window(atLeast: 0)
            var used = 0
            while p < count {
                guard let nl = memchr(base + p, 10, count - p) else { break }
                let end = UnsafePointer<UInt8>(nl.assumingMemoryBound(to: UInt8.self)) - base + 1
                let length = end - p
                if length > lineLimit + 1 {
                    queue.commit(used)
                    stream.pending.append(contentsOf: UnsafeBufferPointer(start: base + p, count: length))
                    emitPending(stream, complete: true)
                    window = queue.window(atLeast: 0)
                    used = 0
                } else {
                    if used + prefixLength + length > window.count {
                        queue.commit(used)
                        window = queue.window(atLeast: max(prefixLength + length, 1 << 16))
                        used = 0
                    }
                    let dst = window.baseAddress! + used
                    memcpy(dst, prefixStart, prefixLength)
                    memcpy(dst + prefixLength, base + p, length)
                    used += prefixLength + length
                }
                p = end
            }
            queue.commit(used)
        }
        if p < count { keepPartial(stream, id: id, base + p, count - p, now: now) }
    }

    /// Holds bytes after the last newline until the line completes.
    private func keepPartial(_ stream: Stream, id: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int, now: Int64) {
        if stream.pending.isEmpty { stream.pendingSince = now }
        stream.lastData = now
        stream.pending.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
        emitPending(stream, complete: false)
        if stream.pending.isEmpty { partials.remove(id) } else { partials.insert(id) }
    }

    /// Emits `pending` as lines of at most `lineLimit` bytes (not counting the
    /// newline). With `complete` the buffer ends in a newline and is emitted
    /// whole; otherwise only full `lineLimit` pieces go out and the rest waits.
    private func emitPending(_ stream: Stream, complete: Bool) {
        let label = stream.label
        var start = 0
        let total = stream.pending.count
        stream.pending.withUnsafeBufferPointer { buf in
            while start < total {
                let remaining = total - start
                let content = complete ? remaining - 1 : remaining
                if content > lineLimit {
                    queue.append(label.bytes)
                    queue.append(buf.baseAddress! + start, lineLimit)
                    queue.append(byte: 10)
                    start += lineLimit
                } else {
                    if complete {
                        queue.append(label.bytes)
                        queue.append(buf.baseAddress! + start, remaining)
                        start = total
                    }
                    break
                }
            }
        }
        if start == total {
            stream.pending.removeAll(keepingCapacity: stream.pending.capacity <= 2 * lineLimit)
        } else if start > 0 {
            stream.pending.removeFirst(start)
        }
    }

    /// Emits a stream's partial line now, ending it with a newline.
    public func flushPartial(stream id: Int) {
        partials.remove(id)
        guard let stream = streams[id], !stream.pending.isEmpty else { return }
        stream.label.stamp(clock)
        stream.pending.append(10)
        emitPending(stream, complete: true)
    }

    /// The stream hit EOF: its last line goes out even without a newline.
    public func close(stream id: Int) {
        flushPartial(stream: id)
        streams[id] = nil
    }

    /// When the earliest partial line is due (monotonic ns), if any.
    public var nextPartialDeadline: Int64? {
        partials.lazy.compactMap { self.streams[$0].map(self.deadline) }.min()
    }

    private func deadline(_ s: Stream) -> Int64 {
        min(s.lastData + quietPeriod, s.pendingSince + maxPartialAge)
    }

    /// Flushes every partial line that has been quiet long enough.
    public func flushDuePartials(now: Int64) {
        for id in partials {
            if let s = streams[id], deadline(s) <= now { flushPartial(stream: id) }
        }
    }

    /// One of swiftman's own events, under the name `system`.
    public func system(_ message: String) {
        systemLabel.stamp(clock)
        queue.append(systemLabel.bytes)
        queue.append(message)
        queue.append(byte: 10)
    }
}
