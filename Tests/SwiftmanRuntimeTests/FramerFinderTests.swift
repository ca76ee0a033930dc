import Testing
import SwiftmanModel
import SwiftmanPlatform
@testable import SwiftmanRuntime

/// The runtime frames with libc's memchr, the model's tests with its own
/// scan: the two give the same output, byte for byte.
@Suite struct FramerFinderTests {
    @Test func memchrAndTheModelsScanFrameAlike() {
        var rng = SystemRandomNumberGenerator()
        let style = OutputStyle(color: false, timestamps: false)
        let withLibc = LineFramer(queue: OutputQueue(), style: style, newlineFinder: ByteSearch.memchr)
        let withModel = LineFramer(queue: OutputQueue(), style: style)
        for framer in [withLibc, withModel] { framer.open(stream: 1, label: framer.addLabel(name: "web.1", typeIndex: 0)) }
        for _ in 0..<300 {
            let chunk = (0..<Int.random(in: 0...200, using: &rng)).map { _ in [UInt8(10), 65, 66, 0x8A, 0x0B][Int.random(in: 0..<5, using: &rng)] }
            for framer in [withLibc, withModel] {
                chunk.withUnsafeBufferPointer { if let base = $0.baseAddress { framer.ingest(stream: 1, base, $0.count, now: 0) } }
            }
        }
        #expect(!withLibc.queue.contents.isEmpty)
        #expect(withLibc.queue.contents == withModel.queue.contents)
    }

    /// A stalled `logs -f` is told how many lines it lost: runs are counted
    /// by their newlines, and a last line without one counts too.
    @Test func droppedLinesAreCountedByNewlines() {
        func count(_ text: String) -> Int {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer { LogReaders.lineCount($0) }
        }
        #expect(count("a\nb\nc\n") == 3)
        #expect(count("a\n\nlast") == 3)
        #expect(count("one") == 1)
        #expect(count("\n") == 1)
    }
}
