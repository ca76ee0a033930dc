// What the parsers promise for any input. Each property returns what is
// wrong, or nil; FuzzTests records it as an issue, the harness aborts with it.
// (Shared with scripts/fuzz: see FuzzSupport.swift.)

#if !SWIFTMAN_FUZZ_HARNESS
@testable import SwiftmanModel
#endif

enum FuzzProperties {
    private static func show<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 { FuzzBytes.show(bytes) }
    private static func show(_ s: String) -> String { FuzzBytes.show(s) }

    // MARK: Diagnostics

    /// Errors name the file and a line in it, and are short, printable text.
    static func diagnosticsProblem(_ error: Diagnostics, path: String, lines: Int) -> String? {
        if error.all.isEmpty { return "empty Diagnostics thrown" }
        for p in error.all {
            if p.source != path { return "diagnostic names \(p.source), not \(path)" }
            guard let line = p.line, (1...lines).contains(line) else { return "line \(p.line.map(String.init) ?? "nil") outside 1…\(lines): \(p)" }
            if p.message.unicodeScalars.contains(where: FuzzBytes.isControl) { return "control character in \(show(p.message))" }
            if p.message.utf8.count > 1000 { return "message of \(p.message.utf8.count) bytes" }
        }
        return nil
    }

    // MARK: Procfile

    static func procfile(_ input: [UInt8]) -> String? {
        let lines = FuzzBytes.lineCount(input)
        let p: Procfile
        do throws(Diagnostics) {
            p = try Procfile.parse(input, path: "Procfile")
        } catch {
            return diagnosticsProblem(error, path: "Procfile", lines: lines)
        }
        if p.path != "Procfile" { return "path \(p.path)" }
        return procfileResultProblem(p, lines: lines)
    }

    /// Valid, unique names; trimmed commands; lines in order; and written back
    /// one type per original line, the same Procfile.
    static func procfileResultProblem(_ p: Procfile, lines: Int) -> String? {
        if p.types.isEmpty { return "parsed with no process types" }
        var seen = Set<String>()
        var lastLine = 0
        for t in p.types {
            if !FuzzBytes.isProcessName(t.name) { return "invalid name \(show(t.name))" }
            if !seen.insert(t.name).inserted { return "duplicate name \(t.name)" }
            let c = Array(t.command.utf8)
            if c.isEmpty || FuzzBytes.isBlank(c[0]) || FuzzBytes.isBlank(c[c.count - 1]) { return "command not trimmed: \(show(c))" }
            if c.contains(0) || c.contains(10) { return "command with NUL or newline: \(show(c))" }
            if t.line <= lastLine || t.line > lines { return "line \(t.line) after \(lastLine), of \(lines)" }
            lastLine = t.line
        }
        // A command that ends in CR would read back as a CRLF line ending.
        if p.types.contains(where: { $0.command.utf8.last == 0x0D }) { return nil }
        var text: [UInt8] = []
        var line = 1
        for t in p.types {
            text += [UInt8](repeating: 10, count: t.line - line) + FuzzBytes.of("\(t.name): \(t.command)\n")
            line = t.line + 1
        }
        guard let again = try? Procfile.parse(text, path: p.path) else { return "re-serialised \(show(text)) fails" }
        return again == p ? nil : "re-serialised \(show(text)) parses differently"
    }

    // MARK: .env

    enum EnvResult: Equatable {
        case ok([DotEnv.Entry])
        case failed(Diagnostics)

        var gaveUp: Bool {
            if case .failed(let d) = self { return d.all.contains { $0.message.contains("giving up") } }
            return false
        }

        var errors: [Diagnostic] {
            guard case .failed(let d) = self else { return [] }
            return d.all
        }
    }

    static func parseEnv(_ input: [UInt8], _ lookup: (String) -> String?) -> EnvResult {
        do throws(Diagnostics) {
            return .ok(try DotEnv.parse(input, path: ".env", lookup: lookup))
        } catch {
            return .failed(error)
        }
    }

    /// With `differential`, also parses with some names set (to short values)
    /// and checks that errors, keys and lines do not depend on the environment.
    static func dotenv(_ input: [UInt8], differential: Bool) -> String? {
        let lines = FuzzBytes.envLineCount(input)
        let unset = parseEnv(input) { _ in nil }
        guard differential else { return envResultProblem(unset, lines: lines) }
        let mixed = parseEnv(input) { (name: String) -> String? in name.utf8.count % 2 == 0 ? "v" : (name.utf8.count % 3 == 0 ? "" : nil) }
        if let problem = envResultProblem(unset, lines: lines) ?? envResultProblem(mixed, lines: lines) { return problem }
        if unset.gaveUp || mixed.gaveUp { return nil }
        if unset.errors != mixed.errors { return "errors depend on the environment: \(unset.errors) vs \(mixed.errors)" }
        if case .ok(let x) = unset, case .ok(let y) = mixed, x.map(\.key) != y.map(\.key) || x.map(\.line) != y.map(\.line) {
            return "entries depend on the environment"
        }
        return nil
    }

    /// Valid keys, each once, in line order, without NUL in a value.
    static func envResultProblem(_ result: EnvResult, lines: Int) -> String? {
        switch result {
        case .failed(let error):
            return diagnosticsProblem(error, path: ".env", lines: lines)
        case .ok(let entries):
            var keys = Set<String>()
            var lastLine = 0
            for e in entries {
                if !FuzzBytes.isKey(e.key) { return "invalid key \(show(e.key))" }
                if !keys.insert(e.key).inserted { return "key \(e.key) returned twice" }
                if e.line <= lastLine || e.line > lines { return "entry line \(e.line) after \(lastLine), of \(lines)" }
                if e.value.utf8.contains(0) { return "NUL in the value of \(e.key)" }
                lastLine = e.line
            }
            return nil
        }
    }

    // MARK: Options: --formation, per-type options, ports, signals

    /// `variant` picks one of the three per-type value parsers; nil runs all three.
    static func options(_ input: [UInt8], variant: Int? = nil) -> String? {
        let text = String(decoding: input, as: UTF8.self)
        func plain(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x2C && $0 != 0x3D } }
        do throws(Diagnostic) {
            let f = try Formation.parse(text, source: "-m")
            if let all = f.all, !(0...10_000).contains(all) { return "all=\(all)" }
            if f.all == nil && f.counts.isEmpty { return "empty formation" }
            for (name, count) in f.counts {
                if name.isEmpty || name == "all" || name.trimmingSpaces != name || name.contains(where: { $0 == "," || $0 == "=" }) {
                    return "bad type \(show(name))"
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
                    return "bad override \(show(name))"
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
        func perTypeProblem(_ variant: Int) -> String? {
            switch variant % 3 {
            case 0: perType(RestartPolicy.onFailure, { RestartPolicy(rawValue: $0) }, \.rawValue)
            case 1: perType(Signal.terminate, { Signals.parse($0) }, { String($0.rawValue) })
            default: perType(10, { Int($0).flatMap { $0 >= 0 ? $0 : nil } }, { String($0) })
            }
        }
        for v in variant.map({ [$0] }) ?? [0, 1, 2] {
            if let problem = perTypeProblem(v) { return problem }
        }
        if let n = Signals.parse(text), !(1...64).contains(n.rawValue) { return "signal \(n.rawValue)" }

        let flag = try? PortPlan.basePort(flag: text, envFiles: [:], inherited: [:])
        if let flag, !(1...65535).contains(flag) || Int(text.trimmingSpaces) != flag { return "port \(flag)" }
        if (try? PortPlan.basePort(flag: nil, envFiles: ["PORT": text], inherited: ["PORT": "x"])) != flag {
            return "PORT in an env file read differently from -p"
        }
        if (try? PortPlan.basePort(flag: "80", envFiles: ["PORT": text], inherited: ["PORT": text])) != 80 { return "-p does not win" }
        return nil
    }

    // MARK: Control protocol

    /// A request line parses to a valid request that re-encodes, no longer,
    /// to itself; or fails with a short, printable message.
    static func control(_ input: [UInt8]) -> String? {
        let request: ControlRequest
        do throws(ControlFailure) {
            request = try ControlRequest.parse(input)
        } catch {
            let m = error.description
            // Sent back to the client: short, and nothing that could garble a terminal.
            if m.isEmpty || m.utf8.count > 512 || m.unicodeScalars.contains(where: FuzzBytes.isControl) { return "bad failure message \(show(m))" }
            if input.count >= ControlRequest.maxLength && m != "request too long" { return "\(input.count) bytes failed with \"\(m)\"" }
            return nil
        }
        if input.count >= ControlRequest.maxLength { return "accepted \(input.count) bytes" }
        if let problem = requestProblem(request) { return problem }
        let encoded = Array(request.encoded.utf8)
        guard encoded.last == 10 else { return "encoding lacks its newline" }
        let line = Array(encoded.dropLast())
        if line.count > input.count { return "re-encoding \(show(line)) is longer than the request" }
        guard let again = try? ControlRequest.parse(line) else { return "re-encoded \(show(line)) fails" }
        return again == request ? nil : "re-encoded \(show(line)) parses to \(again), not \(request)"
    }

    /// The limits a parsed request must respect. No `default:` here: a new
    /// ControlRequest case must say what its own are.
    static func requestProblem(_ request: ControlRequest) -> String? {
        switch request {
        case .hello, .ps, .timings, .quit, .events: return nil
        case .logs(let query):
            if query.targets.count > 64 { return "\(query.targets.count) logs targets" }
            for name in query.targets where !ControlRequest.isName(name) { return "bad logs target \(show(name))" }
            if let last = query.last, !(0...100_000_000).contains(last) { return "bad logs last \(last)" }
            if let since = query.since, !(0...(1 << 48)).contains(since) { return "bad logs since \(since)" }
            return nil
        case .wait(let targets, _):
            if !(1...64).contains(targets.count) { return "\(targets.count) wait targets" }
            for name in targets where !ControlRequest.isName(name) { return "bad wait target \(show(name))" }
            return nil
        case .scale(let items):
            if !(1...64).contains(items.count) { return "\(items.count) scale items" }
            for item in items where !ControlRequest.isName(item.type) || item.type.utf8.contains(0x2E) || !(0...10_000).contains(item.count) {
                return "bad scale item \(item)"
            }
            return nil
        case .restart(let name), .stop(let name):
            return ControlRequest.isName(name) ? nil : "bad target \(show(name))"
        case .attach(let name, let rows, let cols):
            if !ControlRequest.isName(name) || !(0...65535).contains(rows) || !(0...65535).contains(cols) {
                return "bad attach \(show(name)) \(rows) \(cols)"
            }
            return nil
        case .signal(let name, let signal):
            if !ControlRequest.isName(name) || !(1...64).contains(signal.rawValue) { return "bad signal \(show(name)) \(signal.rawValue)" }
            return nil
        }
    }

    // MARK: JSON escaping

    /// JSON.escape's output for `input`, read from inside a bigger buffer:
    /// escaping must stay within `count`.
    static func escaped(_ input: [UInt8]) -> [UInt8] {
        let queue = OutputQueue()
        let padded = [0x22] + input + [0x22]
        padded.withUnsafeBufferPointer { JSON.escape($0.baseAddress! + 1, input.count, into: queue) }
        return queue.contents
    }

    /// What JSON.escape must produce once decoded: valid UTF-8 kept, each byte
    /// of an ill-formed sequence replaced by U+FFFD.
    static func expectedJSONText(_ input: [UInt8]) -> String {
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

    /// The escape is UTF-8 without raw control bytes, a valid JSON string
    /// that decodes to the input (U+FFFD per bad byte), and the same as the
    /// String overload's for valid input.
    static func jsonEscape(_ input: [UInt8]) -> String? {
        let out = escaped(input)
        if !FuzzBytes.isValidUTF8(out) { return "output is not UTF-8: \(show(out))" }
        if out.contains(where: { $0 < 0x20 }) { return "raw control byte in \(show(out))" }
        guard let decoded = FuzzBytes.decodeJSONString(out[...]) else { return "not a JSON string: \(show(out))" }
        let expected = Array(expectedJSONText(input).utf8)
        if decoded != expected { return "decodes to \(show(decoded)), expected \(show(expected))" }
        if FuzzBytes.isValidUTF8(input), JSON.escape(String(decoding: input, as: UTF8.self)) != String(decoding: out, as: UTF8.self) {
            return "the String escape differs: \(show(JSON.escape(String(decoding: input, as: UTF8.self))))"
        }
        return nil
    }
}
