// Hardening of the runtime (issue 13): every catchable signal stops the
// formation first, nothing starts once shutdown has begun, a stopped group
// still gets its graceful stop, stdout write errors are loud, and `scale`
// raises the descriptor limit as `start` does.
import Foundation
import Testing

@Suite(.serialized) struct RuntimeFaultTests {
    @Test(arguments: [SIGQUIT, SIGALRM, SIGXCPU, SIGPROF, SIGVTALRM, SIGPWR])
    func aSignalWhoseDefaultWouldKillSwiftmanStopsTheFormationFirst(signal: Int32) throws {
        let project = try Project(procfile: "web: python3 \(resource("trap_term.py"))\n")
        let swiftman = try project.start()
        _ = try swiftman.waitFor(linePrefix: "ready", from: "web.1")
        swiftman.signal(signal)
        #expect(try swiftman.wait() == 0, "\(swiftman.stdout)")
        #expect(swiftman.messages(from: "web.1").contains { $0.hasPrefix("got TERM") }, "\(swiftman.stdout)")
        project.expectNothingLeft()
    }

    @Test func aStoppedGroupIsWokenToHandleItsStopSignal() throws {
        let project = try Project(procfile: "web: python3 \(resource("trap_term.py"))\n")
        let swiftman = try project.start(["-t", "10"])
        _ = try swiftman.waitFor(linePrefix: "ready", from: "web.1")
        let program = try #require(swiftman.startedPid("web.1"))
        kill(program, SIGSTOP)
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        #expect(swiftman.messages(from: "web.1").contains("got TERM \(program)"), "\(swiftman.stdout)")
        #expect(!swiftman.messages(from: "system").contains { $0.contains("SIGKILL") }, "\(swiftman.stdout)")
        project.expectNothingLeft()
    }

    @Test(arguments: [["--restart", "never"], []])
    func aSpawnFailureAtStartStartsNothingElseAndShutdownFinishes(extra: [String]) throws {
        // A command longer than one argument may be (128 KiB): E2BIG at spawn.
        let huge = String(repeating: "x", count: 140_000)
        let project = try Project(procfile: "a: echo \(huge)\nb: python3 \(resource("worker.py"))\n")
        let swiftman = try project.start(extra)
        #expect(try swiftman.wait(timeout: 30) == 127, "\(swiftman.stdout)")
        #expect(swiftman.messages(from: "system").contains("a.1 cannot start: Argument list too long; stopping"),
                "\(swiftman.stdout)")
        #expect(!swiftman.stdout.contains("b.1 started"), "nothing starts once shutdown has begun")
        project.expectNothingLeft()
    }

    @Test func aFullDiskOnStdoutIsAnErrorNotAClosedReader() throws {
        let project = try Project(procfile: "web: python3 \(resource("worker.py"))\n")
        let swiftman = try project.swiftman(
            ["-c", "exec \"$0\" start -f Procfile > /dev/full", Binary.path], executable: "/bin/sh")
        #expect(try swiftman.wait(timeout: 30) == 74)
        #expect(swiftman.stderr.contains("cannot write to standard output: No space left on device"), "\(swiftman.stderr)")
        project.expectNothingLeft()
    }

    @Test func scaleRaisesTheDescriptorLimitAsStartDoes() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        let socket = project.path("control.sock")
        let swiftman = try project.swiftman(
            ["-c", "ulimit -Sn 128 && exec \"$0\" start -f Procfile --no-color --socket \"$1\"", Binary.path, socket],
            executable: "/bin/sh")
        _ = try swiftman.waitFor(linePrefix: "web.1 started with pid", from: "system")
        let scale = try project.run(["scale", "web=150", "--socket", socket])
        #expect(scale.code == 0, "\(scale.stderr)")
        _ = try swiftman.waitFor("150 instances started", timeout: 60) {
            IntegrationTests.messages(from: "system", in: $0).filter { $0.contains(" started with pid ") }.count == 150
        }
        #expect(!swiftman.stdout.contains("could not start"), "\(swiftman.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 60) == 0)
        project.expectNothingLeft()
    }

    @Test func scalingATypeWhileAnotherScaledTypeWaitsForItsDependency() throws {
        // web waits for db (never ready); web.2 is added but does not run, then
        // worker.2 is spawned past it: its output labels must still line up.
        let project = try Project(procfile: "db: exec sleep 1000\nweb: exec sleep 1000\nworker: exec sleep 1000\n")
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--socket", socket, "--ready", "db=port", "--after", "web=db"])
        try swiftman.waitFor(linePrefix: "worker.1 started with pid", from: "system")
        #expect(try project.run(["scale", "web=2", "--socket", socket]).code == 0)
        #expect(try project.run(["scale", "worker=2", "--socket", socket]).code == 0)
        try swiftman.waitFor(linePrefix: "worker.2 started with pid", from: "system")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0, "\(swiftman.stdout)\n\(swiftman.stderr)")
        project.expectNothingLeft()
    }

    @Test func aStalledSocketOnStdoutNeverBlocksTheLoop() throws {
        // systemd's journal hands swiftman a socket as stdout; it cannot be
        // re-opened through /proc, and blocking writes on it froze signals.
        let project = try Project(procfile: "flood: yes flood\n")
        let run = try project.swiftman(["python3", resource("socket_stdout.py"), Binary.path, project.path("Procfile")],
                                       executable: "/usr/bin/env")
        #expect(try run.wait(timeout: 40) == 0, "\(run.stderr)")
        #expect(run.stdout == "exited 0\n", "\(run.stdout)\n\(run.stderr)")
        project.expectNothingLeft()
    }
}
