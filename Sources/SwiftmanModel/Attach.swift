
/// The framing of an attach session (`swiftman connect`). The request line is
/// the usual `swiftman/1 attach TARGET ROWS COLS`; the reply is `ok` and one
/// line `NAME PID MODE` (MODE: `tty` when the instance runs on a pty, which
/// then gets the keys raw, `pipe` when they go to its stdin pipe), or `error
/// MESSAGE` and the server closes. From then on
/// both directions carry frames:
///
///     type (1 byte) · length (4 bytes, big-endian) · payload (length bytes)
///
/// | type | name   | direction       | payload                                      |
/// |------|--------|-----------------|----------------------------------------------|
/// | 1    | data   | both            | raw bytes: keys to the instance, its output back |
/// | 2    | resize | client → server | rows, cols: two big-endian UInt16            |
/// | 3    | detach | client → server | empty: the session ends, the instance runs on |
/// | 4    | end    | server → client | UTF-8 text: why the session ended            |
///
/// A payload is at most `maxPayload` bytes; an unknown type or a longer
/// payload ends the session.
public enum AttachFrame: Equatable, Sendable {
    case data([UInt8])
    case resize(rows: UInt16, cols: UInt16)
    case detach
    case end(String)

    public static let maxPayload = 1 << 16
    public static let headerSize = 5

    public enum Kind: UInt8, Sendable {
        case data = 1, resize = 2, detach = 3, end = 4
    }

    public var kind: Kind {
        switch self {
        case .data: return .data
        case .resize: return .resize
        case .detach: return .detach
        case .end: return .end
        }
    }

    /// The frame on the wire.
    public var encoded: [UInt8] {
        let payload: [UInt8]
        switch self {
        case .data(let bytes): payload = bytes
        case .resize(let rows, let cols):
            payload = [UInt8(rows >> 8), UInt8(rows & 0xFF), UInt8(cols >> 8), UInt8(cols & 0xFF)]
        case .detach: payload = []
        case .end(let text): payload = Array(text.utf8.prefix(AttachFrame.maxPayload))
        }
        return AttachFrame.header(kind, length: payload.count) + payload
    }

    public static func header(_ kind: Kind, length: Int) -> [UInt8] {
        let n = UInt32(length)
        return [kind.rawValue, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
    }
}

public struct AttachFrameError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reassembles frames from a byte stream cut anywhere.
public struct AttachFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received and not yet decoded.
    public var buffered: Int { buffer.count - start }

    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        feed(UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count))
    }

    /// The next whole frame, nil when more bytes are needed; throws on a
    /// malformed stream (the session must end).
    public mutating func next() throws(AttachFrameError) -> AttachFrame? {
        guard buffered >= AttachFrame.headerSize else { return nil }
        let type = buffer[start]
        let length = Int(buffer[start + 1]) << 24 | Int(buffer[start + 2]) << 16 | Int(buffer[start + 3]) << 8 | Int(buffer[start + 4])
        guard let kind = AttachFrame.Kind(rawValue: type) else { throw AttachFrameError("unknown frame type \(type)") }
        guard length <= AttachFrame.maxPayload else { throw AttachFrameError("frame of \(length) bytes (at most \(AttachFrame.maxPayload))") }
        guard buffered >= AttachFrame.headerSize + length else { return nil }
        let from = start + AttachFrame.headerSize
        let payload = buffer[from..<(from + length)]
        start = from + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        switch kind {
        case .data: return .data(Array(payload))
        case .resize:
            guard length == 4 else { throw AttachFrameError("resize frame of \(length) bytes (expected 4)") }
            let p = Array(payload)
            return .resize(rows: UInt16(p[0]) << 8 | UInt16(p[1]), cols: UInt16(p[2]) << 8 | UInt16(p[3]))
        case .detach:
            guard length == 0 else { throw AttachFrameError("detach frame with a payload") }
            return .detach
        case .end: return .end(String(decoding: payload, as: UTF8.self))
        }
    }
}

/// A fixed-capacity byte queue that keeps the newest bytes: appending past
/// the capacity drops the oldest. For output to an attached terminal and
/// input to a child, where a stalled reader must never make us buffer
/// without limit (or block).
public final class ByteRing {
    public let capacity: Int
    /// Allocated with the first bytes: an instance that never prints (or a
    /// child's input nobody types) costs no memory.
    private var storage: UnsafeMutablePointer<UInt8>?
    private var head = 0
    public private(set) var count = 0
    /// Bytes dropped since creation.
    public private(set) var dropped = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    deinit { storage?.deallocate() }

    public var isEmpty: Bool { count == 0 }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard var src = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return }
        let storage = self.storage ?? {
            let allocated = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            self.storage = allocated
            return allocated
        }()
        var n = bytes.count
        if n >= capacity {
            // Only the newest `capacity` bytes can stay.
            dropped += count + n - capacity
            src += n - capacity
            n = capacity
            head = 0
            count = 0
        } else if count + n > capacity {
            let excess = count + n - capacity
            consume(excess)
            dropped += excess
        }
        var tail = (head + count) % capacity
        while n > 0 {
            let chunk = min(n, capacity - tail)
            (storage + tail).update(from: src, count: chunk)
            src += chunk
            n -= chunk
            count += chunk
            tail = (tail + chunk) % capacity
        }
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The oldest bytes that sit contiguously in storage (all of them, or up
    /// to the wrap-around).
    public var readable: UnsafeRawBufferPointer {
        guard let storage else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: storage + head, count: min(count, capacity - head))
    }

    public func consume(_ n: Int) {
        let n = min(n, count)
        head = (head + n) % capacity
        count -= n
        if count == 0 { head = 0 }
    }

    public func removeAll() {
        head = 0
        count = 0
    }

    /// Everything queued, oldest first (for tests).
    public var contents: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        guard let storage else { return out }
        for i in 0..<count { out.append(storage[(head + i) % capacity]) }
        return out
    }
}

/// What `start --input` does with the bytes read from swiftman's stdin: whole
/// lines go to the target, a partial line waits for its end (or for the end of
/// input); a line longer than `maxLine` is passed on in pieces.
public struct InputLines: Sendable {
    private var partial: [UInt8] = []
    public let maxLine: Int

    public init(maxLine: Int = 1 << 16) { self.maxLine = maxLine }

    /// The bytes to send now for `bytes` just read.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        guard let last = bytes.lastIndex(of: 10) else {
            partial.append(contentsOf: bytes)
            guard partial.count >= maxLine else { return [] }
            defer { partial.removeAll() }
            return partial
        }
        var out = partial
        partial.removeAll()
        out.append(contentsOf: bytes[...last])
        partial.append(contentsOf: bytes[(last + 1)...])
        return out
    }

    /// End of input: the unterminated rest, if any.
    public mutating func finish() -> [UInt8] {
        defer { partial.removeAll() }
        return partial
    }
}

/// What a terminal attaching to an instance sees first: the end of its recent
/// output, so a process waiting at a prompt (`(Pdb) `) shows the prompt and
/// what led to it before anything is typed.
public enum AttachReplay {
    /// Recent output kept per output pipe.
    public static let keptBytes = 4096
    /// Lines shown on attach (the current partial line counts as one).
    public static let lines = 10

    /// The last `lines` lines of `recent` (at most `limit` bytes), ending with
    /// the partial line if there is one. When `cut` (older bytes were
    /// dropped), a first line without its beginning is left out.
    public static func tail(_ recent: [UInt8], cut: Bool, lines: Int = AttachReplay.lines,
                            limit: Int = AttachReplay.keptBytes) -> [UInt8] {
        var start = max(0, recent.count - limit)
        let clipped = cut || start > 0
        // Walk back over `lines` line starts (a trailing newline ends the
        // last line; it does not start an empty one).
        var seen = 0
        var i = recent.count - 1
        if i >= 0 && recent[i] == 0x0A { i -= 1 }
        while i >= start {
            if recent[i] == 0x0A {
                seen += 1
                if seen == lines {
                    start = i + 1
                    return Array(recent[start...])
                }
            }
            i -= 1
        }
        // Fewer lines than asked: a clipped first line is not whole.
        if clipped, let nl = recent[start...].firstIndex(of: 0x0A) { start = nl + 1 }
        return Array(recent[start...])
    }
}
