// An instance is its process group: real programs (Python scripts that the
// shell does not exec, since dash keeps `sh -c` as the group leader when the
// command has shell syntax), drained restarts, no lost lines, an open stdin.
import Foundation
import Testing

private extension Project {
    var socket: String { path("control.sock") }
}

/// The index of the first line of swiftman's output that contains `text`.
private func position(of text: String, in output: String) -> Int? {
    output.split(separator: "\n").firstIndex { $0.contains(text) }
}

@Suite(.serialized) struct ProcessGroupTests {
    @Test func aSimpleCommandIsTheGroupLeaderItself() throws {
        let project = try Project(procfile: "web: python3 \(resource("worker.py"))\n")
        let swiftman = try project.start(["--socket", project.socket])
        let line = try swiftman.waitFor(linePrefix: "worker up", from: "web.1")
        _ = line
        let program = try #require(swiftman.messages(from: "web.1").first.flatMap { Int32($0.split(separator: " ").last!) })
        #expect(swiftman.startedPid("web.1") == program, "the pid shown is the program's, not a shell's")
        let ps = try project.run(["ps", "--json", "--socket", project.socket])
        #expect(ps.stdout.contains("\"pid\":\(program),\"processes\":1"), "\(ps.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func restartWaitsForTheOldGroupToDrainAndRelaysItsLastLines() throws {
        // `cd . &&` is shell syntax: the shell stays, python is its child.
        let project = try Project(procfile: "web: cd . && python3 \(resource("drain.py"))\n")
        let swiftman = try project.start(["--socket", project.socket])
        let ready = try swiftman.waitFor(linePrefix: "ready", from: "web.1")
        let oldPid = try #require(ready.split(separator: " ").last.map(String.init))
        let python = try #require(pid_t(oldPid))
        let restart = try project.run(["restart", "web.1", "--socket", project.socket])
        #expect(restart.code == 0, "\(restart.stderr)")
        try swiftman.waitFor(line: "draining \(oldPid)", from: "web.1")
        // swiftman stops reading; the old program prints its last lines and
        // exits (the shell, the group's leader, died of the SIGTERM already).
        // When swiftman goes on, the group is empty and its last lines are
        // still in the pipe: they come out only because the end of a group
        // drains its pipes before the exit is announced.
        swiftman.signal(SIGSTOP)
        try project.write("release", "")
        let exited = eventually(timeout: 20) { ProcScan.stat(python).map(\.isZombie) ?? true }
        swiftman.signal(SIGCONT)
        #expect(exited, "the draining program did not exit")
        _ = try swiftman.waitFor("a new web.1") { IntegrationTests.messages(from: "web.1", in: $0).filter { $0.hasPrefix("ready") }.count == 2 }
        let out = swiftman.stdout
        let web = swiftman.messages(from: "web.1")
        // Every line the old program printed while draining arrived...
        #expect(web.contains("drained \(oldPid)"), "\(out)")
        for i in 0..<5 { #expect(web.contains("drain \(i)"), "\(out)") }
        // ...before its exit was announced, and before the new one's first line.
        let drained = try #require(position(of: "drained \(oldPid)", in: out), "\(out)")
        let terminated = try #require(position(of: "web.1 terminated by SIGTERM", in: out), "\(out)")
        let newReady = try #require(out.split(separator: "\n").lastIndex { $0.contains("web.1") && $0.contains("| ready ") })
        #expect(drained < terminated, "the exit is announced after the group's last line: \(out)")
        #expect(terminated < newReady, "the new instance starts after the old group is gone: \(out)")
        #expect(project.processes(running: resource("drain.py")).count == 1)
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func aProgramIgnoringSIGTERMIsKilledAfterTheGraceTimeAndItIsSaid() throws {
        let project = try Project(procfile: "web: cd . && python3 \(resource("ignore_term.py"))\n")
        let swiftman = try project.start(["-t", "1"])
        _ = try swiftman.waitFor(linePrefix: "ignoring", from: "web.1")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("sending SIGKILL to web.1 (still running 1s after its stop signal)"), "\(swiftman.stdout)")
        let killed = try #require(system.firstIndex { $0.hasPrefix("sending SIGKILL to web.1") })
        let exited = try #require(system.firstIndex { $0.hasPrefix("web.1 terminated by") })
        #expect(killed < exited, "the exit is reported once the group is empty, after the kill")
        project.expectNothingLeft()
    }

    @Test func killingThePidPsShowsLeavesExactlyOneCopyAfterTheRestart() throws {
        let project = try Project(procfile: "worker: cd . && python3 \(resource("worker.py"))\n")
        let swiftman = try project.start(["--socket", project.socket, "-t", "2"])
        _ = try swiftman.waitFor(linePrefix: "worker up", from: "worker.1")
        let ps = try project.run(["ps", "--json", "--socket", project.socket])
        let leader = try #require(swiftman.startedPid("worker.1"))
        #expect(ps.stdout.contains("\"pid\":\(leader),\"processes\":2"), "shell and python: \(ps.stdout)")
        kill(leader, SIGKILL)
        _ = try swiftman.waitFor("the worker restarted") {
            IntegrationTests.messages(from: "worker.1", in: $0).filter { $0.hasPrefix("worker up") }.count == 2
        }
        #expect(swiftman.messages(from: "system").contains { $0.hasPrefix("worker.1: pid \(leader) terminated by SIGKILL, 1 process of its group still running") },
                "\(swiftman.stdout)")
        #expect(project.processes(running: resource("worker.py")).count == 1, "never two copies of worker.1")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// At shutdown, or by `swiftman stop` (where no orphan sweep follows: the
    /// stop signal must reach the workers through the group itself).
    @Test(arguments: ["shutdown", "stop"])
    func aForkingServerIsStoppedWithItsWholeGroup(by: String) throws {
        let project = try Project(procfile: "web: python3 \(resource("forker.py")) 3\n")
        let swiftman = try project.start(["--socket", project.socket])
        _ = try swiftman.waitFor("master and 3 workers") { out in
            let web = IntegrationTests.messages(from: "web.1", in: out)
            return web.contains { $0.hasPrefix("master") } && web.filter { $0.hasPrefix("worker") }.count == 3
        }
        #expect(project.processes(running: resource("forker.py")).count == 4)
        if by == "stop" {
            let stop = try project.run(["stop", "web", "--socket", project.socket])
            #expect(stop.code == 0, "\(stop.stderr)")
            // Announced once the whole group has ended: master and workers.
            try swiftman.waitFor(line: "web.1 terminated by SIGTERM", from: "system")
            #expect(eventually { project.processes(running: resource("forker.py")).isEmpty },
                    "left: \(project.processes(running: resource("forker.py")))")
        }
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func stdinStaysOpenWhileSwiftmanRunsAndEndsWhenItIsKilled() throws {
        let project = try Project(procfile: "watch: cd . && python3 \(resource("stdin_watcher.py"))\n")
        let swiftman = try project.start()
        _ = try swiftman.waitFor(linePrefix: "watching", from: "watch.1")
        let watcher = try #require(project.processes(running: resource("stdin_watcher.py")).first)
        // Still watching a while later: its stdin is open, not /dev/null.
        swiftman.expectNoLine(from: "watch.1", for: 1.5) { $0 == "stdin closed" }
        #expect(project.processes(running: resource("stdin_watcher.py")) == [watcher])
        swiftman.signal(SIGKILL)
        _ = try? swiftman.wait()
        // With swiftman gone its end of the pipe closes: the watcher ends too.
        #expect(eventually(timeout: 10) { project.processes(running: resource("stdin_watcher.py")).isEmpty },
                "the watcher outlived swiftman")
    }

    @Test(.enabled(if: commandExists("esbuild"), "esbuild is not installed (apt-get install esbuild; .ci/run installs it)"))
    func esbuildWatchRebuildsUnderStart() throws {
        let project = try Project(procfile: "js: esbuild app.js --bundle --outfile=out.js --watch\n")
        try project.write("app.js", "console.log('first')\n")
        let swiftman = try project.start()
        let built = eventually(timeout: 20) {
            (try? String(contentsOfFile: project.path("out.js"), encoding: .utf8))?.contains("first") ?? false
        }
        #expect(built, "\(swiftman.stdout)")
        usleep(500_000)
        try project.write("app.js", "console.log('second')\n")
        let rebuilt = eventually(timeout: 20) {
            (try? String(contentsOfFile: project.path("out.js"), encoding: .utf8))?.contains("second") ?? false
        }
        #expect(rebuilt, "esbuild --watch stopped watching: \(swiftman.stdout)")
        swiftman.expectNoLine(from: "system", for: 1) { $0.hasPrefix("js.1 exited") }
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }
}
