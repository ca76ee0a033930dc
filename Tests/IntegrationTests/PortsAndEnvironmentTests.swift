import Testing

/// Each child prints what it got; every instance exits 0, so swiftman ends by itself.
private let printPortAndName = "echo \"$PORT $PS\""

@Suite struct PortsAndEnvironmentTests {
    @Test func formationAndBasePortFollowForemansScheme() throws {
        let project = try Project(procfile: """
            web: \(printPortAndName)
            worker: \(printPortAndName)
            clock: \(printPortAndName)
            """)
        let swiftman = try project.start(["-m", "web=2,worker=1", "-p", "6000"])
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["6000 web.1"])
        #expect(swiftman.messages(from: "web.2") == ["6001 web.2"])
        #expect(swiftman.messages(from: "worker.1") == ["6100 worker.1"])
        // A formation that names types without all= runs none of the others.
        #expect(!swiftman.stdout.contains("clock"))
    }

    @Test(arguments: [
        // (PORT in .env, inherited $PORT, expected base port)
        ("7000", "9000", 7000),
        (nil, "8000", 8000),
        (nil, nil, 5000),
    ] as [(String?, String?, Int)])
    func basePortComesFromEnvFileThenEnvironmentThenDefault(envFile: String?, inherited: String?, expected: Int) throws {
        let project = try Project(procfile: "web: \(printPortAndName)\nworker: \(printPortAndName)\n")
        if let envFile { try project.write(".env", "PORT=\(envFile)\n") }
        let swiftman = try project.start(environment: inherited.map { ["PORT": $0] } ?? [:])
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["\(expected) web.1"])
        #expect(swiftman.messages(from: "worker.1") == ["\(expected + 100) worker.1"])
    }

    @Test func envFileValuesReachTheChildAndOverrideTheInheritedEnvironment() throws {
        let project = try Project(procfile: "web: echo \"$GREETING $ONLY_FILE $ONLY_SHELL\"\n")
        try project.write(".env", "GREETING=from-file\nONLY_FILE=file\n")
        let swiftman = try project.start(environment: ["GREETING": "from-shell", "ONLY_SHELL": "shell"])
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["from-file file shell"])
    }

    @Test func laterEnvFilesWin() throws {
        let project = try Project(procfile: "web: echo \"A=$A B=$B C=$C\"\n")
        try project.write("a.env", "A=a\nB=a\n")
        try project.write("b.env", "B=b\nC=b\n")
        // The default .env is not read when -e is given.
        try project.write(".env", "C=default\n")
        let swiftman = try project.start(["-e", "\(project.path("a.env")),\(project.path("b.env"))"])
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["A=a B=b C=b"])
    }

    @Test func positionalTypeKeepsItsPortSlot() throws {
        let project = try Project(procfile: "web: \(printPortAndName)\nworker: \(printPortAndName)\n")
        let swiftman = try project.start(["worker"])
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "worker.1") == ["5100 worker.1"])
        #expect(!swiftman.stdout.contains("web.1"))
    }
}
