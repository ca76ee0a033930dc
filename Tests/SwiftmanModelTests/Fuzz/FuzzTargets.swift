// The fuzz targets: what libFuzzer's entry point (scripts/fuzz-harness)
// runs for an input, and what FuzzTests runs over mutated seeds. An input's
// first byte picks the target (byte % 8); the rest is the target's body.
// (Shared with scripts/fuzz: see FuzzSupport.swift.)

#if !SWIFTMAN_FUZZ_HARNESS
@testable import SwiftmanModel
#endif

enum FuzzTarget: Int, CaseIterable {
    case procfile, dotenv, options, control, jsonEscape, lineFramer, dotenvGenerated, generated

    init(selector: UInt8) { self = Self.allCases[Int(selector) % Self.allCases.count] }

    init?(name: String) {
        guard let target = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = target
    }

    var name: String {
        switch self {
        case .procfile: "procfile"
        case .dotenv: "dotenv"
        case .options: "options"
        case .control: "control"
        case .jsonEscape: "json-escape"
        case .lineFramer: "line-framer"
        case .dotenvGenerated: "dotenv-generated"
        case .generated: "generated"
        }
    }

    var selector: UInt8 { UInt8(rawValue) }

    /// Runs the target's properties on `body`: what is wrong, or nil.
    func check(_ body: [UInt8]) -> String? {
        switch self {
        case .procfile: return FuzzProperties.procfile(body)
        case .dotenv: return FuzzProperties.dotenv(body, differential: true)
        case .options: return FuzzProperties.options(body)
        case .control: return FuzzProperties.control(body)
        case .jsonEscape: return FuzzProperties.jsonEscape(body)
        case .lineFramer: return FuzzFramer.problem(FuzzFramer.script(fromFuzzerBytes: body))
        case .dotenvGenerated:
            var r = FuzzReader(body)
            return FuzzProperties.generatedDotEnv(&r)
        case .generated:
            // The bytes are the generators' choices.
            var r = FuzzReader(body)
            switch r.below(3) {
            case 0: return FuzzProperties.generatedProcfile(&r)
            case 1: return FuzzProperties.generatedRequest(&r)
            default: return FuzzProperties.generatedFormation(&r)
            }
        }
    }

    /// Where fuzzing starts: small inputs that reach each branch of the grammar.
    var seeds: [[UInt8]] {
        switch self {
        case .procfile: FuzzSeeds.procfile
        case .dotenv: FuzzSeeds.dotenv
        case .options: FuzzSeeds.options
        case .control: FuzzSeeds.control
        case .jsonEscape: FuzzSeeds.json
        case .lineFramer: FuzzSeeds.framer
        case .dotenvGenerated: [Array(1...24), Array((232...255).reversed())]
        case .generated: [[0, 5, 3, 7] + Array(1...12), Array(1...16), [2, 1, 0, 0] + Array(5...16)]
        }
    }
}

enum FuzzSeeds {
    private static func text(_ list: [String]) -> [[UInt8]] { list.map { Array($0.utf8) } }
    private static func of(_ s: String) -> [UInt8] { Array(s.utf8) }
    private static func repeated(_ unit: [UInt8], _ n: Int) -> [UInt8] {
        if unit.count == 1 { return [UInt8](repeating: unit[0], count: n) }
        var out: [UInt8] = []
        out.reserveCapacity(unit.count * n)
        for _ in 0..<n { out += unit }
        return out
    }
    private static func repeated(_ s: String, _ n: Int) -> [UInt8] { FuzzBytes.repeated(s, n) }

    static let procfile = text([
        "web: bundle exec rails s\nworker: sidekiq\n", "  web \t:   run it  \t\n", "web: env URL=http://x:80 sh -c 'a: b'",
        "web: echo \"$PORT\"  # shell comment\n", "\n   \n\t\n# comment\n   # indented: comment\nweb: a\n", "Web_2-x: a\n9: b\n",
        "\u{FEFF}web: a\r\nworker: b\r\n", "web: a\nworker: b\nweb: c\n", "we b: a\nweb.1: b\n", "web:\nworker:  \t\n",
        "web: a\nbad\nworker: b\n-: \nweb: c\nclock: d\n", "web: a\r\rb\r", "",
    ]) + [of("web: a\0b\nw") + [0xFF] + of("b: c\r\rd\r")]

    static let dotenv = text([
        "A=1\nB=two\n", "export A=1\nexport\t  B=2\n", "export=1\nexport =2\nexportC=3\n", "\n   \n\t\n# A=1\n   # B=2\nC=3",
        "  A \t=  hello   world \t\n", "A='single $X \\n'\nB=\"double ${A} \\\" \\n \\$ \\\\\"\n", "A=\"multi\nline\"\nB='x\ny'\n",
        "A=${B:-${C:-deep}}\nD=${A-x}${U:-}\nE=${A:-${B-${C:-${D}}}}\n", "A=$B$C ${D}e #comment\nKEY=#notcomment\n",
        "A=\"${B:-unterminated\"\n", "A='open\nB=2\n", "1A=2\n=3\nA B=4\n", "A=\"x\" trailing\n", "A=${1}\nB=${A:x}\nC=${A\n",
        "A=x\r\nB=\"y\r\nz\"\r\n", "A=\"${B:-\"}\"\"\n", "A=\\$B \\${C}\nD=\"\\${E:-x}\"\n", "\u{FEFF}A=1",
        "X=abcdefgh\nB=$X$X\nC=$B$B\nD=$C$C\nE=$D$D\n", "",
    ]) + [of("A=a\0b\nB=") + [0xFF, 0xC3, 0x0A, 0xFF] + of("=1\n")]

    static let options = text([
        "all=1,web=2,worker=0", " web = 3 ", "web=x", "all=2, web=3,worker=0", "always", "web=always,all=never", "TERM",
        "web=SIGKILL,worker=9", "8080", " 65535 ", "0", "web=,=1", ",", "web=1,web=2", "on-failure", "-1", "+80",
    ])

    static let control = text([
        "swiftman/1 hello", "swiftman/1 ps", "swiftman/1 timings", "swiftman/1 scale web=2 worker=0", "swiftman/1 restart web.1",
        "swiftman/1 stop worker", "swiftman/1 signal web 10", "swiftman/1 signal web.2 65", "swiftman/1 attach web.1 24 80", "swiftman/1 attach web 0 0", "swiftman/1 attach web 65536 1",
        "swiftman/1  scale   web=+3 ", "swiftman/2 ps", "swiftman/1 scale web=10001", "swiftman/1 dance", "swiftman/1 scale web.1=2",
        "swiftman/1 restart a b", "swiftman/1 ps now", "swiftman/1 timings web",
    ])

    static let json = text([
        "hello", "quote\" back\\slash /", "\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F}", "é€😀\u{FFFD}\u{10FFFF}", "",
        "\u{FF}\u{C3}(\u{E2}\u{82}",
    ]) + [[0xFF, 0xC3, 0x28, 0xE2, 0x82, 0xED, 0xA0, 0x80, 0xF4, 0x90, 0x80, 0x80, 0xC0, 0xAF]]

    /// In FuzzFramer.script(fromFuzzerBytes:)'s format.
    static let framer: [[UInt8]] = [
        [4, 0, 0, 12] + of("hello\nworld!") + [0x0A, 0x80, 0x05] + of("abc\ne") + [0x0D, 0x0E],
        [0x3C, 1, 0, 0x40] + repeated("x", 64) + [0x0C],
        [4, 0, 0, 0x20] + repeated("€", 10) + [0x00, 0x05, 0xF0, 0x9F, 0x98, 0x80, 0x0A, 0x0E],
        [0, 1, 2, 0x10, 0x22, 0x5C, 0x01, 0xFF, 0x80] + [UInt8](repeating: 0x0A, count: 10) + [0x8B, 0x0F],
    ]

    /// Inputs up to 64 KB that mutation reaches slowly, each with its selector
    /// byte: huge lines, deep `${` nesting, NULs, invalid UTF-8, CRLF mixes.
    static var hostile: [(FuzzTarget, [UInt8])] {
        [
            (.procfile, of("web: ") + repeated("x", 60_000)),
            (.procfile, repeated("web: a\n", 8000)),
            (.procfile, repeated([0x77, 0x0D, 0x0A, 0x09, 0x23, 0x20, 0xFF, 0x00, 0x3A, 0x0D], 6000)),
            (.dotenv, of("A=") + repeated("${B:-", 10_000) + repeated("}", 10_000)),
            (.dotenv, of("A=\"") + repeated("${B:-\n", 8000) + repeated("}", 8000) + of("\"")),
            (.dotenv, of("A=\"") + repeated("${B:-", 12_000)),
            (.dotenv, repeated("A=${B\n", 9000)),
            (.dotenv, of("A='") + repeated("x\r\n\0", 15_000)),
            (.control, of("swiftman/1 scale") + repeated(" w=1", 65)),
            (.control, of("swiftman/1 stop ") + repeated("a", 8000)),
            (.jsonEscape, repeated([0xE2, 0x82, 0xAC, 0x22, 0x5C, 0x5C, 0x01, 0xFF, 0xED, 0xA0, 0x00], 5500)),
            (.lineFramer, [0x3C, 0] + repeated([0, 0xFF] + repeated("x", 255), 200)),
            (.lineFramer, [4, 0] + repeated([0x00, 0x20] + repeated("€", 10) + [0x80, 0x07, 0xF0, 0x9F, 0x98, 0x80, 0x0A, 0xFF, 0x0D], 1000)),
        ]
    }

    /// Inputs far beyond libFuzzer's -max_len (up to 10 MB), run as they are.
    static var huge: [(FuzzTarget, [UInt8])] {
        let big = 1 << 20
        var rng = Xorshift(0x5EED_0B16)
        var x = of("X=a\nB=$X$X\nC=$B$B\nD=$C$C\nE=$D$D\nF=$E$E\nG=$F$F\nH=$G$G\n")
        for k in 0..<40 { x += of("K\(k)=$H$H$H$H$H$H$H$H\n") }
        return [
            (.procfile, of("web: ") + repeated("x", big)),
            (.procfile, repeated("x", big)),
            (.dotenv, of("A=") + repeated("${A:-", 10_000) + repeated("}", 10_000)),
            (.dotenv, of("A=\"") + repeated("${B:-", 10_000)),
            (.dotenv, of("A=\"") + repeated("${B:-\n", 10_000) + repeated("}", 10_000) + of("\"")),
            (.dotenv, of("A=") + repeated("x", big)),
            (.dotenv, repeated("A=1\r\nB='\r\n\0\u{FF}\"\r", 20_000)),
            (.dotenv, x),
            (.control, of("swiftman/1 stop ") + repeated("a", 10 << 20)),
            (.control, of("swiftman/1 scale") + repeated(" web=1", 65)),
            (.jsonEscape, rng.bytes(big)),
            (.lineFramer, [4, 0] + (0..<(big / 256)).flatMap { _ in [0, 255] + rng.bytes(255) }),
        ]
    }
}
