
/// Turns the byte streams of many children into whole, prefixed lines in one
/// OutputQueue. A line is emitted only once it is complete, so two children's
/// bytes never share an output line; a partial line waits in its stream until
/// a newline, the quiet-period flush, or EOF. Lines longer than `lineLimit` are
/// emitted in pieces of at most `lineLimit` bytes, split between characters. In text format bytes are never
/// altered; in JSON format each line becomes one object with its message escaped.
public final class LineFramer {
    public let queue: OutputQueue
    public private(set) var style: OutputStyle
    public let lineLimit: Int
    /// A partial line is flushed after this long without new bytes...
    public let quietPeriod: Int64
    /// ...or at the latest this long after it began.
    public let maxPartialAge: Int64
    public var clock = WallClock()
    /// Finds the newlines (memchr's contract).
    private let find: ByteFinder
    /// Keeps every line relayed, and the system lines (`swiftman logs`).
    /// Set before the first label is added.
    public var history: OutputHistory?
    /// Gets each instance's lines too (`--log-dir`). Set before the first
    /// label is added.
    public var sink: LineSink?

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
                quietPeriod: Int64 = 250_000_000, maxPartialAge: Int64 = 1_000_000_000,
                newlineFinder: ByteFinder? = nil) {
        self.queue = queue
        find = newlineFinder ?? Bytes.findNewline
        self.style = style
        self.lineLimit = lineLimit
        self.quietPeriod = quietPeriod
        self.maxPartialAge = maxPartialAge
        systemLabel = Label(name: "system", color: OutputStyle.systemColor, stream: "stdout")
        systemLabel.render(style: style, width: width)
    }

    /// Registers an output source and returns its label id. Names wider than
    /// the current padding widen every prefix, so columns stay aligned.
    public func addLabel(name: String, typeIndex: Int, stream: String = "stdout") -> Int {
        let label = Label(name: name, color: OutputStyle.colorCode(typeIndex: typeIndex), stream: stream)
        if let history { label.historyID = history.addLabel(name: name, typeIndex: typeIndex, stream: stream) }
        if let sink { label.sinkID = sink.addLabel(name: name) }
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

    /// Starts framing stream `id` (a pipe fd) under label `label`. The streams
    /// of a `--quiet` type are not framed at all: `ingest` drops their bytes.
    public func open(stream id: Int, label: Int) {
        let label = labels[label]
        if !style.quiet.isEmpty, let dot = label.name.lastIndex(of: "."), style.quiet.contains(String(label.name[..<dot])) {
            return
        }
        streams[id] = Stream(label: label)
    }

    /// The offset of the first newline in `count` bytes at `base`, or nil.
    @inline(__always)
    private func newline(in base: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        guard let at = find(base, 10, count) else { return nil }
        return UnsafeRawPointer(at) - UnsafeRawPointer(base)
    }

    /// Frames the bytes just read from stream `id`.
    public func ingest(stream id: Int, _ base: UnsafePointer<UInt8>, _ count: Int, now: Int64) {
        guard let stream = streams[id] else { return }
        let label = stream.label
        label.stamp(clock)
        var p = 0
        if !stream.pending.isEmpty {
            // The first newline completes the waiting partial line.
            guard let nl = newline(in: base, count) else {
                keepPartial(stream, id: id, base, count, now: now)
                return
            }
            p = nl + 1
            stream.pending.append(contentsOf: UnsafeBufferPointer(start: base, count: p))
            emitPending(stream, complete: true)
        }
        if style.format == .json {
            while p < count, let nl = newline(in: base + p, count - p) {
                let end = p + nl + 1
                if end - p > lineLimit + 1 {
                    stream.pending.append(contentsOf: UnsafeBufferPointer(start: base + p, count: end - p))
                    emitPending(stream, complete: true)
                } else {
                    emit(label, base + p, end - p)
                }
                p = end
            }
        } else {
            framePlainLines(stream, base, count, from: &p)
        }
        if p < count { keepPartial(stream, id: id, base + p, count - p, now: now) }
    }

    /// The text-format hot path: per line one newline scan and two copies into the
    /// queue's free window; no allocation, reference counting or bounds checks.
    private func framePlainLines(_ stream: Stream, _ base: UnsafePointer<UInt8>, _ count: Int, from p: inout Int) {
        stream.label.bytes.withUnsafeBufferPointer { prefix in
            let prefixStart = prefix.baseAddress!
            let prefixLength = prefix.count
            // A prefix of up to 32 bytes (the usual, colours and time
            // included) is stored with two 16-byte writes instead of a copy
            // call: the window keeps 32 bytes of slack for them.
            var head = SIMD16<UInt8>(), tail = SIMD16<UInt8>()
            let short = prefixLength <= 32
            if short {
                withUnsafeMutableBytes(of: &head) { h in
                    withUnsafeMutableBytes(of: &tail) { t in
                        for i in 0..<prefixLength {
                            if i < 16 { h[i] = prefixStart[i] } else { t[i - 16] = prefixStart[i] }
                        }
                    }
                }
            }
            let slack = short ? 32 : prefixLength
            var window = queue.window(atLeast: 0)
            var used = 0
            let find = self.find
            let longest = lineLimit &+ 1
            var at = p
            // The lines framed so far that the history has not had yet: given
            // to it as one run per read, not line by line.
            let historyID = stream.label.historyID
            let sinkID = stream.label.sinkID
            var unkept = at
            while at < count {
                guard let nl = find(base + at, 10, count &- at) else { break }
                let end = (UnsafePointer<UInt8>(nl.assumingMemoryBound(to: UInt8.self)) - base) &+ 1
                let length = end &- at
                if length > longest {
                    if unkept < at {
                        history?.appendLines(label: historyID, base + unkept, at &- unkept, time: clock.millisecond)
                        sink?.write(label: sinkID, base + unkept, at &- unkept)
                    }
                    unkept = end
                    queue.commit(used)
                    stream.pending.append(contentsOf: UnsafeBufferPointer(start: base + at, count: length))
                    emitPending(stream, complete: true)
                    window = queue.window(atLeast: 0)
                    used = 0
                } else {
                    if used &+ slack &+ length > window.count {
                        queue.commit(used)
                        window = queue.window(atLeast: max(slack &+ length, 1 << 16))
                        used = 0
                    }
                    let dst = UnsafeMutableRawPointer(window.baseAddress! + used)
                    if short {
                        dst.storeBytes(of: head, as: SIMD16<UInt8>.self)
                        dst.storeBytes(of: tail, toByteOffset: 16, as: SIMD16<UInt8>.self)
                    } else {
                        dst.copyMemory(from: prefixStart, byteCount: prefixLength)
                    }
                    (dst + prefixLength).copyMemory(from: base + at, byteCount: length)
                    used = used &+ prefixLength &+ length
                }
                at = end
            }
            if unkept < at {
                history?.appendLines(label: historyID, base + unkept, at &- unkept, time: clock.millisecond)
                sink?.write(label: sinkID, base + unkept, at &- unkept)
            }
            p = at
            queue.commit(used)
        }
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
                    // Split before a UTF-8 continuation byte, never inside a character.
                    var piece = lineLimit
                    while piece > max(1, lineLimit - 3) && buf[start + piece] & 0xC0 == 0x80 { piece -= 1 }
                    if buf[start + piece] & 0xC0 == 0x80 { piece = lineLimit }
                    emit(label, buf.baseAddress! + start, piece)
                    start += piece
                } else {
                    if complete {
                        emit(label, buf.baseAddress! + start, remaining)
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
        emit(stream.label, stream.pending, stream.pending.count)
        stream.pending.removeAll(keepingCapacity: true)
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

    /// One of swiftman's own events: a `system` line in text; in JSON an
    /// object whose `process` is the instance it concerns (else `system`),
    /// with stream `system` and the event's own fields.
    public func event(_ event: LifecycleEvent) {
        switch style.format {
        case .text:
            systemLabel.stamp(clock)
            // A multi-line event (the report) gets the prefix on every line.
            for line in event.text.split(separator: "\n", omittingEmptySubsequences: false) {
                history?.appendSystem(String(line), time: clock.millisecond)
                var message = String(line)
                message.withUTF8 { emit(systemLabel, $0.baseAddress!, $0.count) }
            }
        case .json:
            var line = "{\"time\":\"" + String(decoding: clock.rfc3339, as: UTF8.self)
                + "\",\"process\":\"" + JSON.escape(event.instance ?? "system")
                + "\",\"stream\":\"system\",\"message\":\"" + JSON.escape(event.text) + "\""
            for field in event.fields { line += ",\"" + field.key + "\":" + field.value.rendered }
            queue.append(line + "}\n")
            if let history {
                for text in event.text.split(separator: "\n", omittingEmptySubsequences: false) {
                    history.appendSystem(String(text), time: clock.millisecond)
                }
            }
        }
    }

    /// Emits one output line: `length` bytes at `bytes`, which may or may not
    /// end in a newline (a split piece, a flushed partial).
    private func emit(_ label: Label, _ bytes: UnsafePointer<UInt8>, _ length: Int) {
        let hasNewline = length > 0 && bytes[length - 1] == 10
        if label !== systemLabel {
            history?.append(label: label.historyID, bytes, length, time: clock.millisecond)
            sink?.write(label: label.sinkID, bytes, length)
        }
        queue.append(label.bytes)
        switch style.format {
        case .text:
            queue.append(bytes, length)
            if !hasNewline { queue.append(byte: 10) }
        case .json:
            JSON.escape(bytes, hasNewline ? length - 1 : length, into: queue)
            queue.append("\"}\n")
        }
    }
}
