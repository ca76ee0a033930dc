import Glibc
import Foundation
import Testing

@Suite struct ShutdownTests {
    @Test(arguments: [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT"), (SIGHUP, "SIGHUP")])
    func stopSignalStopsEverythingWithExitCode0(signal: Int32, name: String) throws {
        let project = try Project(procfile: "web: sleep 300\nworker: sleep 300\n")
        let swiftman = try project.start()
        try swiftman.waitFor("worker.1 started with pid")
        try swiftman.waitFor("web.1 started with pid")
        swiftman.signal(signal)
        #expect(try swiftman.wait() == 0)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("\(name) received"))
        #expect(system.contains("sending SIGTERM to all processes"))
        #expect(system.contains("web.1 terminated by SIGTERM"))
        #expect(system.contains("worker.1 terminated by SIGTERM"))
        project.expectNothingLeft()
    }

    @Test func childIgnoringTheStopSignalIsKilledAfterTheTimeout() throws {
        let project = try Project(procfile: "web: trap '' TERM; echo ready; while true; do sleep 0.2; done\n")
        let swiftman = try project.start(["-t", "1"])
        try swiftman.waitFor(line: "ready", from: "web.1")
        let begin = now()
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        #expect(now() - begin < 15)
        let system = swiftman.messages(from: "system")
        #expect(system.contains { $0.hasPrefix("sending SIGKILL to ") }, "\(system)")
        #expect(system.contains("web.1 terminated by SIGKILL"))
        project.expectNothingLeft()
    }

    @Test func secondSIGINTKillsAtOnce() throws {
        let project = try Project(procfile: "web: trap '' TERM; echo ready; while true; do sleep 0.2; done\n")
        let swiftman = try project.start(["-t", "30"])
        try swiftman.waitFor(line: "ready", from: "web.1")
        let begin = now()
        swiftman.signal(SIGINT)
        try swiftman.waitFor("sending SIGTERM to all processes")
        // A person's second Ctrl-C: later than the 0.5 s in which a repeat
        // of the same signal is the same request (issue 17, point 9).
        swiftman.keepReading(for: 0.7)
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait(timeout: 25) == 0)
        #expect(now() - begin < 20, "the 30 s grace time was not cut short")
        #expect(swiftman.messages(from: "system").contains { $0.hasPrefix("sending SIGKILL to ") })
        project.expectNothingLeft()
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid")))
    func grandchildrenAndEscapedDaemonsAreStopped() throws {
        let project = try Project(procfile: """
            web: sleep 300 & sleep 300
            daemon: setsid sleep 300 & echo escaped; sleep 300
            oneshot: setsid sh -c 'echo $$ > escaped.pid; exec sleep 300' & while [ ! -s escaped.pid ]; do sleep 0.05; done; echo escaped
            """)
        // oneshot's shell exits only once its daemon has left the group: had it
        // exited first, the daemon would still be in the instance's group, and
        // the rest of a group whose leader is gone is stopped.
        let swiftman = try project.start()
        try swiftman.waitFor(line: "escaped", from: "daemon.1")
        try swiftman.waitFor(line: "escaped", from: "oneshot.1")
        // 2 sleeps of web, 2 of daemon, 1 of oneshot (whose shell has exited).
        let sleeps = { project.liveProcesses().filter { readAll("/proc/\($0)/comm") == Array("sleep\n".utf8) } }
        #expect(eventually { sleeps().count == 5 }, "tagged sleeps: \(sleeps())")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func stdoutClosedStopsTheFormation() throws {
        // web goes quiet (a leftover sleep would show); worker keeps writing.
        let project = try Project(procfile: """
            web: echo one; echo two; sleep 300
            worker: while true; do echo tick; sleep 0.1; done
            """)
        let swiftman = try project.start()
        try swiftman.waitFor(line: "two", from: "web.1")
        swiftman.closeStdout()
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }
}

@Suite struct ForwardingTests {
    @Test(arguments: [(SIGUSR1, "USR1"), (SIGUSR2, "USR2")])
    func userSignalsAreForwarded(signal: Int32, name: String) throws {
        let project = try Project(procfile: """
            web: trap 'echo web got \(name)' \(name); echo ready; while true; do sleep 0.1; done
            worker: trap 'echo worker got \(name)' \(name); echo ready; while true; do sleep 0.1; done
            """)
        let swiftman = try project.start()
        try swiftman.waitFor(line: "ready", from: "web.1")
        try swiftman.waitFor(line: "ready", from: "worker.1")
        swiftman.signal(signal)
        try swiftman.waitFor(line: "web got \(name)", from: "web.1")
        try swiftman.waitFor(line: "worker got \(name)", from: "worker.1")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
    }
}
