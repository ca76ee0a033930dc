/// memchr's contract as a C function pointer: the first `byte` in `count`
/// bytes at `start`, or nil. The runtime gives the framer libc's own (the
/// platform's `ByteSearch.memchr`); the model's default is `Bytes.findNewline`.
public typealias ByteFinder = @convention(c) (_ start: UnsafeRawPointer?, _ byte: Int32, _ count: Int) -> UnsafeMutableRawPointer?

/// Byte scanning for the output path, without libc: the model stays pure.
enum Bytes {
    /// `newline(in:_:)` as a `ByteFinder` (it finds only newlines, which is
    /// all the framer asks for).
    static let findNewline: ByteFinder = { start, byte, count in
        precondition(byte == 10, "the model's own scan finds newlines only")
        guard let start, let at = newline(in: start.assumingMemoryBound(to: UInt8.self), count) else { return nil }
        return UnsafeMutableRawPointer(mutating: start + at)
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080
    private static let newlines64: UInt64 = 0x0A0A_0A0A_0A0A_0A0A

    /// The offset of the first newline in `count` bytes at `base`, or nil.
    /// Sixteen bytes per step (one vector compare, as memchr does); in the
    /// step that has one, its exact place from an 8-byte word (the classic
    /// "has a zero byte" test: its lowest flagged byte is exact).
    @inline(__always)
    static func newline(in base: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        let raw = UnsafeRawPointer(base)
        let newlines = SIMD16<UInt8>(repeating: 10)
        var i = 0
        while i + 16 <= count {
            let block = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            if any(block .== newlines) {
                if let at = inWord(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return i + at }
                return i + 8 + inWord(raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))!
            }
            i += 16
        }
        while i + 8 <= count {
            if let at = inWord(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return i + at }
            i += 8
        }
        while i < count {
            if base[i] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// The index of the first newline among the 8 bytes of `word` (little
    /// endian: byte 0 is the lowest), or nil.
    @inline(__always)
    private static func inWord(_ word: UInt64) -> Int? {
        let x = word ^ newlines64
        let found = (x &- ones) & ~x & highs
        return found == 0 ? nil : found.trailingZeroBitCount >> 3
    }
}
