// The LineFramer property: whatever is fed, flushed and closed in whatever
// order, each stream's output lines rebuild its input byte for byte, no line
// is longer than the limit, pieces split between characters, and every
// partial line has a deadline. (Shared with scripts/fuzz: see FuzzSupport.swift.)

#if !SWIFTMAN_FUZZ_HARNESS
@testable import SwiftmanModel
#endif

enum FuzzFramer {
    enum Op: Equatable {
        case ingest(Int, [UInt8], advance: Int64)
        case flush(Int)
        case close(Int)
        case flushDue(advance: Int64)
        /// Waits for each partial-line deadline in turn.
        case waitAll
    }

    /// A framer's settings and what is done to its two streams.
    struct Script {
        var limit: Int
        var json: Bool
        var ops: [Op]
    }

    static let names = ["web.1", "worker.1"]

    private static func show<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 { FuzzBytes.show(bytes) }

    // MARK: Scripts

    /// Reads a script from fuzzer bytes: a limit byte (4…64), a format byte,
    /// then ops. An op byte's top bit picks the stream, bits 4-6 advance the
    /// clock, the low nibble the operation; an ingest takes its chunk's length
    /// from the next byte (up to 4 × the limit, or under 8) and the chunk itself
    /// from the bytes after it.
    static func script(fromFuzzerBytes body: [UInt8]) -> Script {
        var r = FuzzReader(body)
        let limit = 4 + Int(r.byte()) % 61
        let json = r.byte() & 1 == 1
        var ops: [Op] = []
        var pending: Int64 = 0  // the clock advance of ops that do not take one
        while !r.isAtEnd {
            let op = r.byte()
            let s = Int(op >> 7)
            pending += Int64(op & 0x70)
            switch op & 0x0F {
            case 0..<10:
                let n = op & 1 == 0 ? Int(r.byte()) % (4 * limit + 1) : Int(r.byte()) % 8
                ops.append(.ingest(s, r.take(n), advance: pending))
                pending = 0
            case 10, 11: ops.append(.flush(s))
            case 12: ops.append(.close(s))
            case 13:
                ops.append(.flushDue(advance: pending))
                pending = 0
            default: ops.append(.waitAll)
            }
        }
        return Script(limit: limit, json: json, ops: ops)
    }

    /// A generated script: chunks rich in newlines, multi-byte characters,
    /// invalid bytes and runs longer than the limit.
    static func script(_ c: inout some FuzzChoices, json: Bool) -> Script {
        let limit = [4, 5, 7, 8, 16, 64][c.below(6)]
        let ops = (0..<(1 + c.below(16))).map { _ -> Op in
            switch c.below(12) {
            case 0: .flush(c.below(2))
            case 1: .close(c.below(2))
            case 2: .flushDue(advance: Int64(c.below(1200)))
            case 3: .waitAll
            default: .ingest(c.below(2), chunk(&c, limit: limit), advance: Int64(c.below(120)))
            }
        }
        return Script(limit: limit, json: json, ops: ops)
    }

    static func chunk(_ c: inout some FuzzChoices, limit: Int) -> [UInt8] {
        let parts: [[UInt8]] = [FuzzBytes.of("a"), FuzzBytes.of("hello"), FuzzBytes.of(" "), [10], [10], [13, 10], FuzzBytes.of("é"),
                                FuzzBytes.of("€"), FuzzBytes.of("😀"), [0xFF], [0x80], [0xE2, 0x82], [0], [0x22], [0x5C], [0x1B]]
        var out: [UInt8] = []
        for _ in 0..<c.below(12) {
            switch c.below(8) {
            case 0: out += FuzzBytes.repeated("x", c.below(3 * limit))
            case 1: out += FuzzBytes.repeated("€", c.below(limit))
            case 2: out += c.bytes(c.below(8))
            default: out += parts[c.below(parts.count)]
            }
        }
        return out
    }

    // MARK: The property

    static func problem(_ script: Script) -> String? {
        problem(limit: script.limit, json: script.json, ops: script.ops)
            .map { "\($0) (limit \(script.limit), \(script.json ? "json" : "text"), ops \(script.ops))" }
    }

    /// Runs `ops` on a framer with two streams and checks every line it writes.
    static func problem(limit: Int, json: Bool, ops: [Op]) -> String? {
        let queue = OutputQueue()
        let framer = LineFramer(queue: queue, style: OutputStyle(color: false, timestamps: false, format: json ? .json : .text),
                                lineLimit: limit, quietPeriod: 100, maxPartialAge: 1000)
        let labels = names.enumerated().map { framer.addLabel(name: $1, typeIndex: $0) }
        for s in 0..<2 { framer.open(stream: 10 + s, label: labels[s]) }
        var inputs: [[UInt8]] = [[], []]
        var pieces: [[[UInt8]]] = [[], []]
        var flushes: [Set<Int>] = [[], []]
        var boundary = [0, 0]  // input offset after the last newline or flush
        var now: Int64 = 0
        func pending(_ s: Int) -> Bool { boundary[s] < inputs[s].count }
        /// The streams of the lines written since the last call; nil when one is malformed.
        func drain() -> [Int]? {
            let new = queue.contents
            queue.discard()
            guard new.isEmpty || new.last == 10 else { return nil }
            var streams: [Int] = []
            for line in new.split(separator: 10, omittingEmptySubsequences: false).dropLast() {
                guard let (s, content) = framedLine(line, json: json) else { return nil }
                streams.append(s)
                pieces[s].append(content)
            }
            return streams
        }
        func flushed(_ streams: [Int]?, expected: Set<Int>) -> String? {
            guard let streams else { return "malformed output line" }
            guard Set(streams) == expected, streams.count == expected.count else {
                return "flush wrote lines of \(streams), expected \(expected.sorted())"
            }
            for s in streams {
                flushes[s].insert(inputs[s].count)
                boundary[s] = inputs[s].count
            }
            return nil
        }
        for op in ops {
            switch op {
            case .ingest(let s, let chunk, let advance):
                now += advance
                let storage = chunk.isEmpty ? [0] : chunk
                storage.withUnsafeBufferPointer { framer.ingest(stream: 10 + s, $0.baseAddress!, chunk.count, now: now) }
                if let nl = chunk.lastIndex(of: 10) { boundary[s] = inputs[s].count + nl + 1 }
                inputs[s] += chunk
                guard let streams = drain() else { return "malformed output line" }
                if streams.contains(where: { $0 != s }) { return "ingest into \(s) wrote lines of \(streams)" }
            case .flush(let s):
                framer.flushPartial(stream: 10 + s)
                if let problem = flushed(drain(), expected: pending(s) ? [s] : []) { return problem }
            case .close(let s):
                framer.close(stream: 10 + s)
                if let problem = flushed(drain(), expected: pending(s) ? [s] : []) { return problem }
                framer.open(stream: 10 + s, label: labels[s])
            case .flushDue(let advance):
                now += advance
                framer.flushDuePartials(now: now)
                guard let streams = drain() else { return "malformed output line" }
                if !streams.allSatisfy(pending) { return "flushDuePartials wrote \(streams) with nothing pending" }
                if let problem = flushed(streams, expected: Set(streams)) { return problem }
            case .waitAll:
                var rounds = 0
                while let deadline = framer.nextPartialDeadline {
                    rounds += 1
                    if rounds > 4 { return "nextPartialDeadline never clears" }
                    if deadline > now + 1000 { return "deadline \(deadline) beyond maxPartialAge after \(now)" }
                    now = max(now, deadline)
                    framer.flushDuePartials(now: now)
                    guard let streams = drain() else { return "malformed output line" }
                    if !streams.allSatisfy(pending) { return "flushDuePartials wrote \(streams) with nothing pending" }
                    if let problem = flushed(streams, expected: Set(streams)) { return problem }
                }
                if pending(0) || pending(1) { return "a partial line has no deadline" }
            }
        }
        for s in 0..<2 {
            framer.close(stream: 10 + s)
            if let problem = flushed(drain(), expected: pending(s) ? [s] : []) { return problem }
        }
        for s in 0..<2 {
            if json && inputs[s].contains(where: { $0 >= 0x80 }) { continue }  // U+FFFD replacement: not byte-exact
            if let problem = reconstructionProblem(pieces[s], input: inputs[s], flushes: flushes[s], limit: limit) {
                return "stream \(s): \(problem)"
            }
        }
        return nil
    }

    /// The stream and content (without its newline) of one output line: text
    /// is `name     | content`, JSON exactly `{"time":"<24 bytes>","process":
    /// "name","stream":"stdout","message":"<valid JSON string>"}`.
    static func framedLine(_ line: ArraySlice<UInt8>, json: Bool) -> (Int, [UInt8])? {
        if !json {
            for (s, name) in names.enumerated() {
                let prefix = FuzzBytes.of(name + String(repeating: " ", count: 8 - name.utf8.count) + " | ")
                if line.starts(with: prefix) { return (s, Array(line.dropFirst(prefix.count))) }
            }
            return nil
        }
        let head = FuzzBytes.of("{\"time\":\"")
        guard line.starts(with: head), line.count >= head.count + 24 + 2 else { return nil }
        let rest = line.dropFirst(head.count + 24)
        for (s, name) in names.enumerated() {
            let prefix = FuzzBytes.of("\",\"process\":\"\(name)\",\"stream\":\"stdout\",\"message\":\"")
            guard rest.starts(with: prefix) else { continue }
            let body = rest.dropFirst(prefix.count)
            guard body.count >= 2, body.suffix(2).elementsEqual([0x22, 0x7D]) else { return nil }
            guard let decoded = FuzzBytes.decodeJSONString(body.dropLast(2)) else { return nil }
            return (s, decoded)
        }
        return nil
    }

    /// Rebuilds a stream's input from its output lines: a line's newline is the
    /// input's own unless the line is a piece of a longer line or a flushed
    /// partial. Checks piece sizes and that pieces split between characters.
    static func reconstructionProblem(_ lines: [[UInt8]], input: [UInt8], flushes: Set<Int>, limit: Int) -> String? {
        var cursor = 0
        for (n, content) in lines.enumerated() {
            let end = cursor + content.count
            guard end <= input.count, input[cursor..<end].elementsEqual(content) else {
                return "line \(n) \(show(content)) is not the input at \(cursor): \(show(input[cursor...]))"
            }
            if content.count > limit { return "line \(n) has \(content.count) bytes, limit \(limit)" }
            if content.isEmpty {
                guard end < input.count, input[end] == 10 else { return "empty line \(n) not in the input" }
                cursor = end + 1
            } else if flushes.contains(end) {
                cursor = end  // a flushed partial (or a piece that ended exactly there)
            } else if end < input.count, input[end] == 10 {
                cursor = end + 1
            } else {
                // A piece of a longer line: the rest of the line follows.
                guard end < input.count else { return "line \(n) ends the input without a newline or flush" }
                guard content.count >= limit - 3 else { return "piece \(n) of \(content.count) bytes, limit \(limit)" }
                // Within a character only when no boundary lies within 3 bytes (invalid UTF-8).
                if input[end] & 0xC0 == 0x80, !input[(end - 3)..<end].allSatisfy({ $0 & 0xC0 == 0x80 }) {
                    return "piece \(n) splits a character at \(end): \(show(input[(end - 3)...].prefix(8)))"
                }
                cursor = end
            }
        }
        return cursor == input.count ? nil : "input from \(cursor) never emitted: \(show(input[cursor...]))"
    }
}
