import Foundation
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

private func parse(_ text: String) throws(Diagnostics) -> Procfile {
    try Procfile.parse(Array(text.utf8), path: "Procfile")
}

/// The diagnostics `bytes` produce, or [] when they parse.
private func problems(_ bytes: [UInt8]) -> [Diagnostic] {
    do throws(Diagnostics) {
        _ = try Procfile.parse(bytes, path: "Procfile")
        return []
    } catch {
        return error.all
    }
}

private func problems(_ text: String) -> [Diagnostic] { problems(Array(text.utf8)) }

@Suite struct ProcfileTests {
    // MARK: Grammar

    @Test func parsesTypesInFileOrder() throws {
        let procfile = try parse("web: bundle exec rails s\nworker: sidekiq\n")
        #expect(procfile.path == "Procfile")
        #expect(procfile.types == [
            ProcessType(name: "web", command: "bundle exec rails s", line: 1),
            ProcessType(name: "worker", command: "sidekiq", line: 2),
        ])
    }

    @Test func trimsWhitespaceAroundNameAndCommand() throws {
        let procfile = try parse("  web \t:   run it  \t\n")
        #expect(procfile.types == [ProcessType(name: "web", command: "run it", line: 1)])
    }

    @Test func splitsAtTheFirstColon() throws {
        let procfile = try parse("web: env URL=http://x:80 sh -c 'a: b'")
        #expect(procfile["web"]?.command == "env URL=http://x:80 sh -c 'a: b'")
    }

    @Test func keepsTheCommandVerbatim() throws {
        // Quotes, $ and # belong to the shell, not to the Procfile.
        let procfile = try parse("web: echo \"$PORT\"  # shell comment\n")
        #expect(procfile["web"]?.command == "echo \"$PORT\"  # shell comment")
    }

    @Test func skipsBlankAndCommentLines() throws {
        let procfile = try parse("\n   \n\t\n# comment\n   # indented: comment\nweb: a\n")
        #expect(procfile.types == [ProcessType(name: "web", command: "a", line: 6)])
    }

    @Test func acceptsLettersDigitsUnderscoreAndDashInNames() throws {
        let procfile = try parse("Web_2-x: a\n9: b\n")
        #expect(procfile.types.map(\.name) == ["Web_2-x", "9"])
    }

    @Test func acceptsCRLFAndSkipsBOM() throws {
        let procfile = try Procfile.parse([0xEF, 0xBB, 0xBF] + Array("web: a\r\nworker: b\r\n".utf8), path: "Procfile")
        #expect(procfile.types == [
            ProcessType(name: "web", command: "a", line: 1),
            ProcessType(name: "worker", command: "b", line: 2),
        ])
    }

    @Test func decodesInvalidUTF8Lossily() throws {
        let procfile = try Procfile.parse(Array("web: echo ".utf8) + [0xFF, 0xC3], path: "Procfile")
        #expect(procfile["web"]?.command == "echo \u{FFFD}\u{FFFD}")
    }

    @Test func findsTypesByName() throws {
        let procfile = try parse("web: a\nworker: b\n")
        #expect(procfile.index(of: "worker") == 1)
        #expect(procfile.index(of: "clock") == nil)
        #expect(procfile["web"]?.command == "a")
        #expect(procfile["clock"] == nil)
    }

    // MARK: Errors

    @Test func rejectsDuplicateNames() {
        #expect(problems("web: a\nworker: b\nweb: c\n") == [
            Diagnostic("Procfile", line: 3, "duplicate process type \"web\" (first defined on line 1)"),
        ])
    }

    @Test func rejectsInvalidNames() {
        let found = problems("we b: a\nweb.1: b\n")
        #expect(found.map(\.line) == [1, 2])
        #expect(found[0].message.hasPrefix("invalid process type name \"we b\""))
        #expect(found[1].message.hasPrefix("invalid process type name \"web.1\""))
    }

    @Test func rejectsAMissingName() {
        #expect(problems("web: a\n  : run\n") == [Diagnostic("Procfile", line: 2, "missing process type name before \":\"")])
    }

    @Test func rejectsAMissingCommand() {
        #expect(problems("web:\nworker:  \t\n") == [
            Diagnostic("Procfile", line: 1, "missing command for process type \"web\""),
            Diagnostic("Procfile", line: 2, "missing command for process type \"worker\""),
        ])
    }

    @Test func rejectsALineWithoutAColon() {
        #expect(problems("web: a\n  just words \n") == [
            Diagnostic("Procfile", line: 2, "expected \"name: command\", got \"just words\""),
        ])
    }

    @Test func rejectsANulByteInTheCommand() {
        let found = problems(Array("web: a".utf8) + [0] + Array("b".utf8))
        #expect(found.map(\.line) == [1])
        #expect(found.first?.message.contains("NUL") == true)
    }

    @Test(arguments: ["", "\n\n", "# just a comment\n   \n", "\u{FEFF}"])
    func rejectsAProcfileWithoutTypes(text: String) {
        #expect(problems(text) == [
            Diagnostic("Procfile", line: 1, "no process types defined (expected lines like \"web: command\")"),
        ])
    }

    @Test func reportsEveryBadLineAndKeepsGoing() {
        let found = problems("web: a\nbad\nworker: b\n-: \nweb: c\nclock: d\n")
        #expect(found.map(\.line) == [2, 4, 5])
    }

    @Test func quotesOffendingTextSafely() throws {
        let line = "\u{1B}[31m\u{7F}\"" + String(repeating: "x", count: 500)
        let message = try #require(problems(line).first).message
        #expect(message.contains("\\u{1B}[31m\\u{7F}\\\"xx"))
        #expect(message.hasSuffix("…\""))
        #expect(message.count < 100)
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    // MARK: Files

    @Test func loadsAFile() throws {
        let path = "/tmp/swiftman-procfile-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("web: a\n".utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let procfile = try Procfile.load(path)
        #expect(procfile == Procfile(path: path, types: [ProcessType(name: "web", command: "a", line: 1)]))
    }

    @Test func reportsAMissingFileByPath() {
        let path = "/tmp/swiftman-missing-\(UUID().uuidString)/Procfile"
        do throws(Diagnostics) {
            _ = try Procfile.load(path)
            Issue.record("expected an error")
        } catch {
            #expect(error.all.count == 1)
            #expect(error.all.first?.source == path)
            #expect(error.all.first?.message.hasPrefix("cannot read") == true)
        }
    }

    // MARK: Robustness

    @Test func survivesRandomAndMutatedInput() {
        var random = SplitMix64(seed: 0x5EED_0001)
        let samples = ["web: a\nworker: b\n", "# c\r\n web : x:y \r\n", "\u{FEFF}a-b_1: sh -c 'q'\n"]
        let alphabet = Array(": #\n\r\t-_aZ9.\u{0}".utf8) + [0xFF, 0xC3, 0xEF, 0xBB, 0xBF, 0x1B]
        for _ in 0..<2000 {
            var bytes = Array(samples[Int(random.next() % 3)].utf8)
            if random.next() % 2 == 0 { bytes = [] }
            for _ in 0..<Int(random.next() % 64) {
                let byte = random.next() % 4 == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[Int(random.next() % UInt64(alphabet.count))]
                bytes.insert(byte, at: Int(random.next() % UInt64(bytes.count + 1)))
            }
            let lineCount = bytes.count { $0 == UInt8(ascii: "\n") } + 1
            do throws(Diagnostics) {
                let procfile = try Procfile.parse(bytes, path: "P")
                #expect(!procfile.types.isEmpty)
                #expect(procfile.types.allSatisfy { (1...lineCount).contains($0.line) && !$0.command.isEmpty })
            } catch {
                for problem in error.all {
                    #expect(problem.source == "P")
                    #expect(problem.line.map { (1...lineCount).contains($0) } == true, "\(problem)")
                    #expect(!problem.message.unicodeScalars.contains { $0.value < 0x20 }, "\(problem)")
                }
            }
        }
    }
}

/// A tiny seeded generator so failures reproduce.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
