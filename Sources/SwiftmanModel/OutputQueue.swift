/// The bytes waiting to go to stdout. Lines are appended with memcpy into
/// fixed-size chunks and written a chunk at a time; the event loop stops
/// reading children while `isFull`, which is how backpressure reaches them.
///
/// Chunks, not one growing buffer: when stdout's reader is slower than the
/// children, the queue sits near `highWater` while bytes leave at the head and
/// arrive at the tail. A single buffer then has to move its pending bytes
/// back to the front again and again (measured: a megabyte moved every few
/// reads, more than the relay's own copying); a written chunk is simply
/// reused at the tail.
public final class OutputQueue {
    private struct Chunk {
        let storage: UnsafeMutablePointer<UInt8>
        let capacity: Int
        /// Written up to here (the bytes before it have left).
        var head = 0
        /// Filled up to here.
        var tail = 0

        init(capacity: Int) {
            self.capacity = capacity
            storage = .allocate(capacity: capacity)
        }
        func free() { storage.deallocate() }
    }

    /// Pending chunks, oldest first; the last one takes new bytes.
    private var chunks: [Chunk] = []
    /// Written chunks kept for reuse (their pages stay backed, so few).
    private var spare: [Chunk] = []
    public private(set) var count = 0
    /// Above this many pending bytes the loop stops reading child pipes.
    public let highWater: Int

    /// A chunk's size: twice a read of a child's pipe, so one read's lines
    /// (prefixes added) usually fit in the chunk being filled.
    static let chunkSize = 1 << 17
    private static let keptSpares = 2

    public init(highWater: Int = 1 << 20) {
        self.highWater = highWater
    }

    deinit {
        for chunk in chunks { chunk.free() }
        for chunk in spare { chunk.free() }
    }

    public var isEmpty: Bool { count == 0 }
    public var isFull: Bool { count >= highWater }

    /// Makes room for `n` more contiguous bytes and returns where they go.
    @inline(__always)
    func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if let last = chunks.last, last.capacity - last.tail >= n { return last.storage + last.tail }
        return startChunk(atLeast: n)
    }

    /// All the free space at the tail, at least `n` bytes of it.
    @inline(__always)
    func window(atLeast n: Int) -> UnsafeMutableBufferPointer<UInt8> {
        let start = reserve(max(n, 1))
        let last = chunks[chunks.count - 1]
        return UnsafeMutableBufferPointer(start: start, count: last.capacity - last.tail)
    }

    /// `n` bytes were written at the start of the last `window` or `reserve`.
    @inline(__always)
    func commit(_ n: Int) {
        guard n > 0 else { return }
        chunks[chunks.count - 1].tail += n
        count += n
    }

    @inline(__always)
    public func append(_ bytes: UnsafeRawPointer, _ n: Int) {
        guard n > 0 else { return }
        UnsafeMutableRawPointer(reserve(n)).copyMemory(from: bytes, byteCount: n)
        commit(n)
    }

    @inline(__always)
    public func append(byte: UInt8) {
        reserve(1).pointee = byte
        commit(1)
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { if let base = $0.baseAddress { append(base, $0.count) } }
    }

    public func append(_ text: String) {
        var text = text
        text.withUTF8 { if let base = $0.baseAddress { append(base, $0.count) } }
    }

    /// A new tail chunk of at least `n` bytes: a spare one when it is big
    /// enough, else a new one. The old tail chunk keeps its pending bytes
    /// (its unused end is never filled: the framer needs a line contiguous).
    private func startChunk(atLeast n: Int) -> UnsafeMutablePointer<UInt8> {
        if let last = chunks.last, last.head == last.tail {
            // Nothing pending in it: start it over, or drop it for a bigger one.
            if last.capacity >= n {
                chunks[chunks.count - 1].head = 0
                chunks[chunks.count - 1].tail = 0
                return last.storage
            }
            retire(chunks.removeLast())
        }
        if n <= OutputQueue.chunkSize, let reused = spare.popLast() {
            chunks.append(reused)
        } else {
            chunks.append(Chunk(capacity: max(n, OutputQueue.chunkSize)))
        }
        return chunks[chunks.count - 1].storage
    }

    /// A chunk whose bytes all left: kept for reuse (a few of the usual
    /// size) or freed.
    private func retire(_ chunk: Chunk) {
        if chunk.capacity == OutputQueue.chunkSize && spare.count < OutputQueue.keptSpares {
            var reset = chunk
            reset.head = 0
            reset.tail = 0
            spare.append(reset)
        } else {
            chunk.free()
        }
    }

    /// The oldest pending bytes, contiguous (valid until the next append or
    /// consume): write them, then `consume` what was taken.
    @inline(__always)
    public var pending: UnsafeRawBufferPointer {
        guard let first = chunks.first else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: first.storage + first.head, count: first.tail - first.head)
    }

    /// `n` bytes of `pending` were written.
    @inline(__always)
    public func consume(_ n: Int) {
        guard n > 0 else { return }
        count -= n
        chunks[0].head += n
        if chunks[0].head == chunks[0].tail {
            if chunks.count > 1 {
                retire(chunks.removeFirst())
            } else {
                chunks[0].head = 0
                chunks[0].tail = 0
            }
        }
    }

    /// Drops everything pending (stdout is gone).
    public func discard() {
        while chunks.count > 1 { retire(chunks.removeLast()) }
        if !chunks.isEmpty {
            chunks[0].head = 0
            chunks[0].tail = 0
        }
        count = 0
    }

    /// The pending bytes, for tests.
    public var contents: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for chunk in chunks { bytes.append(contentsOf: UnsafeBufferPointer(start: chunk.storage + chunk.head, count: chunk.tail - chunk.head)) }
        return bytes
    }
}
