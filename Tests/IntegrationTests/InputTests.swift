// Interactive processes: `start --input TARGET` (swiftman's stdin to one
// instance) and `swiftman connect TARGET` (another terminal attached over the
// control socket), with real interactive programs: pdb, cat, stty.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

private let pdbCommand = "python3 -u \(resource("breakpoint.py"))"
private let ctrlBracket: UInt8 = 0x1d

private extension Project {
    var attachSocket: String { path("control.sock") }

    /// `swiftman connect TARGET` on a terminal of its own, attached to the
    /// formation at `attachSocket`; returns once it says it is connected.
    func connect(_ target: String, _ extra: [String] = [], expect: String? = nil) throws -> Swiftman {
        let client = try swiftman(["connect", target, "--socket", attachSocket] + extra, stdin: .terminal)
        try client.waitFor(expect ?? "connected to ")
        return client
    }
}

private extension Swiftman {
    /// pdb's prompt, shown once its partial line is flushed (on a terminal,
    /// readline may wrap it in escape sequences).
    func waitForPrompt() throws {
        try waitFor(containing: "(Pdb) ", from: "web.1")
    }

    /// Waits for a line from `name` that contains `text` (pdb's answers may
    /// share the line of its prompt, when they come within the partial-line delay).
    func waitFor(containing text: String, from name: String, timeout: Double = 20) throws {
        try waitFor("\(name) | …\(text)…", timeout: timeout) {
            IntegrationTests.messages(from: name, in: $0).contains { $0.contains(text) }
        }
    }
}

@Suite struct InputTests {
    // MARK: start --input

    @Test func pdbIsDrivenThroughInput() throws {
        let project = try Project(procfile: "web: \(pdbCommand)\nother: echo other-up; exec sleep 300\n")
        let swiftman = try project.start(["--input", "web", "--socket", project.attachSocket], stdin: .pipe)
        // The prompt has no newline: it shows once the partial line is flushed.
        try swiftman.waitForPrompt()
        swiftman.type("p x\n")
        try swiftman.waitFor("42 from pdb") { messages(from: "web.1", in: $0).contains { $0.hasSuffix("42") } }
        swiftman.type("c\n")
        try swiftman.waitFor(containing: "after the breakpoint: 84", from: "web.1")
        try swiftman.waitFor(line: "web.1 exited with code 0", from: "system")
        // The other type never saw any of it.
        #expect(swiftman.messages(from: "other.1") == ["other-up"])
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func linesGoToTheTargetAndFollowItsRestart() throws {
        let project = try Project(procfile: "web: cat\nworker: cat\n")
        let swiftman = try project.start(["--input", "worker.1", "--socket", project.attachSocket], stdin: .pipe)
        try swiftman.waitFor(linePrefix: "worker.1 started with pid", from: "system")
        swiftman.type("first line\nsecond ")
        try swiftman.waitFor(line: "first line", from: "worker.1")
        swiftman.type("line\n")
        try swiftman.waitFor(line: "second line", from: "worker.1")
        let firstPid = try #require(swiftman.startedPid("worker.1"))
        #expect(try project.run(["restart", "worker", "--socket", project.attachSocket]).code == 0)
        try swiftman.waitFor("worker.1 started again") { _ in swiftman.startedPid("worker.1").map { $0 != firstPid } ?? false }
        swiftman.type("after the restart\n")
        try swiftman.waitFor(line: "after the restart", from: "worker.1")
        // End of input: reading stops, the child's stdin stays open (cat runs on).
        swiftman.closeInput()
        try swiftman.waitFor(line: "input: end of standard input; worker.1's stdin stays open", from: "system")
        swiftman.expectNoLine(from: "system", for: 0.5) { $0.hasPrefix("worker.1 exited") }
        #expect(swiftman.messages(from: "web.1").isEmpty, "\(swiftman.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func inputFromATerminalAndCtrlCStillStops() throws {
        let project = try Project(procfile: "web: cat\nworker: exec sleep 300\n")
        let swiftman = try project.start(["--input", "web"], stdin: .terminal)
        try swiftman.waitFor(linePrefix: "worker.1 started", from: "system")
        // The terminal stays in canonical mode: a line goes once Enter is pressed.
        swiftman.type("typed at the terminal")
        // (Raw mode would send the keys at once, and cat's partial line shows after 250 ms.)
        swiftman.expectNoLine(from: "web.1", for: 1) { $0.contains("typed at the terminal") }
        swiftman.type("\r")
        try swiftman.waitFor(line: "typed at the terminal", from: "web.1")
        // Ctrl-C: SIGINT from the terminal's driver stops the formation.
        swiftman.type(bytes: [0x03])
        #expect(try swiftman.wait() == 0)
        // (The terminal echoes ^C in front of that line, as for any program.)
        #expect(swiftman.stdout.contains("system   | SIGINT received\n"), "\(swiftman.stdout)")
        #expect(swiftman.messages(from: "system").contains("web.1 terminated by SIGTERM"), "\(swiftman.stdout)")
        project.expectNothingLeft()
    }

    @Test func withoutInputNothingIsRead() throws {
        let project = try Project(procfile: "web: cat\n")
        let swiftman = try project.start(stdin: .pipe)
        try swiftman.waitFor(linePrefix: "web.1 started with pid", from: "system")
        let typed = "not for anyone\n"
        swiftman.type(typed)
        // Nothing reaches web.1 (cat would echo it) while swiftman runs on...
        swiftman.expectNoLine(from: "web.1", for: 1) { _ in true }
        // ...and the bytes are still in swiftman's stdin pipe: nobody read them.
        #expect(swiftman.unreadInput == typed.utf8.count, "swiftman read its stdin without --input")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test(arguments: [
        (["--input", "nope"], [:], "--input", "\"nope\""),
        (["--input", "web.3"], [:], "--input", "web.3"),
        ([], ["SWIFTMAN_INPUT": "worker"], "SWIFTMAN_INPUT", "\"worker\""),
    ] as [([String], [String: String], String, String)])
    func inputTargetIsValidated(arguments: [String], environment: [String: String], source: String, detail: String) throws {
        let project = try Project(procfile: "web: cat\n")
        let result = try project.run(["start"] + arguments, environment: environment)
        #expect(result.code == 2)
        #expect(result.stderr.contains(source) && result.stderr.contains(detail), "\(result.stderr)")
        project.expectNothingLeft()
    }

    // MARK: connect

    @Test(arguments: [false, true])
    func pdbIsDrivenThroughConnect(tty: Bool) throws {
        let project = try Project(procfile: "web: \(pdbCommand)\n")
        let swiftman = try project.start(["--socket", project.attachSocket] + (tty ? ["--tty"] : []))
        try swiftman.waitForPrompt()
        let client = try project.connect("web")
        #expect(client.stdout.contains("connected to web.1 (pid \(swiftman.startedPid("web.1") ?? -1)); detach with Ctrl-]"),
                "\(client.stdout)")
        // Enter sends a carriage return, as a real terminal does.
        client.type("p x\r")
        // The next prompt, not just "42": typed earlier, the terminal's echo of "c" can land
        // between "42" and its newline.
        try client.waitFor("42, then the prompt") { out in
            out.range(of: "42").map { out[$0.upperBound...].contains("(Pdb)") } ?? false
        }
        client.type("c\r")
        try client.waitFor("after the breakpoint: 84")
        // The process ended: so does the session.
        try client.waitFor("web.1 exited with code 0")
        #expect(try client.wait() == 0)
        // The formation's own output showed it all the same.
        try swiftman.waitFor(containing: "after the breakpoint: 84", from: "web.1")
        #expect(swiftman.messages(from: "web.1").contains { $0.hasSuffix("42") }, "\(swiftman.stdout)")
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func catEchoesAndDetachLeavesItRunning() throws {
        let project = try Project(procfile: "web: cat\nworker: exec sleep 300\n")
        let swiftman = try project.start(["--socket", project.attachSocket])
        try swiftman.waitFor(linePrefix: "web.1 started with pid", from: "system")
        let pid = try #require(swiftman.startedPid("web.1"))
        let client = try project.connect("web.1")
        client.type("hello cat\r")
        try swiftman.waitFor(line: "hello cat", from: "web.1")
        // Two sessions see the same output.
        let second = try project.connect("web")
        client.type("to both\r")
        try second.waitFor("to both")
        // Echoed by the terminal (line editing stays local), then by cat.
        try client.waitFor("\"to both\" twice") { $0.components(separatedBy: "to both").count == 3 }
        client.type(bytes: [ctrlBracket])
        try client.waitFor("detached from web.1 (still running)")
        #expect(try client.wait() == 0)
        // A chosen detach key.
        second.type(bytes: [0x01])
        second.expectAbsent("detached", for: 0.5)
        let third = try project.connect("web", ["--detach-keys", "ctrl-a"], expect: "detach with Ctrl-A")
        third.type(bytes: [0x01])
        try third.waitFor("detached from web.1")
        #expect(try third.wait() == 0)
        swiftman.expectNoLine(from: "system", for: 0.5) { $0.hasPrefix("web.1 exited") || $0.hasPrefix("web.1 terminated") }
        #expect(kill(pid, 0) == 0, "web.1 was stopped by a detach")
        // The formation stops: the remaining session ends with it.
        swiftman.signal(SIGTERM)
        #expect(try second.wait() == 0)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func windowSizeFollowsTheConnectedTerminal() throws {
        let project = try Project(procfile: "web: stty size; while read line; do stty size; done\n")
        let swiftman = try project.start(["--tty", "--socket", project.attachSocket])
        try swiftman.waitFor(line: "24 80", from: "web.1")
        let client = try project.connect("web")
        client.resizeTerminal(rows: 40, cols: 120)
        // The resize and the keys travel apart: ask until the new size shows.
        let resized = eventually(timeout: 20) {
            client.type("\r")
            return (try? swiftman.waitFor(line: "40 120", from: "web.1", timeout: 0.5)) != nil
        }
        #expect(resized, "\(swiftman.stdout)")
        try client.waitFor("40 120")
        client.type(bytes: [ctrlBracket])
        #expect(try client.wait() == 0)
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func aStalledConnectDoesNotHoldUpAFlood() throws {
        // 4 MB from the attached process, through a client that never reads
        // (far more than its terminal, socket and session buffer hold).
        let project = try Project(procfile: """
            flood: read go; yes flooding-the-relay | head -c 4000000; echo flood-done; exec sleep 300
            other: read go; yes other-lines | head -c 1000000; echo other-done; exec sleep 300
            """)
        let swiftman = try project.start(["--socket", project.attachSocket, "--input", "other"], stdin: .pipe)
        try swiftman.waitFor(linePrefix: "flood.1 started", from: "system")
        let client = try project.connect("flood")
        let started = now()
        client.type("go\r")
        swiftman.type("go\n")
        // Nobody reads the client's terminal from here on: it blocks writing
        // to it, stops reading its socket, and the session drops bytes.
        // (Plain substring checks: parsing megabytes of lines on every poll
        // would make the test the bottleneck.)
        try swiftman.waitFor("flood-done", timeout: 120) { $0.contains("flood-done\n") && $0.contains("other-done\n") }
        let elapsed = now() - started
        #expect(elapsed < 120)
        let lines = swiftman.stdoutBytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        #expect(lines > 4_000_000 / 19 + 1_000_000 / 12, "only \(lines) lines relayed")
        // Stalled on its terminal, the client still answers SIGTERM (and
        // restores the terminal): it exits without anyone reading its output.
        client.signal(SIGTERM)
        let exited = eventually(timeout: 10) {
            guard let stat = readAll("/proc/\(client.pid)/stat") else { return true }
            return String(decoding: stat, as: UTF8.self).contains(") Z ")
        }
        #expect(exited, "a stalled connect ignored SIGTERM")
        #expect(try client.wait(timeout: 30) == 128 + SIGTERM)
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func connectFailsClearly() throws {
        let project = try Project(procfile: "web: exec sleep 300\nworker: exec sleep 300\n")
        // No formation.
        var result = try project.run(["connect", "web", "--socket", project.attachSocket])
        #expect(result.code == 1)
        #expect(result.stderr.contains("no running formation"), "\(result.stderr)")
        #expect(try project.run(["connect"]).code == 2)
        #expect(try project.run(["connect", "web", "--detach-keys", "x"]).code == 2)

        let swiftman = try project.start(["--socket", project.attachSocket, "-m", "web=1,worker=1"])
        try swiftman.waitFor(linePrefix: "worker.1 started", from: "system")
        result = try project.run(["connect", "nope", "--socket", project.attachSocket])
        #expect(result.code == 2)
        #expect(result.stderr.contains("unknown process type or instance \"nope\""), "\(result.stderr)")
        result = try project.run(["connect", "web.2", "--socket", project.attachSocket])
        #expect(result.code == 1)
        #expect(result.stderr.contains("no instance web.2"), "\(result.stderr)")
        #expect(try project.run(["stop", "worker", "--socket", project.attachSocket]).code == 0)
        try swiftman.waitFor(linePrefix: "worker.1 terminated", from: "system")
        result = try project.run(["connect", "worker", "--socket", project.attachSocket])
        #expect(result.code == 1)
        #expect(result.stderr.contains("worker.1 is not running"), "\(result.stderr)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }
}
