import Glibc
import Testing

@Suite struct RestartTests {
    @Test func failedInstanceIsRestarted() throws {
        // The first run leaves a marker and fails; the second stays up.
        let project = try Project(procfile: """
            web: if [ -e marker ]; then echo second run; sleep 300; else touch marker; echo first run; exit 1; fi
            """)
        let swiftman = try project.start()
        try swiftman.waitFor(line: "second run", from: "web.1")
        #expect(swiftman.messages(from: "web.1") == ["first run", "second run"])
        let system = swiftman.messages(from: "system")
        #expect(system.contains("web.1 exited with code 1"))
        #expect(system.contains("web.1 restarting in 0.5s"))
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test(arguments: [("exit 3", 3), ("kill -9 $$", 137), ("kill -TERM $$", 143)])
    func exitUnderRestartNeverStopsTheFormationWithItsCode(command: String, code: Int32) throws {
        let project = try Project(procfile: "web: sleep 300\nbad: echo failing; \(command)\n")
        let swiftman = try project.start(["--restart", "never"])
        #expect(try swiftman.wait() == code)
        #expect(swiftman.messages(from: "bad.1") == ["failing"])
        #expect(swiftman.messages(from: "system").contains("web.1 terminated by SIGTERM"))
        project.expectNothingLeft()
    }

    @Test func perTypeRestartNeverAppliesToThatTypeOnly() throws {
        let project = try Project(procfile: "web: sleep 300\nmigrate: echo migrating; exit 5\n")
        let swiftman = try project.start(["--restart", "migrate=never"])
        #expect(try swiftman.wait() == 5)
        #expect(swiftman.messages(from: "migrate.1") == ["migrating"])
        project.expectNothingLeft()
    }

    @Test func crashLoopStopsTheFormationWithItsCode() throws {
        let project = try Project(procfile: "web: sleep 300\nbad: echo boom; exit 4\n")
        let swiftman = try project.start(["--restart-limit", "2"])
        #expect(try swiftman.wait(timeout: 30) == 4)
        // The first run and two restarts; the third failure is one too many.
        #expect(swiftman.messages(from: "bad.1") == ["boom", "boom", "boom"])
        let system = swiftman.messages(from: "system")
        #expect(system.filter { $0.hasPrefix("bad.1 restarting in") }.count == 2)
        #expect(system.contains("web.1 terminated by SIGTERM"))
        project.expectNothingLeft()
    }

    @Test func restartAlwaysRestartsACleanExit() throws {
        let project = try Project(procfile: "web: echo run\n")
        let swiftman = try project.start(["--restart", "always"])
        try swiftman.waitFor("a second run") { messages(from: "web.1", in: $0).count >= 2 }
        #expect(swiftman.messages(from: "system").contains("web.1 restarting in 0.5s"))
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func cleanExitsUnderOnFailureEndTheFormationWith0() throws {
        let project = try Project(procfile: "one: echo one\ntwo: sleep 0.5; echo two\n")
        let swiftman = try project.start()
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "one.1") == ["one"])
        #expect(swiftman.messages(from: "two.1") == ["two"])
        #expect(!swiftman.stdout.contains("restarting"))
    }
}
