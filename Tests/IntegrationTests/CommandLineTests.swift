import Foundation
import Testing

@Suite struct CheckTests {
    @Test func validProcfileListsTypesAndPorts() throws {
        let project = try Project(procfile: "web: run-web\nworker: run-worker\nclock: run-clock\n")
        let procfile = project.path("Procfile")
        let result = try project.run(["check", "-f", procfile, "-m", "web=2,worker=1"])
        #expect(result.code == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "\(procfile): valid, 3 process types")
        #expect(lines.contains { $0.contains("web") && $0.contains("×2") && $0.contains("5000-5001") && $0.contains("run-web") })
        #expect(lines.contains { $0.contains("worker") && $0.contains("×1") && $0.contains("5100") && $0.contains("run-worker") })
        #expect(lines.contains { $0.contains("clock") && $0.contains("not started") && $0.contains("5200") })
    }

    @Test func everyProcfileErrorIsReportedWithItsLine() throws {
        let project = try Project(procfile: """
            web: run-web
            bad name!: cmd
            web: again
            just some text
            # a comment is fine
            nocommand:
            """)
        let procfile = project.path("Procfile")
        let result = try project.run(["check", "-f", procfile])
        #expect(result.code == 1)
        for line in [2, 3, 4, 6] {
            #expect(result.stderr.contains("swiftman: \(procfile):\(line): "), "line \(line) in: \(result.stderr)")
        }
        #expect(!result.stderr.contains("\(procfile):1:"))
        #expect(!result.stderr.contains("\(procfile):5:"))
        #expect(result.stdout.isEmpty)
    }

    @Test func badEnvLineIsReportedWithFileAndLine() throws {
        let project = try Project(procfile: "web: run-web\n")
        try project.write(".env", "GOOD=1\nthis line has no equals sign\n")
        let result = try project.run(["check", "-f", project.path("Procfile")])
        #expect(result.code == 1)
        #expect(result.stderr.contains("swiftman: \(project.path(".env")):2: "), "\(result.stderr)")
    }

    /// A line every dotenv library ignores is skipped: `check` names its file and
    /// line, and still succeeds; `start` prints it once as a `system` line.
    @Test func skippedEnvLineIsListedWithFileAndLine() throws {
        let project = try Project(procfile: "web: echo \"[$GOOD]\"\n")
        try project.write(".env", "GOOD=1\n\n=no key\n")
        let result = try project.run(["check", "-f", project.path("Procfile")])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("swiftman: \(project.path(".env")):3: warning: skipped \"=no key\": no key before \"=\" (the dotenv libraries ignore this line)\n"),
                "\(result.stderr)")
        #expect(result.stdout.hasPrefix("\(project.path("Procfile")): valid, 1 process type\n"), "\(result.stdout)")

        let start = try project.start()
        _ = try start.waitFor(line: "[1]", from: "web.1")
        _ = try start.wait()
        #expect(start.messages(from: "system").filter { $0.contains("warning") } == ["\(project.path(".env")):3: warning: skipped \"=no key\": no key before \"=\" (the dotenv libraries ignore this line)"])
    }

    @Test func emptyProcfileIsAnError() throws {
        let project = try Project(procfile: "# nothing but a comment\n\n")
        let procfile = project.path("Procfile")
        let result = try project.run(["check", "-f", procfile])
        #expect(result.code == 1)
        #expect(result.stderr.contains("swiftman: \(procfile)"), "\(result.stderr)")
    }

    @Test func missingProcfileIsNamed() throws {
        let project = try Project()
        let procfile = project.path("Procfile")
        for command in ["check", "start"] {
            let result = try project.run([command, "-f", procfile])
            #expect(result.code == 1, "\(command)")
            #expect(result.stderr.contains("swiftman: \(procfile)"), "\(command): \(result.stderr)")
        }
    }

    /// Issue 12: check says which env files it read.
    @Test func checkNamesTheEnvFilesItRead() throws {
        let project = try Project(procfile: "web: run-web\n")
        let procfile = project.path("Procfile")
        let none = try project.run(["check", "-f", procfile])
        #expect(none.stderr.contains("env files: none (no \(project.path(".env")))"), "\(none.stderr)")
        try project.write(".env", "A=1\n")
        try project.write("b.env", "B=1\n")
        let dotenv = try project.run(["check", "-f", procfile])
        #expect(dotenv.stderr.contains("env files: \(project.path(".env"))\n"), "\(dotenv.stderr)")
        let named = try project.run(["check", "-f", procfile, "-e", ".env,b.env"])
        #expect(named.stderr.contains("env files: .env, b.env\n"), "\(named.stderr)")
    }

    /// Issue 13 #21: a type that does not run shows no port above 65535.
    @Test func checkShowsNoImpossiblePortForTypesThatDoNotRun() throws {
        let project = try Project(procfile: "web: run-web\nworker: run-worker\n")
        try project.write(".env", "PORT=65500\n")
        let result = try project.run(["check", "-f", project.path("Procfile"), "-m", "web=1"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains("(not started; port 65600 out of range)"), "\(result.stdout)")
        #expect(!result.stdout.contains("port 65600,"), "\(result.stdout)")
        #expect(result.stdout.contains("port 65500 "), "\(result.stdout)")
    }

    /// The README's `check` example is the real output, line for line (commands whole).
    @Test func readmeCheckExampleIsTheRealOutput() throws {
        let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
        let command = "$ swiftman check -f Procfile.example -m web=2,worker=1\n"
        guard let start = readme.range(of: command) else {
            Issue.record("README has no `\(command)` example")
            return
        }
        let block = readme[start.upperBound...].prefix { _ in true }
        let end = try #require(block.range(of: "```"), "the README's `check` example has no closing fence")
        let expected = block[..<end.lowerBound].split(separator: "\n").map(String.init)
        let project = try Project()
        let process = try project.swiftman(["-c", "cd \"$0\" && exec \"$1\" check -f Procfile.example -m web=2,worker=1",
                                            repositoryRoot, Binary.path], executable: "/bin/sh")
        #expect(try process.wait() == 0, "\(process.stderr)")
        // As a terminal shows it: the listing (stdout), then what was read (stderr).
        // Less the busy-port notes: what else listens on this machine (another
        // test's server on 5000) is not the README's business.
        let actual = (process.stdout + process.stderr).split(separator: "\n").map(String.init)
            .filter { !$0.contains(" is already in use by ") }
        #expect(actual.count == expected.count, "README:\n\(expected.joined(separator: "\n"))\nreal:\n\(process.stdout)")
        for (readmeLine, realLine) in zip(expected, actual) {
            #expect(realLine == readmeLine, "README: \(readmeLine)\nreal:   \(realLine)")
        }
    }

    @Test func startRefusesABadProcfile() throws {
        let project = try Project(procfile: "web: sleep 300\nbad name!: cmd\n")
        let result = try project.run(["start", "-f", project.path("Procfile")])
        #expect(result.code == 1)
        #expect(result.stderr.contains("swiftman: \(project.path("Procfile")):2: "), "\(result.stderr)")
        #expect(!result.stdout.contains("started"))
    }
}

@Suite struct UsageTests {
    /// (arguments after `start -f Procfile`, environment, exit code or nil for any failure,
    /// text expected on stderr)
    @Test(arguments: [
        (["--bogus"], [:], 2, "--bogus"),
        (["-t", "abc"], [:], 2, "abc"),
        (["--timeout", "-1"], [:], 2, "--timeout"),
        (["--restart", "sometimes"], [:], 2, "--restart"),
        (["--stop-signal", "NOPE"], [:], 2, "--stop-signal"),
        // Issue 13 #21: signals that cannot stop anything, named clearly.
        (["--stop-signal", "STOP"], [:], 2, "--stop-signal: SIGSTOP only pauses a process"),
        (["--stop-signal", "TSTP"], [:], 2, "--stop-signal: SIGTSTP only pauses a process"),
        (["--stop-signal", "SIGCONT"], [:], 2, "--stop-signal: SIGCONT only resumes a process"),
        (["--stop-signal", "web=CHLD"], [:], 2, "--stop-signal: web: SIGCHLD is ignored by default"),
        (["--stop-signal", "28"], [:], 2, "SIGWINCH is ignored by default"),
        ([], ["SWIFTMAN_STOP_SIGNAL": "URG"], 2, "SWIFTMAN_STOP_SIGNAL: SIGURG is ignored by default"),
        // The flag or variable is named as the user wrote it.
        (["-p", "70000"], [:], 2, "-p: invalid port \"70000\""),
        (["--port=0"], [:], 2, "--port: invalid port \"0\""),
        ([], ["SWIFTMAN_PORT": "0"], 2, "SWIFTMAN_PORT: invalid port \"0\""),
        (["-m", "nosuch=1"], [:], nil, "nosuch"),
        (["nosuch"], [:], nil, "nosuch"),
        ([], ["SWIFTMAN_TIMEOUT": "abc"], 2, "SWIFTMAN_TIMEOUT"),
        ([], ["SWIFTMAN_NO_TIMESTAMP": "maybe"], 2, "SWIFTMAN_NO_TIMESTAMP"),
    ] as [([String], [String: String], Int32?, String)])
    func badInputIsRejectedNamingIt(arguments: [String], environment: [String: String], code: Int32?, named: String) throws {
        let project = try Project(procfile: "web: sleep 300\n")
        let result = try project.run(["start", "-f", project.path("Procfile")] + arguments, environment: environment)
        #expect(code.map { result.code == $0 } ?? (result.code != 0), "exit code \(result.code)")
        #expect(result.stderr.contains(named), "\(result.stderr)")
        #expect(!result.stdout.contains("started"))
    }

    /// `-m web=abc` and `scale web=abc` say the same thing about the range.
    @Test func countErrorsUseOneWording() throws {
        let project = try Project(procfile: "web: sleep 300\n")
        let start = try project.run(["start", "-f", project.path("Procfile"), "-m", "web=abc"])
        let scale = try project.run(["scale", "web=abc", "-f", project.path("Procfile")])
        #expect(start.code == 2 && scale.code == 2)
        let wording = "invalid count \"abc\" for web (expected 0…10000)"
        #expect(start.stderr.contains("-m: " + wording), "\(start.stderr)")
        #expect(scale.stderr.contains("scale: " + wording), "\(scale.stderr)")
    }

    /// README: bad arguments exit 2, also when the running formation is the one
    /// that knows the type does not exist.
    @Test func scaleOfAnUnknownTypeExits2() throws {
        let project = try Project(procfile: "web: sleep 300\n")
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--socket", socket])
        try swiftman.waitFor("web.1 started")
        let result = try project.run(["scale", "wbe=2", "--socket", socket])
        #expect(result.code == 2, "\(result.stderr)")
        #expect(result.stderr.contains("unknown process type \"wbe\""), "\(result.stderr)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
    }

    /// Every command's summary starts in the same column (the `export` line did not).
    @Test func helpAlignsTheCommandList() throws {
        let result = try Project().run(["help"])
        #expect(result.code == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).drop { $0 != "Commands:" }.dropFirst()
            .prefix { !$0.isEmpty }
        #expect(lines.count >= 10)
        let columns = Set(lines.map { line -> Int in
            // The summary starts after the usage and at least two spaces.
            let chars = Array(line)
            var i = 2
            while i + 1 < chars.count && !(chars[i] == " " && chars[i + 1] == " ") { i += 1 }
            while i < chars.count && chars[i] == " " { i += 1 }
            return i
        })
        #expect(columns.count == 1, "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("  export FORMAT DIR") })
    }

    @Test func flagsWinOverEnvironment() throws {
        let project = try Project(procfile: "web: echo \"$PORT\"\n")
        let swiftman = try project.start(["-p", "6000"], environment: ["SWIFTMAN_PORT": "7000", "SWIFTMAN_TIMEOUT": "1"])
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["6000"])
    }

    @Test func optionsComeFromTheEnvironment() throws {
        let project = try Project(procfile: "web: echo \"$PORT\"\n")
        let swiftman = try project.swiftman(["start"], environment: [
            "SWIFTMAN_PROCFILE": project.path("Procfile"), "SWIFTMAN_PORT": "7000",
            "SWIFTMAN_NO_TIMESTAMP": "1", "SWIFTMAN_NO_COLOR": "1",
        ])
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.stdout.contains("web.1  | 7000\n"), "\(swiftman.stdout)")
    }

    @Test(arguments: ["start", "check"])
    func helpExitsZero(command: String) throws {
        let result = try Project().run([command, "--help"])
        #expect(result.code == 0)
        #expect(result.stdout.contains("Usage: swiftman \(command)"))
    }

    @Test func versionPrintsTheName() throws {
        let result = try Project().run(["version"])
        #expect(result.code == 0)
        #expect(result.stdout.hasPrefix("swiftman "))
    }
}
