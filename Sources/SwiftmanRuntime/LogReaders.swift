import SwiftmanModel
import SwiftmanPlatform

/// `swiftman logs` connections: each gets `ok`, the history rendered as it
/// asked (through a LineFramer of its own, so prefixes, colours, timestamps
/// and JSON are the formation's), then with `-f` every new line, until the
/// formation ends. Never blocks the loop: a follower that does not keep up
/// loses its oldest unsent lines, never the relay's time.
final class LogReaders: EventSource {
    static let maxReaders = 16
    /// Live lines waiting for one follower before the oldest are dropped.
    static let followBuffer = 1 << 20

    private final class Reader {
        let fd: FileDescriptor
        let query: LogsQuery
        /// `swiftman events`: lifecycle events, not output lines.
        var events = false
        let queue = OutputQueue()
        let framer: LineFramer
        /// The history is queued whole however big; only live lines count
        /// against `followBuffer`.
        var dropped = 0
        var failed = false
        /// Whether it wants each label's lines (`query.targets`), worked out
        /// once per label.
        private var wants: [Int: Bool] = [:]

        func wants(label: Int, history: OutputHistory) -> Bool {
            if let known = wants[label] { return known }
            let wanted = history.matches(label: label, targets: query.targets)
            wants[label] = wanted
            return wanted
        }

        init(fd: FileDescriptor, query: LogsQuery, history: OutputHistory, width: Int) {
            self.fd = fd
            self.query = query
            var style = OutputStyle(color: query.color, timestamps: query.timestamp, format: query.json ? .json : .text)
            style.prefix = query.prefix
            framer = LineFramer(queue: queue, style: style)
            framer.reserveWidth(width)
            learn(history.labels)
        }

        /// Labels the framer has, in the history's order (ids match).
        private var known = 0

        /// Takes the history's labels it does not have yet: instances that
        /// `scale` added after this reader connected.
        func learn(_ labels: [OutputHistory.Label]) {
            while known < labels.count {
                let label = labels[known]
                let id = framer.addLabel(name: label.name, typeIndex: label.typeIndex, stream: label.stream)
                framer.open(stream: id, label: id)
                known += 1
            }
        }

        /// One lifecycle event, as the formation printed it.
        func render(_ event: LifecycleEvent, time: Int) {
            framer.clock.update(toMillisecond: time, localOffset: WallTime.localOffset(atSecond:))
            framer.event(event)
        }

        /// One history line, as the formation printed it.
        func render(_ line: OutputHistory.Line, history: OutputHistory) {
            line.bytes.withUnsafeBufferPointer { render(label: line.label, $0, time: line.time) }
        }

        /// A line, or a run of whole lines (each ending in a newline).
        func render(label: Int, _ bytes: UnsafeBufferPointer<UInt8>, time: Int) {
            framer.clock.update(toMillisecond: time, localOffset: WallTime.localOffset(atSecond:))
            if label == OutputHistory.system {
                framer.event(.notice(String(decoding: bytes, as: UTF8.self)))
            } else if let base = bytes.baseAddress, bytes.count > 0 {
                framer.ingest(stream: label, base, bytes.count, now: 0)
                framer.flushPartial(stream: label)
            } else {
                framer.ingest(stream: label, [10], 1, now: 0)
            }
        }
    }

    private var readers: [Reader] = [] {
        didSet {
            let following = readers.contains { $0.query.follow && !$0.events }
            if following != wasFollowing { onFollowing(following) }
            wasFollowing = following
        }
    }
    private var wasFollowing = false
    /// Whether any reader follows now: the history hands out new lines only then.
    var onFollowing: (Bool) -> Void = { _ in }
    private let history: OutputHistory
    private let width: () -> Int

    var count: Int { readers.count }

    init(history: OutputHistory, width: @escaping () -> Int) {
        self.history = history
        self.width = width
    }

    /// Takes over a `logs` connection: the history now, new lines with `follow`.
    func adopt(fd: FileDescriptor, query: LogsQuery) {
        let reader = Reader(fd: fd, query: query, history: history, width: width())
        reader.queue.append("ok\n")
        let since = query.since
        for line in history.lines(targets: query.targets, since: since, last: query.last) { reader.render(line, history: history) }
        readers.append(reader)
        write(reader)
        if !query.follow && reader.queue.isEmpty { remove(reader) }
    }

    /// Takes over an `events` connection: the events so far, new ones with `follow`.
    func adoptEvents(fd: FileDescriptor, follow: Bool, json: Bool, kept: EventHistory) {
        var query = LogsQuery()
        query.follow = follow
        query.json = json
        let reader = Reader(fd: fd, query: query, history: history, width: width())
        reader.events = true
        reader.queue.append("ok\n")
        for (time, event) in kept.all { reader.render(event, time: time) }
        readers.append(reader)
        write(reader)
        if !follow && reader.queue.isEmpty { remove(reader) }
    }

    /// A lifecycle event just reported: to every events follower.
    func reported(_ event: LifecycleEvent, time: Int) {
        for reader in readers where reader.events && reader.query.follow && reader.queue.count <= LogReaders.followBuffer {
            reader.render(event, time: time)
        }
    }

    /// Lines just kept in the history (one, or a run relayed together): to
    /// every follower that wants them.
    func relayed(label: Int, _ bytes: UnsafeBufferPointer<UInt8>, time: Int) {
        for reader in readers where !reader.events && reader.query.follow && reader.wants(label: label, history: history) {
            if reader.queue.count > LogReaders.followBuffer {
                // Too slow: what it has not taken yet goes, and it is told.
                reader.dropped += LogReaders.lineCount(bytes)
                continue
            }
            if reader.dropped > 0 {
                reader.framer.event(.notice("logs: \(reader.dropped) lines dropped (this reader did not keep up)"))
                reader.dropped = 0
            }
            if label >= 0 { reader.learn(history.labels) }
            reader.render(label: label, bytes, time: time)
        }
    }

    /// The lines in `bytes`: its newlines, and one more for a last line
    /// without one.
    static func lineCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard var at = bytes.baseAddress, !bytes.isEmpty else { return 1 }
        let end = at + bytes.count
        var lines = 0
        while at < end, let newline = ByteSearch.memchr(at, 10, end - at) {
            lines += 1
            at = UnsafePointer(newline.assumingMemoryBound(to: UInt8.self)) + 1
        }
        return at < end ? lines + 1 : lines
    }

    /// The formation has stopped: what can be sent without waiting is, then
    /// every connection closes.
    func endAll() {
        for reader in readers { write(reader) }
        for reader in readers { reader.fd.close() }
        readers = []
    }

    private func write(_ reader: Reader) {
        guard !reader.failed else { return }
        switch OutputSink.write(reader.queue, to: reader.fd, socket: true) {
        case .drained, .blocked: break
        case .closed, .failed: reader.failed = true
        }
    }

    private func remove(_ reader: Reader) {
        reader.fd.close()
        readers.removeAll { $0 === reader }
    }

    func register(in set: inout PollSet, now: Int64) {
        for reader in readers {
            if !reader.failed && !reader.queue.isEmpty { write(reader) }
            if reader.failed || (!reader.query.follow && reader.queue.isEmpty) {
                remove(reader)
                continue
            }
            set.watch(reader.fd, events: reader.queue.isEmpty ? .readable : [.readable, .writable])
        }
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        guard let reader = readers.first(where: { $0.fd == fd }) else { return }
        if events.contains(.writable) { write(reader) }
        if !events.isDisjoint(with: [.readable, .error, .hangUp]) {
            // A logs client sends nothing after its request: EOF or an error means it left.
            var scratch = [UInt8](repeating: 0, count: 256)
            let received = scratch.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.receive(into: raw, nonBlocking: true) } }
            switch received {
            case .success(let n) where n > 0: break
            case .failure(.wouldBlock): break
            default: reader.failed = true
            }
        }
    }
}
