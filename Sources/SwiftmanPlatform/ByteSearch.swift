import CSwiftman

/// Searching bytes with libc's memmem (vectorised): `line:` readiness checks
/// scan every byte an instance prints until its line appears.
public enum ByteSearch {
    /// libc's memchr (vectorised), for the framer's newline search.
    public static let memchr: @convention(c) (UnsafeRawPointer?, Int32, Int) -> UnsafeMutableRawPointer? = sm_memchr()

    /// Whether `needle` occurs in `haystack`.
    public static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        sm_contains(haystack.baseAddress, haystack.count, needle.baseAddress, needle.count) != 0
    }
}
