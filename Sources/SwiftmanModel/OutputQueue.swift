/// The bytes waiting to go to stdout. Lines are appended with memcpy into one
/// contiguous buffer and written in large batches; the event loop stops reading
/// children while `isFull`, which is how backpressure reaches them.
public final class OutputQueue {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var head = 0
    private var tail = 0
    /// Above this many pending bytes the loop stops reading child pipes.
    public let highWater: Int

    public init(highWater: Int = 1 << 20) {
        self.highWater = highWater
        capacity = 1 << 16
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    public var count: Int { tail - head }
    public var isEmpty: Bool { head == tail }
    public var isFull: Bool { count >= highWater }

    /// Makes room for `n` more bytes and returns where they go.
    @inline(__always)
    func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if tail + n > capacity { makeRoom(n) }
        return storage + tail
    }

    /// All the free space after the pending bytes, at least `n` bytes of it.
    @inline(__always)
    func window(atLeast n: Int) -> UnsafeMutableBufferPointer<UInt8> {
        if tail + n > capacity || tail == capacity { makeRoom(max(n, 1)) }
        return UnsafeMutableBufferPointer(start: storage + tail, count: capacity - tail)
    }

    @inline(__always)
    func commit(_ n: Int) { tail += n }

    @inline(__always)
    public func append(_ bytes: UnsafeRawPointer, _ n: Int) {
        UnsafeMutableRawPointer(reserve(n)).copyMemory(from: bytes, byteCount: n)
        tail += n
    }

    @inline(__always)
    public func append(byte: UInt8) {
        reserve(1).pointee = byte
        tail += 1
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0.baseAddress!, $0.count) }
    }

    public func append(_ text: String) {
        var text = text
        text.withUTF8 { append($0.baseAddress!, $0.count) }
    }

    private func makeRoom(_ n: Int) {
        if head > 0 {
            UnsafeMutableRawPointer(storage).copyMemory(from: storage + head, byteCount: tail - head)
            tail -= head
            head = 0
        }
        if tail + n > capacity {
            var newCapacity = capacity * 2
            while newCapacity < tail + n { newCapacity *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: storage, count: tail)
            storage.deallocate()
            storage = grown
            capacity = newCapacity
        }
    }

    /// The bytes waiting to be written (valid until the next append).
    @inline(__always)
    public var pending: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage + head, count: tail - head) }

    /// `n` pending bytes were written.
    @inline(__always)
    public func consume(_ n: Int) {
        head += n
        if head == tail { emptied() }
    }

    /// Everything was written: start again at the front, and give back
    /// memory a burst made us grab.
    private func emptied() {
        head = 0
        tail = 0
        if capacity > 16 * highWater {
            storage.deallocate()
            capacity = 1 << 16
            storage = .allocate(capacity: capacity)
        }
    }

    /// Drops everything pending (stdout is gone).
    public func discard() {
        head = 0
        tail = 0
    }

    /// The pending bytes, for tests.
    public var contents: [UInt8] { Array(UnsafeBufferPointer(start: storage + head, count: count)) }
}

