import Foundation
import Testing

private let esc = "\u{1B}"

@Suite struct PrefixTests {
    @Test func namesArePaddedToTheLongestWithoutColour() throws {
        let project = try Project(procfile: "web: echo hello\nbackground: echo hi\n")
        let swiftman = try project.swiftman(["start", "-f", project.path("Procfile"), "--no-color", "--no-timestamp"])
        #expect(try swiftman.wait() == 0)
        let lines = swiftman.stdout.split(separator: "\n").map(String.init)
        // "background.1" is 12 characters: every name is padded to it.
        #expect(lines.contains("web.1        | hello"))
        #expect(lines.contains("background.1 | hi"))
        #expect(lines.contains { $0.hasPrefix("system       | web.1 started with pid ") })
        #expect(lines.contains("system       | web.1 exited with code 0"))
        #expect(!swiftman.stdout.contains(esc))
    }

    @Test func shortNamesArePaddedToSixAndTimestamped() throws {
        let project = try Project(procfile: "a: echo hello\n")
        let swiftman = try project.swiftman(["start", "-f", project.path("Procfile"), "--no-color"])
        #expect(try swiftman.wait() == 0)
        let stamp = "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
        let lines = swiftman.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.wholeMatch(of: try! Regex("\(stamp) a\\.1    \\| hello")) != nil })
        #expect(lines.contains { $0.wholeMatch(of: try! Regex("\(stamp) system \\| a\\.1 started with pid [0-9]+")) != nil })
        #expect(lines.allSatisfy { $0.prefixMatch(of: try! Regex(stamp + " ")) != nil }, "\(lines)")
    }

    @Test func colourFollowsForemansPaletteByTypeIndex() throws {
        let types = ["a", "b", "c", "d", "e", "f", "g"]
        let project = try Project(procfile: types.map { "\($0): echo hi" }.joined(separator: "\n"))
        let swiftman = try project.swiftman(["start", "-f", project.path("Procfile"), "--color", "--no-timestamp"])
        #expect(try swiftman.wait() == 0)
        let codes = ["36", "33", "32", "35", "31", "34", "1;36"]
        for (type, code) in zip(types, codes) {
            #expect(swiftman.stdout.contains("\(esc)[\(code)m\(type).1    | \(esc)[0mhi\n"), "\(type) in \(code)")
        }
        #expect(swiftman.stdout.contains("\(esc)[1;37msystem | \(esc)[0ma.1 started with pid"))
    }

    /// (stdout is a terminal, extra arguments, environment, colour expected)
    @Test(arguments: [
        (false, [], [:], false),
        (true, [], [:], true),
        (true, [], ["NO_COLOR": "1"], false),
        (false, [], ["FORCE_COLOR": "1"], true),
        (false, [], ["FORCE_COLOR": "1", "NO_COLOR": "1"], false),
        (false, ["--color"], ["NO_COLOR": "1"], true),
        (true, ["--no-color"], ["FORCE_COLOR": "1"], false),
        (false, [], ["SWIFTMAN_COLOR": "1"], true),
    ] as [(Bool, [String], [String: String], Bool)])
    func colourChoice(tty: Bool, arguments: [String], environment: [String: String], coloured: Bool) throws {
        let project = try Project(procfile: "web: echo hello\n")
        let swiftman = try project.swiftman(["start", "-f", project.path("Procfile")] + arguments,
                                            environment: environment, tty: tty)
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.stdout.contains("hello"))
        #expect(swiftman.stdout.contains("\(esc)[36m") == coloured)
    }
}

@Suite struct LineTests {
    @Test func stderrIsPrefixedAndInterleavedInOrder() throws {
        let project = try Project(procfile: "web: echo out1; echo err1 >&2; echo out2; echo err2 >&2\n")
        let swiftman = try project.start()
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["out1", "err1", "out2", "err2"])
        #expect(swiftman.stderr.isEmpty)
    }

    @Test func floodingChildrenNeverShareALine() throws {
        let flood = { (name: String) in
            "\(name): awk 'BEGIN { for (i = 0; i < 20000; i++) printf \"\(name) %d .........................................................\\n\", i }'"
        }
        let project = try Project(procfile: flood("a") + "\n" + flood("b") + "\n")
        let swiftman = try project.start()
        #expect(try swiftman.wait(timeout: 60) == 0)
        for name in ["a", "b"] {
            let lines = swiftman.messages(from: "\(name).1")
            let expected = (0..<20000).map { "\(name) \($0) ........................................................." }
            #expect(lines.count == expected.count)
            #expect(lines == expected, "first difference: \(zip(lines, expected).first { $0 != $1 }.map { "\($0)" } ?? "none")")
        }
        // Every line of output is a whole prefixed line.
        let stray = swiftman.stdout.split(separator: "\n").filter { !$0.contains(" | ") }
        #expect(stray.isEmpty, "\(stray.prefix(3))")
    }

    @Test func partialLineIsPrintedBeforeTheChildGoesOn() throws {
        // The child prompts, then waits for the test to create `answer`.
        let project = try Project(procfile: "web: printf 'prompt> '; while [ ! -e answer ]; do sleep 0.05; done; echo answered\n")
        let swiftman = try project.start()
        try swiftman.waitFor(line: "prompt> ", from: "web.1")
        try project.write("answer", "")
        try swiftman.waitFor(line: "answered", from: "web.1")
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["prompt> ", "answered"])
    }

    @Test func lastLineWithoutNewlineIsPrinted() throws {
        let project = try Project(procfile: "web: printf 'no newline at the end'\n")
        let swiftman = try project.start()
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.stdout.contains("web.1  | no newline at the end\n"))
    }

    @Test func longLineArrivesInOrderedPiecesOf16KiB() throws {
        let line = (0..<8000).map { String(format: "%04d,", $0) }.joined()   // 40,000 bytes
        let project = try Project(procfile: "web: echo before; cat long.txt; echo after\n")
        try project.write("long.txt", line + "\n")
        let swiftman = try project.start()
        #expect(try swiftman.wait() == 0)
        let pieces = swiftman.messages(from: "web.1")
        #expect(pieces.first == "before")
        #expect(pieces.last == "after")
        let middle = pieces.dropFirst().dropLast()
        #expect(middle.map(\.utf8.count) == [16384, 16384, 40000 - 2 * 16384])
        #expect(middle.joined() == line)
    }

    @Test func invalidUTF8PassesThroughUnchanged() throws {
        let raw: [UInt8] = Array("caf".utf8) + [0xE9, 0x20, 0xFF, 0xFE, 0xC3] + Array(" ok".utf8)
        let project = try Project(procfile: "web: cat bytes.bin\n")
        try project.write("bytes.bin", bytes: raw + [10])
        let swiftman = try project.start()
        #expect(try swiftman.wait() == 0)
        let expected = Array("web.1  | ".utf8) + raw + [10]
        #expect(swiftman.stdoutBytes.contains(expected), "raw output: \(swiftman.stdoutBytes)")
    }
}
