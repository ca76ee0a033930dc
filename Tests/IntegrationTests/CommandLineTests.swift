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
        #expect(result.stderr == "swiftman: \(project.path(".env")):3: warning: skipped \"=no key\": no key before \"=\" (the dotenv libraries ignore this line)\n")
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
