// A self-contained fuzzing driver for the targets in Harness.swift, used by
// scripts/fuzz when the toolchain cannot build with -sanitize=fuzzer (or with
// --driver). It mutates the seeds (FuzzSeeds, and any corpus directories) with
// the seeded mutator `swift test` uses, mixes in the huge inputs now and then,
// runs every target's properties and reports inputs per second. The input
// being run is saved to crash-<seed>-<n> when a check aborts, a signal kills
// the process, or it runs longer than --timeout seconds. SWIFTMAN_FUZZ_TARGET
// and SWIFTMAN_FUZZ_EXPORT work as in the libFuzzer build.
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

private func run(_ input: [UInt8]) {
    setCurrent(input)
    input.withUnsafeBufferPointer { _ = swiftmanFuzzTestOneInput($0.baseAddress, $0.count) }
}

@main
struct FuzzDriver {
    static func main() {
        FuzzHarness.setUp()
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
                _ = "/dev/null".withCString { strcpy(crashPath, $0) }
                let target = FuzzHarness.pinned ?? bytes.first.map { FuzzTarget(selector: $0) }
                print("replaying \(path) (\(bytes.count) bytes, target \(target?.name ?? "-"))")
                run(bytes)
            }
            print("replay: all properties hold")
            return
        }

        // Each input is its selector byte and a body; mutation keeps the selector.
        var corpus = FuzzTarget.allCases.flatMap { target in target.seeds.map { [target.selector] + $0 } }
            + FuzzSeeds.hostile.map { [$0.0.selector] + $0.1 }
        for dir in args {
            for path in listDirectory(dir) {
                if let bytes = readFile(path), !bytes.isEmpty { corpus.append(Array(bytes.prefix(maxLength))) }
            }
        }
        var bodies = corpus.map { Array($0.dropFirst()) }
        let huge = FuzzSeeds.huge.map { [$0.0.selector] + $0.1 }
        print("fuzz-driver: seed \(seed), \(corpus.count) corpus inputs, \(runs) runs, max-len \(maxLength)"
            + (FuzzHarness.pinned.map { ", target \($0.name)" } ?? ""))

        var rng = Xorshift(seed)
        let start = monotonicSeconds()
        var lastReport = start
        var perTarget = [Int](repeating: 0, count: FuzzTarget.allCases.count)
        var n = 0
        while n < runs {
            let input: [UInt8]
            if n % 20_000 == 19_999 {
                input = huge[(n / 20_000) % huge.count]
            } else if rng.below(8) == 0 {
                // Fresh bytes for any target: for the generated ones, fresh choices.
                input = [UInt8(rng.below(FuzzTarget.allCases.count))] + rng.bytes(rng.below(512))
            } else {
                let i = rng.below(corpus.count)
                input = [corpus[i][0]] + FuzzMutator.mutate(bodies[i], &rng, splicing: bodies, maxLength: maxLength)
                if corpus.count < 50_000 && rng.below(64) == 0 {
                    corpus.append(input)
                    bodies.append(Array(input.dropFirst()))
                }
            }
            _ = "\(artifacts)/crash-\(seed)-\(n)".withCString { strncpy(crashPath, $0, 4095) }
            alarm(timeout)
            run(input)
            perTarget[(FuzzHarness.pinned ?? FuzzTarget(selector: input[0])).rawValue] += 1
            n += 1
            if n % 64 == 0 {
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
        print("per target: " + zip(FuzzTarget.allCases, perTarget).filter { $0.1 > 0 }.map { "\($0.0.name)=\($0.1)" }.joined(separator: " "))
    }
}
