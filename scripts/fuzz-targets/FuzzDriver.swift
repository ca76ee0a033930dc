// A self-contained fuzzing driver for FuzzTargets.swift, used by scripts/fuzz
// when the toolchain cannot build with -sanitize=fuzzer (or with --driver).
// It mutates a seed corpus with a seeded xorshift PRNG, mixes in hostile
// inputs (huge lines, deep ${ nesting, NULs, invalid UTF-8, CRLF mixes), runs
// every target's property checks and reports inputs per second. The input
// being run is saved to crash-<seed>-<n> when a check aborts, a signal kills
// the process, or it runs longer than --timeout seconds.
//
//   fuzz-driver [--runs N] [--seconds S] [--seed X] [--max-len N] [--timeout S]
//               [--artifacts DIR] [CORPUS_DIR...]
//   fuzz-driver --replay FILE...

import Glibc

/// The input being run, for the signal handlers (which may only use raw memory).
nonisolated(unsafe) private var currentInput = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
nonisolated(unsafe) private var currentCount = 0
nonisolated(unsafe) private var currentCapacity = 1
nonisolated(unsafe) private var crashPath = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)

private func saveCurrentInput(_ signal: Int32) {
    let fd = open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 {
        var done = 0
        while done < currentCount {
            let n = write(fd, currentInput + done, currentCount - done)
            if n <= 0 { break }
            done += n
        }
        close(fd)
    }
    let note: StaticString = signal == SIGALRM ? "\n==swiftman-fuzz== TIMEOUT: input saved to " : "\n==swiftman-fuzz== CRASH: input saved to "
    _ = write(2, note.utf8Start, note.utf8CodeUnitCount)
    _ = write(2, crashPath, strlen(crashPath))
    _ = write(2, "\n", 1)
}

private func installHandlers() {
    for sig in [SIGABRT, SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGFPE] {
        signal(sig) { received in
            saveCurrentInput(received)
            signal(received, SIG_DFL)
            raise(received)
        }
    }
    signal(SIGALRM) { received in
        saveCurrentInput(received)
        _exit(70)
    }
}

private func setCurrent(_ bytes: [UInt8]) {
    if bytes.count > currentCapacity {
        currentInput.deallocate()
        currentCapacity = max(bytes.count, 2 * currentCapacity)
        currentInput = .allocate(capacity: currentCapacity)
    }
    bytes.withUnsafeBufferPointer { if let base = $0.baseAddress { currentInput.update(from: base, count: bytes.count) } }
    currentCount = bytes.count
}

struct Xorshift {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += chunk[0..<n]
    }
    return out
}

func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if !name.hasPrefix(".") { names.append(path + "/" + name) }
    }
    return names.sorted()
}

/// Tokens the grammars care about.
let dictionary: [[UInt8]] = [
    "${", "}", ":-", "-", "$", "\\$", "\\\"", "\\\\", "\\n", "'", "\"", "#", " #", "=", ":", "\n", "\r\n", "\r", " ", "\t",
    "export ", "swiftman/1 ", "scale ", "restart ", "stop ", "hello", "ps", "web=", "all=", "10000", "10001", "-1", "+0",
    "web: ", "worker: ", "PORT", "65535", "65536", "SIG", "TERM", "on-failure", "always", "never", ",",
    "\u{FEFF}", "é", "€", "😀", "\u{2028}", "\u{1B}[31m",
].map { Array($0.utf8) } + [[0], [0xFF], [0xC3], [0xE2, 0x82], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]]

func mutate(_ input: [UInt8], _ rng: inout Xorshift, corpus: [[UInt8]], maxLength: Int) -> [UInt8] {
    var out = input
    for _ in 0...rng.below(5) {
        let at = rng.below(out.count + 1)
        switch rng.below(10) {
        case 0 where !out.isEmpty:
            out[rng.below(out.count)] = rng.byte()
        case 1 where !out.isEmpty:
            out[rng.below(out.count)] ^= UInt8(1) << UInt8(rng.below(8))
        case 2:
            out.insert(contentsOf: dictionary[rng.below(dictionary.count)], at: at)
        case 3 where !out.isEmpty:
            let end = min(out.count, at + 1 + rng.below(16))
            if at < end { out.removeSubrange(at..<end) }
        case 4 where !out.isEmpty:
            let start = rng.below(out.count)
            let piece = Array(out[start..<min(out.count, start + 1 + rng.below(32))])
            out.insert(contentsOf: piece, at: at)
        case 5:
            let token = dictionary[rng.below(dictionary.count)]
            for _ in 0..<(1 + rng.below(64)) { out.insert(contentsOf: token, at: at) }
        case 6 where !corpus.isEmpty:
            // Splice: our head, another input's tail (after its selector byte).
            let other = corpus[rng.below(corpus.count)].dropFirst()
            out = Array(out[..<at]) + other[(other.startIndex + rng.below(other.count + 1))...]
        case 7:
            out.insert(contentsOf: (0..<(1 + rng.below(8))).map { _ in rng.byte() }, at: at)
        case 8 where out.count > 1:
            out.removeLast(rng.below(out.count))
        default:
            out.insert([0x0A, 0x0D, 0x00, 0x22, 0x27, 0x5C, 0x24, 0x7B, 0x7D, 0x23, 0x3D, 0x3A, 0x20][rng.below(13)], at: at)
        }
    }
    if out.count > maxLength { out.removeLast(out.count - maxLength) }
    return out
}

/// Inputs no mutation reaches quickly; run now and then (selector byte first).
func hostile(_ n: Int, _ rng: inout Xorshift) -> [UInt8] {
    func rep(_ s: String, _ k: Int) -> [UInt8] { Array(String(repeating: s, count: k).utf8) }
    let big = 1 << 20
    switch n % 12 {
    case 0: return [0] + Array("web: ".utf8) + rep("x", big)
    case 1: return [0] + rep("x", big)
    case 2: return [1] + Array("A=".utf8) + rep("${A:-", 10_000) + rep("}", 10_000)
    case 3: return [1] + Array("A=\"".utf8) + rep("${B:-", 10_000)
    case 4: return [1] + Array("A=\"".utf8) + rep("${B:-\n", 10_000) + rep("}", 10_000) + Array("\"".utf8)
    case 5: return [1] + Array("A=".utf8) + rep("x", big)
    case 6: return [1] + rep("A=1\r\nB='\r\n\0\u{FF}\"\r", 20_000)
    case 7: return [3] + Array("swiftman/1 stop ".utf8) + rep("a", 10 << 20)
    case 8: return [3] + Array("swiftman/1 scale".utf8) + rep(" web=1", 65)
    case 9: return [4] + (0..<big).map { _ in rng.byte() }
    case 10: return [5, 4, 0] + (0..<(big / 256)).flatMap { _ in [UInt8(0), 255] + (0..<255).map { _ in rng.byte() } }
    default: return [1] + Array("X=a\nB=$X$X\nC=$B$B\nD=$C$C\nE=$D$D\nF=$E$E\nG=$F$F\nH=$G$G\n".utf8)
        + (0..<40).flatMap { Array("K\($0)=$H$H$H$H$H$H$H$H\n".utf8) }
    }
}

@main
struct FuzzDriver {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
            let value = args[i + 1]
            args.removeSubrange(i...(i + 1))
            return value
        }
        let runs = option("--runs").flatMap { Int($0) } ?? 1_000_000
        let seconds = option("--seconds").flatMap { Double($0) } ?? .infinity
        let seed = option("--seed").flatMap { UInt64($0) } ?? UInt64(time(nil))
        let maxLength = option("--max-len").flatMap { Int($0) } ?? 65536
        let timeout = option("--timeout").flatMap { UInt32($0) } ?? 5
        let artifacts = option("--artifacts") ?? "."
        installHandlers()

        if args.first == "--replay" {
            for path in args.dropFirst() {
                guard let bytes = readFile(path) else { print("cannot read \(path)"); exit(2) }
                setCurrent(bytes)
                _ = "/dev/null".withCString { strcpy(crashPath, $0) }
                print("replaying \(path) (\(bytes.count) bytes, target \(bytes.first.map { FuzzTargets.names[Int($0) % FuzzTargets.names.count] } ?? "-"))")
                bytes.withUnsafeBufferPointer { _ = swiftmanFuzzTestOneInput($0.baseAddress, $0.count) }
            }
            print("replay: all properties hold")
            return
        }

        var corpus: [[UInt8]] = []
        for dir in args {
            for path in listDirectory(dir) {
                if let bytes = readFile(path), !bytes.isEmpty { corpus.append(Array(bytes.prefix(maxLength))) }
            }
        }
        if corpus.isEmpty { corpus = (0..<FuzzTargets.names.count).map { [UInt8($0)] } }
        print("fuzz-driver: seed \(seed), \(corpus.count) corpus inputs, \(runs) runs, max-len \(maxLength)")

        var rng = Xorshift(seed: seed)
        let start = monotonicSeconds()
        var lastReport = start
        var perTarget = [Int](repeating: 0, count: FuzzTargets.names.count)
        var n = 0
        while n < runs {
            let input: [UInt8]
            if n % 20_000 == 19_999 {
                input = hostile(n / 20_000, &rng)
            } else if rng.below(8) == 0 {
                // Fresh bytes for any target, often structured by the generators.
                input = [UInt8(rng.below(FuzzTargets.names.count))] + (0..<rng.below(512)).map { _ in rng.byte() }
            } else {
                var base = corpus[rng.below(corpus.count)]
                if base.isEmpty { base = [0] }
                let selector = base[0]
                input = [selector] + mutate(Array(base.dropFirst()), &rng, corpus: corpus, maxLength: maxLength)
                if corpus.count < 50_000 && rng.below(64) == 0 { corpus.append(input) }
            }
            setCurrent(input)
            _ = "\(artifacts)/crash-\(seed)-\(n)".withCString { strncpy(crashPath, $0, 4095) }
            alarm(timeout)
            input.withUnsafeBufferPointer { _ = swiftmanFuzzTestOneInput($0.baseAddress, $0.count) }
            perTarget[Int(input[0]) % perTarget.count] += 1
            n += 1
            if n % 1024 == 0 {
                let now = monotonicSeconds()
                if now - start >= seconds { break }
                if now - lastReport >= 5 {
                    lastReport = now
                    print("#\(n)\texec/s: \(Int(Double(n) / (now - start)))\tcorpus: \(corpus.count)")
                }
            }
        }
        alarm(0)
        let elapsed = monotonicSeconds() - start
        print("fuzz-driver: DONE \(n) inputs in \(Int(elapsed)) s, \(Int(Double(n) / max(elapsed, 1e-9))) inputs/s, no property violated")
        print("per target: " + zip(FuzzTargets.names, perTarget).map { "\($0)=\($1)" }.joined(separator: " "))
    }
}
