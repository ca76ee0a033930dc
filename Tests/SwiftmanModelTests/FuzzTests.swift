// The fuzz slice that runs with `swift test`: every property in Fuzz/ over
// seed inputs, seeded mutations of them and generated valid inputs, bounded to
// a few seconds. The same properties, generators and seeds are compiled into
// the libFuzzer harness by scripts/fuzz (the long run; `scripts/fuzz --smoke`
// in CI). Reproduce a failure with the seed it prints:
//
//   SWIFTMAN_FUZZ_SEED=<seed> SWIFTMAN_FUZZ_ITERATIONS=<n> swift test --filter FuzzTests

import Foundation
import Testing
@testable import SwiftmanModel

private enum FuzzConfig {
    /// Inputs per target; CI keeps the default so the suite stays a few seconds.
    static let iterations = ProcessInfo.processInfo.environment["SWIFTMAN_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 20_000
    static let seed = ProcessInfo.processInfo.environment["SWIFTMAN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0001
}

private func bytes(_ s: String) -> [UInt8] { FuzzBytes.of(s) }
private func repeated(_ s: String, _ n: Int) -> [UInt8] { FuzzBytes.repeated(s, n) }

/// The seeds, then `count` inputs: mostly mutated seeds, some raw random bytes.
private func forEachInput(_ seeds: [[UInt8]], salt: UInt64, count: Int = FuzzConfig.iterations, _ body: ([UInt8]) -> Void) {
    for input in seeds { body(input) }
    var rng = Xorshift(FuzzConfig.seed ^ salt)
    for _ in 0..<count {
        if rng.below(10) == 0 {
            body(rng.bytes(rng.below(256)))
        } else {
            body(FuzzMutator.mutate(seeds[rng.below(seeds.count)], &rng, splicing: seeds))
        }
    }
}

/// `count` runs of a generated-input property on one seeded generator.
private func forEachGenerated(salt: UInt64, count: Int, _ findings: inout Findings, _ property: (inout Xorshift) -> String?) {
    var rng = Xorshift(FuzzConfig.seed ^ salt)
    for _ in 0..<count {
        let state = rng.state
        findings.check(property(&rng).map { "\($0) (generator state \(state))" }, [])
    }
}

/// Collects broken properties; records the first few with their input.
private struct Findings {
    let target: String
    var count = 0

    init(_ target: String) { self.target = target }

    mutating func check(_ problem: String?, _ input: @autoclosure () -> [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let problem else { return }
        count += 1
        if count <= 3 {
            let shown = input().isEmpty ? "" : "\ninput: \(FuzzBytes.show(input()))"
            Issue.record(Comment(rawValue: "\(target) (seed \(FuzzConfig.seed)): \(problem)\(shown)"), sourceLocation: sourceLocation)
        }
    }
}

/// Runs `body`, then expects it found nothing.
private func expectNoFindings(_ target: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: (inout Findings) -> Void) {
    var findings = Findings(target)
    body(&findings)
    #expect(findings.count == 0, "\(findings.count) inputs broke a property of \(target)", sourceLocation: sourceLocation)
}

/// Foundation's reading of JSON.escape's output agrees with the expected text
/// (the harness stays free of Foundation: it decodes with FuzzBytes.decodeJSONString).
/// JSONDecoder, not JSONSerialization: on Linux the latter drops a U+FEFF that
/// starts a string or follows an escape.
private func jsonDecoderProblem(_ input: [UInt8]) -> String? {
    let out = FuzzProperties.escaped(input)
    guard let decoded = try? JSONDecoder().decode(String.self, from: Data([0x22] + out + [0x22])) else {
        return "JSONDecoder rejects \(FuzzBytes.show(out))"
    }
    let expected = FuzzProperties.expectedJSONText(input)
    return decoded == expected ? nil : "JSONDecoder reads \(FuzzBytes.show(decoded)), expected \(FuzzBytes.show(expected))"
}

@Suite struct FuzzTests {
    @Test func procfileParserKeepsItsPromises() {
        expectNoFindings("Procfile.parse") { findings in
            forEachInput(FuzzSeeds.procfile, salt: 1) { findings.check(FuzzProperties.procfile($0), $0) }
        }
    }

    @Test func generatedProcfilesParseBack() {
        expectNoFindings("generated Procfile") { findings in  // ~6 types per file
            forEachGenerated(salt: 2, count: FuzzConfig.iterations / 4, &findings) { FuzzProperties.generatedProcfile(&$0) }
        }
    }

    @Test func dotEnvParserKeepsItsPromises() {
        var n = 0
        expectNoFindings("DotEnv.parse") { findings in
            forEachInput(FuzzSeeds.dotenv, salt: 3) {
                n += 1
                findings.check(FuzzProperties.dotenv($0, differential: n % 4 == 0), $0)
            }
        }
    }

    @Test func generatedDotEnvFilesParseBack() {
        expectNoFindings("generated .env") { findings in  // ~8 entries per file
            forEachGenerated(salt: 4, count: FuzzConfig.iterations / 4, &findings) { FuzzProperties.generatedDotEnv(&$0) }
        }
    }

    @Test func controlRequestsReencodeToThemselves() {
        expectNoFindings("ControlRequest.parse") { findings in
            forEachInput(FuzzSeeds.control, salt: 5) { findings.check(FuzzProperties.control($0), $0) }
            forEachGenerated(salt: 6, count: FuzzConfig.iterations / 4, &findings) { FuzzProperties.generatedRequest(&$0) }
        }
    }

    /// A new ControlRequest case does not compile until ControlRequestKind
    /// lists it and FuzzGenerate.request(_:_:) has a generator for it; this
    /// checks that each generator makes requests of its own kind, with a
    /// command word of its own, that parse back, and that the random mix
    /// reaches every kind.
    @Test func everyControlRequestCaseHasAGenerator() throws {
        var rng = Xorshift(FuzzConfig.seed ^ 12)
        var words: [ControlRequestKind: Set<String>] = [:]
        for kind in ControlRequestKind.allCases {
            for _ in 0..<50 {
                let request = FuzzGenerate.request(kind, &rng)
                #expect(ControlRequestKind(request) == kind, "the generator for \(kind) made \(request)")
                #expect(FuzzProperties.requestProblem(request) == nil)
                let line = FuzzGenerate.line(for: request, &rng)
                #expect((try? ControlRequest.parse(line)) == request, "\(FuzzBytes.show(line))")
                let word = try #require(request.encoded.split(separator: " ").dropFirst().first)
                words[kind, default: []].insert(String(word.filter { $0 != "\n" }))
            }
        }
        for kind in ControlRequestKind.allCases { #expect(words[kind]?.count == 1, "\(kind): command words \(words[kind] ?? [])") }
        #expect(Set(words.values.compactMap(\.first)).count == ControlRequestKind.allCases.count)
        var reached = Set<ControlRequestKind>()
        for _ in 0..<1000 { reached.insert(ControlRequestKind(FuzzGenerate.request(&rng))) }
        #expect(reached == Set(ControlRequestKind.allCases))
    }

    @Test func optionParsersKeepTheirPromises() {
        var n = 0
        expectNoFindings("Formation/PerType/PortPlan/Signals") { findings in
            forEachInput(FuzzSeeds.options, salt: 7) {
                n += 1
                findings.check(FuzzProperties.options($0, variant: n), $0)
            }
            forEachGenerated(salt: 8, count: FuzzConfig.iterations / 4, &findings) { FuzzProperties.generatedFormation(&$0) }
        }
    }

    @Test func jsonEscapeAlwaysYieldsAValidJSONString() {
        var n = 0
        expectNoFindings("JSON.escape") { findings in
            forEachInput(FuzzSeeds.json, salt: 9) {
                n += 1
                findings.check(FuzzProperties.jsonEscape($0) ?? (n % 4 == 0 ? jsonDecoderProblem($0) : nil), $0)
            }
        }
    }

    @Test func lineFramerPreservesEveryByte() {
        var n = 0
        expectNoFindings("LineFramer") { findings in  // ~8 operations per script
            forEachGenerated(salt: 10, count: FuzzConfig.iterations / 4, &findings) {
                n += 1
                return FuzzFramer.problem(FuzzFramer.script(&$0, json: n % 4 == 0))
            }
        }
    }

    /// What the harness runs for an input, on each target's seeds and
    /// mutations of them. (`scripts/fuzz --smoke` runs the hostile inputs.)
    @Test func harnessTargetsHoldOnTheirSeeds() {
        for target in FuzzTarget.allCases {
            #expect(FuzzTarget(selector: target.selector) == target && FuzzTarget(name: target.name) == target)
            #expect(!target.seeds.isEmpty)
            expectNoFindings("harness target \(target.name)") { findings in
                forEachInput(target.seeds, salt: 13 + UInt64(target.rawValue), count: FuzzConfig.iterations / 40) {
                    findings.check(target.check($0), $0)
                }
            }
        }
        #expect(FuzzSeeds.hostile.count == 13 && FuzzSeeds.hostile.allSatisfy { $0.1.count < 65_536 })
    }

    // MARK: Hostile inputs

    @Test func hostileProcfiles() throws {
        let start = ContinuousClock.now
        let mega = repeated("x", 1 << 20)
        #expect(try Procfile.parse(bytes("web: ") + mega, path: "P").types == [ProcessType(name: "web", command: String(repeating: "x", count: 1 << 20), line: 1)])
        let noColon = try #require(procfileErrors(mega))
        #expect(noColon.count == 1 && noColon[0].line == 1)
        #expect(noColon[0].message.hasPrefix("expected \"name: command\", got \"xxx") && noColon[0].message.utf8.count < 200)
        // A 1 MB name is a valid name; its duplicate is reported with a short message.
        let dup = try #require(procfileErrors(mega + bytes(": a\n") + mega + bytes(": b\n")))
        #expect(dup.count == 1 && dup[0].line == 2 && dup[0].message.utf8.count < 200)

        #expect(procfileErrors(bytes("web: a\0b"))?.first?.message == "command for process type \"web\" contains a NUL byte")
        #expect(procfileErrors(bytes("w\0b: a"))?.first?.message.hasPrefix("invalid process type name \"w\\u{0}b\"") == true)
        #expect(try Procfile.parse(bytes("web: a\rb\nworker: c\r"), path: "P").types
            == [ProcessType(name: "web", command: "a\rb", line: 1), ProcessType(name: "worker", command: "c", line: 2)])
        #expect(procfileErrors([0xFF] + bytes(": a"))?.first?.message.hasPrefix("invalid process type name \"\u{FFFD}\"") == true)
        // Many bad lines: one diagnostic each, in linear time.
        let many = try #require(procfileErrors(repeated("web: a\n", 50_000)))
        #expect(many.count == 49_999 && many.last?.line == 50_000)
        #expect(ContinuousClock.now - start < .seconds(60))
    }

    @Test func hostileDotEnvFiles() throws {
        let start = ContinuousClock.now
        let mega = repeated("x", 1 << 20)
        #expect(env(bytes("A='") + mega + bytes("'\nB=x #") + mega)
            == .ok([DotEnv.Entry(key: "A", value: String(repeating: "x", count: 1 << 20), line: 1), DotEnv.Entry(key: "B", value: "x", line: 2)]))
        #expect(envErrors(bytes("A=\"") + mega) == [Diagnostic(".env", line: 1, "unterminated double quote in the value of \"A\"")])
        #expect(envErrors(bytes("A='") + mega + bytes("\nB=1")) == [Diagnostic(".env", line: 1, "unterminated single quote in the value of \"A\"")])

        // 100,000 levels of ${…:-…}: rejected at the nesting limit, with the right line.
        let nested = Diagnostic(".env", line: 1, "variable defaults nested more than \(DotEnv.maxNesting) levels deep")
        #expect(envErrors(bytes("A=") + repeated("${B:-", 100_000) + repeated("}", 100_000)) == [nested])
        let multiline = bytes("A=\"") + repeated("${B:-\n", 10_000) + repeated("}", 10_000) + bytes("\"")
        #expect(envErrors(multiline) == [Diagnostic(".env", line: DotEnv.maxNesting + 1, nested.message)])
        let open = try #require(envErrors(bytes("A=") + repeated("${B:-", 100_000)))
        #expect(open.count == 1 && open[0].line == 1 && open[0].message.hasPrefix("unterminated \"${B:-${B:-"))
        #expect(open[0].message.utf8.count < 200)
        // Exactly at the limit is fine.
        let deepest = bytes("A=") + repeated("${B:-", DotEnv.maxNesting) + bytes("ok") + repeated("}", DotEnv.maxNesting)
        #expect(env(deepest) == .ok([DotEnv.Entry(key: "A", value: "ok", line: 1)]))

        #expect(envErrors(bytes("A=a\0b")) == [Diagnostic(".env", line: 1, "value of \"A\" contains a NUL byte")])
        #expect(envErrors(bytes("A\0=1"))?.first?.message.hasPrefix("invalid key \"A\\u{0}\"") == true)
        #expect(env(bytes("A=1\rB=2\nC=x\r"))
            == .ok([DotEnv.Entry(key: "A", value: "1", line: 1), DotEnv.Entry(key: "B", value: "2", line: 2), DotEnv.Entry(key: "C", value: "x", line: 3)]))
        #expect(env([0x41, 0x3D, 0xFF, 0xC3]) == .ok([DotEnv.Entry(key: "A", value: "\u{FFFD}\u{FFFD}", line: 1)]))
        #expect(envErrors([0xFF, 0x3D, 0x31])?.first?.message.hasPrefix("invalid key \"\u{FFFD}\"") == true)

        // Doubling values: interpolation gives up at its budget instead of exhausting memory.
        var doubling = "A=" + String(repeating: "x", count: 1024) + "\n"
        for i in 1...20 { doubling += "V\(i)=$\(i == 1 ? "A" : "V\(i - 1)")$\(i == 1 ? "A" : "V\(i - 1)")\n" }
        let budget = try #require(envErrors(bytes(doubling)))
        #expect(budget.count == 1 && budget[0].message.contains("giving up"))
        // Many unterminated references: one diagnostic per line, linear time.
        let many = try #require(envErrors(repeated("A=${B\n", 50_000)))
        #expect(many.count == 50_000 && many.last?.line == 50_000)
        #expect(ContinuousClock.now - start < .seconds(60))
    }

    @Test func hostileControlRequests() throws {
        func failure(_ line: [UInt8]) -> String? {
            do throws(ControlFailure) {
                _ = try ControlRequest.parse(line)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(failure(bytes("swiftman/1 stop ") + repeated("a", 10 << 20)) == "request too long")
        let longest = bytes("swiftman/1 scale web=1") + repeated(" ", ControlRequest.maxLength - 1 - 22)
        #expect(longest.count == ControlRequest.maxLength - 1 && failure(longest) == nil)
        #expect(failure(longest + [0x20]) == "request too long")
        let items = (0..<64).map { "t\($0)=\($0)" }
        #expect(try ControlRequest.parse(bytes("swiftman/1 scale " + items.joined(separator: " ")))
            == .scale((0..<64).map { ControlRequest.ScaleItem(type: "t\($0)", count: $0) }))
        #expect(failure(bytes("swiftman/1 scale " + (items + ["x=1"]).joined(separator: " "))) == "scale needs 1 to 64 TYPE=COUNT items")
        #expect(failure(bytes("swiftman/1 scale") + repeated(" w=1", 1000)) == "scale needs 1 to 64 TYPE=COUNT items")
        for bad: [UInt8] in [[0], [0x0D], [0x7F], [0xFF], [0x09]] {
            #expect(failure(bytes("swiftman/1 ps") + bad) == "request must be printable ASCII")
        }
        #expect(failure(bytes("swiftman/1 restart ") + repeated("a", 201)) == "restart needs one TYPE or TYPE.N")
        let unknown = failure(bytes("swiftman/1 ") + repeated("z", 3000)) ?? ""
        #expect(unknown.hasPrefix("unknown command \"zzz") && unknown.utf8.count < 100)
    }

    @Test func hostileFramerInput() {
        // A 1 MB line without a newline, fed in odd chunks, then flushed by close.
        var rng = Xorshift(FuzzConfig.seed ^ 11)
        let mega = repeated("€", 1 << 18) + repeated("x", 3)
        var ops: [FuzzFramer.Op] = []
        var at = 0
        while at < mega.count {
            let n = min(mega.count - at, 1 + rng.below(70_000))
            ops.append(.ingest(0, Array(mega[at..<(at + n)]), advance: 1))
            at += n
        }
        #expect(FuzzFramer.problem(limit: 64, json: false, ops: ops) == nil)
        #expect(FuzzFramer.problem(limit: 7, json: false, ops: [.ingest(1, repeated("😀", 100_000) + [10], advance: 0)]) == nil)
        #expect(FuzzFramer.problem(limit: 8, json: true, ops: [.ingest(0, repeated("\"\\\u{1}", 50_000) + [10], advance: 0), .waitAll]) == nil)
    }

    /// Found by scripts/fuzz (now fixed): DotEnv checked for NUL only after
    /// expansion, so a NUL in an unused default was accepted, and the same file
    /// parsed or failed depending on the environment.
    @Test func nulInAnUnusedDefaultIsAnErrorWhateverTheEnvironment() {
        let file: [UInt8] = bytes("E=${AC:-") + [0] + bytes("}")
        let unset = FuzzProperties.parseEnv(file) { _ in nil }
        let set = FuzzProperties.parseEnv(file) { $0 == "AC" ? "v" : nil }
        #expect(unset == .failed(Diagnostics([Diagnostic(".env", line: 1, "value of \"E\" contains a NUL byte")])))
        #expect(set == unset)
    }

    // MARK: The checks themselves catch what they are meant to

    @Test func checksRejectBrokenResults() {
        // Reconstruction: a lost byte, a lost line, a piece over the limit, a split character.
        let input = bytes("hello\nworld\n")
        func reconstruction(_ lines: [[UInt8]], _ input: [UInt8], flushes: Set<Int> = [], limit: Int) -> String? {
            FuzzFramer.reconstructionProblem(lines, input: input, flushes: flushes, limit: limit)
        }
        #expect(reconstruction([bytes("hello"), bytes("world")], input, limit: 8) == nil)
        #expect(reconstruction([bytes("hello"), bytes("wrld")], input, limit: 8) != nil)
        #expect(reconstruction([bytes("hello")], input, limit: 8) != nil)
        #expect(reconstruction([bytes("hello"), bytes(""), bytes("world")], input, limit: 8) != nil)
        #expect(reconstruction([bytes("hello"), bytes("world")], input, limit: 4) != nil)
        let euro = bytes("ab€")  // 61 62 e2 82 ac
        #expect(reconstruction([bytes("ab"), bytes("€")], euro, flushes: [5], limit: 4) == nil)
        #expect(reconstruction([Array(euro[0..<4]), [0xAC]], euro, flushes: [5], limit: 4) != nil)
        #expect(reconstruction([bytes("ab")], euro, limit: 4) != nil)
        // Framed lines: the exact layout, a valid JSON message.
        #expect(FuzzFramer.framedLine(bytes("web.1    | hi")[...], json: false)! == (0, bytes("hi")))
        #expect(FuzzFramer.framedLine(bytes("web.1 | hi")[...], json: false) == nil)
        let time = "2024-01-01T00:00:00.000Z"
        let line = bytes("{\"time\":\"\(time)\",\"process\":\"worker.1\",\"stream\":\"stdout\",\"message\":\"a\\\"\\u00e9\"}")
        #expect(FuzzFramer.framedLine(line[...], json: true)! == (1, bytes("a\"é")))
        #expect(FuzzFramer.framedLine(line.dropLast(), json: true) == nil)
        #expect(FuzzFramer.framedLine(bytes("{\"time\":\"\(time)\",\"process\":\"worker.1\",\"stream\":\"stdout\",\"message\":\"a\"b\"}")[...], json: true) == nil)
        // JSON: raw quotes and control bytes are not JSON; U+FFFD is expected per bad byte.
        #expect(FuzzProperties.jsonEscape(bytes("a\"b")) == nil)
        #expect((try? JSONDecoder().decode(String.self, from: Data(bytes("\"a\"b\"")))) == nil)
        #expect((try? JSONDecoder().decode(String.self, from: Data(bytes("\"a\u{1}b\"")))) == nil)
        for bad in ["a\"b", "a\u{1}b", "a\\", "\\x", "\\u12", "\\ud800", "\\udc00x", "\\ud800\\u0041"] {
            #expect(FuzzBytes.decodeJSONString(bytes(bad)[...]) == nil, "\(bad)")
        }
        #expect(FuzzBytes.decodeJSONString(bytes("\\ud83d\\ude00 \\/\\b\\f\\n\\r\\t\\u00E9")[...]) == bytes("😀 /\u{8}\u{C}\n\r\té"))
        #expect(FuzzBytes.decodeJSONString([0x61, 0xFF][...]) == nil)
        #expect(FuzzBytes.isValidUTF8(bytes("é€😀")) && !FuzzBytes.isValidUTF8([0xED, 0xA0, 0x80]) && !FuzzBytes.isValidUTF8([0xC0, 0xAF]))
        #expect(FuzzProperties.jsonEscape([0x5C, 0xEF, 0xBB, 0xBF]) == nil)  // U+FEFF after an escape survives
        #expect(jsonDecoderProblem([0x5C, 0xEF, 0xBB, 0xBF]) == nil)
        #expect(FuzzProperties.expectedJSONText([0x61, 0xE2, 0x82, 0x62, 0xFF]) == "a\u{FFFD}\u{FFFD}b\u{FFFD}")
        // Diagnostics: a line past the end, a control character, another file.
        func diagnostics(_ list: [Diagnostic]) -> String? { FuzzProperties.diagnosticsProblem(Diagnostics(list), path: "P", lines: 2) }
        #expect(diagnostics([Diagnostic("P", line: 2, "x")]) == nil)
        #expect(diagnostics([Diagnostic("P", line: 3, "x")]) != nil)
        #expect(diagnostics([Diagnostic("P", line: 0, "x")]) != nil)
        #expect(diagnostics([Diagnostic("P", line: 1, "\u{1B}[31m")]) != nil)
        #expect(diagnostics([Diagnostic("Q", line: 1, "x")]) != nil)
        #expect(diagnostics([]) != nil)
        // Procfile results: untrimmed command, bad name, duplicate, line out of order.
        func procfile(_ types: [ProcessType], lines: Int) -> String? {
            FuzzProperties.procfileResultProblem(Procfile(path: "P", types: types), lines: lines)
        }
        #expect(procfile([ProcessType(name: "web", command: "a", line: 1)], lines: 1) == nil)
        #expect(procfile([ProcessType(name: "web", command: "a ", line: 1)], lines: 1) != nil)
        #expect(procfile([ProcessType(name: "we b", command: "a", line: 1)], lines: 1) != nil)
        #expect(procfile([ProcessType(name: "w", command: "a", line: 1), ProcessType(name: "w", command: "b", line: 2)], lines: 2) != nil)
        #expect(procfile([ProcessType(name: "w", command: "a", line: 2), ProcessType(name: "v", command: "b", line: 1)], lines: 2) != nil)
        #expect(procfile([ProcessType(name: "w", command: "a", line: 3)], lines: 2) != nil)
        #expect(procfile([], lines: 1) != nil)
        // .env results: bad key, key twice, NUL, line past the end.
        func entry(_ key: String, _ value: String, _ line: Int) -> DotEnv.Entry { DotEnv.Entry(key: key, value: value, line: line) }
        func entries(_ list: [DotEnv.Entry], lines: Int) -> String? { FuzzProperties.envResultProblem(.ok(list), lines: lines) }
        #expect(entries([entry("A", "1", 1), entry("_b2", "", 2)], lines: 2) == nil)
        #expect(entries([entry("1A.b-c", "1", 1)], lines: 1) == nil)
        #expect(entries([entry("A B", "1", 1)], lines: 1) != nil)
        #expect(entries([entry("", "1", 1)], lines: 1) != nil)
        #expect(entries([entry("A", "1", 1), entry("A", "2", 2)], lines: 2) != nil)
        #expect(entries([entry("A", "a\0", 1)], lines: 1) != nil)
        #expect(entries([entry("A", "1", 2)], lines: 1) != nil)
        // Control: what parses must re-encode to itself; limits per case.
        #expect(FuzzProperties.control(bytes("swiftman/1   scale web=+007  w=0")) == nil)
        #expect(FuzzProperties.control(repeated("a", ControlRequest.maxLength)) == nil)
        #expect(FuzzProperties.requestProblem(.attach(target: "web", rows: 65536, cols: 0)) != nil)
        #expect(FuzzProperties.requestProblem(.scale([])) != nil)
        #expect(FuzzProperties.requestProblem(.stop("a b")) != nil)
    }
}

private func procfileErrors(_ input: [UInt8]) -> [Diagnostic]? {
    do throws(Diagnostics) {
        _ = try Procfile.parse(input, path: "P")
        return nil
    } catch {
        return error.all
    }
}

private func env(_ input: [UInt8]) -> FuzzProperties.EnvResult { FuzzProperties.parseEnv(input) { _ in nil } }

private func envErrors(_ input: [UInt8]) -> [Diagnostic]? {
    let errors = env(input).errors
    return errors.isEmpty ? nil : errors
}
