// libFuzzer's entry points for the fuzz targets in
// Tests/SwiftmanModelTests/Fuzz/ (the properties `swift test` runs too).
// scripts/fuzz compiles this file, those and Sources/SwiftmanModel into one
// module (so internal API such as JSON.escape is reachable) with
// -D SWIFTMAN_FUZZ_HARNESS; Driver.swift adds a main of its own where
// libFuzzer is not used. Never part of the SwiftPM build.
//
// An input's first byte picks the target (FuzzTarget); the rest is its body.
// A broken property prints "PROPERTY VIOLATED" and aborts, so the engine
// keeps the input as a crash. Environment:
//   SWIFTMAN_FUZZ_TARGET=NAME   every input goes to that target (its first byte is still skipped)
//   SWIFTMAN_FUZZ_EXPORT=DIR    write the seeds, hostile and huge inputs and the
//                               dictionary under DIR, then exit

import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func swiftmanFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let target = FuzzHarness.pinned ?? FuzzTarget(selector: data[0])
    if let problem = target.check(Array(UnsafeBufferPointer(start: data + 1, count: size - 1))) {
        FuzzHarness.fail(target, problem)
    }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func swiftmanFuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                                   _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    FuzzHarness.setUp()
    return 0
}

enum FuzzHarness {
    nonisolated(unsafe) static var pinned: FuzzTarget?

    static func setUp() {
        if let name = environment("SWIFTMAN_FUZZ_TARGET") {
            guard let target = FuzzTarget(name: name) else {
                report("unknown SWIFTMAN_FUZZ_TARGET \(name) (one of \(FuzzTarget.allCases.map(\.name).joined(separator: ", ")))")
                exit(2)
            }
            pinned = target
        }
        if let dir = environment("SWIFTMAN_FUZZ_EXPORT") {
            export(to: dir)
            exit(0)
        }
    }

    static func fail(_ target: FuzzTarget, _ problem: String) -> Never {
        report("\n==swiftman-fuzz== PROPERTY VIOLATED [\(target.name)]: \(problem)")
        abort()
    }

    static func report(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name), value[0] != 0 else { return nil }
        return String(cString: value)
    }

    // MARK: Export

    /// DIR/seeds/NAME-N (the seeds), DIR/hostile/NAME-N (up to 64 KB),
    /// DIR/huge/NAME-N (up to 10 MB) and DIR/swiftman.dict, each input with
    /// its selector byte.
    static func export(to dir: String) {
        for sub in ["", "/seeds", "/hostile", "/huge"] { mkdir(dir + sub, 0o755) }
        for target in FuzzTarget.allCases {
            for (n, body) in target.seeds.enumerated() { save([target.selector] + body, "\(dir)/seeds/\(target.name)-\(n)") }
        }
        for (n, (target, body)) in FuzzSeeds.hostile.enumerated() { save([target.selector] + body, "\(dir)/hostile/\(target.name)-\(n)") }
        for (n, (target, body)) in FuzzSeeds.huge.enumerated() { save([target.selector] + body, "\(dir)/huge/\(target.name)-\(n)") }
        save(Array(FuzzMutator.tokens.map(dictionaryEntry).joined(separator: "\n").utf8) + [10], "\(dir)/swiftman.dict")
    }

    /// `"…"` with anything but printable ASCII (and `"`, `\`) as \xHH.
    static func dictionaryEntry(_ token: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [0x22]
        for b in token {
            if b >= 0x20 && b < 0x7F && b != 0x22 && b != 0x5C {
                out.append(b)
            } else {
                out += [0x5C, 0x78, hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out + [0x22], as: UTF8.self)
    }

    static func save(_ bytes: [UInt8], _ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            report("fuzz: cannot write \(path)")
            exit(2)
        }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                report("fuzz: cannot write \(path)")
                exit(2)
            }
            done += n
        }
    }
}
