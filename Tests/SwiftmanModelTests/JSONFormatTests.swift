import Foundation
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

/// A JSON-format framer with stdout and stderr labels for web.1.
private func makeJSONFramer(lineLimit: Int = 16384) -> (LineFramer, out: Int, err: Int) {
    let framer = LineFramer(queue: OutputQueue(), style: OutputStyle(color: true, timestamps: true, format: .json),
                            lineLimit: lineLimit)
    let out = framer.addLabel(name: "web.1", typeIndex: 0, stream: "stdout")
    let err = framer.addLabel(name: "web.1", typeIndex: 0, stream: "stderr")
    framer.open(stream: 10, label: out)
    framer.open(stream: 11, label: err)
    framer.clock.update(toMillisecond: 1_234_567_890_123)
    return (framer, out, err)
}

private func feed(_ framer: LineFramer, _ stream: Int, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { framer.ingest(stream: stream, $0.baseAddress!, $0.count, now: 0) }
}

/// Every output line parsed by Foundation's JSON parser.
private func objects(_ framer: LineFramer) throws -> [[String: String]] {
    try framer.queue.contents.split(separator: 10).map { line in
        try #require(JSONSerialization.jsonObject(with: Data(line)) as? [String: String])
    }
}

@Suite struct JSONFormatTests {
    @Test func oneObjectPerLineWithTimeProcessStreamMessage() throws {
        let (f, _, _) = makeJSONFramer()
        feed(f, 10, Array("hello\n".utf8))
        feed(f, 11, Array("oops\n".utf8))
        f.event(.notice("web.1 started"))
        let all = try objects(f)
        #expect(all == [
            ["time": "2009-02-13T23:31:30.123Z", "process": "web.1", "stream": "stdout", "message": "hello"],
            ["time": "2009-02-13T23:31:30.123Z", "process": "web.1", "stream": "stderr", "message": "oops"],
            ["time": "2009-02-13T23:31:30.123Z", "process": "system", "stream": "system", "message": "web.1 started",
             "event": "notice"],
        ])
    }

    @Test func lifecycleEventsCarryTheirFieldsAsJSONValues() throws {
        let (f, _, _) = makeJSONFramer()
        f.event(.exited(instance: "web.1", pid: 4242, status: .exited(3)))
        f.event(.exited(instance: "web.1", pid: 4243, status: .signaled(9)))
        f.event(.killedAfterGrace(instance: "web.1", pid: 4243, grace: 2_000_000_000))
        let lines = f.queue.contents.split(separator: 10)
        let parsed = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]) }
        #expect(parsed[0]["process"] as? String == "web.1")
        #expect(parsed[0]["stream"] as? String == "system")
        #expect(parsed[0]["event"] as? String == "exited")
        #expect(parsed[0]["pid"] as? Int == 4242)
        #expect(parsed[0]["exit_code"] as? Int == 3)
        #expect(parsed[0]["message"] as? String == "web.1 exited with code 3")
        #expect(parsed[1]["signal"] as? String == "SIGKILL")
        #expect(parsed[1]["exit_code"] == nil)
        #expect(parsed[2]["event"] as? String == "killed_after_grace")
        #expect(parsed[2]["grace_ms"] as? Int == 2000)
    }

    @Test func quotesBackslashesAndControlCharactersAreEscaped() throws {
        let (f, _, _) = makeJSONFramer()
        feed(f, 10, Array("say \"hi\" \\ there\t\u{1}\u{1B}[31m\r\n".utf8))
        #expect(try objects(f)[0]["message"] == "say \"hi\" \\ there\t\u{1}\u{1B}[31m\r")
    }

    @Test func validUTF8IsKeptAndInvalidBytesReplaced() throws {
        let (f, _, _) = makeJSONFramer()
        feed(f, 10, Array("héllo → 🚀".utf8) + [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0x0A])
        #expect(try objects(f)[0]["message"] == "héllo → 🚀\u{FFFD}\u{FFFD}(\u{FFFD}\u{FFFD}\u{FFFD}")
    }

    @Test func hostileBytesAlwaysGiveValidObjects() throws {
        var rng = SystemRandomNumberGenerator()
        let (f, _, _) = makeJSONFramer(lineLimit: 64)
        var inputs = 0
        for _ in 0..<500 {
            var bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            bytes.removeAll { $0 == 10 }
            bytes.append(10)
            inputs += 1
            feed(f, 10, bytes)
        }
        let all = try objects(f)
        // Long inputs are split into pieces (between characters), so at least one object each.
        #expect(all.count >= inputs)
        #expect(all.allSatisfy { $0["process"] == "web.1" && $0["message"] != nil })
    }

    @Test func partialAndEOFLinesBecomeObjectsToo() throws {
        let (f, _, _) = makeJSONFramer()
        feed(f, 10, Array("prompt> ".utf8))
        f.flushPartial(stream: 10)
        feed(f, 11, Array("last".utf8))
        f.close(stream: 11)
        #expect(try objects(f).map { $0["message"] } == ["prompt> ", "last"])
    }

    @Test func rfc3339TimeInUTCWithMilliseconds() {
        var clock = WallClock()
        clock.update(toMillisecond: 0)
        #expect(String(decoding: clock.rfc3339, as: UTF8.self) == "1970-01-01T00:00:00.000Z")
        clock.update(toMillisecond: 951_782_400_007)
        #expect(String(decoding: clock.rfc3339, as: UTF8.self) == "2000-02-29T00:00:00.007Z")
    }
}
