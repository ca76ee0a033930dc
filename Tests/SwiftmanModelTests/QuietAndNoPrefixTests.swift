import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

/// honcho's `-q TYPES` and `--no-prefix` at the framer: a quiet type's streams
/// are never framed; without a prefix the bytes go out as the child wrote them.
@Suite struct QuietAndNoPrefixTests {
    private func feed(_ framer: LineFramer, _ stream: Int, _ text: String) {
        Array(text.utf8).withUnsafeBufferPointer { framer.ingest(stream: stream, $0.baseAddress!, $0.count, now: 0) }
    }

    @Test func quietTypesProduceNothing() {
        var style = OutputStyle(color: true, timestamps: true)
        style.quiet = ["redis"]
        let framer = LineFramer(queue: OutputQueue(), style: style, quietPeriod: 100, maxPartialAge: 1000)
        let redis = framer.addLabel(name: "redis.1", typeIndex: 0)
        let redis2 = framer.addLabel(name: "redis-cache.1", typeIndex: 1)   // not a prefix match
        framer.open(stream: 10, label: redis)
        framer.open(stream: 11, label: redis2)
        feed(framer, 10, "hidden\npartial")
        framer.close(stream: 10)
        #expect(framer.queue.contents.isEmpty)
        #expect(framer.nextPartialDeadline == nil)
        feed(framer, 11, "shown\n")
        #expect(String(decoding: framer.queue.contents, as: UTF8.self).hasSuffix("redis-cache.1 | \u{1B}[0mshown\n"))
    }

    @Test func noPrefixLeavesTheBytesAlone() {
        var style = OutputStyle(color: true, timestamps: true)
        style.prefix = false
        let framer = LineFramer(queue: OutputQueue(), style: style, quietPeriod: 100, maxPartialAge: 1000)
        let web = framer.addLabel(name: "web.1", typeIndex: 0)
        framer.open(stream: 10, label: web)
        feed(framer, 10, "one\ntwo\nlast")
        framer.close(stream: 10)
        #expect(String(decoding: framer.queue.contents, as: UTF8.self) == "one\ntwo\nlast\n")
    }
}
