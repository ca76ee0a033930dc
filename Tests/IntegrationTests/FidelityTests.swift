// Issue 23 with the real binary: the crash-loop guard fires, a second
// Ctrl-C's SIGKILL is in the report, a request is said before what it caused,
// the report's one line, `connect` shows a waiting prompt, --tty TYPE, help
// width, `scale` completion, foreman's and honcho's flags.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

private extension Project {
    var socket: String { path("control.sock") }
}

private extension Swiftman {
    /// Where the first system line with `prefix` is, from `after` on.
    func systemIndex(_ prefix: String, after: Int = 0) -> Int {
        let lines = messages(from: "system")
        return lines.indices.first { $0 >= after && lines[$0].hasPrefix(prefix) } ?? Int.max
    }
}

@Suite struct FidelityTests {
    // MARK: 3: the crash-loop guard

    /// A window of 0.1 s never holds two failures (the backoff is 0.5 s and
    /// more): the old rule alone would restart forever. Failing in a row, the
    /// third failure (0 + 0.5 + 1 s of backoff) stops the formation.
    @Test func theCrashLoopGuardFiresWhateverTheWindow() throws {
        let project = try Project(procfile: "web: exit 3\nother: exec sleep 300\n")
        let swiftman = try project.start(["--restart-limit", "2", "--restart-window", "0.1"])
        #expect(try swiftman.wait(timeout: 30) == 3)
        #expect(swiftman.messages(from: "system").contains("web.1 failed 3 times without running 10s in between (restart limit 2); stopping"),
                "\(swiftman.stdout)")
        project.expectNothingLeft()
    }

    // MARK: 8, 10: the report

    @Test func aSecondCtrlCsSIGKILLIsCountedAndNamedInTheOneLine() throws {
        let project = try Project(procfile: """
            stubborn: exec python3 \(resource("ignore_term.py"))
            polite: exec python3 \(resource("trap_term.py"))
            """)
        let swiftman = try project.start(["-t", "60"])
        try swiftman.waitFor(linePrefix: "ignoring ", from: "stubborn.1")
        try swiftman.waitFor(linePrefix: "ready ", from: "polite.1")
        swiftman.signal(SIGINT)
        // (Two signals sent at once could be taken as one.)
        try swiftman.waitFor(line: "polite.1 exited with code 0", from: "system")
        // A person's second Ctrl-C comes later than the repeat window (0.2 s):
        // the same signal within it is one request (`timeout` sends two).
        usleep(400_000)
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("stubborn.1 terminated by SIGKILL"), "\(swiftman.stdout)")
        // One line by default, naming the type that needed SIGKILL, with the hint.
        #expect(!system.contains("disposability report:"), "\(swiftman.stdout)")
        let last = try #require(system.last)
        #expect(last.hasPrefix("stopped 2 types in "), "\(last)")
        #expect(last.contains("stubborn needed SIGKILL (still running after SIGTERM): handle SIGTERM in the program, or set --stop-signal stubborn=SIGNAL"),
                "\(last)")
        #expect(!last.contains("polite"), "\(last)")
        project.expectNothingLeft()
    }

    @Test(arguments: [(["--report"], [String: String]()), ([], ["SWIFTMAN_REPORT": "1"])])
    func theTableComesWithReport(arguments: [String], environment: [String: String]) throws {
        let project = try Project(procfile: """
            stubborn: exec python3 \(resource("ignore_term.py"))
            """)
        let swiftman = try project.start(["-t", "60"] + arguments, environment: environment)
        try swiftman.waitFor(linePrefix: "ignoring ", from: "stubborn.1")
        swiftman.signal(SIGINT)
        try swiftman.waitFor(line: "sending SIGTERM to all processes", from: "system")
        usleep(400_000)  // later than the repeat window, as a person's second Ctrl-C
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        let report = Array(swiftman.messages(from: "system").drop { $0 != "disposability report:" })
        let row = try #require(report.first { $0.hasPrefix("  stubborn ") }, "\(swiftman.stdout)")
        // The KILLED column counts the second Ctrl-C's SIGKILL.
        #expect(row.contains("1 of 1"), "\(row)")
        #expect(report.last == "  stubborn needed SIGKILL (still running after SIGTERM): handle SIGTERM in the program, or set --stop-signal stubborn=SIGNAL")
        project.expectNothingLeft()
    }

    @Test func aQuickStopIsOneLineAndJSONKeepsTheEvent() throws {
        let project = try Project(procfile: "web: exec sleep 300\nworker: exec sleep 300\n")
        let text = try project.start()
        try text.waitFor(linePrefix: "worker.1 started", from: "system")
        text.signal(SIGTERM)
        #expect(try text.wait() == 0)
        let system = text.messages(from: "system")
        #expect(system.last?.hasPrefix("stopped 2 types in ") == true, "\(text.stdout)")
        #expect(system.last?.contains(";") == false, "nothing to name: \(text.stdout)")
        #expect(!system.contains("disposability report:"))

        let json = try project.start(["--log-format", "json"])
        try json.waitFor("worker.1 started")
        json.signal(SIGTERM)
        #expect(try json.wait() == 0)
        #expect(json.stdout.contains("\"event\":\"disposability\""), "\(json.stdout)")
        #expect(!json.stdout.contains("\"event\":\"stopped\""))
        project.expectNothingLeft()
    }

    // MARK: 9: what was asked, then what happened

    @Test func theRequestLineComesBeforeWhatItCaused() throws {
        let project = try Project(procfile: "web: exec sleep 300\nworker: exec sleep 300\n")
        let swiftman = try project.start(["--socket", project.socket])
        try swiftman.waitFor(linePrefix: "worker.1 started", from: "system")
        #expect(try project.run(["scale", "web=2", "--socket", project.socket]).code == 0)
        try swiftman.waitFor(linePrefix: "web.2 started with pid", from: "system")
        #expect(swiftman.systemIndex("scaled web: 1 → 2 on request") < swiftman.systemIndex("web.2 started with pid"),
                "\(swiftman.stdout)")
        // restart of a stopped instance: the request, then the start.
        #expect(try project.run(["stop", "worker", "--socket", project.socket]).code == 0)
        try swiftman.waitFor(linePrefix: "worker.1 terminated", from: "system")
        #expect(try project.run(["restart", "worker", "--socket", project.socket]).code == 0)
        try swiftman.waitFor("worker.1 started again") { _ in
            swiftman.messages(from: "system").filter { $0.hasPrefix("worker.1 started with pid") }.count == 2
        }
        let asked = swiftman.systemIndex("restarting worker.1 on request")
        #expect(asked < Int.max, "\(swiftman.stdout)")
        #expect(swiftman.systemIndex("worker.1 started with pid", after: asked) == asked + 1, "\(swiftman.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    // MARK: 12: connect shows the prompt waiting

    @Test func connectShowsRecentOutputAndThePartialLine() throws {
        let project = try Project(procfile: "web: printf 'one\\ntwo\\nthree\\n(Pdb) '; exec cat\n")
        let swiftman = try project.start(["--socket", project.socket])
        try swiftman.waitFor(line: "three", from: "web.1")
        let client = try project.swiftman(["connect", "web", "--socket", project.socket], stdin: .terminal)
        // Before anything is typed: the lines before it and the prompt itself.
        try client.waitFor("the prompt") { $0.contains("three\r\n(Pdb) ") || $0.contains("three\n(Pdb) ") }
        #expect(client.stdout.contains("two"), "\(client.stdout)")
        client.type(bytes: [0x1d])
        try client.waitFor("detached from web.1")
        #expect(try client.wait() == 0)
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    // MARK: 13: --tty

    @Test func ttyFollowedByATypeIsRefusedWithTheFormThatWorks() throws {
        let project = try Project(procfile: "web: exec sleep 300\nworker: exec sleep 300\n")
        let result = try project.run(["start", "-f", project.path("Procfile"), "--tty", "web"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("--tty is followed by the process type \"web\": write --tty=web"), "\(result.stderr)")
        let help = try project.run(["start", "--help"])
        #expect(help.stdout.contains("--tty[=TYPES]"), "\(help.stdout)")
        project.expectNothingLeft()
    }

    // MARK: 14: help fits the terminal

    @Test func helpIsWrappedToEightyColumnsOffATerminal() throws {
        let project = try Project()
        for topic in ["start", "check", "export", "connect", "ps", "run", "scale", "signal"] {
            let help = try project.run(["help", topic])
            #expect(help.code == 0)
            let long = help.stdout.split(separator: "\n").filter { $0.count > 80 }
            #expect(long.isEmpty, "\(topic): \(long)")
            #expect(help.stdout.split(separator: "\n").count > 3)
        }
        let overview = try project.run(["help"])
        #expect(overview.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(overview.stdout)")
        // A continued option description stays under its column.
        let start = try project.run(["start", "--help"])
        #expect(start.stdout.contains("\n                                [SWIFTMAN_"), "\(start.stdout)")
    }

    @Test func helpOnATerminalFitsItsWidth() throws {
        let project = try Project()
        // The harness's terminal is 24×80.
        let help = try project.swiftman(["start", "--help"], stdin: .terminal)
        _ = try help.wait()
        let lines = help.stdout.replacingOccurrences(of: "\r", with: "").split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(help.stdout)")
        #expect(lines.count > 20)
    }

    // MARK: 15: scale completes TYPE=

    @Test func scaleCompletesTypeEquals() throws {
        let project = try Project(procfile: "web: a\nworker: b\n")
        let bin = URL(fileURLWithPath: Binary.path).deletingLastPathComponent().path
        let script = """
            source <(swiftman completion bash) || exit 9
            c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _swiftman; echo "${COMPREPLY[*]}"; }
            c swiftman scale w
            c swiftman scale web=2 wo
            c swiftman scale web=
            """
        let bash = try project.swiftman(["-c", script], environment: ["PATH": bin], executable: "/bin/bash")
        #expect(try bash.wait() == 0, "\(bash.stderr)")
        #expect(bash.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) == ["web= worker=", "worker=", "", ""],
                "\(bash.stdout)")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") {
            let zsh = try project.swiftman(["-fc", """
                autoload -Uz compinit && compinit -u -D
                source <(swiftman completion zsh) || exit 9
                compadd() { print -r -- "$@"; }
                words=(swiftman scale w); CURRENT=3; _swiftman
                """], environment: ["PATH": bin], executable: "/usr/bin/zsh")
            #expect(try zsh.wait() == 0, "\(zsh.stderr)")
            #expect(zsh.stdout == "-S = -- web worker\n", "\(zsh.stdout)")
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/fish") {
            let fish = try project.swiftman(["--no-config", "-c", "swiftman completion fish | source; or exit 9; complete -C 'swiftman scale w'"],
                                            environment: ["PATH": bin], executable: "/usr/bin/fish")
            #expect(try fish.wait() == 0, "\(fish.stderr)")
            #expect(Set(fish.stdout.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }) == ["web=", "worker="],
                    "\(fish.stdout)")
        }
    }

    // MARK: 16: foreman's and honcho's flags

    @Test func foremansDashCIsColourAndHonchosIsConcurrency() throws {
        let project = try Project(procfile: "web: echo web-up\nworker: echo worker-up\n")
        let procfile = project.path("Procfile")
        // foreman: `-c` alone (or before a type) forces colour into a pipe.
        var result = try project.run(["start", "-f", procfile, "-c", "web"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\u{1B}["), "colour: \(result.stdout)")
        #expect(result.stdout.contains("web-up") && !result.stdout.contains("worker-up"), "\(result.stdout)")
        // honcho: `-c TYPE=N` is the formation.
        result = try project.run(["start", "-f", procfile, "--no-color", "-c", "web=0,worker=1"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1B}["), "\(result.stdout)")
        #expect(result.stdout.contains("worker-up") && !result.stdout.contains("web-up"), "\(result.stdout)")
        // foreman's --timestamp / --no-timestamp, honcho's --app-root.
        result = try project.run(["start", "-f", procfile, "--timestamp", "-m", "worker=0"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").first.map { $0.count > 8 && $0.dropFirst(2).first == ":" } == true, "\(result.stdout)")
        result = try project.run(["start", "-f", procfile, "--no-timestamp", "-m", "worker=0"])
        #expect(result.stdout.hasPrefix("system | "), "\(result.stdout)")
        result = try project.run(["check", "--app-root", project.dir])
        #expect(result.code == 0, "\(result.stderr)")
        // Where -c has no colour meaning, it is the formation and needs a value.
        #expect(try project.run(["check", "-f", procfile, "-c"]).code == 2)
        project.expectNothingLeft()
    }
}
