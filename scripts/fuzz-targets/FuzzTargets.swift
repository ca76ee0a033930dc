// Fuzz targets for swiftman's parsers, compiled by scripts/fuzz into one module
// together with Sources/SwiftmanCore (so internal API such as JSON.escape is
// reachable without @testable). Never part of the SwiftPM build.
//
// The first byte of an input picks the target (FuzzTargets.names); the rest is
// the target's input. A broken property prints "PROPERTY VIOLATED" and aborts,
// so libFuzzer (or FuzzDriver.swift) keeps the input as a crash.

import Glibc

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func swiftmanFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    FuzzTargets.run(selector: data[0], Array(UnsafeBufferPointer(start: data + 1, count: size - 1)))
    return 0
}

enum FuzzTargets {
    static let names = [
        "procfile", "dotenv", "options", "control", "json-escape", "line-framer", "dotenv-generated", "generated",
    ]

    static func run(selector: UInt8, _ body: [UInt8]) {
        switch Int(selector) % names.count {
        case 0: procfile(body)
        case 1: dotenv(body)
        case 2: options(body)
        case 3: control(body)
        case 4: jsonEscape(body)
        case 5: lineFramer(body)
        case 6: dotenvGenerated(body)
        default: generated(body)
        }
    }

    // MARK: Reporting

    static func fail(_ target: String, _ message: String) -> Never {
        var text = "\n==swiftman-fuzz== PROPERTY VIOLATED [\(target)]: \(message)\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        abort()
    }

    @inline(__always)
    static func check(_ condition: Bool, _ target: String, _ message: @autoclosure () -> String) {
        if !condition { fail(target, message()) }
    }

    /// `bytes` as printable ASCII, at most `limit` bytes of it.
    static func show<C: Collection>(_ bytes: C, limit: Int = 160) -> String where C.Element == UInt8 {
        var out = "\""
        for b in bytes.prefix(limit) {
            switch b {
            case 0x5C: out += "\\\\"
            case 0x22: out += "\\\""
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return out + (bytes.count > limit ? "\"… (\(bytes.count) bytes)" : "\"")
    }

    // MARK: Shared predicates

    static func lineCount(_ bytes: [UInt8]) -> Int {
        var n = 1
        for b in bytes where b == 10 { n += 1 }
        return n
    }

    /// In .env files a lone CR ends a line too.
    static func envLineCount(_ bytes: [UInt8]) -> Int {
        var n = 1
        for i in bytes.indices where bytes[i] == 10 || (bytes[i] == 13 && (i + 1 == bytes.count || bytes[i + 1] != 10)) { n += 1 }
        return n
    }

    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    /// .env blanks: also vertical tab and form feed.
    static func isEnvBlank(_ b: UInt8) -> Bool { isBlank(b) || b == 0x0B || b == 0x0C }
    static func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
    static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
    static func isProcessNameByte(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) || b == 0x5F || b == 0x2D }
    static func isKeyStart(_ b: UInt8) -> Bool { isLetter(b) || b == 0x5F }
    static func isKeyByte(_ b: UInt8) -> Bool { isKeyStart(b) || isDigit(b) }
    /// .env keys: `[A-Za-z0-9_.-]+` (references use the shell names above).
    static func isKey(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { isKeyByte($0) || $0 == 0x2E || $0 == 0x2D }
    }
    /// C0, DEL and C1 controls: what must never reach a terminal from a message.
    static func isControl(_ s: Unicode.Scalar) -> Bool { s.value < 0x20 || (0x7F...0x9F).contains(s.value) }

    /// Well-formed UTF-8 (Unicode table 3-7), written independently of JSON.validSequenceLength.
    static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8, C.Index == Int {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            var need = 0
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return false
            }
            guard end - i > need, bytes[i + 1] >= lo, bytes[i + 1] <= hi else { return false }
            var k = 2
            while k <= need {
                if bytes[i + k] & 0xC0 != 0x80 { return false }
                k += 1
            }
            i += need + 1
        }
        return true
    }

    /// Decodes JSON string content (what lies between the quotes); nil when it
    /// is not valid JSON: a raw quote, a raw control byte, a bad escape, a lone
    /// surrogate or ill-formed UTF-8.
    static func decodeJSONString(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        guard isValidUTF8(s) else { return nil }
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= s.endIndex else { return nil }
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                let c = s[k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x61...0x66: d = c - 0x61 + 10
                case 0x41...0x46: d = c - 0x41 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = s.startIndex
        while i < s.endIndex {
            let b = s[i]
            if b == 0x22 || b < 0x20 { return nil }
            if b != 0x5C {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < s.endIndex else { return nil }
            let e = s[i + 1]
            i += 2
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard var v = hex4(i) else { return nil }
                i += 4
                if (0xD800...0xDBFF).contains(v) {
                    guard i + 6 <= s.endIndex, s[i] == 0x5C, s[i + 1] == 0x75, let low = hex4(i + 2),
                          (0xDC00...0xDFFF).contains(low) else { return nil }
                    i += 6
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(v) {
                    return nil
                }
                guard let scalar = Unicode.Scalar(v) else { return nil }
                out.append(contentsOf: String(Character(scalar)).utf8)
            default:
                return nil
            }
        }
        return out
    }

    // MARK: Diagnostics

    static func checkDiagnostics(_ error: Diagnostics, path: String, lines: Int, _ target: String, _ input: [UInt8]) {
        check(!error.all.isEmpty, target, "empty Diagnostics thrown for \(show(input))")
        for problem in error.all {
            check(problem.source == path, target, "diagnostic names \(problem.source), not \(path)")
            check(problem.line.map { (1...lines).contains($0) } == true, target,
                  "line \(problem.line.map(String.init) ?? "nil") outside 1…\(lines) in \"\(problem)\" for \(show(input))")
            check(!problem.message.unicodeScalars.contains(where: isControl), target,
                  "control character in message \(show(Array(problem.message.utf8))) for \(show(input))")
            check(problem.message.utf8.count <= 1000, target,
                  "unbounded message (\(problem.message.utf8.count) bytes) for \(show(input))")
        }
    }

    // MARK: Procfile

    static func procfile(_ bytes: [UInt8]) {
        let target = "procfile"
        let lines = lineCount(bytes)
        let parsed: Procfile
        do throws(Diagnostics) {
            parsed = try Procfile.parse(bytes, path: "Procfile")
        } catch {
            return checkDiagnostics(error, path: "Procfile", lines: lines, target, bytes)
        }
        checkProcfile(parsed, lines: lines, target, bytes)
    }

    static func checkProcfile(_ p: Procfile, lines: Int, _ target: String, _ input: [UInt8]) {
        check(p.path == "Procfile", target, "path \(p.path)")
        check(!p.types.isEmpty, target, "parsed without any type: \(show(input))")
        var seen = Set<String>()
        var lastLine = 0
        for t in p.types {
            check(!t.name.isEmpty && t.name.utf8.allSatisfy(isProcessNameByte), target,
                  "bad name \(show(Array(t.name.utf8))) from \(show(input))")
            check(seen.insert(t.name).inserted, target, "duplicate name \(t.name) from \(show(input))")
            let c = Array(t.command.utf8)
            check(!c.isEmpty && !isBlank(c[0]) && !isBlank(c[c.count - 1]), target,
                  "command not trimmed: \(show(c)) from \(show(input))")
            check(!c.contains(0) && !c.contains(10), target, "command with NUL/newline: \(show(c))")
            check(t.line > lastLine && t.line <= lines, target, "line \(t.line) after \(lastLine), of \(lines)")
            lastLine = t.line
        }
        // Written back, one type per original line, it parses to the same types
        // (a trailing CR would be taken for a CRLF ending, so those are skipped).
        guard !p.types.contains(where: { $0.command.utf8.last == 0x0D }) else { return }
        var text: [UInt8] = []
        var line = 1
        for t in p.types {
            while line < t.line {
                text.append(10)
                line += 1
            }
            text += Array(t.name.utf8) + Array(": ".utf8) + Array(t.command.utf8) + [10]
            line += 1
        }
        do throws(Diagnostics) {
            let again = try Procfile.parse(text, path: "Procfile")
            check(again == p, target, "re-serialised Procfile parses differently: \(show(text))")
        } catch {
            fail(target, "re-serialised Procfile \(show(text)) fails: \(error)")
        }
    }

    // MARK: DotEnv

    enum EnvResult {
        case ok([DotEnv.Entry])
        case failed(Diagnostics)

        var gaveUp: Bool {
            if case .failed(let d) = self { return d.all.contains { $0.message.contains("giving up") } }
            return false
        }
    }

    static func parseEnv(_ bytes: [UInt8], _ lookup: (String) -> String?) -> EnvResult {
        do throws(Diagnostics) {
            return .ok(try DotEnv.parse(bytes, path: ".env", lookup: lookup))
        } catch {
            return .failed(error)
        }
    }

    static func dotenv(_ bytes: [UInt8]) {
        let target = "dotenv"
        let lines = envLineCount(bytes)
        let unset = parseEnv(bytes) { _ in nil }
        // Some names set (to short values), others not: errors must not change.
        let mixed = parseEnv(bytes) { (name: String) -> String? in
            name.utf8.count % 2 == 0 ? "v" : (name.utf8.count % 3 == 0 ? "" : nil)
        }
        for result in [unset, mixed] {
            switch result {
            case .failed(let error):
                checkDiagnostics(error, path: ".env", lines: lines, target, bytes)
            case .ok(let entries):
                var keys = Set<String>()
                var lastLine = 0
                for e in entries {
                    check(isKey(e.key), target, "bad key \(show(Array(e.key.utf8))) from \(show(bytes))")
                    check(keys.insert(e.key).inserted, target, "key \(e.key) returned twice from \(show(bytes))")
                    check(e.line > lastLine && e.line <= lines, target, "entry line \(e.line) after \(lastLine) of \(lines)")
                    check(!e.value.utf8.contains(0), target, "NUL in value of \(e.key)")
                    lastLine = e.line
                }
            }
        }
        if unset.gaveUp || mixed.gaveUp { return }
        // Known issue (found by this fuzzer, reported, not fixed here): a NUL in
        // a ${NAME:-default} is only reported when the default is used, so
        // `E=${X:-<NUL>}` fails only when X is unset. Those diagnostics (and the
        // entries they drop) are left out of the comparison.
        let a = significantErrors(unset), b = significantErrors(mixed)
        check(a == b, target, "errors depend on the environment: \(a) vs \(b) for \(show(bytes))")
        if case .ok(let x) = unset, case .ok(let y) = mixed {
            check(x.map(\.key) == y.map(\.key) && x.map(\.line) == y.map(\.line), target,
                  "entries depend on the environment for \(show(bytes))")
        }
    }

    static func significantErrors(_ result: EnvResult) -> [Diagnostic] {
        guard case .failed(let d) = result else { return [] }
        return d.all.filter { !$0.message.hasSuffix("contains a NUL byte") }
    }

    // MARK: Options: --formation, per-type options, ports, signals

    static func options(_ bytes: [UInt8]) {
        let target = "options"
        let text = String(decoding: bytes, as: UTF8.self)
        func plain(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x2C && $0 != 0x3D } }

        do throws(Diagnostic) {
            let f = try Formation.parse(text, source: "-m")
            check(f.all.map { (0...10_000).contains($0) } ?? true, target, "all=\(f.all!) out of range")
            for (name, count) in f.counts {
                check(!name.isEmpty && name != "all" && name.trimmingSpaces == name, target, "bad type \"\(name)\"")
                check(!name.contains { $0 == "," || $0 == "=" }, target, "type \"\(name)\" with separator")
                check((0...10_000).contains(count), target, "count \(count) out of range")
            }
            check(f.all != nil || !f.counts.isEmpty, target, "empty formation from \(show(bytes))")
            if f.counts.keys.allSatisfy(plain) {
                let items = (f.all.map { ["all=\($0)"] } ?? []) + f.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                let again = try? Formation.parse(items.joined(separator: ","), source: "-m")
                check(again == f, target, "formation does not round-trip: \(show(bytes))")
            }
        } catch {
            check(error.source == "-m" && error.line == nil && !error.message.isEmpty, target, "bad diagnostic \(error)")
        }

        func perType<V: Equatable & Sendable>(_ fallback: V, _ parse: (String) -> V?, _ encode: (V) -> String) {
            do throws(Diagnostic) {
                let p = try PerType.parse(text, default: fallback, source: "--opt", value: parse)
                for (name, value) in p.overrides {
                    check(!name.isEmpty && name != "all", target, "bad override \"\(name)\"")
                    check(p[name] == value, target, "subscript disagrees for \(name)")
                }
                if p.overrides.keys.allSatisfy(plain) {
                    let items = ["all=" + encode(p.fallback)] + p.overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\(encode($0.value))" }
                    let again = try? PerType.parse(items.joined(separator: ","), default: fallback, source: "--opt", value: parse)
                    check(again == p, target, "per-type option does not round-trip: \(show(bytes))")
                }
            } catch {
                check(error.source == "--opt" && error.line == nil, target, "bad diagnostic \(error)")
            }
        }
        perType(RestartPolicy.onFailure, { RestartPolicy(rawValue: $0) }, \.rawValue)
        perType(Int32(15), { Signals.parse($0) }, { String($0) })
        perType(10, { Int($0).flatMap { $0 >= 0 ? $0 : nil } }, { String($0) })

        if let n = Signals.parse(text) {
            check((1...64).contains(n), target, "signal \(n) from \(show(bytes))")
        }

        let flag = try? PortPlan.basePort(flag: text, envFiles: [:], inherited: [:])
        if let flag {
            check((1...65535).contains(flag) && Int(text.trimmingSpaces) == flag, target, "port \(flag) from \(show(bytes))")
        }
        let fromFile = try? PortPlan.basePort(flag: nil, envFiles: ["PORT": text], inherited: ["PORT": "x"])
        check(fromFile == flag, target, "PORT in an env file read differently from -p: \(show(bytes))")
        let overridden = try? PortPlan.basePort(flag: "80", envFiles: ["PORT": text], inherited: ["PORT": text])
        check(overridden == 80, target, "-p does not win over PORT=\(show(bytes))")
    }

    // MARK: Control protocol

    static func control(_ bytes: [UInt8]) {
        let target = "control"
        let request: ControlRequest
        do throws(ControlFailure) {
            request = try ControlRequest.parse(bytes)
        } catch {
            let m = error.description
            // Sent back to the client: short, and nothing that could garble a terminal.
            check(!m.isEmpty && m.utf8.count <= 512 && !m.unicodeScalars.contains(where: isControl), target,
                  "bad failure message \(show(Array(m.utf8))) for \(show(bytes))")
            if bytes.count >= ControlRequest.maxLength {
                check(m == "request too long", target, "\(bytes.count)-byte request failed with \"\(m)\"")
            }
            return
        }
        check(bytes.count < ControlRequest.maxLength, target, "accepted a \(bytes.count)-byte request")
        checkRequest(request, target, bytes)
        let encoded = Array(request.encoded.utf8)
        check(encoded.last == 10, target, "encoding without newline")
        let line = Array(encoded.dropLast())
        check(line.count <= bytes.count, target, "re-encoding \(show(line)) longer than \(show(bytes))")
        do throws(ControlFailure) {
            let again = try ControlRequest.parse(line)
            check(again == request, target, "re-encoded \(show(line)) parses to \(again), not \(request)")
        } catch {
            fail(target, "re-encoded \(show(line)) of \(show(bytes)) fails: \(error)")
        }
    }

    static func checkRequest(_ request: ControlRequest, _ target: String, _ input: [UInt8]) {
        switch request {
        case .hello, .ps:
            break
        case .scale(let items):
            check((1...64).contains(items.count), target, "\(items.count) scale items from \(show(input))")
            for item in items {
                check(ControlRequest.isName(item.type) && !item.type.utf8.contains(0x2E), target, "scale type \(item.type)")
                check((0...10_000).contains(item.count), target, "scale count \(item.count)")
            }
        case .restart(let name), .stop(let name):
            check(ControlRequest.isName(name), target, "target \(show(Array(name.utf8))) from \(show(input))")
        }
    }

    // MARK: JSON escaping

    static func jsonEscape(_ bytes: [UInt8]) {
        let target = "json-escape"
        let queue = OutputQueue()
        // An odd start inside a bigger buffer: escaping must not read outside `count`.
        let padded = [0x22] + bytes + [0x22]
        padded.withUnsafeBufferPointer { JSON.escape($0.baseAddress! + 1, bytes.count, into: queue) }
        let out = queue.contents
        check(isValidUTF8(out), target, "output is not UTF-8: \(show(out)) for \(show(bytes))")
        check(!out.contains { $0 < 0x20 }, target, "raw control byte in \(show(out))")
        guard let decoded = decodeJSONString(out[...]) else {
            fail(target, "not a JSON string: \(show(out)) for \(show(bytes))")
        }
        if isValidUTF8(bytes) {
            check(decoded == bytes, target, "valid UTF-8 changed: \(show(bytes)) -> \(show(out))")
            check(JSON.escape(String(decoding: bytes, as: UTF8.self)) == String(decoding: out, as: UTF8.self), target,
                  "String escape differs for \(show(bytes))")
        } else {
            // Invalid bytes become U+FFFD; everything else is kept.
            let kept = String(decoding: decoded, as: UTF8.self).unicodeScalars.filter { $0 != "\u{FFFD}" }
            let expected = String(decoding: bytes, as: UTF8.self).unicodeScalars.filter { $0 != "\u{FFFD}" }
            check(kept.elementsEqual(expected), target, "text lost around invalid UTF-8: \(show(bytes)) -> \(show(out))")
        }
    }

    // MARK: LineFramer

    /// Checks the output of a framer with labels "web.1" (index 0) and
    /// "worker.1" (index 1), no colour or time. `inputs[s]` is everything
    /// stream s was fed; `flushes[s]` the input offsets at which a partial line
    /// of s was emitted by flushPartial/close/flushDuePartials. Returns nil when
    /// the output is right, else what is wrong.
    static func checkFramerOutput(_ output: [UInt8], inputs: [[UInt8]], flushes: [Set<Int>], limit: Int, json: Bool) -> String? {
        guard output.isEmpty || output.last == 10 else { return "output does not end with a newline" }
        var pieces: [[[UInt8]]] = [[], []]
        for line in output.split(separator: 10, omittingEmptySubsequences: false).dropLast() {
            guard let (stream, content) = framedLine(line, json: json) else {
                return "malformed output line \(show(line))"
            }
            pieces[stream].append(content)
        }
        for s in 0..<2 {
            if json && inputs[s].contains(where: { $0 >= 0x80 }) { continue }  // U+FFFD replacement: no byte-exact check
            if let problem = reconstruct(pieces[s], input: inputs[s], flushes: flushes[s], limit: limit) {
                return "stream \(s): \(problem)"
            }
        }
        return nil
    }

    static let framerNames = ["web.1", "worker.1"]

    /// The stream and content (without the newline) of one output line.
    static func framedLine(_ line: ArraySlice<UInt8>, json: Bool) -> (Int, [UInt8])? {
        if !json {
            for (s, name) in framerNames.enumerated() {
                let prefix = Array(name.utf8) + [UInt8](repeating: 0x20, count: 8 - name.utf8.count) + Array(" | ".utf8)
                if line.starts(with: prefix) { return (s, Array(line.dropFirst(prefix.count))) }
            }
            return nil
        }
        let head = Array("{\"time\":\"".utf8)
        guard line.starts(with: head), line.count >= head.count + 24 + 2 else { return nil }
        let rest = line.dropFirst(head.count + 24)
        for (s, name) in framerNames.enumerated() {
            let prefix = Array("\",\"process\":\"\(name)\",\"stream\":\"stdout\",\"message\":\"".utf8)
            guard rest.starts(with: prefix) else { continue }
            let body = rest.dropFirst(prefix.count)
            guard body.count >= 2, body.suffix(2).elementsEqual([0x22, 0x7D]) else { return nil }
            guard let decoded = decodeJSONString(body.dropLast(2)) else { return nil }
            return (s, decoded)
        }
        return nil
    }

    /// Rebuilds a stream's input from its output lines: a line's newline is the
    /// input's own unless the line was a piece of a longer line or a flushed
    /// partial. Also checks piece sizes and that pieces split between characters.
    static func reconstruct(_ lines: [[UInt8]], input: [UInt8], flushes: Set<Int>, limit: Int) -> String? {
        var cursor = 0
        for (n, content) in lines.enumerated() {
            let end = cursor + content.count
            guard end <= input.count, input[cursor..<end].elementsEqual(content) else {
                return "line \(n) \(show(content)) is not the input at \(cursor): \(show(input[cursor...]))"
            }
            guard content.count <= limit else { return "line \(n) has \(content.count) bytes, limit \(limit)" }
            if content.isEmpty {
                guard end < input.count, input[end] == 10 else { return "empty line \(n) where the input has no empty line" }
                cursor = end + 1
            } else if flushes.contains(end) {
                cursor = end  // flushed partial (or a piece that ended exactly there)
            } else if end < input.count, input[end] == 10 {
                cursor = end + 1
            } else {
                // A piece of a longer line: the rest of the line follows.
                guard end < input.count else { return "line \(n) ends the input without a newline or a flush" }
                guard content.count >= limit - 3 else { return "piece \(n) of \(content.count) bytes, limit \(limit)" }
                if input[end] & 0xC0 == 0x80 {
                    // Only when no character boundary lies within 3 bytes (invalid UTF-8).
                    guard input[(end - 3)..<end].allSatisfy({ $0 & 0xC0 == 0x80 }) else {
                        return "piece \(n) splits a character at \(end): \(show(input[(end - 3)...].prefix(8)))"
                    }
                }
                cursor = end
            }
        }
        guard cursor == input.count else { return "input from \(cursor) never emitted: \(show(input[cursor...]))" }
        return nil
    }

    static func lineFramer(_ body: [UInt8]) {
        let target = "line-framer"
        var r = FuzzReader(body)
        let limit = 4 + Int(r.byte()) % 61
        let json = r.byte() & 1 == 1
        let queue = OutputQueue()
        let framer = LineFramer(queue: queue, style: OutputStyle(color: false, timestamps: false, format: json ? .json : .text),
                                lineLimit: limit, quietPeriod: 100, maxPartialAge: 1000)
        let labels = framerNames.enumerated().map { framer.addLabel(name: $1, typeIndex: $0) }
        for s in 0..<2 { framer.open(stream: 10 + s, label: labels[s]) }
        var inputs: [[UInt8]] = [[], []]
        var flushes: [Set<Int>] = [[], []]
        var boundary = [0, 0]  // input offset after the last newline or flush
        var output: [UInt8] = []
        var now: Int64 = 0

        /// Takes what the framer wrote; returns the streams of its lines.
        func drain() -> [Int] {
            let new = queue.contents
            queue.discard()
            output += new
            return new.split(separator: 10).map { line in
                guard let (s, _) = framedLine(line, json: json) else {
                    fail(target, "malformed line \(show(line)) (limit \(limit)) for \(show(body))")
                }
                return s
            }
        }
        func flushed(_ streams: [Int], expected: Set<Int>) {
            check(Set(streams) == expected && streams.count == expected.count, target,
                  "flush emitted lines of streams \(streams), expected \(expected.sorted()) for \(show(body))")
            for s in streams {
                flushes[s].insert(inputs[s].count)
                boundary[s] = inputs[s].count
            }
        }
        func pending(_ s: Int) -> Bool { boundary[s] < inputs[s].count }

        while !r.isAtEnd {
            let op = r.byte()
            let s = Int(op >> 7)
            now += Int64(op & 0x70)
            switch op & 0x0F {
            case 0..<10:
                // Chunks up to 4 × the limit, often around it.
                let n = op & 1 == 0 ? Int(r.byte()) % (4 * limit + 1) : Int(r.byte()) % 8
                let chunk = r.take(n)
                let storage = chunk.isEmpty ? [0] : chunk
                storage.withUnsafeBufferPointer { framer.ingest(stream: 10 + s, $0.baseAddress!, chunk.count, now: now) }
                if let nl = chunk.lastIndex(of: 10) { boundary[s] = inputs[s].count + nl + 1 }
                inputs[s] += chunk
                let streams = drain()
                check(streams.allSatisfy { $0 == s }, target, "ingest into \(s) emitted lines of \(streams) for \(show(body))")
            case 10, 11:
                framer.flushPartial(stream: 10 + s)
                flushed(drain(), expected: pending(s) ? [s] : [])
            case 12:
                framer.close(stream: 10 + s)
                flushed(drain(), expected: pending(s) ? [s] : [])
                framer.open(stream: 10 + s, label: labels[s])
            case 13:
                framer.flushDuePartials(now: now)
                let streams = drain()
                check(streams.allSatisfy(pending) && Set(streams).count == streams.count, target,
                      "flushDuePartials emitted \(streams) for \(show(body))")
                flushed(streams, expected: Set(streams))
            default:
                // Waiting for each deadline in turn flushes every partial line.
                var rounds = 0
                while let deadline = framer.nextPartialDeadline {
                    rounds += 1
                    check(rounds <= 4, target, "nextPartialDeadline never clears for \(show(body))")
                    check(deadline <= now + 1000, target, "deadline \(deadline) beyond maxPartialAge after \(now)")
                    now = max(now, deadline)
                    framer.flushDuePartials(now: now)
                    let streams = drain()
                    check(streams.allSatisfy(pending), target, "flushDuePartials emitted \(streams) for \(show(body))")
                    flushed(streams, expected: Set(streams))
                }
                check(!pending(0) && !pending(1), target, "partial line left without a deadline for \(show(body))")
            }
        }
        for s in 0..<2 {
            framer.close(stream: 10 + s)
            flushed(drain(), expected: pending(s) ? [s] : [])
        }
        if let problem = checkFramerOutput(output, inputs: inputs, flushes: flushes, limit: limit, json: json) {
            fail(target, "\(problem) (limit \(limit), \(json ? "json" : "text")) for \(show(body))")
        }
    }

    // MARK: Generated .env files

    /// A file written from known entries (all quoting styles, interpolation,
    /// comments, CRLF, BOM) parses back to exactly those entries.
    static func dotenvGenerated(_ body: [UInt8]) {
        var r = FuzzReader(body)
        let file = FuzzEnvFile.generate { bound in r.below(bound) }
        checkGeneratedEnv(file, "dotenv-generated")
    }

    static func checkGeneratedEnv(_ file: FuzzEnvFile, _ target: String) {
        switch parseEnv(file.bytes, { FuzzEnvFile.environment[$0] }) {
        case .ok(let entries):
            check(entries == file.expected, target,
                  "parsed \(entries.map { "\($0.key)=\(show(Array($0.value.utf8)))@\($0.line)" }) expected \(file.expected.map { "\($0.key)=\(show(Array($0.value.utf8)))@\($0.line)" }) from \(show(file.bytes, limit: 400))")
        case .failed(let error):
            fail(target, "generated file \(show(file.bytes, limit: 400)) fails: \(error)")
        }
    }

    // MARK: Generated Procfiles, requests, formations

    static func generated(_ body: [UInt8]) {
        var r = FuzzReader(body)
        switch r.below(3) {
        case 0:
            let file = FuzzProcfile.generate { bound in r.below(bound) }
            do throws(Diagnostics) {
                let p = try Procfile.parse(file.bytes, path: "Procfile")
                check(p.types == file.expected, "procfile-generated",
                      "parsed \(p.types) expected \(file.expected) from \(show(file.bytes, limit: 400))")
            } catch {
                fail("procfile-generated", "generated \(show(file.bytes, limit: 400)) fails: \(error)")
            }
        case 1:
            let (request, line) = FuzzRequest.generate { bound in r.below(bound) }
            do throws(ControlFailure) {
                let parsed = try ControlRequest.parse(line)
                check(parsed == request, "control-generated", "\(show(line)) parsed to \(parsed), not \(request)")
            } catch {
                fail("control-generated", "generated \(show(line)) fails: \(error)")
            }
        default:
            var counts: [String: Int] = [:]
            var items: [String] = []
            let all = r.below(3) == 0 ? r.below(10_001) : nil
            if let all { items.append("all=\(all)") }
            for _ in 0..<(1 + r.below(8)) {
                let name = FuzzRequest.name(maxLength: 12, dots: false) { bound in r.below(bound) }
                if name == "all" || counts[name] != nil { continue }
                counts[name] = r.below(10_001)
                items.append(" \(name) =\t\(counts[name]!) ")
            }
            if items.isEmpty { items.append("web=1"); counts["web"] = 1 }
            let text = items.joined(separator: ",")
            let f = try? Formation.parse(text, source: "-m")
            check(f == Formation(counts: counts, all: all), "formation-generated", "\"\(text)\" parsed to \(String(describing: f))")
        }
    }
}

/// Reads a fuzzer's bytes as choices; zeros once they run out.
struct FuzzReader {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        index += 1
        return bytes[index - 1]
    }

    /// A number in 0..<bound from one byte (two when bound > 256).
    mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        if bound <= 256 { return Int(byte()) % bound }
        return (Int(byte()) << 8 | Int(byte())) % bound
    }

    mutating func take(_ n: Int) -> [UInt8] {
        let end = min(bytes.count, index + n)
        defer { index = end }
        return Array(bytes[index..<end])
    }
}

// MARK: - Generators (driven by any source of choices: fuzzer bytes or a PRNG)

/// A .env file built from entries, with what parsing it must return.
struct FuzzEnvFile {
    var bytes: [UInt8] = []
    var expected: [DotEnv.Entry] = []

    static let environment = ["ENV_A": "from env", "ENV_EMPTY": "", "ENV_U": "é\u{1F600}"]

    enum Part {
        case literal([UInt8])
        /// `$NAME`, `${NAME}`, `${NAME-default}`, `${NAME:-default}`.
        case reference(String, form: Int, fallback: [UInt8])
    }

    /// `choose(n)` returns a number in 0..<n.
    static func generate(_ choose: (Int) -> Int) -> FuzzEnvFile {
        var file = FuzzEnvFile()
        let crlf = choose(3) == 0
        let eol: [UInt8] = crlf ? [13, 10] : [10]
        if choose(4) == 0 { file.bytes += [0xEF, 0xBB, 0xBF] }
        var line = 1
        var defined: [String: String] = [:]
        var all: [DotEnv.Entry] = []
        for _ in 0..<choose(16) {
            if choose(6) == 0 {
                file.bytes += blanks(choose) + (choose(2) == 0 ? Array("# ".utf8) + text(choose, avoiding: [10, 13]) : []) + eol
                line += 1
                continue
            }
            let key = self.key(choose, known: defined.keys.sorted())
            var parts: [Part] = []
            for _ in 0..<choose(5) {
                if choose(3) == 0 {
                    // Sorted: dictionary order changes from run to run.
                    let names = defined.keys.sorted() + environment.keys.sorted() + ["UNSET_1", "u"]
                    let name = names[choose(names.count)]
                    parts.append(.reference(name, form: choose(4), fallback: text(choose, avoiding: [0, 0x7D])))
                } else {
                    parts.append(.literal(text(choose, avoiding: [0])))
                }
            }
            // What the value must come out as.
            var value: [UInt8] = []
            for part in parts {
                switch part {
                case .literal(let bytes):
                    value += bytes
                case .reference(let name, let form, let fallback):
                    let current = defined[name] ?? environment[name]
                    switch form {
                    case 0, 1: value += Array((current ?? "").utf8)
                    case 2: value += current.map { Array($0.utf8) } ?? fallback
                    default: value += current.map { $0.isEmpty ? fallback : Array($0.utf8) } ?? fallback
                    }
                }
            }
            let style = choose(3)
            let encoded = (style == 0 ? singleQuoted(parts) : nil)
                ?? (style == 1 ? unquoted(parts) : nil)
                ?? doubleQuoted(parts, eol: eol, rawNewlines: choose(2) == 0)
            var entry = blanks(choose) + (choose(4) == 0 ? Array("export".utf8) + [0x20] + blanks(choose) : [])
            entry += Array(key.utf8) + blanks(choose) + [0x3D]
            if encoded.first != 0x23 { entry += blanks(choose) }
            entry += encoded + blanks(choose)
            if choose(4) == 0 { entry += [0x20, 0x23] + text(choose, avoiding: [10, 13]) }
            let string = String(decoding: value, as: UTF8.self)
            all.append(DotEnv.Entry(key: key, value: string, line: line))
            defined[key] = string
            file.bytes += entry + eol
            line += entry.count { $0 == 10 } + 1
        }
        // The last line may lack its newline.
        if file.bytes.suffix(eol.count).elementsEqual(eol), choose(2) == 0 { file.bytes.removeLast(eol.count) }
        // The last definition of each key, in file order.
        var last: [String: Int] = [:]
        for (i, e) in all.enumerated() { last[e.key] = i }
        file.expected = all.indices.filter { last[all[$0].key] == $0 }.map { all[$0] }
        return file
    }

    static func blanks(_ choose: (Int) -> Int) -> [UInt8] {
        (0..<choose(3)).map { _ in choose(2) == 0 ? 0x20 : 0x09 }
    }

    static func key(_ choose: (Int) -> Int, known: [String]) -> String {
        if !known.isEmpty && choose(4) == 0 { return known[choose(known.count)] }
        if choose(10) == 0 { return "export" }
        let start = Array("ABCXYZabc_".utf8), rest = Array("AZaz09_".utf8)
        var key = [start[choose(start.count)]]
        for _ in 0..<choose(6) { key.append(rest[choose(rest.count)]) }
        return String(decoding: key, as: UTF8.self)
    }

    /// Short text rich in the bytes the grammar cares about.
    static func text(_ choose: (Int) -> Int, avoiding: [UInt8]) -> [UInt8] {
        let interesting: [[UInt8]] = [
            [0x20], [0x09], [0x0A], [0x0D], [0x22], [0x27], [0x5C], [0x24], [0x7B], [0x7D], [0x23], [0x3D], [0x3A], [0x2D],
            Array("ab".utf8), Array("x y".utf8), Array("é".utf8), Array("€".utf8), Array("😀".utf8),
            [0xFF], [0xC3], [0xE2, 0x82], [0x80], [0x01], [0x7F], Array("\\n".utf8), Array("${".utf8), Array("$A".utf8),
        ]
        var out: [UInt8] = []
        for _ in 0..<choose(7) {
            out += choose(3) == 0 ? [UInt8(choose(256))] : interesting[choose(interesting.count)]
        }
        return out.filter { !avoiding.contains($0) }
    }

    /// `'…'` when the value has no references, no `'` and no CRLF.
    static func singleQuoted(_ parts: [Part]) -> [UInt8]? {
        var body: [UInt8] = []
        for part in parts {
            guard case .literal(let bytes) = part else { return nil }
            body += bytes
        }
        // A lone CR would become LF; a final backslash would not end the value.
        if body.contains(0x27) || body.contains(13) || body.last == 0x5C { return nil }
        return [0x27] + body + [0x27]
    }

    /// Unquoted, when the value allows it: one line, no quote first, no blanks
    /// at either end, no " #", and `$` escaped as `\$`.
    static func unquoted(_ parts: [Part]) -> [UInt8]? {
        var out: [UInt8] = []
        for (i, part) in parts.enumerated() {
            switch part {
            case .literal(let bytes):
                for b in bytes { out += b == 0x24 ? [0x5C, 0x24] : [b] }
            case .reference(let name, let form, _):
                // A backslash before it would escape the reference's "$".
                guard form < 2, out.last != 0x5C else { return nil }
                out += form == 0 && !nextIsNameByte(parts, after: i) ? Array("$\(name)".utf8) : Array("${\(name)}".utf8)
            }
        }
        if out.contains(10) || out.contains(13) { return nil }
        if let first = out.first, first == 0x22 || first == 0x27 || FuzzTargets.isEnvBlank(first) { return nil }
        if let last = out.last, FuzzTargets.isEnvBlank(last) { return nil }
        for i in out.indices.dropFirst() where out[i] == 0x23 && FuzzTargets.isEnvBlank(out[i - 1]) { return nil }
        return out
    }

    /// `"…"`: always possible. Raw newlines are written as `eol` (CRLF
    /// becomes LF when read) or as `\n`.
    static func doubleQuoted(_ parts: [Part], eol: [UInt8], rawNewlines: Bool) -> [UInt8] {
        func escaped(_ bytes: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            for b in bytes {
                switch b {
                case 0x5C, 0x22, 0x24: out += [0x5C, b]
                case 0x0D: out += [0x5C, 0x72]
                case 0x0A: out += rawNewlines ? eol : [0x5C, 0x6E]
                default: out.append(b)
                }
            }
            return out
        }
        var out: [UInt8] = [0x22]
        for (i, part) in parts.enumerated() {
            switch part {
            case .literal(let bytes):
                out += escaped(bytes)
            case .reference(let name, let form, let fallback):
                switch form {
                case 0: out += nextIsNameByte(parts, after: i) ? Array("${\(name)}".utf8) : Array("$\(name)".utf8)
                case 1: out += Array("${\(name)}".utf8)
                case 2: out += Array("${\(name)-".utf8) + escaped(fallback) + [0x7D]
                default: out += Array("${\(name):-".utf8) + escaped(fallback) + [0x7D]
                }
            }
        }
        return out + [0x22]
    }

    /// Whether the text after part `i` starts with a byte that would extend `$NAME`.
    static func nextIsNameByte(_ parts: [Part], after i: Int) -> Bool {
        for part in parts[(i + 1)...] {
            guard case .literal(let next) = part else { return false }
            if let b = next.first { return FuzzTargets.isKeyByte(b) }
        }
        return false
    }
}

/// A Procfile built from types, with what parsing it must return.
struct FuzzProcfile {
    var bytes: [UInt8] = []
    var expected: [ProcessType] = []

    static func generate(_ choose: (Int) -> Int) -> FuzzProcfile {
        var file = FuzzProcfile()
        let eol: [UInt8] = choose(3) == 0 ? [13, 10] : [10]
        if choose(4) == 0 { file.bytes += [0xEF, 0xBB, 0xBF] }
        var line = 1
        var names = Set<String>()
        for _ in 0..<(1 + choose(12)) {
            if choose(5) == 0 {
                file.bytes += FuzzEnvFile.blanks(choose) + (choose(2) == 0 ? [0x23] + FuzzEnvFile.text(choose, avoiding: [10, 13]) : []) + eol
                line += 1
                continue
            }
            var name = FuzzRequest.name(maxLength: 10, dots: false) { choose($0) }
            if !names.insert(name).inserted {
                name = "t\(names.count)"
                names.insert(name)
            }
            var command = FuzzEnvFile.text(choose, avoiding: [0, 10, 13])
            while let b = command.first, b == 0x20 || b == 0x09 { command.removeFirst() }
            while let b = command.last, b == 0x20 || b == 0x09 { command.removeLast() }
            if command.isEmpty { command = Array("run".utf8) }
            file.bytes += FuzzEnvFile.blanks(choose) + Array(name.utf8) + FuzzEnvFile.blanks(choose) + [0x3A]
                + FuzzEnvFile.blanks(choose) + command + FuzzEnvFile.blanks(choose) + eol
            file.expected.append(ProcessType(name: name, command: String(decoding: command, as: UTF8.self), line: line))
            line += 1
        }
        if file.expected.isEmpty {
            file.bytes += Array("web: run".utf8) + eol
            file.expected.append(ProcessType(name: "web", command: "run", line: line))
        }
        if choose(2) == 0 { file.bytes.removeLast(eol.count) }
        return file
    }
}

/// Control requests and the lines that carry them.
enum FuzzRequest {
    static func name(maxLength: Int, dots: Bool, _ choose: (Int) -> Int) -> String {
        let alphabet = Array((dots ? "azAZ09_-.w" : "azAZ09_-w").utf8)
        return String(decoding: (0...choose(maxLength)).map { _ in alphabet[choose(alphabet.count)] }, as: UTF8.self)
    }

    /// A valid request and a line for it, with runs of spaces between words.
    static func generate(_ choose: (Int) -> Int) -> (ControlRequest, [UInt8]) {
        let request: ControlRequest
        switch choose(5) {
        case 0: request = .hello
        case 1: request = .ps
        case 2:
            // At most 64 items of at most 40 bytes: the line stays under maxLength.
            request = .scale((0...choose(64)).map { _ in
                ControlRequest.ScaleItem(type: name(maxLength: choose(2) == 0 ? 8 : 40, dots: false, choose), count: choose(10_001))
            })
        case 3: request = .restart(name(maxLength: choose(2) == 0 ? 8 : 200, dots: true, choose))
        default: request = .stop(name(maxLength: choose(2) == 0 ? 8 : 200, dots: true, choose))
        }
        var line: [UInt8] = []
        for (i, word) in request.encoded.dropLast().split(separator: " ").enumerated() {
            if i > 0 { line += [UInt8](repeating: 0x20, count: 1 + (choose(4) == 0 ? choose(3) : 0)) }
            line += Array(word.utf8)
        }
        return (request, line)
    }
}
