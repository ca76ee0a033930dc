// `--log-format json`: one valid JSON object per output line, whatever the children print.
import Foundation
import Testing

/// One parsed output line.
private struct LogRecord {
    let time: String
    let process: String
    let stream: String
    let message: String
    /// For swiftman's own lines (stream `system`): the event and its fields.
    var event: String? = nil
    var fields: [String: Any] = [:]
}

/// Parses every stdout line as a JSON object: a child's line has exactly
/// time/process/stream/message; a `system` line adds `event` and that event's
/// fields. Records an issue for each line that is neither.
private func records(_ swiftman: Swiftman, sourceLocation: SourceLocation = #_sourceLocation) -> [LogRecord] {
    var bytes = swiftman.stdoutBytes
    #expect(bytes.last == 10, "output does not end with a newline", sourceLocation: sourceLocation)
    if bytes.last == 10 { bytes.removeLast() }
    guard !bytes.isEmpty else { return [] }
    return bytes.split(separator: 10, omittingEmptySubsequences: false).compactMap { raw in
        let line = Array(raw)
        let text = String(decoding: line, as: UTF8.self)
        guard String(validating: line, as: UTF8.self) != nil else {
            Issue.record("line is not valid UTF-8: \(line)", sourceLocation: sourceLocation)
            return nil
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            Issue.record("line is not a JSON object: \(text)", sourceLocation: sourceLocation)
            return nil
        }
        guard let time = object["time"] as? String, let process = object["process"] as? String,
              let stream = object["stream"] as? String, let message = object["message"] as? String,
              stream == "system" ? object["event"] is String : Set(object.keys) == ["time", "process", "stream", "message"]
        else {
            Issue.record("unexpected keys or types: \(text)", sourceLocation: sourceLocation)
            return nil
        }
        return LogRecord(time: time, process: process, stream: stream, message: message,
                         event: object["event"] as? String, fields: object)
    }
}

private let rfc3339Milliseconds = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#

@Suite struct JSONLogTests {
    /// (extra arguments, environment): colour and --no-timestamp do not apply to JSON.
    @Test(arguments: [
        (["--log-format", "json"], [:]),
        (["--log-format=json", "--color", "--no-timestamp"], [:]),
        ([], ["SWIFTMAN_LOG_FORMAT": "json", "FORCE_COLOR": "1"]),
    ] as [([String], [String: String])])
    func everyLineIsAnObjectWithTimeProcessStreamMessage(arguments: [String], environment: [String: String]) throws {
        let project = try Project(procfile: """
            web: echo out-line; echo err-line >&2; echo out-again
            worker: echo worker-line
            """)
        let swiftman = try project.swiftman(["start", "-f", project.path("Procfile")] + arguments,
                                            environment: environment)
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.stderr.isEmpty, "\(swiftman.stderr)")
        #expect(!swiftman.stdout.contains("\u{1B}"))
        let all = records(swiftman)
        #expect(all.count >= 8, "\(swiftman.stdout)")
        for record in all {
            #expect(record.time.wholeMatch(of: try! Regex(rfc3339Milliseconds)) != nil, "time \(record.time)")
            #expect(["web.1", "worker.1", "system"].contains(record.process), "process \(record.process)")
        }
        let web = all.filter { $0.process == "web.1" && $0.stream != "system" }
        #expect(web.filter { $0.stream == "stdout" }.map(\.message) == ["out-line", "out-again"])
        #expect(web.filter { $0.stream == "stderr" }.map(\.message) == ["err-line"])
        let worker = all.filter { $0.process == "worker.1" && $0.stream != "system" }
        #expect(worker.map(\.message) == ["worker-line"])
        #expect(worker.map(\.stream) == ["stdout"])
        // Lifecycle lines: stream "system", the instance as process, typed fields.
        let events = all.filter { $0.stream == "system" }
        let started = try #require(events.first { $0.event == "started" && $0.process == "web.1" })
        #expect(started.message.hasPrefix("web.1 started with pid "))
        #expect(started.fields["pid"] is Int)
        for name in ["web.1", "worker.1"] {
            let exited = try #require(events.first { $0.event == "exited" && $0.process == name }, "\(swiftman.stdout)")
            #expect(exited.message == "\(name) exited with code 0")
            #expect(exited.fields["exit_code"] as? Int == 0)
            #expect(exited.fields["pid"] as? Int == started.fields["pid"] as? Int || name != "web.1")
        }
    }

    @Test func timeIsTheCurrentUTCTime() throws {
        let project = try Project(procfile: "web: echo hello\n")
        let before = Date()
        let swiftman = try project.start(["--log-format", "json"])
        #expect(try swiftman.wait() == 0)
        let after = Date()
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for record in records(swiftman) {
            guard let date = parser.date(from: record.time) else {
                Issue.record("unparsable time \(record.time)")
                continue
            }
            // Generous: a busy machine, and milliseconds truncated.
            #expect(date >= before.addingTimeInterval(-2) && date <= after.addingTimeInterval(2), "\(record.time)")
        }
    }

    @Test func hostileBytesBecomeValidJSON() throws {
        let lines: [(bytes: [UInt8], message: String)] = [
            ([0x01] + Array("\u{1B}[31m\"\\\t".utf8), "\u{01}\u{1B}[31m\"\\\t"),
            ([0xFF, 0xFE], "\u{FFFD}\u{FFFD}"),
            (Array("caf".utf8) + [0xE9] + Array(" ok".utf8), "caf\u{FFFD} ok"),
            // A truncated 3-byte sequence and an encoded surrogate: one U+FFFD per byte.
            (Array("cut ".utf8) + [0xE2, 0x9C], "cut \u{FFFD}\u{FFFD}"),
            ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),
            (Array("héllo ✓ 😀 日本語".utf8), "héllo ✓ 😀 日本語"),
            (Array((1...31).filter { $0 != 10 }.map { UInt8($0) }) + [0x7F], String(decoding: (1...31).filter { $0 != 10 }.map { UInt8($0) } + [0x7F], as: UTF8.self)),
            (Array("back\\slash \"quoted\" {\"json\":1} </script>".utf8), "back\\slash \"quoted\" {\"json\":1} </script>"),
        ]
        let project = try Project(procfile: "web: cat bytes.bin; cat bytes.bin >&2\n")
        try project.write("bytes.bin", bytes: lines.flatMap { $0.bytes + [10] })
        let swiftman = try project.start(["--log-format", "json"])
        #expect(try swiftman.wait() == 0)
        let web = records(swiftman).filter { $0.process == "web.1" && $0.stream != "system" }
        for stream in ["stdout", "stderr"] {
            let messages = web.filter { $0.stream == stream }.map(\.message)
            #expect(messages.count == lines.count, "\(stream): \(messages)")
            for (got, want) in zip(messages, lines.map(\.message)) {
                #expect(got == want, "\(stream): \(Array(got.unicodeScalars)) != \(Array(want.unicodeScalars))")
            }
        }
    }

    @Test func longLineBecomesPiecesThatJoinBackToTheOriginal() throws {
        let line = (0..<8000).map { String(format: "%04d,", $0) }.joined()   // 40,000 bytes
        let project = try Project(procfile: "web: echo before; cat long.txt; echo after\n")
        try project.write("long.txt", line + "\n")
        let swiftman = try project.start(["--log-format", "json"])
        #expect(try swiftman.wait() == 0)
        let messages = records(swiftman).filter { $0.process == "web.1" && $0.stream != "system" }.map(\.message)
        #expect(messages.first == "before")
        #expect(messages.last == "after")
        let middle = Array(messages.dropFirst().dropLast())
        #expect(middle.count >= 3, "\(middle.map(\.utf8.count))")
        #expect(middle.allSatisfy { $0.utf8.count <= 16384 }, "\(middle.map(\.utf8.count))")
        let intact = middle.joined() == line
        #expect(intact, "pieces do not join back to the original line")
    }

    @Test func longLineOfMultiByteCharactersKeepsItsCharacters() throws {
        // 3-byte characters: 16 KiB pieces cannot end on a character boundary by luck.
        let line = String(repeating: "✓", count: 13_333) + "!"   // 40,000 bytes
        let project = try Project(procfile: "web: cat long.txt\n")
        try project.write("long.txt", line + "\n")
        let swiftman = try project.start(["--log-format", "json"])
        #expect(try swiftman.wait() == 0)
        let messages = records(swiftman).filter { $0.process == "web.1" && $0.stream != "system" }.map(\.message)
        #expect(messages.count >= 3)
        let joined = messages.joined()
        let replacements = joined.unicodeScalars.filter { $0 == "\u{FFFD}" }.count
        #expect(replacements == 0, "\(replacements) U+FFFD in the pieces (bytes per piece: \(messages.map(\.utf8.count)))")
        let intact = joined == line
        #expect(intact, "pieces do not join back to the original line")
    }

    @Test func partialLineAndLastLineWithoutNewlineAreObjects() throws {
        let project = try Project(procfile: """
            web: printf 'prompt> '; while [ ! -e answer ]; do sleep 0.05; done; echo answered; printf 'no newline at the end'
            """)
        let swiftman = try project.start(["--log-format", "json"])
        try swiftman.waitFor("\"message\":\"prompt> \"")
        try project.write("answer", "")
        #expect(try swiftman.wait() == 0)
        let web = records(swiftman).filter { $0.process == "web.1" && $0.stream != "system" }
        #expect(web.map(\.message) == ["prompt> ", "answered", "no newline at the end"])
        #expect(web.allSatisfy { $0.stream == "stdout" })
    }
}
