/// What every instance printed lately, and the `system` lines: whole lines
/// with their wall-clock time, in the order they were relayed, within a byte
/// budget per instance (the oldest lines go first). `swiftman logs` reads it;
/// the framer feeds it.
public final class OutputHistory {
    /// One line, without its newline.
    public struct Line: Equatable, Sendable {
        /// Relay order, across every instance.
        public let sequence: UInt64
        /// Milliseconds since the epoch.
        public let time: Int
        /// The framer's label id, or `OutputHistory.system`.
        public let label: Int
        public let bytes: [UInt8]
    }

    /// The label of the `system` lines.
    public static let system = -1
    /// What a line costs in the budget besides its bytes (its record).
    public static let lineOverhead = 48
    /// The default budget per instance: `--history`.
    public static let defaultBudget = 256 * 1024

    public struct Label: Equatable, Sendable {
        public let name: String
        public let typeIndex: Int
        public let stream: String
        let buffer: Int
    }

    private final class Buffer {
        var data: [UInt8] = []
        /// Offset of `data[0]` in the buffer's history of bytes.
        var base = 0
        var records: [(sequence: UInt64, time: Int, start: Int, length: Int, label: Int)] = []
        var head = 0
        var used = 0
    }

    /// Bytes kept per instance (and for the system lines); 0 keeps nothing.
    public let budget: Int
    public private(set) var labels: [Label] = []
    private var buffers: [Buffer] = [Buffer()]
    private var bufferByName: [String: Int] = [:]
    private var sequence: UInt64 = 0
    /// What is kept, as it is kept (`logs -f`): its label, its time and its
    /// bytes: a run of whole lines relayed together, each ending in a newline,
    /// or one line without its newline (a line cut by the length limit, a
    /// system line).
    public var onAppend: ((_ label: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ time: Int) -> Void)?

    public init(budget: Int = OutputHistory.defaultBudget) {
        self.budget = max(0, budget)
    }

    /// Registers a label of the framer (ids must match: call in the same
    /// order). The labels of one instance share its budget.
    @discardableResult
    public func addLabel(name: String, typeIndex: Int, stream: String) -> Int {
        let buffer: Int
        if let known = bufferByName[name] {
            buffer = known
        } else {
            buffer = buffers.count
            buffers.append(Buffer())
            bufferByName[name] = buffer
        }
        labels.append(Label(name: name, typeIndex: typeIndex, stream: stream, buffer: buffer))
        return labels.count - 1
    }

    /// Keeps a line (a trailing newline is dropped) printed at `time`.
    public func append(label: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int, time: Int) {
        guard budget > 0 else { return }
        var length = count
        if length > 0 && bytes[length - 1] == 10 { length -= 1 }
        // A line bigger than the whole budget keeps its beginning.
        length = min(length, max(0, budget - OutputHistory.lineOverhead))
        onAppend?(label, UnsafeBufferPointer(start: bytes, count: length), time)
        keep(label: label, bytes, length, time: time)
    }

    /// One record: a line, or a run of lines (newlines between them, the last
    /// one's dropped), evicting the oldest records past the budget.
    private func keep(label: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int, time: Int) {
        var length = count
        if length > 0 && bytes[length - 1] == 10 { length -= 1 }
        let buffer = buffers[label == OutputHistory.system ? 0 : labels[label].buffer]
        let cost = length + OutputHistory.lineOverhead
        while buffer.used + cost > budget && buffer.head < buffer.records.count {
            buffer.used -= buffer.records[buffer.head].length + OutputHistory.lineOverhead
            buffer.head += 1
        }
        compact(buffer)
        sequence += 1
        if buffer.data.capacity == 0 {
            // Live bytes, a budget of dead ones before compaction, and one
            // read's run: reserved at once (backed only as written), so the
            // relay never copies the buffer to grow it.
            buffer.data.reserveCapacity(min(2 * budget + (1 << 16), 1 << 23))
        }
        let start = buffer.base + buffer.data.count
        buffer.data.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
        buffer.records.append((sequence, time, start, length, label))
        buffer.used += cost
    }

    /// Keeps a run of whole lines (each ending in a newline) of one label,
    /// relayed together: one record for the run, so the relay pays one copy
    /// per read, not one bookkeeping step per line. `lines` splits it again.
    /// A run bigger than the whole budget keeps its newest lines.
    public func appendLines(label: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int, time: Int) {
        guard budget > 0, count > 0 else { return }
        // A follower gets the whole run, whatever the budget keeps.
        onAppend?(label, UnsafeBufferPointer(start: bytes, count: count), time)
        var start = 0
        let room = max(0, budget - OutputHistory.lineOverhead)
        if count > room {
            start = count - room
            while start < count && bytes[start - 1] != 10 { start += 1 }
            if start == count { return }
        }
        keep(label: label, bytes + start, count - start, time: time)
    }

    /// Keeps a system line (`system` in text logs).
    public func appendSystem(_ text: String, time: Int) {
        var text = text
        text.withUTF8 { append(label: OutputHistory.system, $0.baseAddress!, $0.count, time: time) }
    }

    /// Drops the evicted records and bytes once they are half of what is held.
    private func compact(_ buffer: Buffer) {
        if buffer.head > 64 && buffer.head * 2 > buffer.records.count {
            buffer.records.removeFirst(buffer.head)
            buffer.head = 0
        }
        let firstLive = buffer.head < buffer.records.count ? buffer.records[buffer.head].start : buffer.base + buffer.data.count
        let dead = firstLive - buffer.base
        // Only once the dead bytes are a whole budget: each live byte is moved
        // at most once per budget of new bytes.
        if dead > max(4096, budget) {
            buffer.data.removeFirst(dead)
            buffer.base = firstLive
        }
    }

    /// The name a line is about: its instance, or `system`.
    public func name(of label: Int) -> String {
        label == OutputHistory.system ? "system" : labels[label].name
    }

    /// Whether a line of `label` is wanted by `targets` (types or instances;
    /// none: everything, the system lines included).
    public func matches(label: Int, targets: [String]) -> Bool {
        if targets.isEmpty { return true }
        let name = self.name(of: label)
        return targets.contains { target in
            name == target || (name.hasPrefix(target + ".") && Int(name.dropFirst(target.count + 1)) != nil)
        }
    }

    /// The lines kept, in relay order: of `targets`, at or after `since`
    /// (ms since the epoch), the last `last` of them.
    public func lines(targets: [String] = [], since: Int? = nil, last: Int? = nil) -> [Line] {
        var wanted: [Int] = []
        if targets.isEmpty { wanted = Array(buffers.indices) } else {
            var set: Set<Int> = []
            for (id, label) in labels.enumerated() where matches(label: id, targets: targets) { set.insert(label.buffer) }
            if targets.contains("system") { set.insert(0) }
            wanted = set.sorted()
        }
        var all: [Line] = []
        for index in wanted {
            let buffer = buffers[index]
            for record in buffer.records[buffer.head...] where since.map({ record.time >= $0 }) ?? true {
                // A run of lines was kept as one record: one Line each.
                let start = record.start - buffer.base
                for line in buffer.data[start..<(start + record.length)].split(separator: 10, omittingEmptySubsequences: false) {
                    all.append(Line(sequence: record.sequence, time: record.time, label: record.label, bytes: Array(line)))
                }
            }
        }
        // Stable: the lines of one record keep their order.
        all = all.enumerated().sorted { ($0.element.sequence, $0.offset) < ($1.element.sequence, $1.offset) }.map(\.element)
        if let last, all.count > last { all.removeFirst(all.count - last) }
        return all
    }

    /// `--history SIZE`: bytes (`65536`), or with a unit (`64k`, `1m`,
    /// `1g`; `KiB` multiples); `0` turns the history off. Nil when invalid.
    public static func parseBudget(_ text: String) -> Int? {
        let lower = text.lowercased()
        let units: [(String, Int)] = [("k", 1 << 10), ("kb", 1 << 10), ("kib", 1 << 10), ("m", 1 << 20), ("mb", 1 << 20),
                                      ("mib", 1 << 20), ("g", 1 << 30), ("gb", 1 << 30), ("gib", 1 << 30)]
        var digits = Substring(lower)
        var scale = 1
        for (suffix, size) in units.sorted(by: { $0.0.count > $1.0.count }) where lower.hasSuffix(suffix) {
            digits = lower.dropLast(suffix.count)
            scale = size
            break
        }
        guard !digits.isEmpty, digits.count <= 12, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let n = Int(digits), n <= (1 << 40) / scale else { return nil }
        return n * scale
    }

    /// Bytes held now, all buffers together (the budget's check).
    public var bytesHeld: Int { buffers.reduce(0) { $0 + $1.data.count } }
}
