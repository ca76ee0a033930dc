// The fuzz properties, their generators and seeds: one copy, compiled twice.
//  - `swift test`: these files belong to the SwiftmanModelTests target;
//    FuzzTests.swift runs a bounded slice of every target through them.
//  - scripts/fuzz: swiftc compiles them into one module with
//    Sources/SwiftmanModel and scripts/fuzz-harness (libFuzzer's entry point
//    or the mutation driver), with -D SWIFTMAN_FUZZ_HARNESS.
// So these files import nothing but the model (no Testing, Foundation or
// Glibc) and report a broken property as a String, never by failing.

#if !SWIFTMAN_FUZZ_HARNESS
@testable import SwiftmanModel
#endif

// MARK: Sources of choices

/// Where generators take their decisions from: a seeded PRNG in `swift test`
/// and in the mutation driver, the fuzzer's bytes in the libFuzzer harness.
protocol FuzzChoices {
    /// A number in 0..<bound (0 when bound <= 1).
    mutating func below(_ bound: Int) -> Int
    mutating func byte() -> UInt8
}

extension FuzzChoices {
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: below(256)) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
}

struct Xorshift: FuzzChoices {
    var state: UInt64

    init(_ seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}

/// Reads a fuzzer's bytes as choices; zeros once they run out.
struct FuzzReader: FuzzChoices {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        index += 1
        return bytes[index - 1]
    }

    /// One byte for a bound up to 256, two above.
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

// MARK: Mutation (the test slice and the driver; libFuzzer has its own)

enum FuzzMutator {
    /// Tokens the grammars care about; also libFuzzer's dictionary.
    static let tokens: [[UInt8]] = [
        "${", "}", ":-", "-", "$", "\\$", "\\\"", "\\\\", "\\n", "'", "\"", "#", " #", "=", ":", "\n", "\r\n", "\r", " ", "\t",
        "export ", "swiftman/1 ", "scale ", "restart ", "stop ", "attach ", "signal ", " USR1", " 10", "hello", "ps", "timings", " 0 0", "web=", "all=",
        "10000", "10001", "-1", "+0", "web: ", "worker: ", "PORT", "65535", "65536", "SIG", "TERM", "on-failure", "always",
        "never", ",", "\u{FEFF}", "é", "€", "😀", "\u{2028}", "\u{1B}[31m",
    ].map { Array($0.utf8) } + [[0], [0xFF], [0xC3], [0xE2, 0x82], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]]

    /// One to six structured edits: byte edits, token insertions, deletions,
    /// duplications, long repeats, splices with `others`, truncation.
    static func mutate(_ input: [UInt8], _ rng: inout Xorshift, splicing others: [[UInt8]], maxLength: Int = .max) -> [UInt8] {
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
                for _ in 0..<(1 + rng.below(64)) { out.insert(contentsOf: token, at: at) }
            case 6 where !others.isEmpty:
                let other = others[rng.below(others.count)]
                out = Array(out[..<at]) + other[rng.below(other.count + 1)...]
            case 7: out.insert(contentsOf: rng.bytes(1 + rng.below(8)), at: at)
            case 8 where out.count > 1: out.removeLast(rng.below(out.count))
            default: out.insert([0x0A, 0x0D, 0x00, 0x22, 0x27, 0x5C, 0x24, 0x7B, 0x7D, 0x23, 0x3D, 0x3A, 0x20][rng.below(13)], at: at)
            }
        }
        if out.count > maxLength { out.removeLast(out.count - maxLength) }
        return out
    }
}

// MARK: Bytes

enum FuzzBytes {
    static func of(_ s: String) -> [UInt8] { Array(s.utf8) }
    static func repeated(_ s: String, _ n: Int) -> [UInt8] { Array(String(repeating: s, count: n).utf8) }

    /// `bytes` as printable ASCII, at most `limit` bytes of it.
    static func show<C: Collection>(_ bytes: C, limit: Int = 200) -> String where C.Element == UInt8 {
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

    static func show(_ s: String) -> String { show(Array(s.utf8)) }

    static func lineCount(_ bytes: [UInt8]) -> Int { bytes.count { $0 == 10 } + 1 }

    /// In .env files a lone CR ends a line too.
    static func envLineCount(_ bytes: [UInt8]) -> Int {
        bytes.indices.count { bytes[$0] == 10 || (bytes[$0] == 13 && ($0 + 1 == bytes.count || bytes[$0 + 1] != 10)) } + 1
    }

    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    /// .env blanks: also vertical tab and form feed.
    static func isEnvBlank(_ b: UInt8) -> Bool { isBlank(b) || b == 0x0B || b == 0x0C }
    static func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
    static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
    /// What may follow `$` in a reference: `[A-Za-z0-9_]`.
    static func isNameByte(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) || b == 0x5F }
    static func isProcessName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { isNameByte($0) || $0 == 0x2D }
    }
    /// .env keys: `[A-Za-z0-9_.-]+`.
    static func isKey(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { isNameByte($0) || $0 == 0x2E || $0 == 0x2D }
    }
    /// C0, DEL and C1 controls: what must never reach a terminal from a message.
    static func isControl(_ s: Unicode.Scalar) -> Bool { s.value < 0x20 || (0x7F...0x9F).contains(s.value) }

    /// Well-formed UTF-8 (Unicode table 3-7), written independently of the model's.
    static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8, C.Index == Int {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let b = bytes[i]
            if b < 0x80 {
                i += 1
                continue
            }
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
            for k in stride(from: 2, through: need, by: 1) where bytes[i + k] & 0xC0 != 0x80 { return false }
            i += need + 1
        }
        return true
    }

    /// Decodes JSON string content (what lies between the quotes); nil when it
    /// is not valid JSON: a raw quote, a raw control byte, a bad escape, a lone
    /// surrogate or ill-formed UTF-8. (FuzzTests checks it against JSONDecoder.)
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
}
