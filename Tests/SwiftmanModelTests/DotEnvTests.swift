import Foundation
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

private func entries(_ bytes: [UInt8], _ lookup: [String: String] = [:]) throws(Diagnostics) -> [DotEnv.Entry] {
    try DotEnv.parse(bytes, path: ".env", lookup: { lookup[$0] })
}

/// `text` parsed into a dictionary.
private func env(_ text: String, _ lookup: [String: String] = [:]) throws(Diagnostics) -> [String: String] {
    var values: [String: String] = [:]
    for entry in try entries(Array(text.utf8), lookup) { values[entry.key] = entry.value }
    return values
}

/// The diagnostics `bytes` produce, or [] when they parse.
private func problems(_ bytes: [UInt8], _ lookup: [String: String] = [:]) -> [Diagnostic] {
    do throws(Diagnostics) {
        _ = try entries(bytes, lookup)
        return []
    } catch {
        return error.all
    }
}

private func problems(_ text: String) -> [Diagnostic] { problems(Array(text.utf8)) }

/// The warnings (skipped lines) of `text`, which must parse.
private func warnings(_ text: String) throws(Diagnostics) -> [DotEnv.Warning] {
    try DotEnv.parseFile(Array(text.utf8), path: ".env", lookup: { _ in nil }).warnings
}

/// Lines as the parser counts them: LF, CRLF or a lone CR ends one.
private func countLines(_ bytes: [UInt8]) -> Int {
    bytes.indices.count { bytes[$0] == 10 || (bytes[$0] == 13 && (bytes.index(after: $0) == bytes.endIndex || bytes[$0 + 1] != 10)) } + 1
}

/// A uniquely named file under /tmp, deleted by `remove`.
private struct TempFile {
    let path = "/tmp/swiftman-dotenv-\(UUID().uuidString).env"
    init(_ text: String) { _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct DotEnvTests {
    // MARK: Lines and keys

    @Test func parsesKeyValueLinesWithLineNumbers() throws {
        #expect(try entries(Array("A=1\nB=two\n".utf8)) == [
            DotEnv.Entry(key: "A", value: "1", line: 1),
            DotEnv.Entry(key: "B", value: "two", line: 2),
        ])
    }

    @Test func acceptsExportPrefix() throws {
        #expect(try env("export A=1\nexport\t  B=2\n") == ["A": "1", "B": "2"])
    }

    @Test func treatsExportWithoutKeyAsAKeyName() throws {
        #expect(try env("export=1\nexport =2\nexportC=3\n") == ["export": "2", "exportC": "3"])
    }

    @Test func skipsBlankAndCommentLines() throws {
        #expect(try entries(Array("\n   \n\t\n# A=1\n   # B=2\nC=3".utf8)) == [DotEnv.Entry(key: "C", value: "3", line: 6)])
    }

    @Test func trimsWhitespaceAroundKeyAndValue() throws {
        #expect(try env("  A \t=  hello   world \t\n") == ["A": "hello   world"])
    }

    @Test func acceptsKeysOfLettersDigitsAndUnderscores() throws {
        #expect(try env("_=1\n_a9=2\nAbC_1=3\n") == ["_": "1", "_a9": "2", "AbC_1": "3"])
    }

    /// python-dotenv, Ruby, Node and Go dotenv all accept ".", and a digit first;
    /// all but Ruby dotenv accept "-" (Ruby skips the line).
    @Test func acceptsKeysWithDotsDashesAndLeadingDigits() throws {
        #expect(try env("FOO.BAR=1\nOPTION-B=2\n1KEY=3\n-foo=4\n.x=5\nexport.FOO= 6\nexport a-b.c=7\n") ==
            ["FOO.BAR": "1", "OPTION-B": "2", "1KEY": "3", "-foo": "4", ".x": "5", "export.FOO": "6", "a-b.c": "7"])
    }

    /// A lone CR ends a line, as in every dotenv library; inside a quoted value it
    /// becomes LF, like CRLF.
    @Test func loneCarriageReturnEndsALine() throws {
        #expect(try entries(Array("A=1\rB=2\r\nC='x\ry'\rD=\"p\rq\"\r".utf8)) == [
            DotEnv.Entry(key: "A", value: "1", line: 1),
            DotEnv.Entry(key: "B", value: "2", line: 2),
            DotEnv.Entry(key: "C", value: "x\ny", line: 3),
            DotEnv.Entry(key: "D", value: "p\nq", line: 5),
        ])
    }

    /// Vertical tab and form feed are whitespace to every dotenv library.
    @Test func verticalTabAndFormFeedAreBlanks() throws {
        #expect(try entries(Array("\u{C}\n\u{B}A\u{C}=\u{B}x y\u{C}\nB=z\u{B}# c\n".utf8)) == [
            DotEnv.Entry(key: "A", value: "x y", line: 2),
            DotEnv.Entry(key: "B", value: "z", line: 3),
        ])
    }

    @Test func acceptsCRLFAndSkipsBOM() throws {
        let bytes = [0xEF, 0xBB, 0xBF] + Array("A=1\r\nB=\"x\r\ny\"\r\nC='z'\r\n".utf8)
        #expect(try entries(bytes) == [
            DotEnv.Entry(key: "A", value: "1", line: 1),
            DotEnv.Entry(key: "B", value: "x\ny", line: 2),
            DotEnv.Entry(key: "C", value: "z", line: 4),
        ])
    }

    @Test func lastDuplicateWins() throws {
        #expect(try entries(Array("A=1\nB=$A\nA=2\nC=$A\n".utf8)) == [
            DotEnv.Entry(key: "B", value: "1", line: 2),
            DotEnv.Entry(key: "A", value: "2", line: 3),
            DotEnv.Entry(key: "C", value: "2", line: 4),
        ])
    }

    // MARK: Values

    @Test func setsEmptyValues() throws {
        #expect(try env("A=\nB=   \nC=\"\"\nD=''\nE= # comment\n") == ["A": "", "B": "", "C": "", "D": "", "E": ""])
    }

    @Test func endsUnquotedValuesAtBlankHash() throws {
        #expect(try env("A=foo # comment\nB=x\t# tab\nC=a#b\nD=#x\nE=http://h/#frag\n") ==
            ["A": "foo", "B": "x", "C": "a#b", "D": "#x", "E": "http://h/#frag"])
    }

    @Test func keepsQuotesInsideUnquotedValues() throws {
        #expect(try env("A=it's \"ok\"\n") == ["A": "it's \"ok\""])
    }

    @Test func keepsSingleQuotedValuesLiteral() throws {
        #expect(try env(#"A=' a $B ${C} \n \\ # d'"# + "\n", ["B": "b", "C": "c"]) == ["A": #" a $B ${C} \n \\ # d"#])
    }

    /// `\'` does not end a single-quoted value (python-dotenv, Ruby, Node and Go
    /// dotenv agree); swiftman keeps both characters, as Ruby, Node and Go do.
    @Test func backslashQuoteDoesNotEndASingleQuotedValue() throws {
        #expect(try env(#"A='b\'c'"# + "\n" + #"B='it\'s' # c"# + "\n" + #"C='x\' junk'"# + "\n" + #"D='line one"# + "\n" + #"this is \'quoted\''"#) ==
            ["A": #"b\'c"#, "B": #"it\'s"#, "C": #"x\' junk"#, "D": "line one\n" + #"this is \'quoted\'"#])
    }

    /// ...unless the value could not end otherwise: then the last `\'` that a
    /// line end follows closes it, as the libraries' regular expressions do.
    @Test func singleQuotedValueMayEndInABackslash() throws {
        #expect(try entries(Array(#"A='C:\dir\'"#.utf8) + [10] + Array(#"B='y' # c"#.utf8) + [10] + Array(#"C='x\'  # c"#.utf8)) == [
            DotEnv.Entry(key: "A", value: #"C:\dir\"#, line: 1),
            DotEnv.Entry(key: "B", value: "y", line: 2),
            DotEnv.Entry(key: "C", value: #"x\"#, line: 3),
        ])
        #expect(problems(#"A='x\' junk"#).map(\.message) == [#"unterminated single quote in the value of "A""#])
    }

    @Test func expandsDoubleQuotedEscapes() throws {
        #expect(try env(#"A="1\n2\t3\r4\"5\\6\$B""#, ["B": "b"]) == ["A": "1\n2\t3\r4\"5\\6$B"])
    }

    @Test func keepsOtherBackslashSequences() throws {
        #expect(try env(#"A="\a\x\ \{""# + "\n" + #"B=C:\dir\n"#) == ["A": #"\a\x\ \{"#, "B": #"C:\dir\n"#])
    }

    @Test func keepsBlanksAndHashInsideQuotes() throws {
        #expect(try env("A=\"  a # b  \"\nB='  c # d  '\n") == ["A": "  a # b  ", "B": "  c # d  "])
    }

    @Test func letsQuotedValuesSpanLines() throws {
        #expect(try entries(Array("A=\"one\ntwo\"\nB='x\n\ny'\nC=3\n".utf8)) == [
            DotEnv.Entry(key: "A", value: "one\ntwo", line: 1),
            DotEnv.Entry(key: "B", value: "x\n\ny", line: 3),
            DotEnv.Entry(key: "C", value: "3", line: 6),
        ])
    }

    @Test func allowsBlanksAndCommentAfterClosingQuote() throws {
        #expect(try env("A=\"x\"   \nB='y' # c\nC=\"z\"#c\n") == ["A": "x", "B": "y", "C": "z"])
    }

    @Test func decodesInvalidUTF8Lossily() throws {
        #expect(try entries(Array("A=".utf8) + [0xFF, 0x41]) == [DotEnv.Entry(key: "A", value: "\u{FFFD}A", line: 1)])
    }

    // MARK: Interpolation

    @Test func interpolatesInUnquotedAndDoubleQuotedValues() throws {
        #expect(try env("A=1\nB=$A-${A}\nC=\"[$A ${A}]\"\n") == ["A": "1", "B": "1-1", "C": "[1 1]"])
    }

    @Test func interpolatesFromLookupAndUnknownIsEmpty() throws {
        #expect(try env("A=$HOME/x\nB=[${NOPE}$NOPE]\n", ["HOME": "/h"]) == ["A": "/h/x", "B": "[]"])
    }

    @Test func prefersEarlierKeysOverLookup() throws {
        #expect(try env("B=$A\nA=file\nC=$A\n", ["A": "env"]) == ["A": "file", "B": "env", "C": "file"])
    }

    @Test func resolvesSelfReferenceFromLookup() throws {
        #expect(try env("PATH=/x:$PATH\n", ["PATH": "/bin"]) == ["PATH": "/x:/bin"])
    }

    @Test func endsBareNamesAtNonNameCharacters() throws {
        #expect(try env("A=1\nB=$A.$A-x$A_\n") == ["A": "1", "B": "1.1-x"])
    }

    @Test func keepsDollarThatStartsNoReference() throws {
        #expect(try env("A=$\nB=a$ b\nC=$1\nD=5$\nE=\"$\"\n") == ["A": "$", "B": "a$ b", "C": "$1", "D": "5$", "E": "$"])
    }

    @Test func escapesDollarInUnquotedValues() throws {
        #expect(try env(#"A=\$HOME \${X}"#, ["HOME": "/h"]) == ["A": "$HOME ${X}"])
    }

    @Test func interpolatedValuesAreNotExpandedAgain() throws {
        #expect(try env("A='$B'\nB=x\nC=$A\n") == ["A": "$B", "B": "x", "C": "$B"])
    }

    @Test func colonDashDefaultAppliesWhenUnsetOrEmpty() throws {
        #expect(try env("E=\nA=${U:-d}\nB=${E:-d}\nC=${S:-d}\n", ["S": "s"]) == ["E": "", "A": "d", "B": "d", "C": "s"])
    }

    @Test func dashDefaultAppliesOnlyWhenUnset() throws {
        #expect(try env("E=\nA=${U-d}\nB=${E-d}\nC=${S-d}\n", ["S": "s"]) == ["E": "", "A": "d", "B": "", "C": "s"])
    }

    @Test func defaultsMayInterpolateAndNest() throws {
        #expect(try env("A=${U:-$HOME/${V:-${W-deep}}}\nB=\"${U:-a b}\"\nC=${U:-}\n", ["HOME": "/h"]) ==
            ["A": "/h/deep", "B": "a b", "C": ""])
    }

    @Test func allowsNestingUpToTheLimit() throws {
        let value = String(repeating: "${U:-", count: DotEnv.maxNesting) + "x" + String(repeating: "}", count: DotEnv.maxNesting)
        #expect(try env("A=\(value)\n") == ["A": "x"])
    }

    // MARK: Errors

    /// godotenv rejects it; the others skip it: they disagree, so it stays an error.
    @Test func rejectsALineWithoutEquals() {
        #expect(problems("A=1\n  just text \n") == [Diagnostic(".env", line: 2, "expected KEY=value, got \"just text\"")])
        #expect(problems("KEY: value\n").map(\.message) == ["expected KEY=value, got \"KEY: value\""])
    }

    /// A bare name sets nothing (python-dotenv, Node), "" (Ruby) or is rejected
    /// (godotenv; Ruby for `export NAME`): an error that says how to write "".
    @Test func rejectsABareNameWithAHint() {
        #expect(problems("A=1\nFOO\n  export   BAR \n") == [
            Diagnostic(".env", line: 2, "expected KEY=value, got \"FOO\" (for an empty value write \"FOO=\")"),
            Diagnostic(".env", line: 3, "expected KEY=value, got \"export   BAR\" (for an empty value write \"BAR=\")"),
        ])
    }

    @Test(arguments: ["A B", "é", "[x]", "'a'", "a#b", "\u{A0}a"])
    func rejectsInvalidKeys(key: String) {
        let found = problems("OK=1\n\(key)=x\n")
        #expect(found.map(\.line) == [2])
        #expect(found.first?.message.hasPrefix("invalid key \"\(key)\"") == true)
    }

    /// Every dotenv library ignores a line without a key (godotenv reads an
    /// empty name that its Load cannot set): skipped, with a warning.
    @Test func skipsALineWithoutKeyWithAWarning() throws {
        #expect(try entries(Array("OK=1\n  =x\n=\"y\"\nB=2\n".utf8)) == [
            DotEnv.Entry(key: "OK", value: "1", line: 1),
            DotEnv.Entry(key: "B", value: "2", line: 4),
        ])
        #expect(try warnings("OK=1\n  =x\n=\"y\"\nB=2\n") == [
            DotEnv.Warning(path: ".env", line: 2, #"skipped "=x": no key before "=" (the dotenv libraries ignore this line)"#),
            DotEnv.Warning(path: ".env", line: 3, #"skipped "=\"y\"": no key before "=" (the dotenv libraries ignore this line)"#),
        ])
        #expect(DotEnv.Warning(path: ".env", line: 2, "skipped").description == ".env:2: warning: skipped")
        #expect(try warnings("A=1\n\n# =x\nB='=y'\n").isEmpty)
    }

    @Test func rejectsUnterminatedDoubleQuoteAtOpeningLine() {
        #expect(problems("A=1\nB=\"abc\nC=2\n") == [
            Diagnostic(".env", line: 2, "unterminated double quote in the value of \"B\""),
        ])
    }

    @Test func rejectsUnterminatedSingleQuoteAtOpeningLine() {
        #expect(problems("A=1\n\nB='abc\nC=2\n") == [
            Diagnostic(".env", line: 3, "unterminated single quote in the value of \"B\""),
        ])
    }

    @Test func escapedQuoteDoesNotCloseAValue() {
        #expect(problems(#"A="abc\""#).map(\.message) == ["unterminated double quote in the value of \"A\""])
    }

    @Test func rejectsTextAfterClosingQuote() {
        #expect(problems("A=\"x\" y\nB='p\nq'z\n") == [
            Diagnostic(".env", line: 1, "unexpected text after closing quote: \"y\""),
            Diagnostic(".env", line: 3, "unexpected text after closing quote: \"z\""),
        ])
    }

    @Test func rejectsUnterminatedReference() {
        #expect(problems("A=1\nB=x${A\n") == [Diagnostic(".env", line: 2, "unterminated \"${A\" (missing \"}\")")])
        #expect(problems("B=${U:-${A}\n").map(\.message) == ["unterminated \"${U:-${A}\" (missing \"}\")"])
    }

    @Test(arguments: ["${bad name}", "${}", "${1A}", "${A:=x}", "${A:+x}", "${A!}"])
    func rejectsInvalidReferences(reference: String) {
        let found = problems("X=1\nA=\"\(reference)\"\n")
        #expect(found.map(\.line) == [2])
        #expect(found.first?.message.hasPrefix("invalid variable reference \"\(reference)\"") == true)
    }

    @Test func reportsReferenceErrorsOnTheirOwnLine() {
        #expect(problems("A=\"x\ny\n z${B\"\n").map(\.line) == [3])
        #expect(problems("A=\"x\n${U:-y\"\n").map(\.line) == [2])
        #expect(problems("A=\"x\n\n${U:-${1}}\"\n").map(\.line) == [3])
    }

    @Test func reportsErrorsInUnusedDefaults() {
        #expect(problems(Array("A=${S:-${bad name}}\n".utf8), ["S": "set"]).map(\.line) == [1])
    }

    @Test func rejectsNestingBeyondTheLimit() {
        let value = String(repeating: "${U:-", count: DotEnv.maxNesting + 1) + "x" + String(repeating: "}", count: DotEnv.maxNesting + 1)
        let found = problems("A=1\nB=\(value)\n")
        #expect(found.map(\.line) == [2])
        #expect(found.first?.message.contains("nested more than 32 levels") == true)
    }

    @Test func capsTheBytesInterpolationCopies() {
        let megabyte = String(repeating: "x", count: 1 << 20)
        let text = "A=\(megabyte)\n" + String(repeating: "B=$A\n", count: 20) + "bad line\n"
        let found = problems(text)
        // Lines 2…17 copy 16 MiB; line 18 goes over, and parsing stops there.
        #expect(found.map(\.line) == [18])
        #expect(found.first?.message.contains("more than 16 MiB") == true)
    }

    @Test func rejectsANulByteInAValue() {
        let found = problems(Array("# ok \0 here\nA=x".utf8) + [0] + Array("y\n".utf8))
        #expect(found.map(\.line) == [2])
        #expect(found.first?.message.contains("NUL") == true)
    }

    @Test func reportsEveryErrorAndResynchronises() {
        let found = problems("A B=x\nB=ok\nnoequals\nC=\"open\nD=${\nE=fine\nF='x' junk\n")
        #expect(found.map(\.line) == [1, 3, 4, 5, 7])
    }

    @Test func quotesOffendingTextSafely() throws {
        let message = try #require(problems("\u{1B}]0;x\u{7}\u{202E}" + String(repeating: "y", count: 10_000)).first).message
        #expect(message.contains("\\u{1B}]0;x\\u{7}\\u{202E}yy"))
        #expect(message.hasSuffix("…\""))
        #expect(message.count < 100)
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x202E })
    }

    // MARK: Files

    @Test func laterFilesOverrideEarlierOnes() {
        let first = TempFile("A=1\nB=1\n"), second = TempFile("B=2\nC=2\n")
        defer { first.remove(); second.remove() }
        #expect(DotEnv.load([first.path, second.path], environment: ["A": "env", "D": "env"]) == DotEnv.Loaded(values: ["A": "1", "B": "2", "C": "2"]))
    }

    @Test func interpolationSeesOwnKeysThenEarlierFilesThenEnvironment() {
        let first = TempFile("A=first\nB=first\n"), second = TempFile("A=second\nX=$A,$B,$C,$D\n")
        defer { first.remove(); second.remove() }
        let values = DotEnv.load([first.path, second.path], environment: ["A": "env", "B": "env", "C": "env"]).values
        #expect(values["X"] == "second,first,env,")
    }

    @Test func earlierFilesDoNotSeeLaterOnes() {
        let first = TempFile("X=[$B]\n"), second = TempFile("B=later\n")
        defer { first.remove(); second.remove() }
        #expect(DotEnv.load([first.path, second.path], environment: [:]).values["X"] == "[]")
    }

    @Test func reportsAMissingFileByPathAlongsideOtherErrors() {
        let bad = TempFile("A=1\nbad line\n")
        defer { bad.remove() }
        let missing = "/tmp/swiftman-missing-\(UUID().uuidString).env"
        let loaded = DotEnv.load([missing, bad.path], environment: [:])
        #expect(loaded.problems.map(\.source) == [missing, bad.path])
        #expect(loaded.problems.first?.message.hasPrefix("cannot read") == true)
        #expect(loaded.problems.map(\.line) == [nil, 2])
    }

    /// Warnings come back with the values (and with the errors) of every file,
    /// each naming its file and line; nothing is printed here.
    @Test func loadReturnsTheWarningsOfEveryFile() {
        let first = TempFile("A=1\n=skipped\n"), second = TempFile("B=2\n\n  = also\nbad line\n")
        defer { first.remove(); second.remove() }
        let loaded = DotEnv.load([first.path, second.path], environment: [:])
        #expect(loaded.warnings.map { "\($0.path):\($0.line)" } == ["\(first.path):2", "\(second.path):3"])
        #expect(loaded.problems.map(\.line) == [4])
        #expect(loaded.values == ["A": "1"])
    }

    // MARK: Robustness

    @Test func survivesRandomAndMutatedInput() {
        var random = SplitMix64(seed: 0x5EED_0002)
        let samples = [
            "A=1\nexport B=\"x $A\\n${C:-d}\" # c\nD='lit'\n",
            "K=${A:-${B-${C}}}\r\nL=$K\\$ #x\n",
            "\u{FEFF}M=\"multi\nline\"\nN='a\nb'\n",
        ]
        let alphabet = Array("=\"'\\${}:-#\n\r\t AZ_9e\u{0}".utf8) + [0xFF, 0xC3, 0xEF, 0xBB, 0xBF, 0x1B]
        for _ in 0..<2000 {
            var bytes = Array(samples[Int(random.next() % 3)].utf8)
            if random.next() % 2 == 0 { bytes = [] }
            for _ in 0..<Int(random.next() % 64) {
                let byte = random.next() % 4 == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[Int(random.next() % UInt64(alphabet.count))]
                bytes.insert(byte, at: Int(random.next() % UInt64(bytes.count + 1)))
            }
            let lineCount = countLines(bytes)
            do throws(Diagnostics) {
                for entry in try entries(bytes, ["A": "env"]) {
                    #expect((1...lineCount).contains(entry.line))
                    #expect(!entry.key.isEmpty && !entry.value.utf8.contains(0))
                }
            } catch {
                #expect(!error.all.isEmpty)
                for problem in error.all {
                    #expect(problem.source == ".env")
                    #expect(problem.line.map { (1...lineCount).contains($0) } == true, "\(problem)")
                    #expect(!problem.message.unicodeScalars.contains { $0.value < 0x20 }, "\(problem)")
                }
            }
        }
    }

    @Test func staysLinearOnHostileInput() {
        let huge = [UInt8]("A=".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 2_000_000)
        let deep = Array(("B=" + String(repeating: "${U:-", count: 200_000)).utf8)
        let quotes = Array(String(repeating: "A=\"\\\nB='\n", count: 100_000).utf8)
        let dollars = Array(("C=" + String(repeating: "$A${A}$ ${A-", count: 100_000)).utf8)
        // Many single quotes that their own `\'` ends; one long run of `\'` that never ends.
        let escapedQuotes = Array((String(repeating: "A='x\\'\n", count: 100_000) + "B='y").utf8)
        let backslashQuotes = Array(("A='" + String(repeating: "\\' ", count: 500_000) + "x").utf8)
        // "Billion laughs": each line doubles the previous value ten times over.
        let laughs = Array(("L0=lol\n" + (1...40).map { "L\($0)=" + String(repeating: "${L\($0 - 1)}", count: 10) + "\n" }.joined()).utf8)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(problems(huge).isEmpty)
            #expect(problems(deep).map(\.line) == [1])
            #expect(!problems(quotes).isEmpty)
            #expect(problems(dollars).map(\.line) == [1])
            #expect(problems(escapedQuotes).map(\.line) == [100_001])
            #expect(problems(backslashQuotes).map(\.message) == [#"unterminated single quote in the value of "A""#])
            #expect(problems(laughs).map(\.line) == [8])
        }
        // Linear work is well under a second even in debug builds; quadratic would take hours.
        #expect(elapsed < .seconds(10))
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
