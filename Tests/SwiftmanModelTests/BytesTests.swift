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

/// The framer stores prefixes of up to 32 bytes with two vector writes and
/// copies longer ones: every length around the edge frames the same lines.
@Suite struct PrefixLengthTests {
    @Test(arguments: [1, 10, 14, 15, 16, 17, 26, 27, 28, 29, 30, 31, 32, 40])
    func everyPrefixLengthFramesWholeLines(nameLength: Int) {
        for color in [false, true] {
            let framer = LineFramer(queue: OutputQueue(), style: OutputStyle(color: color, timestamps: false))
            let name = String(repeating: "w", count: nameLength)
            let id = framer.addLabel(name: name, typeIndex: 0)
            framer.open(stream: 1, label: id)
            let input = Array("a\nbb\n\nccc\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 100) + [10]
            input.withUnsafeBufferPointer { framer.ingest(stream: 1, $0.baseAddress!, $0.count, now: 0) }
            let out = String(decoding: framer.queue.contents, as: UTF8.self)
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let bodies = ["a", "bb", "", "ccc", String(repeating: "x", count: 100)]
            #expect(lines.count == bodies.count, "\(out)")
            for (line, body) in zip(lines, bodies) {
                #expect(line.hasSuffix("| " + body) || (color && line.hasSuffix("| \u{1B}[0m" + body)), "\(line.debugDescription) for \(body)")
                #expect(line.contains(name))
            }
        }
    }
}
