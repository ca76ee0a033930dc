// Valid inputs built from known contents, with what parsing them must
// return, driven by any source of choices (a PRNG or the fuzzer's bytes).
// (Shared with scripts/fuzz: see FuzzSupport.swift.)

#if !SWIFTMAN_FUZZ_HARNESS
@testable import SwiftmanModel
#endif

// MARK: .env files

/// A .env file written from entries (every quoting style, interpolation,
/// comments, CRLF, BOM) and the entries parsing must return.
struct GeneratedEnv {
    var bytes: [UInt8] = []
    var expected: [DotEnv.Entry] = []

    static let environment = ["ENV_A": "from env", "ENV_EMPTY": "", "ENV_U": "é\u{1F600}"]

    enum Part {
        case literal([UInt8])
        /// `$NAME`, `${NAME}`, `${NAME-default}`, `${NAME:-default}`.
        case reference(String, form: Int, fallback: [UInt8])
    }

    init(_ c: inout some FuzzChoices) {
        let eol: [UInt8] = c.below(3) == 0 ? [13, 10] : [10]
        if c.below(4) == 0 { bytes += [0xEF, 0xBB, 0xBF] }
        var line = 1
        var defined: [String: String] = [:]
        var all: [DotEnv.Entry] = []
        for _ in 0..<c.below(16) {
            if c.below(6) == 0 {
                bytes += Self.blanks(&c) + (c.below(2) == 0 ? FuzzBytes.of("# ") + Self.text(&c, avoiding: [10, 13]) : []) + eol
                line += 1
                continue
            }
            // Sorted: dictionary order changes from run to run.
            let known = defined.keys.sorted()
            let key = !known.isEmpty && c.below(4) == 0 ? known[c.below(known.count)] : Self.key(&c)
            var parts: [Part] = []
            for _ in 0..<c.below(5) {
                if c.below(3) == 0 {
                    let names = known + Self.environment.keys.sorted() + ["UNSET_1", "u"]
                    parts.append(.reference(names[c.below(names.count)], form: c.below(4), fallback: Self.text(&c, avoiding: [0, 0x7D])))
                } else {
                    parts.append(.literal(Self.text(&c, avoiding: [0])))
                }
            }
            // What the value must come out as.
            var value: [UInt8] = []
            for part in parts {
                switch part {
                case .literal(let b):
                    value += b
                case .reference(let name, let form, let fallback):
                    let current = defined[name] ?? Self.environment[name]
                    switch form {
                    case 0, 1: value += FuzzBytes.of(current ?? "")
                    case 2: value += current.map(FuzzBytes.of) ?? fallback
                    default: value += current.map { $0.isEmpty ? fallback : FuzzBytes.of($0) } ?? fallback
                    }
                }
            }
            let style = c.below(3)
            let raw = c.below(2) == 0
            let encoded = (style == 0 ? Self.singleQuoted(parts) : nil) ?? (style == 1 ? Self.unquoted(parts) : nil)
                ?? Self.doubleQuoted(parts, eol: eol, rawNewlines: raw)
            var entry = Self.blanks(&c)
            if c.below(4) == 0 { entry += FuzzBytes.of("export ") + Self.blanks(&c) }
            entry += FuzzBytes.of(key) + Self.blanks(&c) + [0x3D]
            if encoded.first != 0x23 { entry += Self.blanks(&c) }
            entry += encoded + Self.blanks(&c)
            if c.below(4) == 0 { entry += [0x20, 0x23] + Self.text(&c, avoiding: [10, 13]) }
            let string = String(decoding: value, as: UTF8.self)
            all.append(DotEnv.Entry(key: key, value: string, line: line))
            defined[key] = string
            bytes += entry + eol
            line += entry.count { $0 == 10 } + 1
        }
        // The last line may lack its newline.
        if bytes.suffix(eol.count).elementsEqual(eol), c.below(2) == 0 { bytes.removeLast(eol.count) }
        // The last definition of each key, in file order.
        var last: [String: Int] = [:]
        for (i, e) in all.enumerated() { last[e.key] = i }
        expected = all.indices.filter { last[all[$0].key] == $0 }.map { all[$0] }
    }

    static func blanks(_ c: inout some FuzzChoices) -> [UInt8] { (0..<c.below(3)).map { _ in c.below(2) == 0 ? 0x20 : 0x09 } }

    static func key(_ c: inout some FuzzChoices) -> String {
        if c.below(10) == 0 { return "export" }
        let start = FuzzBytes.of("ABCXYZabc_"), rest = FuzzBytes.of("AZaz09_")
        var key = [start[c.below(start.count)]]
        for _ in 0..<c.below(6) { key.append(rest[c.below(rest.count)]) }
        return String(decoding: key, as: UTF8.self)
    }

    /// Short text rich in the bytes the grammar cares about.
    static func text(_ c: inout some FuzzChoices, avoiding: [UInt8]) -> [UInt8] {
        let interesting: [[UInt8]] = [
            [0x20], [0x09], [0x0A], [0x0D], [0x22], [0x27], [0x5C], [0x24], [0x7B], [0x7D], [0x23], [0x3D], [0x3A], [0x2D],
            FuzzBytes.of("ab"), FuzzBytes.of("x y"), FuzzBytes.of("é"), FuzzBytes.of("€"), FuzzBytes.of("😀"),
            [0xFF], [0xC3], [0xE2, 0x82], [0x80], [0x01], [0x7F], FuzzBytes.of("\\n"), FuzzBytes.of("${"), FuzzBytes.of("$A"),
        ]
        var out: [UInt8] = []
        for _ in 0..<c.below(7) { out += c.below(3) == 0 ? [c.byte()] : interesting[c.below(interesting.count)] }
        return out.filter { !avoiding.contains($0) }
    }

    /// `'…'` when the value has no references, no `'`, no CR and no final backslash.
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

    /// Unquoted, when the value allows it: one line, no quote first, no blanks
    /// at either end, no " #", and `$` escaped as `\$`.
    static func unquoted(_ parts: [Part]) -> [UInt8]? {
        var out: [UInt8] = []
        for (i, part) in parts.enumerated() {
            switch part {
            case .literal(let b):
                for byte in b { out += byte == 0x24 ? [0x5C, 0x24] : [byte] }
            case .reference(let name, let form, _):
                // A backslash before it would escape the reference's "$".
                guard form < 2, out.last != 0x5C else { return nil }
                out += form == 0 && !nextIsNameByte(parts, after: i) ? FuzzBytes.of("$\(name)") : FuzzBytes.of("${\(name)}")
            }
        }
        if out.contains(10) || out.contains(13) { return nil }
        if let first = out.first, first == 0x22 || first == 0x27 || FuzzBytes.isEnvBlank(first) { return nil }
        if let last = out.last, FuzzBytes.isEnvBlank(last) { return nil }
        for i in out.indices.dropFirst() where out[i] == 0x23 && FuzzBytes.isEnvBlank(out[i - 1]) { return nil }
        return out
    }

    /// `"…"`: always possible. Raw newlines are written as `eol` (CRLF
    /// becomes LF when read) or as `\n`.
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
                case 0: out += FuzzBytes.of(nextIsNameByte(parts, after: i) ? "${\(name)}" : "$\(name)")
                case 1: out += FuzzBytes.of("${\(name)}")
                case 2: out += FuzzBytes.of("${\(name)-") + escaped(fallback) + [0x7D]
                default: out += FuzzBytes.of("${\(name):-") + escaped(fallback) + [0x7D]
                }
            }
        }
        return out + [0x22]
    }

    /// Whether the text after part `i` starts with a byte that would extend `$NAME`.
    static func nextIsNameByte(_ parts: [Part], after i: Int) -> Bool {
        for part in parts[(i + 1)...] {
            guard case .literal(let next) = part else { return false }
            if let b = next.first { return FuzzBytes.isNameByte(b) }
        }
        return false
    }
}

// MARK: Procfiles

/// A Procfile written from types (blanks, comments, CRLF, BOM) and the types
/// parsing must return.
struct GeneratedProcfile {
    var bytes: [UInt8] = []
    var expected: [ProcessType] = []

    init(_ c: inout some FuzzChoices) {
        let eol: [UInt8] = c.below(3) == 0 ? [13, 10] : [10]
        if c.below(4) == 0 { bytes += [0xEF, 0xBB, 0xBF] }
        var line = 1
        var names = Set<String>()
        for _ in 0..<(1 + c.below(12)) {
            if c.below(5) == 0 {
                bytes += GeneratedEnv.blanks(&c) + (c.below(2) == 0 ? [0x23] + GeneratedEnv.text(&c, avoiding: [10, 13]) : []) + eol
                line += 1
                continue
            }
            var name = FuzzGenerate.name(&c, maxLength: 10, dots: false)
            if !names.insert(name).inserted {
                name = "t\(names.count)"
                names.insert(name)
            }
            var command = GeneratedEnv.text(&c, avoiding: [0, 10, 13])
            while let b = command.first, FuzzBytes.isBlank(b) { command.removeFirst() }
            while let b = command.last, FuzzBytes.isBlank(b) { command.removeLast() }
            if command.isEmpty { command = FuzzBytes.of("run") }
            bytes += GeneratedEnv.blanks(&c) + FuzzBytes.of(name) + GeneratedEnv.blanks(&c) + [0x3A] + GeneratedEnv.blanks(&c)
            bytes += command + GeneratedEnv.blanks(&c) + eol
            expected.append(ProcessType(name: name, command: String(decoding: command, as: UTF8.self), line: line))
            line += 1
        }
        if expected.isEmpty {
            bytes += FuzzBytes.of("web: run") + eol
            expected.append(ProcessType(name: "web", command: "run", line: line))
        }
        if c.below(2) == 0 { bytes.removeLast(eol.count) }
    }
}

// MARK: Control requests

/// One kind per ControlRequest case. `init(_:)` switches over the request
/// without a `default`, so a new case does not compile until it is listed
/// here, and `FuzzGenerate.request(_:_:)` then not until it has a generator;
/// FuzzTests checks that each kind's generator makes requests of that kind.
enum ControlRequestKind: CaseIterable, Equatable {
    case hello, ps, timings, scale, restart, stop, attach, signal, quit, wait, logs, events

    init(_ request: ControlRequest) {
        switch request {
        case .hello: self = .hello
        case .ps: self = .ps
        case .timings: self = .timings
        case .scale: self = .scale
        case .restart: self = .restart
        case .stop: self = .stop
        case .attach: self = .attach
        case .signal: self = .signal
        case .quit: self = .quit
        case .wait: self = .wait
        case .logs: self = .logs
        case .events: self = .events
        }
    }
}

enum FuzzGenerate {
    /// A name of 1…maxLength bytes from a small alphabet.
    static func name(_ c: inout some FuzzChoices, maxLength: Int, dots: Bool) -> String {
        let alphabet = FuzzBytes.of(dots ? "azAZ09_-.w" : "azAZ09_-w")
        return String(decoding: (0...c.below(maxLength)).map { _ in alphabet[c.below(alphabet.count)] }, as: UTF8.self)
    }

    /// A target (TYPE or TYPE.N), sometimes as long as allowed.
    static func target(_ c: inout some FuzzChoices) -> String {
        name(&c, maxLength: c.below(2) == 0 ? 8 : 200, dots: true)
    }

    /// A valid request of a kind the choices pick.
    static func request(_ c: inout some FuzzChoices) -> ControlRequest {
        request(ControlRequestKind.allCases[c.below(ControlRequestKind.allCases.count)], &c)
    }

    static func request(_ kind: ControlRequestKind, _ c: inout some FuzzChoices) -> ControlRequest {
        switch kind {
        case .hello: return .hello
        case .ps: return .ps
        case .timings: return .timings
        case .scale:
            // At most 64 items of at most 40 bytes: the line stays under maxLength.
            return .scale((0...c.below(64)).map { _ in
                ControlRequest.ScaleItem(type: name(&c, maxLength: c.below(2) == 0 ? 8 : 40, dots: false), count: c.below(10_001))
            })
        case .restart: return .restart(target(&c))
        case .stop: return .stop(target(&c))
        case .attach:
            let edge = [0, 1, 24, 80, 65535]
            func size(_ c: inout some FuzzChoices) -> Int { c.below(2) == 0 ? edge[c.below(edge.count)] : c.below(65536) }
            return .attach(target: target(&c), rows: size(&c), cols: size(&c))
        case .signal:
            return .signal(target: target(&c), signal: Signal(Int32(1 + c.below(64))))
        case .quit: return .quit
        case .wait:
            // At most 64 targets of at most 40 bytes: the line stays under maxLength.
            let targets = (0...c.below(64)).map { _ in name(&c, maxLength: c.below(2) == 0 ? 8 : 40, dots: true) }
            return .wait(targets: targets, goal: WaitGoal.allCases[c.below(WaitGoal.allCases.count)])
        case .logs:
            var query = LogsQuery()
            query.targets = (0..<c.below(65)).map { _ in name(&c, maxLength: c.below(2) == 0 ? 8 : 40, dots: true) }
            query.last = c.below(2) == 0 ? nil : c.below(100_000_001)
            query.since = c.below(2) == 0 ? nil : c.below(1 << 48)
            query.follow = c.below(2) == 0
            query.json = c.below(2) == 0
            query.color = c.below(2) == 0
            query.timestamp = c.below(2) == 0
            query.prefix = c.below(2) == 0
            return .logs(query)
        case .events: return .events(follow: c.below(2) == 0, json: c.below(2) == 0)
        }
    }

    /// A line for `request`, with runs of spaces between words.
    static func line(for request: ControlRequest, _ c: inout some FuzzChoices) -> [UInt8] {
        var line: [UInt8] = []
        for (i, word) in request.encoded.dropLast().split(separator: " ").enumerated() {
            if i > 0 { line += [UInt8](repeating: 0x20, count: 1 + (c.below(4) == 0 ? c.below(3) : 0)) }
            line += Array(word.utf8)
        }
        return line
    }

    /// `--formation` text with blanks around names and counts, and the formation it means.
    static func formation(_ c: inout some FuzzChoices) -> (String, Formation) {
        var counts: [String: Int] = [:]
        var items: [String] = []
        let all = c.below(3) == 0 ? c.below(10_001) : nil
        if let all { items.append("all=\(all)") }
        for _ in 0..<(1 + c.below(8)) {
            let type = name(&c, maxLength: 12, dots: false)
            if type == "all" || counts[type] != nil { continue }
            let count = c.below(10_001)
            counts[type] = count
            items.append(" \(type) =\t\(count) ")
        }
        return (items.joined(separator: ","), Formation(counts: counts, all: all))
    }
}

// MARK: Properties of generated inputs

extension FuzzProperties {
    static func generatedProcfile(_ c: inout some FuzzChoices) -> String? {
        let file = GeneratedProcfile(&c)
        do throws(Diagnostics) {
            let types = try Procfile.parse(file.bytes, path: "Procfile").types
            return types == file.expected ? nil : "parsed \(types), expected \(file.expected) from \(FuzzBytes.show(file.bytes, limit: 400))"
        } catch {
            return "generated \(FuzzBytes.show(file.bytes, limit: 400)) fails: \(error)"
        }
    }

    static func generatedDotEnv(_ c: inout some FuzzChoices) -> String? {
        let file = GeneratedEnv(&c)
        let result = parseEnv(file.bytes) { GeneratedEnv.environment[$0] }
        func entries(_ list: [DotEnv.Entry]) -> String { "\(list.map { "\($0.key)=\(FuzzBytes.show($0.value))@\($0.line)" })" }
        switch result {
        case .ok(let list):
            return list == file.expected ? nil : "parsed \(entries(list)), expected \(entries(file.expected)) from \(FuzzBytes.show(file.bytes, limit: 400))"
        case .failed(let error):
            return "generated \(FuzzBytes.show(file.bytes, limit: 400)) fails: \(error)"
        }
    }

    static func generatedRequest(_ c: inout some FuzzChoices) -> String? {
        let request = FuzzGenerate.request(&c)
        let line = FuzzGenerate.line(for: request, &c)
        do throws(ControlFailure) {
            let parsed = try ControlRequest.parse(line)
            return parsed == request ? nil : "\(FuzzBytes.show(line)) parsed to \(parsed), not \(request)"
        } catch {
            return "generated \(FuzzBytes.show(line)) fails: \(error)"
        }
    }

    static func generatedFormation(_ c: inout some FuzzChoices) -> String? {
        let (text, formation) = FuzzGenerate.formation(&c)
        // No item at all (every name was a repeat) is an error, not a formation.
        if formation.all == nil && formation.counts.isEmpty { return nil }
        let parsed = try? Formation.parse(text, source: "-m")
        return parsed == formation ? nil : "\(FuzzBytes.show(text)) parsed to \(String(describing: parsed))"
    }
}
