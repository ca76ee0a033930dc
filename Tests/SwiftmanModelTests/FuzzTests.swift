// A bounded slice of parser fuzzing that runs with `swift test`: a seeded
// xorshift generator mutates seed inputs (and generates valid ones), and every
// result is checked against the parser's properties. The long run with
// libFuzzer is scripts/fuzz. Reproduce a failure with the seed it prints:
//
//   SWIFTMAN_FUZZ_SEED=<seed> SWIFTMAN_FUZZ_ITERATIONS=<n> swift test --filter FuzzTests

import Foundation
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

// MARK: - Generator

private struct Xorshift {
    var state: UInt64

    init(_ seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
}

private enum FuzzConfig {
    /// Inputs per target; CI keeps the default so the suite stays a few seconds.
    static let iterations = ProcessInfo.processInfo.environment["SWIFTMAN_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 20_000
    static let seed = ProcessInfo.processInfo.environment["SWIFTMAN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0001
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func repeated(_ s: String, _ n: Int) -> [UInt8] { Array(String(repeating: s, count: n).utf8) }

/// Tokens the grammars care about, for insertion by the mutator.
private let tokens: [[UInt8]] = [
    "${", "}", ":-", "-", "$", "\\$", "\\\"", "\\\\", "\\n", "'", "\"", "#", " #", "=", ":", "\n", "\r\n", "\r", " ", "\t",
    "export ", "swiftman/1 ", "scale ", "restart ", "stop ", "signal ", "hello", "ps", "web=", "all=", "10000", "10001", "-1", "+0",
    "web: ", "PORT", "65535", "65536", "SIG", "TERM", "on-failure", "always", ",", "\u{FEFF}", "é", "€", "😀", "\u{2028}",
].map(bytes) + [[0], [0xFF], [0xC3], [0xE2, 0x82], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]]

/// One to six structured mutations of a seed: byte edits, token insertions,
/// deletions, duplications, long repeats, splices, truncation.
private func mutate(_ input: [UInt8], _ rng: inout Xorshift, seeds: [[UInt8]]) -> [UInt8] {
    var out = input
    for _ in 0...rng.below(6) {
        let at = rng.below(out.count + 1)
        switch rng.below(10) {
        case 0 where !out.isEmpty: out[rng.below(out.count)] = rng.byte()
        case 1 where !out.isEmpty: out[rng.below(out.count)] ^= UInt8(1) << UInt8(rng.below(8))
        case 2: out.insert(contentsOf: tokens[rng.below(tokens.count)], at: at)
        case 3 where !out.isEmpty: out.removeSubrange(at..<min(out.count, at + 1 + rng.below(16)))
        case 4 where !out.isEmpty:
            let start = rng.below(out.count)
            out.insert(contentsOf: out[start..<min(out.count, start + 1 + rng.below(32))], at: at)
        case 5:
            let token = tokens[rng.below(tokens.count)]
            for _ in 0..<(1 + rng.below(40)) { out.insert(contentsOf: token, at: at) }
        case 6:
            let other = seeds[rng.below(seeds.count)]
            out = Array(out[..<at]) + other[rng.below(other.count + 1)...]
        case 7: out.insert(contentsOf: rng.bytes(1 + rng.below(8)), at: at)
        case 8 where out.count > 1: out.removeLast(rng.below(out.count))
        default: out.insert([0x0A, 0x0D, 0x00, 0x22, 0x27, 0x5C, 0x24, 0x7B, 0x7D, 0x23, 0x3D, 0x3A, 0x20][rng.below(13)], at: at)
        }
    }
    return out
}

/// `iterations` inputs: mostly mutated seeds, some raw random bytes.
private func forEachInput(_ seeds: [String], salt: UInt64, _ body: ([UInt8]) -> Void) {
    let seedBytes = seeds.map(bytes)
    for input in seedBytes { body(input) }
    var rng = Xorshift(FuzzConfig.seed ^ salt)
    for _ in 0..<FuzzConfig.iterations {
        if rng.below(10) == 0 {
            body(rng.bytes(rng.below(256)))
        } else {
            body(mutate(seedBytes[rng.below(seedBytes.count)], &rng, seeds: seedBytes))
        }
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
            Issue.record(Comment(rawValue: "\(target) (seed \(FuzzConfig.seed)): \(problem)\ninput: \(show(input()))"),
                         sourceLocation: sourceLocation)
        }
    }
}

// MARK: - Properties (each returns what is wrong, or nil)

private func show<C: Collection>(_ bytes: C, limit: Int = 200) -> String where C.Element == UInt8 {
    var out = "\""
    for b in bytes.prefix(limit) {
        switch b {
        case 0x5C: out += "\\\\"
        case 0x22: out += "\\\""
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
        default: out += String(format: "\\x%02x", b)
        }
    }
    return out + (bytes.count > limit ? "\"… (\(bytes.count) bytes)" : "\"")
}

private func lineCount(_ bytes: [UInt8]) -> Int { bytes.count { $0 == 10 } + 1 }
/// In .env files a lone CR ends a line too.
private func envLineCount(_ bytes: [UInt8]) -> Int {
    bytes.indices.count { bytes[$0] == 10 || (bytes[$0] == 13 && ($0 + 1 == bytes.count || bytes[$0 + 1] != 10)) } + 1
}
private func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
/// .env blanks: also vertical tab and form feed.
private func isEnvBlank(_ b: UInt8) -> Bool { isBlank(b) || b == 0x0B || b == 0x0C }
private func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
private func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
private func isProcessName(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == 0x5F || $0 == 0x2D }
}
private func isKey(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
}
private func isControl(_ s: Unicode.Scalar) -> Bool { s.value < 0x20 || (0x7F...0x9F).contains(s.value) }

private func diagnosticsProblem(_ error: Diagnostics, path: String, lines: Int) -> String? {
    if error.all.isEmpty { return "empty Diagnostics thrown" }
    for p in error.all {
        if p.source != path { return "diagnostic names \(p.source)" }
        guard let line = p.line, (1...lines).contains(line) else { return "line \(p.line.map(String.init) ?? "nil") outside 1…\(lines): \(p)" }
        if p.message.unicodeScalars.contains(where: isControl) { return "control character in \(show(bytes(p.message)))" }
        if p.message.utf8.count > 1000 { return "message of \(p.message.utf8.count) bytes" }
    }
    return nil
}

private func procfileProblem(_ input: [UInt8]) -> String? {
    let lines = lineCount(input)
    let p: Procfile
    do throws(Diagnostics) {
        p = try Procfile.parse(input, path: "Procfile")
    } catch {
        return diagnosticsProblem(error, path: "Procfile", lines: lines)
    }
    return procfileResultProblem(p, lines: lines)
}

private func procfileResultProblem(_ p: Procfile, lines: Int) -> String? {
    if p.types.isEmpty { return "parsed with no process types" }
    var seen = Set<String>()
    var lastLine = 0
    for t in p.types {
        if !isProcessName(t.name) { return "invalid name \(show(bytes(t.name)))" }
        if !seen.insert(t.name).inserted { return "duplicate name \(t.name)" }
        let c = bytes(t.command)
        if c.isEmpty || isBlank(c[0]) || isBlank(c[c.count - 1]) { return "command not trimmed: \(show(c))" }
        if c.contains(0) || c.contains(10) { return "command with NUL or newline: \(show(c))" }
        if t.line <= lastLine || t.line > lines { return "line \(t.line) after \(lastLine), of \(lines)" }
        lastLine = t.line
    }
    // Written back with each type on its line, it parses to the same Procfile
    // (unless a command ends in CR, which reads back as a CRLF line ending).
    if p.types.contains(where: { $0.command.utf8.last == 0x0D }) { return nil }
    var text: [UInt8] = []
    var line = 1
    for t in p.types {
        text += [UInt8](repeating: 10, count: t.line - line) + bytes("\(t.name): \(t.command)\n")
        line = t.line + 1
    }
    guard let again = try? Procfile.parse(text, path: p.path) else { return "re-serialised \(show(text)) fails" }
    return again == p ? nil : "re-serialised \(show(text)) parses differently"
}

private enum EnvResult: Equatable {
    case ok([DotEnv.Entry])
    case failed(Diagnostics)

    var gaveUp: Bool {
        if case .failed(let d) = self { return d.all.contains { $0.message.contains("giving up") } }
        return false
    }
}

private func parseEnv(_ input: [UInt8], _ lookup: (String) -> String?) -> EnvResult {
    do throws(Diagnostics) {
        return .ok(try DotEnv.parse(input, path: ".env", lookup: lookup))
    } catch {
        return .failed(error)
    }
}

/// With `differential`, also parses with some variables set and checks that
/// errors, keys and lines do not depend on the environment.
private func dotenvProblem(_ input: [UInt8], differential: Bool) -> String? {
    let lines = envLineCount(input)
    let unset = parseEnv(input) { _ in nil }
    guard differential else { return resultProblem(unset, lines: lines) }
    let mixed = parseEnv(input) { (name: String) -> String? in name.utf8.count % 2 == 0 ? "v" : (name.utf8.count % 3 == 0 ? "" : nil) }
    if let problem = resultProblem(unset, lines: lines) ?? resultProblem(mixed, lines: lines) { return problem }
    if unset.gaveUp || mixed.gaveUp { return nil }
    let a = errors(unset), b = errors(mixed)
    if a != b { return "errors depend on the environment: \(a) vs \(b)" }
    if case .ok(let x) = unset, case .ok(let y) = mixed, x.map(\.key) != y.map(\.key) || x.map(\.line) != y.map(\.line) {
        return "entries depend on the environment"
    }
    return nil
}

private func errors(_ result: EnvResult) -> [Diagnostic] {
    guard case .failed(let d) = result else { return [] }
    return d.all
}

private func resultProblem(_ result: EnvResult, lines: Int) -> String? {
    switch result {
    case .failed(let error):
        return diagnosticsProblem(error, path: ".env", lines: lines)
    case .ok(let entries):
        var keys = Set<String>()
        var lastLine = 0
        for e in entries {
            if !isKey(e.key) { return "invalid key \(show(bytes(e.key)))" }
            if !keys.insert(e.key).inserted { return "key \(e.key) returned twice" }
            if e.line <= lastLine || e.line > lines { return "entry line \(e.line) after \(lastLine), of \(lines)" }
            if e.value.utf8.contains(0) { return "NUL in the value of \(e.key)" }
            lastLine = e.line
        }
        return nil
    }
}

private func controlProblem(_ input: [UInt8]) -> String? {
    let request: ControlRequest
    do throws(ControlFailure) {
        request = try ControlRequest.parse(input)
    } catch {
        let m = error.description
        // Sent back to the client: short, and nothing that could garble a terminal.
        if m.isEmpty || m.utf8.count > 512 || m.unicodeScalars.contains(where: isControl) { return "bad failure message \(show(bytes(m)))" }
        if input.count >= ControlRequest.maxLength && m != "request too long" { return "\(input.count) bytes failed with \"\(m)\"" }
        return nil
    }
    if input.count >= ControlRequest.maxLength { return "accepted \(input.count) bytes" }
    switch request {
    case .hello, .ps, .timings: break
    case .scale(let items):
        if !(1...64).contains(items.count) { return "\(items.count) scale items" }
        for item in items where !ControlRequest.isName(item.type) || item.type.utf8.contains(0x2E) || !(0...10_000).contains(item.count) {
            return "bad scale item \(item)"
        }
    case .restart(let name), .stop(let name):
        if !ControlRequest.isName(name) { return "bad target \(show(bytes(name)))" }
    case .signal(let name, let signal):
        if !ControlRequest.isName(name) || !(1...64).contains(signal.rawValue) { return "bad signal \(show(bytes(name))) \(signal.rawValue)" }
    case .attach(let name, let rows, let cols):
        if !ControlRequest.isName(name) || !(0...65535).contains(rows) || !(0...65535).contains(cols) {
            return "bad attach \(show(bytes(name))) \(rows) \(cols)"
        }
    }
    let encoded = bytes(request.encoded)
    guard encoded.last == 10 else { return "encoding lacks its newline" }
    let line = Array(encoded.dropLast())
    if line.count > input.count { return "re-encoding \(show(line)) is longer than the request" }
    guard let again = try? ControlRequest.parse(line) else { return "re-encoded \(show(line)) fails" }
    return again == request ? nil : "re-encoded \(show(line)) parses to \(again), not \(request)"
}

/// `variant` picks which per-type value parser to use (all three in turn).
private func optionsProblem(_ input: [UInt8], variant: Int) -> String? {
    let text = String(decoding: input, as: UTF8.self)
    func plain(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x2C && $0 != 0x3D } }
    do throws(Diagnostic) {
        let f = try Formation.parse(text, source: "-m")
        if let all = f.all, !(0...10_000).contains(all) { return "all=\(all)" }
        if f.all == nil && f.counts.isEmpty { return "empty formation" }
        for (name, count) in f.counts {
            if name.isEmpty || name == "all" || name.trimmingSpaces != name || name.contains(where: { $0 == "," || $0 == "=" }) {
                return "bad type \(show(bytes(name)))"
            }
            if !(0...10_000).contains(count) { return "count \(count)" }
        }
        if f.counts.keys.allSatisfy(plain) {
            let items = (f.all.map { ["all=\($0)"] } ?? []) + f.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            if (try? Formation.parse(items.joined(separator: ","), source: "-m")) != f { return "formation does not round-trip" }
        }
    } catch {
        if error.source != "-m" || error.line != nil || error.message.isEmpty { return "bad diagnostic \(error)" }
    }

    func perType<V: Equatable & Sendable>(_ fallback: V, _ parse: (String) -> V?, _ encode: (V) -> String) -> String? {
        do throws(Diagnostic) {
            let p = try PerType.parse(text, default: fallback, source: "--opt", value: parse)
            for (name, value) in p.overrides where name.isEmpty || name == "all" || p[name] != value {
                return "bad override \(show(bytes(name)))"
            }
            if p.overrides.keys.allSatisfy(plain) {
                let items = ["all=" + encode(p.fallback)] + p.overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\(encode($0.value))" }
                let again = try? PerType.parse(items.joined(separator: ","), default: fallback, source: "--opt", value: parse)
                if again != p { return "per-type option does not round-trip" }
            }
        } catch {
            if error.source != "--opt" || error.line != nil { return "bad diagnostic \(error)" }
        }
        return nil
    }
    let perTypeProblem = switch variant % 3 {
    case 0: perType(RestartPolicy.onFailure, { RestartPolicy(rawValue: $0) }, \.rawValue)
    case 1: perType(Signal.terminate, { Signals.parse($0) }, { String($0.rawValue) })
    default: perType(10, { Int($0).flatMap { $0 >= 0 ? $0 : nil } }, { String($0) })
    }
    if let perTypeProblem { return perTypeProblem }
    if let n = Signals.parse(text), !(1...64).contains(n.rawValue) { return "signal \(n.rawValue)" }

    let flag = try? PortPlan.basePort(flag: text, envFiles: [:], inherited: [:])
    if let flag, !(1...65535).contains(flag) || Int(text.trimmingSpaces) != flag { return "port \(flag)" }
    if (try? PortPlan.basePort(flag: nil, envFiles: ["PORT": text], inherited: ["PORT": "x"])) != flag {
        return "PORT in an env file read differently from -p"
    }
    if (try? PortPlan.basePort(flag: "80", envFiles: ["PORT": text], inherited: ["PORT": text])) != 80 { return "-p does not win" }
    return nil
}

/// What JSON.escape must produce once decoded: valid UTF-8 kept, each byte
/// of an ill-formed sequence replaced by U+FFFD.
private func expectedJSONText(_ input: [UInt8]) -> String {
    var scalars = String.UnicodeScalarView()
    var i = 0
    while i < input.count {
        let b = input[i]
        let length = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0
        if length > 0, i + length <= input.count,
           let s = String(validating: input[i..<(i + length)], as: UTF8.self), s.unicodeScalars.count == 1 {
            scalars.append(s.unicodeScalars.first!)
            i += length
        } else {
            scalars.append("\u{FFFD}")
            i += 1
        }
    }
    return String(scalars)
}

/// JSON.escape's output for `input`.
private func escaped(_ input: [UInt8]) -> [UInt8] {
    let queue = OutputQueue()
    let padded = [0x22] + input + [0x22]  // escaping must stay within `count`
    padded.withUnsafeBufferPointer { JSON.escape($0.baseAddress! + 1, input.count, into: queue) }
    return queue.contents
}

private func jsonEscapeProblem(_ input: [UInt8]) -> String? {
    let out = escaped(input)
    if String(validating: out, as: UTF8.self) == nil { return "output is not UTF-8: \(show(out))" }
    if out.contains(where: { $0 < 0x20 }) { return "raw control byte in \(show(out))" }
    // JSONDecoder, not JSONSerialization: on Linux the latter drops a U+FEFF
    // that starts a string or follows an escape.
    guard let decoded = try? JSONDecoder().decode(String.self, from: Data([0x22] + out + [0x22])) else {
        return "not a JSON string: \(show(out))"
    }
    let expected = expectedJSONText(input)
    return decoded == expected ? nil : "decodes to \(show(bytes(decoded))), expected \(show(bytes(expected)))"
}

// MARK: LineFramer

private enum FramerOp {
    case ingest(Int, [UInt8], advance: Int64)
    case flush(Int)
    case close(Int)
    case flushDue(advance: Int64)
    /// Waits for each partial-line deadline in turn.
    case waitAll
}

private let framerNames = ["web.1", "worker.1"]

/// The stream and content (without its newline) of one output line.
private func framedLine(_ line: ArraySlice<UInt8>, json: Bool) -> (Int, [UInt8])? {
    if !json {
        for (s, name) in framerNames.enumerated() {
            let prefix = bytes(name + String(repeating: " ", count: 8 - name.utf8.count) + " | ")
            if line.starts(with: prefix) { return (s, Array(line.dropFirst(prefix.count))) }
        }
        return nil
    }
    guard let object = try? JSONDecoder().decode([String: String].self, from: Data(line)),
          let process = object["process"], let s = framerNames.firstIndex(of: process),
          object["stream"] == "stdout", object["time"]?.utf8.count == 24, let message = object["message"], object.count == 4
    else { return nil }
    return (s, bytes(message))
}

/// Rebuilds a stream's input from its output lines: a line's newline is the
/// input's own unless the line is a piece of a longer line or a flushed
/// partial. Checks piece sizes and that pieces split between characters.
private func reconstructionProblem(_ lines: [[UInt8]], input: [UInt8], flushes: Set<Int>, limit: Int) -> String? {
    var cursor = 0
    for (n, content) in lines.enumerated() {
        let end = cursor + content.count
        guard end <= input.count, input[cursor..<end].elementsEqual(content) else {
            return "line \(n) \(show(content)) is not the input at \(cursor): \(show(input[cursor...]))"
        }
        if content.count > limit { return "line \(n) has \(content.count) bytes, limit \(limit)" }
        if content.isEmpty {
            guard end < input.count, input[end] == 10 else { return "empty line \(n) not in the input" }
            cursor = end + 1
        } else if flushes.contains(end) {
            cursor = end
        } else if end < input.count, input[end] == 10 {
            cursor = end + 1
        } else {
            guard end < input.count else { return "line \(n) ends the input without a newline or flush" }
            guard content.count >= limit - 3 else { return "piece \(n) of \(content.count) bytes, limit \(limit)" }
            if input[end] & 0xC0 == 0x80, !input[(end - 3)..<end].allSatisfy({ $0 & 0xC0 == 0x80 }) {
                return "piece \(n) splits a character at \(end)"
            }
            cursor = end
        }
    }
    return cursor == input.count ? nil : "input from \(cursor) never emitted: \(show(input[cursor...]))"
}

/// Runs `ops` on a framer with two streams and checks every line it writes.
private func framerProblem(limit: Int, json: Bool, ops: [FramerOp]) -> String? {
    let queue = OutputQueue()
    let framer = LineFramer(queue: queue, style: OutputStyle(color: false, timestamps: false, format: json ? .json : .text),
                            lineLimit: limit, quietPeriod: 100, maxPartialAge: 1000)
    let labels = framerNames.enumerated().map { framer.addLabel(name: $1, typeIndex: $0) }
    for s in 0..<2 { framer.open(stream: 10 + s, label: labels[s]) }
    var inputs: [[UInt8]] = [[], []]
    var pieces: [[[UInt8]]] = [[], []]
    var flushes: [Set<Int>] = [[], []]
    var boundary = [0, 0]  // input offset after the last newline or flush
    var now: Int64 = 0
    func pending(_ s: Int) -> Bool { boundary[s] < inputs[s].count }
    /// The streams of the lines written since the last call.
    func drain() -> [Int]? {
        let new = queue.contents
        queue.discard()
        var streams: [Int] = []
        for line in new.split(separator: 10, omittingEmptySubsequences: false).dropLast() {
            guard let (s, content) = framedLine(line, json: json) else { return nil }
            streams.append(s)
            pieces[s].append(content)
        }
        return streams
    }
    func flushed(_ streams: [Int]?, expected: Set<Int>) -> String? {
        guard let streams else { return "malformed output line" }
        guard Set(streams) == expected, streams.count == expected.count else {
            return "flush wrote lines of \(streams), expected \(expected.sorted())"
        }
        for s in streams {
            flushes[s].insert(inputs[s].count)
            boundary[s] = inputs[s].count
        }
        return nil
    }
    for op in ops {
        switch op {
        case .ingest(let s, let chunk, let advance):
            now += advance
            let storage = chunk.isEmpty ? [0] : chunk
            storage.withUnsafeBufferPointer { framer.ingest(stream: 10 + s, $0.baseAddress!, chunk.count, now: now) }
            if let nl = chunk.lastIndex(of: 10) { boundary[s] = inputs[s].count + nl + 1 }
            inputs[s] += chunk
            guard let streams = drain() else { return "malformed output line" }
            if streams.contains(where: { $0 != s }) { return "ingest into \(s) wrote lines of \(streams)" }
        case .flush(let s):
            framer.flushPartial(stream: 10 + s)
            if let problem = flushed(drain(), expected: pending(s) ? [s] : []) { return problem }
        case .close(let s):
            framer.close(stream: 10 + s)
            if let problem = flushed(drain(), expected: pending(s) ? [s] : []) { return problem }
            framer.open(stream: 10 + s, label: labels[s])
        case .flushDue(let advance):
            now += advance
            framer.flushDuePartials(now: now)
            guard let streams = drain() else { return "malformed output line" }
            if !streams.allSatisfy(pending) { return "flushDuePartials wrote \(streams) with nothing pending" }
            if let problem = flushed(streams, expected: Set(streams)) { return problem }
        case .waitAll:
            var rounds = 0
            while let deadline = framer.nextPartialDeadline {
                rounds += 1
                if rounds > 4 { return "nextPartialDeadline never clears" }
                if deadline > now + 1000 { return "deadline \(deadline) beyond maxPartialAge after \(now)" }
                now = max(now, deadline)
                framer.flushDuePartials(now: now)
                guard let streams = drain() else { return "malformed output line" }
                if !streams.allSatisfy(pending) { return "flushDuePartials wrote \(streams) with nothing pending" }
                if let problem = flushed(streams, expected: Set(streams)) { return problem }
            }
            if pending(0) || pending(1) { return "a partial line has no deadline" }
        }
    }
    for s in 0..<2 {
        framer.close(stream: 10 + s)
        if let problem = flushed(drain(), expected: pending(s) ? [s] : []) { return problem }
    }
    for s in 0..<2 {
        if json && inputs[s].contains(where: { $0 >= 0x80 }) { continue }  // U+FFFD replacement: not byte-exact
        if let problem = reconstructionProblem(pieces[s], input: inputs[s], flushes: flushes[s], limit: limit) {
            return "stream \(s): \(problem)"
        }
    }
    return nil
}

/// Chunks rich in newlines, multi-byte characters, invalid bytes and runs
/// longer than the line limit.
private func framerChunk(_ rng: inout Xorshift, limit: Int) -> [UInt8] {
    let parts: [[UInt8]] = [bytes("a"), bytes("hello"), bytes(" "), [10], [10], [13, 10], bytes("é"), bytes("€"), bytes("😀"),
                            [0xFF], [0x80], [0xE2, 0x82], [0], [0x22], [0x5C], [0x1B]]
    var out: [UInt8] = []
    for _ in 0..<rng.below(12) {
        switch rng.below(8) {
        case 0: out += repeated("x", rng.below(3 * limit))
        case 1: out += repeated("€", rng.below(limit))
        case 2: out += rng.bytes(rng.below(8))
        default: out += parts[rng.below(parts.count)]
        }
    }
    return out
}

private func framerScript(_ rng: inout Xorshift, limit: Int) -> [FramerOp] {
    (0..<(1 + rng.below(16))).map { _ in
        switch rng.below(12) {
        case 0: return .flush(rng.below(2))
        case 1: return .close(rng.below(2))
        case 2: return .flushDue(advance: Int64(rng.below(1200)))
        case 3: return .waitAll
        default: return .ingest(rng.below(2), framerChunk(&rng, limit: limit), advance: Int64(rng.below(120)))
        }
    }
}

// MARK: - Valid inputs built from known contents

/// A .env file written from entries (every quoting style, interpolation,
/// comments, CRLF, BOM) and the entries parsing must return.
private struct GeneratedEnv {
    var bytes: [UInt8] = []
    var expected: [DotEnv.Entry] = []

    static let environment = ["ENV_A": "from env", "ENV_EMPTY": "", "ENV_U": "é\u{1F600}"]

    enum Part {
        case literal([UInt8])
        /// `$NAME`, `${NAME}`, `${NAME-default}`, `${NAME:-default}`.
        case reference(String, form: Int, fallback: [UInt8])
    }

    init(_ rng: inout Xorshift) {
        let eol: [UInt8] = rng.below(3) == 0 ? [13, 10] : [10]
        if rng.below(4) == 0 { bytes += [0xEF, 0xBB, 0xBF] }
        var line = 1
        var defined: [String: String] = [:]
        var all: [DotEnv.Entry] = []
        for _ in 0..<rng.below(16) {
            if rng.below(6) == 0 {
                bytes += Self.blanks(&rng) + (rng.below(2) == 0 ? Array("# ".utf8) + Self.text(&rng, avoiding: [10, 13]) : []) + eol
                line += 1
                continue
            }
            let known = defined.keys.sorted()
            let key = !known.isEmpty && rng.below(4) == 0 ? known[rng.below(known.count)] : Self.key(&rng)
            var parts: [Part] = []
            for _ in 0..<rng.below(5) {
                if rng.below(3) == 0 {
                    let names = known + Self.environment.keys.sorted() + ["UNSET_1", "u"]
                    parts.append(.reference(names[rng.below(names.count)], form: rng.below(4), fallback: Self.text(&rng, avoiding: [0, 0x7D])))
                } else {
                    parts.append(.literal(Self.text(&rng, avoiding: [0])))
                }
            }
            var value: [UInt8] = []
            for part in parts {
                switch part {
                case .literal(let b):
                    value += b
                case .reference(let name, let form, let fallback):
                    let current = defined[name] ?? Self.environment[name]
                    switch form {
                    case 0, 1: value += Array((current ?? "").utf8)
                    case 2: value += current.map { Array($0.utf8) } ?? fallback
                    default: value += current.map { $0.isEmpty ? fallback : Array($0.utf8) } ?? fallback
                    }
                }
            }
            let style = rng.below(3)
            let raw = rng.below(2) == 0
            let encoded = (style == 0 ? Self.singleQuoted(parts) : nil) ?? (style == 1 ? Self.unquoted(parts) : nil)
                ?? Self.doubleQuoted(parts, eol: eol, rawNewlines: raw)
            var entry = Self.blanks(&rng)
            if rng.below(4) == 0 { entry += Array("export ".utf8) + Self.blanks(&rng) }
            entry += Array(key.utf8) + Self.blanks(&rng) + [0x3D]
            if encoded.first != 0x23 { entry += Self.blanks(&rng) }
            entry += encoded + Self.blanks(&rng)
            if rng.below(4) == 0 { entry += [0x20, 0x23] + Self.text(&rng, avoiding: [10, 13]) }
            let string = String(decoding: value, as: UTF8.self)
            all.append(DotEnv.Entry(key: key, value: string, line: line))
            defined[key] = string
            bytes += entry + eol
            line += entry.count { $0 == 10 } + 1
        }
        if bytes.suffix(eol.count).elementsEqual(eol), rng.below(2) == 0 { bytes.removeLast(eol.count) }
        var last: [String: Int] = [:]
        for (i, e) in all.enumerated() { last[e.key] = i }
        expected = all.indices.filter { last[all[$0].key] == $0 }.map { all[$0] }
    }

    static func blanks(_ rng: inout Xorshift) -> [UInt8] { (0..<rng.below(3)).map { _ in rng.below(2) == 0 ? 0x20 : 0x09 } }

    static func key(_ rng: inout Xorshift) -> String {
        if rng.below(10) == 0 { return "export" }
        let start = Array("ABCXYZabc_".utf8), rest = Array("AZaz09_".utf8)
        var key = [start[rng.below(start.count)]]
        for _ in 0..<rng.below(6) { key.append(rest[rng.below(rest.count)]) }
        return String(decoding: key, as: UTF8.self)
    }

    static func text(_ rng: inout Xorshift, avoiding: [UInt8]) -> [UInt8] {
        let interesting: [[UInt8]] = [
            [0x20], [0x09], [0x0A], [0x0D], [0x22], [0x27], [0x5C], [0x24], [0x7B], [0x7D], [0x23], [0x3D], [0x3A], [0x2D],
            Array("ab".utf8), Array("x y".utf8), Array("é".utf8), Array("€".utf8), Array("😀".utf8),
            [0xFF], [0xC3], [0xE2, 0x82], [0x80], [0x01], [0x7F], Array("\\n".utf8), Array("${".utf8), Array("$A".utf8),
        ]
        var out: [UInt8] = []
        for _ in 0..<rng.below(7) { out += rng.below(3) == 0 ? [rng.byte()] : interesting[rng.below(interesting.count)] }
        return out.filter { !avoiding.contains($0) }
    }

    static func singleQuoted(_ parts: [Part]) -> [UInt8]? {
        var body: [UInt8] = []
        for part in parts {
            guard case .literal(let b) = part else { return nil }
            body += b
        }
        // A lone CR would become LF; a final backslash would not end the value.
        if body.contains(0x27) || body.contains(13) || body.last == 0x5C { return nil }
        return [0x27] + body + [0x27]
    }

    static func unquoted(_ parts: [Part]) -> [UInt8]? {
        var out: [UInt8] = []
        for (i, part) in parts.enumerated() {
            switch part {
            case .literal(let b):
                for byte in b { out += byte == 0x24 ? [0x5C, 0x24] : [byte] }
            case .reference(let name, let form, _):
                guard form < 2, out.last != 0x5C else { return nil }
                out += form == 0 && !nextIsNameByte(parts, after: i) ? Array("$\(name)".utf8) : Array("${\(name)}".utf8)
            }
        }
        if out.contains(10) || out.contains(13) { return nil }
        if let first = out.first, first == 0x22 || first == 0x27 || isEnvBlank(first) { return nil }
        if let last = out.last, isEnvBlank(last) { return nil }
        for i in out.indices.dropFirst() where out[i] == 0x23 && isEnvBlank(out[i - 1]) { return nil }
        return out
    }

    static func doubleQuoted(_ parts: [Part], eol: [UInt8], rawNewlines: Bool) -> [UInt8] {
        func escaped(_ b: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            for byte in b {
                switch byte {
                case 0x5C, 0x22, 0x24: out += [0x5C, byte]
                case 0x0D: out += [0x5C, 0x72]
                case 0x0A: out += rawNewlines ? eol : [0x5C, 0x6E]
                default: out.append(byte)
                }
            }
            return out
        }
        var out: [UInt8] = [0x22]
        for (i, part) in parts.enumerated() {
            switch part {
            case .literal(let b): out += escaped(b)
            case .reference(let name, let form, let fallback):
                switch form {
                case 0: out += Array((nextIsNameByte(parts, after: i) ? "${\(name)}" : "$\(name)").utf8)
                case 1: out += Array("${\(name)}".utf8)
                case 2: out += Array("${\(name)-".utf8) + escaped(fallback) + [0x7D]
                default: out += Array("${\(name):-".utf8) + escaped(fallback) + [0x7D]
                }
            }
        }
        return out + [0x22]
    }

    static func nextIsNameByte(_ parts: [Part], after i: Int) -> Bool {
        for part in parts[(i + 1)...] {
            guard case .literal(let next) = part else { return false }
            if let b = next.first { return isLetter(b) || isDigit(b) || b == 0x5F }
        }
        return false
    }
}

private func name(_ rng: inout Xorshift, maxLength: Int, dots: Bool) -> String {
    let alphabet = Array((dots ? "azAZ09_-.w" : "azAZ09_-w").utf8)
    return String(decoding: (0...rng.below(maxLength)).map { _ in alphabet[rng.below(alphabet.count)] }, as: UTF8.self)
}

/// A Procfile written from types and the types parsing must return.
private func generatedProcfile(_ rng: inout Xorshift) -> ([UInt8], [ProcessType]) {
    var file: [UInt8] = []
    var types: [ProcessType] = []
    let eol: [UInt8] = rng.below(3) == 0 ? [13, 10] : [10]
    if rng.below(4) == 0 { file += [0xEF, 0xBB, 0xBF] }
    var line = 1
    var names = Set<String>()
    for _ in 0..<(1 + rng.below(12)) {
        if rng.below(5) == 0 {
            file += GeneratedEnv.blanks(&rng) + (rng.below(2) == 0 ? [0x23] + GeneratedEnv.text(&rng, avoiding: [10, 13]) : []) + eol
            line += 1
            continue
        }
        var typeName = name(&rng, maxLength: 10, dots: false)
        if !names.insert(typeName).inserted {
            typeName = "t\(names.count)"
            names.insert(typeName)
        }
        var command = GeneratedEnv.text(&rng, avoiding: [0, 10, 13])
        while let b = command.first, isBlank(b) { command.removeFirst() }
        while let b = command.last, isBlank(b) { command.removeLast() }
        if command.isEmpty { command = bytes("run") }
        file += GeneratedEnv.blanks(&rng) + bytes(typeName) + GeneratedEnv.blanks(&rng) + [0x3A] + GeneratedEnv.blanks(&rng)
        file += command + GeneratedEnv.blanks(&rng) + eol
        types.append(ProcessType(name: typeName, command: String(decoding: command, as: UTF8.self), line: line))
        line += 1
    }
    if types.isEmpty {
        file += bytes("web: run") + eol
        types.append(ProcessType(name: "web", command: "run", line: line))
    }
    if rng.below(2) == 0 { file.removeLast(eol.count) }
    return (file, types)
}

/// A valid request and a line for it, with runs of spaces between words.
private func generatedRequest(_ rng: inout Xorshift) -> (ControlRequest, [UInt8]) {
    let request: ControlRequest
    switch rng.below(6) {
    case 0: request = .hello
    case 1: request = .ps
    case 2:
        // At most 64 items of at most 40 bytes: the line stays under maxLength.
        request = .scale((0...rng.below(64)).map { _ in
            ControlRequest.ScaleItem(type: name(&rng, maxLength: rng.below(2) == 0 ? 8 : 40, dots: false), count: rng.below(10_001))
        })
    case 3: request = .restart(name(&rng, maxLength: rng.below(2) == 0 ? 8 : 200, dots: true))
    case 4: request = .signal(target: name(&rng, maxLength: rng.below(2) == 0 ? 8 : 200, dots: true), signal: Signal(Int32(1 + rng.below(64))))
    default: request = .stop(name(&rng, maxLength: rng.below(2) == 0 ? 8 : 200, dots: true))
    }
    var line: [UInt8] = []
    for (i, word) in request.encoded.dropLast().split(separator: " ").enumerated() {
        if i > 0 { line += [UInt8](repeating: 0x20, count: 1 + (rng.below(4) == 0 ? rng.below(3) : 0)) }
        line += bytes(String(word))
    }
    return (request, line)
}

// MARK: - Seeds

private let procfileSeeds = [
    "web: bundle exec rails s\nworker: sidekiq\n", "  web \t:   run it  \t\n", "web: env URL=http://x:80 sh -c 'a: b'",
    "web: echo \"$PORT\"  # shell comment\n", "\n   \n\t\n# comment\n   # indented: comment\nweb: a\n", "Web_2-x: a\n9: b\n",
    "\u{FEFF}web: a\r\nworker: b\r\n", "web: a\nworker: b\nweb: c\n", "we b: a\nweb.1: b\n", "web:\nworker:  \t\n",
    "web: a\nbad\nworker: b\n-: \nweb: c\nclock: d\n", "web: a\r\rb\r", "",
]

private let dotenvSeeds = [
    "A=1\nB=two\n", "export A=1\nexport\t  B=2\n", "export=1\nexport =2\nexportC=3\n", "\n   \n\t\n# A=1\n   # B=2\nC=3",
    "  A \t=  hello   world \t\n", "A='single $X \\n'\nB=\"double ${A} \\\" \\n \\$ \\\\\"\n", "A=\"multi\nline\"\nB='x\ny'\n",
    "A=${B:-${C:-deep}}\nD=${A-x}${U:-}\n", "A=$B$C ${D}e #comment\nKEY=#notcomment\n", "A=\"${B:-unterminated\"\n",
    "A='open\nB=2\n", "1A=2\n=3\nA B=4\n", "A=\"x\" trailing\n", "A=${1}\nB=${A:x}\nC=${A\n", "A=x\r\nB=\"y\r\nz\"\r\n",
    "A=\"${B:-\"}\"\"\n", "A=\\$B \\${C}\nD=\"\\${E:-x}\"\n", "\u{FEFF}A=1", "",
]

private let controlSeeds = [
    "swiftman/1 hello", "swiftman/1 ps", "swiftman/1 scale web=2 worker=0", "swiftman/1 restart web.1", "swiftman/1 stop worker",
    "swiftman/1  scale   web=+3 ", "swiftman/2 ps", "swiftman/1 scale web=10001", "swiftman/1 dance", "swiftman/1 scale web.1=2",
    "swiftman/1 restart a b", "swiftman/1 ps now", "swiftman/1 signal web.1 10", "swiftman/1 signal web 010",
]

private let optionSeeds = [
    "all=1,web=2,worker=0", " web = 3 ", "web=x", "all=2, web=3,worker=0", "always", "web=always,all=never", "TERM",
    "web=SIGKILL,worker=9", "8080", " 65535 ", "0", "web=,=1", ",", "web=1,web=2", "on-failure", "-1", "+80",
]

private let jsonSeeds = [
    "hello", "quote\" back\\slash /", "\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F}", "é€😀\u{FFFD}\u{10FFFF}", "",
    "\u{FF}\u{C3}(\u{E2}\u{82}",
]

// MARK: - Tests

@Suite struct FuzzTests {
    @Test func procfileParserKeepsItsPromises() {
        var findings = Findings("Procfile.parse")
        forEachInput(procfileSeeds, salt: 1) { findings.check(procfileProblem($0), $0) }
        #expect(findings.count == 0)
    }

    @Test func generatedProcfilesParseBack() {
        var findings = Findings("generated Procfile")
        var rng = Xorshift(FuzzConfig.seed ^ 2)
        for _ in 0..<(FuzzConfig.iterations / 4) {  // ~6 types per file
            let (file, types) = generatedProcfile(&rng)
            let parsed = try? Procfile.parse(file, path: "Procfile")
            findings.check(parsed?.types == types ? nil : "parsed \(String(describing: parsed?.types)), expected \(types)", file)
        }
        #expect(findings.count == 0)
    }

    @Test func dotEnvParserKeepsItsPromises() {
        var findings = Findings("DotEnv.parse")
        var n = 0
        forEachInput(dotenvSeeds, salt: 3) {
            n += 1
            findings.check(dotenvProblem($0, differential: n % 4 == 0), $0)
        }
        #expect(findings.count == 0)
    }

    @Test func generatedDotEnvFilesParseBack() {
        var findings = Findings("generated .env")
        var rng = Xorshift(FuzzConfig.seed ^ 4)
        for _ in 0..<(FuzzConfig.iterations / 4) {  // ~8 entries per file
            let file = GeneratedEnv(&rng)
            let result = parseEnv(file.bytes) { GeneratedEnv.environment[$0] }
            findings.check(result == .ok(file.expected) ? nil : "parsed \(result), expected \(file.expected)", file.bytes)
        }
        #expect(findings.count == 0)
    }

    @Test func controlRequestsReencodeToThemselves() {
        var findings = Findings("ControlRequest.parse")
        forEachInput(controlSeeds, salt: 5) { findings.check(controlProblem($0), $0) }
        var rng = Xorshift(FuzzConfig.seed ^ 6)
        for _ in 0..<(FuzzConfig.iterations / 4) {
            let (request, line) = generatedRequest(&rng)
            let parsed = try? ControlRequest.parse(line)
            findings.check(parsed == request ? nil : "parsed \(String(describing: parsed)), expected \(request)", line)
        }
        #expect(findings.count == 0)
    }

    @Test func optionParsersKeepTheirPromises() {
        var findings = Findings("Formation/PerType/PortPlan/Signals")
        var n = 0
        forEachInput(optionSeeds, salt: 7) {
            n += 1
            findings.check(optionsProblem($0, variant: n), $0)
        }
        var rng = Xorshift(FuzzConfig.seed ^ 8)
        for _ in 0..<(FuzzConfig.iterations / 4) {
            var counts: [String: Int] = [:]
            var items: [String] = []
            let all = rng.below(3) == 0 ? rng.below(10_001) : nil
            if let all { items.append("all=\(all)") }
            for _ in 0...rng.below(8) {
                let type = name(&rng, maxLength: 12, dots: false)
                guard counts[type] == nil else { continue }
                counts[type] = rng.below(10_001)
                items.append(" \(type) =\t\(counts[type]!) ")
            }
            let text = items.joined(separator: ",")
            let parsed = try? Formation.parse(text, source: "-m")
            findings.check(parsed == Formation(counts: counts, all: all) ? nil : "parsed \(String(describing: parsed))", bytes(text))
        }
        #expect(findings.count == 0)
    }

    @Test func jsonEscapeAlwaysYieldsAValidJSONString() {
        var findings = Findings("JSON.escape")
        forEachInput(jsonSeeds, salt: 9) { findings.check(jsonEscapeProblem($0), $0) }
        #expect(findings.count == 0)
    }

    @Test func lineFramerPreservesEveryByte() {
        var findings = Findings("LineFramer")
        var rng = Xorshift(FuzzConfig.seed ^ 10)
        for i in 0..<(FuzzConfig.iterations / 4) {  // ~8 operations per script
            let limit = [4, 5, 7, 8, 16, 64][rng.below(6)]
            let json = i % 4 == 3
            let ops = framerScript(&rng, limit: limit)
            let problem = framerProblem(limit: limit, json: json, ops: ops)
            findings.check(problem.map { "\($0) (limit \(limit), \(json ? "json" : "text"), ops \(ops))" }, [])
        }
        #expect(findings.count == 0)
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
        var ops: [FramerOp] = []
        var at = 0
        while at < mega.count {
            let n = min(mega.count - at, 1 + rng.below(70_000))
            ops.append(.ingest(0, Array(mega[at..<(at + n)]), advance: 1))
            at += n
        }
        #expect(framerProblem(limit: 64, json: false, ops: ops) == nil)
        #expect(framerProblem(limit: 7, json: false, ops: [.ingest(1, repeated("😀", 100_000) + [10], advance: 0)]) == nil)
        #expect(framerProblem(limit: 8, json: true, ops: [.ingest(0, repeated("\"\\\u{1}", 50_000) + [10], advance: 0), .waitAll]) == nil)
    }

    /// Found by scripts/fuzz (now fixed): DotEnv checked for NUL only after
    /// expansion, so a NUL in an unused default was accepted, and the same file
    /// parsed or failed depending on the environment.
    @Test func nulInAnUnusedDefaultIsAnErrorWhateverTheEnvironment() {
        let file: [UInt8] = bytes("E=${AC:-") + [0] + bytes("}")
        let unset = parseEnv(file) { _ in nil }
        let set = parseEnv(file) { $0 == "AC" ? "v" : nil }
        #expect(unset == .failed(Diagnostics([Diagnostic(".env", line: 1, "value of \"E\" contains a NUL byte")])))
        #expect(set == unset)
    }

    // MARK: The checks themselves catch what they are meant to

    @Test func checksRejectBrokenResults() {
        // Reconstruction: a lost byte, a lost line, a piece over the limit, a split character.
        let input = bytes("hello\nworld\n")
        #expect(reconstructionProblem([bytes("hello"), bytes("world")], input: input, flushes: [], limit: 8) == nil)
        #expect(reconstructionProblem([bytes("hello"), bytes("wrld")], input: input, flushes: [], limit: 8) != nil)
        #expect(reconstructionProblem([bytes("hello")], input: input, flushes: [], limit: 8) != nil)
        #expect(reconstructionProblem([bytes("hello"), bytes(""), bytes("world")], input: input, flushes: [], limit: 8) != nil)
        #expect(reconstructionProblem([bytes("hello"), bytes("world")], input: input, flushes: [], limit: 4) != nil)
        let euro = bytes("ab€")  // 61 62 e2 82 ac
        #expect(reconstructionProblem([bytes("ab"), bytes("€")], input: euro, flushes: [5], limit: 4) == nil)
        #expect(reconstructionProblem([Array(euro[0..<4]), [0xAC]], input: euro, flushes: [5], limit: 4) != nil)
        #expect(reconstructionProblem([bytes("ab")], input: euro, flushes: [], limit: 4) != nil)
        // JSON: raw quotes and control bytes are not JSON; U+FFFD is expected per bad byte.
        #expect(jsonEscapeProblem(bytes("a\"b")) == nil)
        #expect((try? JSONDecoder().decode(String.self, from: Data(bytes("\"a\"b\"")))) == nil)
        #expect((try? JSONDecoder().decode(String.self, from: Data(bytes("\"a\u{1}b\"")))) == nil)
        #expect(jsonEscapeProblem([0x5C, 0xEF, 0xBB, 0xBF]) == nil)  // U+FEFF after an escape survives
        #expect(expectedJSONText([0x61, 0xE2, 0x82, 0x62, 0xFF]) == "a\u{FFFD}\u{FFFD}b\u{FFFD}")
        // Diagnostics: a line past the end, a control character, another file.
        #expect(diagnosticsProblem(Diagnostics([Diagnostic("P", line: 2, "x")]), path: "P", lines: 2) == nil)
        #expect(diagnosticsProblem(Diagnostics([Diagnostic("P", line: 3, "x")]), path: "P", lines: 2) != nil)
        #expect(diagnosticsProblem(Diagnostics([Diagnostic("P", line: 0, "x")]), path: "P", lines: 2) != nil)
        #expect(diagnosticsProblem(Diagnostics([Diagnostic("P", line: 1, "\u{1B}[31m")]), path: "P", lines: 2) != nil)
        #expect(diagnosticsProblem(Diagnostics([Diagnostic("Q", line: 1, "x")]), path: "P", lines: 2) != nil)
        #expect(diagnosticsProblem(Diagnostics([]), path: "P", lines: 2) != nil)
        // Procfile results: untrimmed command, bad name, duplicate, line out of order.
        func procfile(_ types: [ProcessType]) -> Procfile { Procfile(path: "P", types: types) }
        #expect(procfileResultProblem(procfile([ProcessType(name: "web", command: "a", line: 1)]), lines: 1) == nil)
        #expect(procfileResultProblem(procfile([ProcessType(name: "web", command: "a ", line: 1)]), lines: 1) != nil)
        #expect(procfileResultProblem(procfile([ProcessType(name: "we b", command: "a", line: 1)]), lines: 1) != nil)
        #expect(procfileResultProblem(procfile([ProcessType(name: "w", command: "a", line: 1), ProcessType(name: "w", command: "b", line: 2)]), lines: 2) != nil)
        #expect(procfileResultProblem(procfile([ProcessType(name: "w", command: "a", line: 2), ProcessType(name: "v", command: "b", line: 1)]), lines: 2) != nil)
        #expect(procfileResultProblem(procfile([ProcessType(name: "w", command: "a", line: 3)]), lines: 2) != nil)
        #expect(procfileResultProblem(procfile([]), lines: 1) != nil)
        // .env results: bad key, key twice, NUL, line past the end.
        func entry(_ key: String, _ value: String, _ line: Int) -> DotEnv.Entry { DotEnv.Entry(key: key, value: value, line: line) }
        #expect(resultProblem(.ok([entry("A", "1", 1), entry("_b2", "", 2)]), lines: 2) == nil)
        #expect(resultProblem(.ok([entry("1A.b-c", "1", 1)]), lines: 1) == nil)
        #expect(resultProblem(.ok([entry("A B", "1", 1)]), lines: 1) != nil)
        #expect(resultProblem(.ok([entry("", "1", 1)]), lines: 1) != nil)
        #expect(resultProblem(.ok([entry("A", "1", 1), entry("A", "2", 2)]), lines: 2) != nil)
        #expect(resultProblem(.ok([entry("A", "a\0", 1)]), lines: 1) != nil)
        #expect(resultProblem(.ok([entry("A", "1", 2)]), lines: 1) != nil)
        // Control: what parses must re-encode to itself.
        #expect(controlProblem(bytes("swiftman/1   scale web=+007  w=0")) == nil)
        #expect(controlProblem(repeated("a", ControlRequest.maxLength)) == nil)
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

private func env(_ input: [UInt8]) -> EnvResult { parseEnv(input) { _ in nil } }

private func envErrors(_ input: [UInt8]) -> [Diagnostic]? {
    if case .failed(let error) = env(input) { return error.all }
    return nil
}
