// Fault injection: what swiftman does when its children, its consumer, the
// kernel's limits or a flood of signals misbehave. Each test is bounded (about
// 20 s at most on a busy machine) and ends with nothing of its own left running.
//
// EINTR: swiftman has no signal handlers (signals are read from a signalfd), so
// its syscalls are interrupted only by stops; the signal storm and the
// SIGSTOP/SIGCONT tests below are where an unhandled EINTR would show up.
import Glibc
import CSwiftman
import Foundation
import Testing

private extension Swiftman {
    /// The pid swiftman printed for the latest start of `name`.
    func latestPid(of name: String) -> pid_t? {
        messages(from: "system").last { $0.hasPrefix("\(name) started with pid ") }
            .flatMap { pid_t($0.split(separator: " ").last!) }
    }

    /// Whether swiftman is still running (not exited, not yet reaped by us).
    var isRunning: Bool {
        ProcScan.stat(pid).map { !$0.isZombie } ?? false
    }
}

/// swiftman's stdout as a FIFO the test reads at its own pace (the harness reads
/// everything as soon as it comes). The read end is non-blocking.
private final class SlowConsumer {
    let path: String
    let fd: Int32
    private(set) var bytes: [UInt8] = []
    private(set) var atEOF = false

    init(path: String) throws {
        guard mkfifo(path, 0o600) == 0 else { throw HarnessError("mkfifo \(path): \(errno)") }
        // Opened before swiftman's side, so its open for writing does not block.
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw HarnessError("open \(path): \(errno)") }
        self.path = path
    }

    deinit { close(fd) }

    /// One read of at most `limit` bytes; 0 when none are waiting.
    @discardableResult
    func readSome(_ limit: Int) -> Int {
        var chunk = [UInt8](repeating: 0, count: limit)
        let n = read(fd, &chunk, limit)
        if n > 0 {
            bytes += chunk[0..<n]
            return n
        }
        // 0 means EOF only once a writer has been there.
        if n == 0 && !bytes.isEmpty { atEOF = true }
        return 0
    }

    /// Reads as fast as it can until swiftman closes its stdout, or `timeout`.
    func readToEOF(timeout: Double) -> Bool {
        let deadline = now() + timeout
        while !atEOF && now() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, 100)
            while readSome(1 << 16) > 0 {}
        }
        return atEOF
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

private extension Project {
    /// `swiftman start -f PROCFILE --no-color --no-timestamp ARGUMENTS >FIFO` (through
    /// a shell that execs swiftman, so the pid is swiftman's).
    func startIntoFIFO(_ arguments: [String] = []) throws -> (Swiftman, SlowConsumer) {
        let consumer = try SlowConsumer(path: path("stdout.fifo"))
        let swiftman = try swiftman(
            ["-c", "exec \"$0\" \"$@\" >'\(consumer.path)'", Binary.path, "start", "-f", path("Procfile"),
             "--no-color", "--no-timestamp"] + arguments,
            executable: "/bin/sh")
        return (swiftman, consumer)
    }

    /// Live tagged processes whose command is `comm`.
    func processes(named comm: String) -> [pid_t] {
        liveProcesses().filter { ProcScan.stat($0)?.comm == comm }
    }
}

/// Checks a flood: every line is `system`'s or one of `names`', whose messages must
/// be exactly 1, 2, …, `count` in order. Returns the first problems found (a byte
/// scan: the output is several MB and the tests are built without optimisation).
private func floodProblems(_ output: [UInt8], names: [String], count: Int) -> [String] {
    var next: [String: Int] = [:]
    for name in names { next[name] = 1 }
    var problems: [String] = []
    func note(_ problem: String) { if problems.count < 10 { problems.append(problem) } }
    output.withUnsafeBufferPointer { buf in
        let n = buf.count
        var start = 0
        var lineNumber = 0
        while start < n {
            var end = start
            while end < n && buf[end] != 10 { end += 1 }
            lineNumber += 1
            defer { start = end + 1 }
            let lineStart = start
            func line() -> String {
                String(String(decoding: UnsafeBufferPointer(rebasing: buf[lineStart..<end]), as: UTF8.self).prefix(80))
            }
            // NAME, padding, "| ", message.
            var nameEnd = start
            while nameEnd < end && buf[nameEnd] != 32 { nameEnd += 1 }
            var bar = nameEnd
            while bar < end && buf[bar] == 32 { bar += 1 }
            guard bar > nameEnd, nameEnd > start, bar < end, buf[bar] == 124, bar + 1 == end || buf[bar + 1] == 32 else {
                note("line \(lineNumber) is not a prefixed line: \"\(line())\"")
                continue
            }
            let name = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<nameEnd]), as: UTF8.self)
            if name == "system" { continue }
            guard let expected = next[name] else {
                note("line \(lineNumber) from an unexpected source: \"\(line())\"")
                continue
            }
            var value = 0
            var digits = 0
            var i = min(bar + 2, end)
            while i < end, buf[i] >= 48, buf[i] <= 57, digits < 12 {
                value = value * 10 + Int(buf[i] - 48)
                digits += 1
                i += 1
            }
            if digits == 0 || i != end {
                note("line \(lineNumber): \"\(line())\" where \(name) \(expected) was due")
            } else if value != expected {
                note("line \(lineNumber): \(name) printed \(value) where \(expected) was due")
                next[name] = value + 1
            } else {
                next[name] = expected + 1
            }
        }
        if n > 0 && buf[n - 1] != 10 { note("the output does not end with a newline") }
    }
    for name in names where next[name] != count + 1 {
        note("\(name): the last number was \(next[name]! - 1), expected \(count)")
    }
    return problems
}

/// Lines of a `yes TEXT` flood that are not `TEXT` (one cut short at the very end
/// of each child is fine: yes was killed in the middle of a write).
private func brokenFloodLines(_ output: String, text: String, names: [String]) -> [String] {
    var broken: [(name: String, message: String)] = []
    var lastIndex: [String: Int] = [:]
    for line in output.split(separator: "\n") {
        guard let bar = line.range(of: " | ") else {
            broken.append(("?", String(line)))
            continue
        }
        let name = String(line[..<bar.lowerBound].split(separator: " ").first ?? "")
        let message = String(line[bar.upperBound...])
        if name == "system" { continue }
        guard names.contains(name) else {
            broken.append((name, message))
            continue
        }
        if message != text {
            broken.append((name, message))
            lastIndex[name] = broken.count - 1
        } else {
            lastIndex[name] = nil
        }
    }
    // A child's very last line may be a prefix of TEXT.
    let allowed = Set(lastIndex.values.filter { !broken[$0].message.isEmpty && text.hasPrefix(broken[$0].message) })
    return broken.indices.filter { !allowed.contains($0) }.map { "\(broken[$0].name) | \(broken[$0].message)" }
}

@Suite(.serialized) struct FaultTests {
    // MARK: a child killed from outside

    @Test func sigkillToAChildGroupMidLineIsReportedAndRestarted() throws {
        let project = try Project(procfile: "web: printf 'partial-no-newline'; sleep 30\n")
        let swiftman = try project.start()
        // The partial line is flushed after 250 ms of quiet.
        try swiftman.waitFor(line: "partial-no-newline", from: "web.1")
        let first = try #require(swiftman.latestPid(of: "web.1"))
        kill(-first, SIGKILL)
        try swiftman.waitFor(line: "web.1 terminated by SIGKILL", from: "system")
        try swiftman.waitFor("the restarted run's partial line") {
            messages(from: "web.1", in: $0).count == 2
        }
        let second = try #require(swiftman.latestPid(of: "web.1"))
        #expect(second != first)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("web.1 restarting in 0.5s"), "\(system)")
        #expect(swiftman.messages(from: "web.1") == ["partial-no-newline", "partial-no-newline"])
        // No garbled line: each one is swiftman's or the child's partial line, whole.
        let lines = swiftman.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let odd = lines.filter { !$0.hasPrefix("system | ") && $0 != "web.1  | partial-no-newline" }
        #expect(odd.isEmpty, "\(odd)")
        #expect(swiftman.stdout.hasSuffix("\n"))
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// The group is killed while the partial line is (most likely) still waiting in
    /// swiftman for its newline: it comes out whole, once, before the exit message.
    @Test func sigkillBeforeThePartialLineIsFlushedKeepsItWhole() throws {
        let project = try Project(procfile: """
            web: if [ -e marker ]; then echo second run; exec sleep 300; fi; touch marker; printf 'cut-short'; touch wrote; exec sleep 30
            """)
        let swiftman = try project.start()
        try swiftman.waitFor("web.1 started with pid")
        let pid = try #require(swiftman.latestPid(of: "web.1"))
        #expect(eventually(timeout: 20) { FileManager.default.fileExists(atPath: project.path("wrote")) })
        kill(-pid, SIGKILL)
        try swiftman.waitFor(line: "second run", from: "web.1")
        #expect(swiftman.messages(from: "web.1") == ["cut-short", "second run"])
        let lines = swiftman.stdout.split(separator: "\n").map(String.init)
        let partial = lines.firstIndex(of: "web.1  | cut-short")
        let exit = lines.firstIndex(of: "system | web.1 terminated by SIGKILL")
        #expect(partial != nil && exit != nil && partial! < exit!, "\(lines)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    // MARK: swiftman stopped, its reader gone or slow

    @Test func sigstopAndSigcontDuringAFloodLoseNothing() throws {
        let gate = "while [ ! -e go ]; do sleep 0.05; done; "
        let project = try Project(procfile: "a: \(gate)seq 1 200000\nb: \(gate)seq 1 200000\n")
        let swiftman = try project.start()
        try swiftman.waitFor("a.1 started with pid")
        try swiftman.waitFor("b.1 started with pid")
        // Stopped for a second while the flood starts: the children fill their
        // pipes (mid-line: seq writes 4 KiB blocks) and block.
        swiftman.signal(SIGSTOP)
        try project.write("go", "")
        swiftman.keepReading(for: 1)
        let whileStopped = swiftman.stdoutBytes.count
        swiftman.signal(SIGCONT)
        // Then short stops wherever the relay happens to be.
        for _ in 0..<10 {
            swiftman.keepReading(for: 0.1)
            swiftman.signal(SIGSTOP)
            swiftman.keepReading(for: 0.1)
            swiftman.signal(SIGCONT)
        }
        #expect(try swiftman.wait(timeout: 90) == 0)
        #expect(whileStopped < swiftman.stdoutBytes.count / 2, "the flood went on while swiftman was stopped")
        let problems = floodProblems(swiftman.stdoutBytes, names: ["a.1", "b.1"], count: 200_000)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(swiftman.messages(from: "system").contains("all processes have finished"))
        project.expectNothingLeft()
    }

    @Test func closingStdoutMidFloodStopsEverything() throws {
        let project = try Project(procfile: "a: exec yes flood-a\nb: seq 1 1000000000\n")
        let swiftman = try project.start()
        try swiftman.waitFor("a.1    | flood-a\n")
        try swiftman.waitFor("b.1    | 1000\n")
        swiftman.closeStdout()
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    /// With stdout backed up the queue is full at every wake, and only some of
    /// the ready pipes fit before it is full again: the ones passed over must
    /// come first next time, or the first flooder in line starves the others.
    @Test func aBackedUpStdoutStillServesEveryFlooder() throws {
        let project = try Project(procfile: "web: exec yes line-of-some-text\n")
        let (swiftman, consumer) = try project.startIntoFIFO(["-m", "web=3"])
        #expect(eventually(timeout: 20) { project.processes(named: "yes").count == 3 })
        // Fill the queue, then read slowly: every wake now takes a read or two.
        usleep(500_000)
        let begin = now()
        // At least 3 s, and until 2 MiB past the backlog have come (a loaded machine
        // reads less per second), at most 60 s.
        while (now() - begin < 3 || consumer.bytes.count < 4 << 20) && now() - begin < 60 {
            consumer.readSome(65536)
            usleep(20_000)
        }
        let skip = min(consumer.bytes.count, 2 << 20)   // the backlog from before
        let later = String(decoding: consumer.bytes[skip...], as: UTF8.self)
        for name in ["web.1", "web.2", "web.3"] {
            #expect(later.contains("\n\(name) "), "\(name)'s lines stopped: \(later.suffix(300))")
        }
        swiftman.signal(SIGTERM)
        #expect(consumer.readToEOF(timeout: 30))
        #expect(try swiftman.wait(timeout: 15) == 0)
        project.expectNothingLeft()
    }

    /// The test reads 4 KiB every 50 ms for 5 s from a flooding formation: swiftman
    /// must stop reading the children (backpressure) rather than buffer without
    /// bound or drop lines, keep every line whole, and still stop at once on SIGTERM.
    @Test func slowConsumerGetsBackpressureNotUnboundedBuffering() throws {
        let text = "line-of-some-text"
        let project = try Project(procfile: "web: exec yes \(text)\n")
        let (swiftman, consumer) = try project.startIntoFIFO(["-m", "web=2"])
        var flooders: [pid_t] = []
        #expect(eventually(timeout: 20) {
            flooders = project.processes(named: "yes")
            return flooders.count == 2
        }, "yes processes: \(flooders)")

        var peakRSS = 0
        let begin = now()
        while now() - begin < 5 {
            consumer.readSome(4096)
            peakRSS = max(peakRSS, ProcScan.field("/proc/\(swiftman.pid)/status", "VmRSS") ?? 0)
            usleep(50_000)
        }
        let hwm = ProcScan.field("/proc/\(swiftman.pid)/status", "VmHWM") ?? 0
        let written = flooders.map { ProcScan.field("/proc/\($0)/io", "wchar") ?? -1 }
        print("FaultTests: slow consumer read \(consumer.bytes.count) bytes in 5 s; swiftman peak VmRSS \(peakRSS) KiB (VmHWM \(hwm) KiB); yes wrote \(written) bytes")
        #expect(swiftman.isRunning)
        #expect(peakRSS > 0 && peakRSS < 64 * 1024, "peak VmRSS \(peakRSS) KiB")
        #expect(hwm > 0 && hwm < 64 * 1024, "VmHWM \(hwm) KiB")
        // What the children could write is bounded by the pipes, the 1 MiB queue and
        // what we read; unthrottled, yes writes gigabytes in 5 s.
        #expect(written.allSatisfy { $0 >= 0 && $0 < 16 << 20 }, "yes wrote \(written) bytes")

        // SIGTERM while output is backed up: the children are stopped at once, still
        // reading slowly.
        swiftman.signal(SIGTERM)
        #expect(eventually(timeout: 15) {
            consumer.readSome(4096)
            return project.processes(named: "yes").isEmpty
        }, "yes still running: \(project.processes(named: "yes"))")
        // Then the backlog is delivered and swiftman exits 0.
        #expect(consumer.readToEOF(timeout: 30))
        #expect(try swiftman.wait(timeout: 15) == 0)
        let output = consumer.text
        let broken = brokenFloodLines(output, text: text, names: ["web.1", "web.2"])
        #expect(broken.isEmpty, "\(broken.count) broken lines, e.g. \(broken.prefix(6))")
        let system = messages(from: "system", in: output)
        #expect(system.contains("SIGTERM received"), "\(system)")
        #expect(system.contains("web.1 terminated by SIGTERM"), "\(system)")
        #expect(system.contains("web.2 terminated by SIGTERM"), "\(system)")
        project.expectNothingLeft()
    }

    /// The reader takes nothing for a second, twice: swiftman's queue fills and it
    /// stops reading the children, typically in the middle of a line (seq writes
    /// 4 KiB blocks). That pause is swiftman's own backpressure, not a child that
    /// went quiet, so it must not cut the waiting line in two the way the 250 ms
    /// partial-line flush does for a prompt.
    @Test func linesStayWholeWhileTheReaderStalls() throws {
        let project = try Project(procfile: "a: seq 1 300000\nb: seq 1 300000\n")
        let (swiftman, consumer) = try project.startIntoFIFO()
        usleep(1_000_000)
        consumer.readSome(1 << 16)
        usleep(1_000_000)
        #expect(consumer.readToEOF(timeout: 60))
        #expect(try swiftman.wait(timeout: 15) == 0)
        let problems = floodProblems(consumer.bytes, names: ["a.1", "b.1"], count: 300_000)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        project.expectNothingLeft()
    }

    /// A child floods and exits while the reader pauses, so swiftman reaps it
    /// with its last output still unread (behind backpressure). "exited" must
    /// still come after that output, including its last line without a newline.
    @Test func exitIsReportedAfterTheLastOutputUnderBackpressure() throws {
        let project = try Project(procfile: "w: seq 1 300000; printf LAST\nkeeper: exec sleep 1000\n")
        let (swiftman, consumer) = try project.startIntoFIFO()
        usleep(1_000_000)
        for _ in 0..<200 {
            consumer.readSome(1 << 16)
            usleep(10_000)
        }
        swiftman.signal(SIGTERM)
        #expect(consumer.readToEOF(timeout: 60))
        #expect(try swiftman.wait(timeout: 15) == 0)
        let lines = consumer.text.split(separator: "\n").map(String.init)
        let last = lines.firstIndex { $0.hasPrefix("w.1") && $0.hasSuffix("| LAST") }
        let exited = lines.firstIndex { $0.contains("w.1 exited with code 0") }
        #expect(last != nil && exited != nil && last! < exited!,
                "LAST at \(String(describing: last)), exited at \(String(describing: exited))")
        project.expectNothingLeft()
    }

    /// The reader stops reading altogether. The first SIGTERM stops the children;
    /// swiftman then waits to deliver what it holds. A second SIGTERM gives up on
    /// the reader: swiftman exits 0 without it.
    @Test func secondSIGTERMGivesUpOnAStalledReader() throws {
        let project = try Project(procfile: "web: exec yes line-of-some-text\n")
        let (swiftman, consumer) = try project.startIntoFIFO(["-m", "web=2"])
        #expect(eventually(timeout: 20) { consumer.readSome(4096) > 0 })
        // From here on nothing reads: the queue fills and the children block.
        usleep(2_000_000)
        swiftman.signal(SIGTERM)
        #expect(eventually(timeout: 15) { project.processes(named: "yes").isEmpty },
                "yes still running: \(project.processes(named: "yes"))")
        // Every child reaped: swiftman is past its loop, holding output.
        #expect(eventually(timeout: 15) { ProcScan.children(of: swiftman.pid).isEmpty },
                "children: \(ProcScan.children(of: swiftman.pid))")
        // The README: a second SIGTERM "also stops waiting for a stalled stdout
        // reader", so the first one waits for it (without end: nothing reads).
        usleep(500_000)
        #expect(swiftman.isRunning, "after the first SIGTERM swiftman exited instead of waiting for its stalled reader")
        swiftman.signal(SIGTERM)
        let code = try? swiftman.wait(timeout: 15)
        #expect(code == 0, "a second SIGTERM did not end swiftman while its reader was stalled (\(code.map { "exit \($0)" } ?? "still running after 15 s"))")
        if code == nil {
            swiftman.signal(SIGKILL)
            _ = try? swiftman.wait(timeout: 10)
        }
        project.expectNothingLeft()
    }

    // MARK: limits

    @Test func descriptorLimitTooLowForTheFormationIsReported() throws {
        let project = try Project(procfile: "web: echo up; exec sleep 300\n")
        // `ulimit -n` in dash sets both the soft and the hard limit.
        let swiftman = try project.swiftman(
            ["-c", "ulimit -n 64; exec \"$0\" \"$@\"", Binary.path, "start", "-f", project.path("Procfile"),
             "--no-color", "--no-timestamp", "-m", "all=100"],
            executable: "/bin/sh")
        let code = try swiftman.wait(timeout: 30)
        #expect(code != 0 && code < 128, "exit code \(code) (128 + n is a crash by signal n)")
        #expect(swiftman.stderr.contains("ulimit -n"), "stderr: \(swiftman.stderr)")
        #expect(swiftman.stderr.contains("64"), "stderr: \(swiftman.stderr)")
        #expect(!swiftman.stdout.contains("started with pid"), "\(swiftman.stdout)")
        project.expectNothingLeft()
    }

    /// Only the soft limit is low: swiftman raises it (up to the hard limit) and runs
    /// a formation that would not fit in 64 descriptors (80 pipes, one per child,
    /// plus swiftman's own: without the raise the 60th spawn or so fails with EMFILE).
    @Test func lowSoftDescriptorLimitIsRaisedForTheFormation() throws {
        let project = try Project(procfile: "web: echo up; exec sleep 300\n")
        let swiftman = try project.swiftman(
            ["-c", "ulimit -Sn 64; exec \"$0\" \"$@\"", Binary.path, "start", "-f", project.path("Procfile"),
             "--no-color", "--no-timestamp", "-m", "all=80"],
            executable: "/bin/sh")
        try swiftman.waitFor("80 instances up", timeout: 60) { output in
            (1...80).allSatisfy { messages(from: "web.\($0)", in: output) == ["up"] }
        }
        #expect(!swiftman.stdout.contains("could not start"), "\(swiftman.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    // MARK: restarts

    /// `--restart-limit 3`: the first failure and three restarts; the fourth failure
    /// stops the formation with its code. (A limit of 200 cannot be reached in a
    /// test: the backoff doubles from 0.5 s to 30 s.)
    @Test func crashLoopLimitIsEnforced() throws {
        let project = try Project(procfile: "web: sleep 300\nbad: echo boom; exit 1\n")
        let swiftman = try project.start(["--restart-limit", "3"])
        #expect(try swiftman.wait(timeout: 40) == 1)
        let system = swiftman.messages(from: "system")
        #expect(system.filter { $0 == "bad.1 exited with code 1" }.count == 4, "\(system)")
        #expect(system.filter { $0.hasPrefix("bad.1 restarting in ") }
                == ["bad.1 restarting in 0.5s", "bad.1 restarting in 1s", "bad.1 restarting in 2s"], "\(system)")
        // Both rules hold (4 within 60 s, 4 in a row): the in-a-row rule is named.
        #expect(system.contains("bad.1 failed 4 times without running 10s in between (restart limit 3); stopping"), "\(system)")
        #expect(swiftman.messages(from: "bad.1") == ["boom", "boom", "boom", "boom"])
        #expect(system.contains("web.1 terminated by SIGTERM"), "\(system)")
        project.expectNothingLeft()
    }

    /// 15 restarts of an instance that exits 0 at once (`--restart always`) leave
    /// swiftman's descriptor count where it was. Three restarts come from the backoff
    /// timer (0.5 s, 1 s, 2 s); waiting for more would take minutes (the backoff
    /// doubles to 30 s), so the other twelve are `swiftman restart web.1`, which
    /// starts an instance in backoff at once. Every count is taken while the
    /// instance waits in a backoff of 4 s or more, with no child and no pipe.
    @Test func restartsDoNotLeakDescriptors() throws {
        let project = try Project(procfile: "web: echo run\n")
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--restart", "always", "--socket", socket])
        try swiftman.waitFor(line: "web.1 restarting in 4s", from: "system", timeout: 30)
        let baseline = try #require(ProcScan.descriptorCount(swiftman.pid))
        var counts: [Int] = []
        for _ in 1...12 {
            let exits = swiftman.messages(from: "system").filter { $0.hasPrefix("web.1 restarting in ") }.count
            let result = try project.run(["restart", "web.1", "--socket", socket])
            #expect(result.code == 0, "\(result.stderr)")
            try swiftman.waitFor("exit number \(exits + 1)") { output in
                messages(from: "system", in: output).filter { $0.hasPrefix("web.1 restarting in ") }.count > exits
            }
            counts.append(ProcScan.descriptorCount(swiftman.pid) ?? -1)
        }
        let starts = swiftman.messages(from: "system").filter { $0.hasPrefix("web.1 started with pid ") }.count
        print("FaultTests: \(starts - 1) restarts; swiftman descriptors \(baseline) before, \(counts) after each")
        #expect(starts == 16)
        #expect(counts.allSatisfy { $0 == baseline }, "baseline \(baseline), then \(counts)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    // MARK: signals

    /// 1000 SIGUSR1 in about a second (with SIGCHLD and SIGWINCH mixed in): swiftman
    /// survives, keeps relaying and forwarding, and stops normally. Signals
    /// coalesce, so the child counts at least one, not 1000.
    @Test func signalStormIsSurvived() throws {
        let project = try Project(procfile: """
            web: n=0; trap 'n=$((n+1))' USR1; trap 'echo "received $n"; exit 0' TERM; echo ready; while :; do if [ -e poke ]; then rm -f poke; echo poked; fi; sleep 0.05; done
            """)
        let swiftman = try project.start()
        try swiftman.waitFor(line: "ready", from: "web.1")
        let begin = now()
        for i in 0..<1000 {
            swiftman.signal(SIGUSR1)
            if i % 10 == 0 {
                swiftman.signal(SIGCHLD)
                swiftman.signal(SIGWINCH)
            }
            usleep(1000)
        }
        let stormSeconds = now() - begin
        #expect(swiftman.isRunning, "swiftman died in the storm")
        try project.write("poke", "")
        try swiftman.waitFor(line: "poked", from: "web.1")
        #expect(!swiftman.messages(from: "system").contains { $0.hasSuffix(" received") || $0.hasPrefix("sending ") },
                "\(swiftman.messages(from: "system"))")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        let received = swiftman.messages(from: "web.1").last { $0.hasPrefix("received ") }
        let count = received.flatMap { Int($0.dropFirst("received ".count)) } ?? 0
        print("FaultTests: 1000 SIGUSR1 sent in \(String(format: "%.2f", stormSeconds)) s; the child counted \(count)")
        #expect(count >= 1, "\(swiftman.messages(from: "web.1"))")
        #expect(swiftman.messages(from: "system").contains("web.1 exited with code 0"))
        project.expectNothingLeft()
    }
}
