import Testing
@testable import SwiftmanModel

/// The framer's newline scan agrees with a byte-by-byte search everywhere:
/// every length around the 8- and 16-byte steps, a newline at every place,
/// none, several, and bytes that only look like it (0x0A ± 1, 0x8A).
@Suite struct BytesTests {
    @Test func newlineScanMatchesAPlainSearch() {
        var rng = SystemRandomNumberGenerator()
        for length in 0...70 {
            for trial in 0..<60 {
                var bytes = (0..<length).map { _ in [UInt8(0x09), 0x0B, 0x8A, 0x41, 0xFF, 0x00][Int.random(in: 0..<6, using: &rng)] }
                if trial < length { bytes[trial] = 10 }
                if trial % 7 == 0 && length > 2 { bytes[length - 1] = 10 }
                let expected = bytes.firstIndex(of: 10)
                bytes.withUnsafeBufferPointer { buffer in
                    let found = buffer.baseAddress.flatMap { Bytes.newline(in: $0, length) } ?? (length == 0 ? nil : Bytes.newline(in: buffer.baseAddress!, length))
                    #expect(found == expected, "length \(length), newline at \(String(describing: expected))")
                }
            }
        }
    }
}
