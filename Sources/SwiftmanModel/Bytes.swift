/// Byte scanning for the output path, without libc: the model stays pure.
enum Bytes {
    /// The offset of the first newline in `count` bytes at `base`, or nil.
    /// Sixteen bytes per step (a vector compare, as memchr does), then the
    /// exact byte within the step that has one.
    @inline(__always)
    static func newline(in base: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        let raw = UnsafeRawPointer(base)
        let newlines = SIMD16<UInt8>(repeating: 10)
        var i = 0
        while i + 16 <= count {
            let block = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            if any(block .== newlines) { break }
            i += 16
        }
        while i < count {
            if base[i] == 10 { return i }
            i += 1
        }
        return nil
    }
}
