// What scripts, CI jobs and coding agents run against a formation started
// elsewhere: `wait` for a state, `quit` it. Every test uses a socket inside
// its own temp directory (--socket).
import Glibc
import Foundation
import Testing

extension Project {
    fileprivate var socket: String { path("control.sock") }

    /// `swiftman ARGUMENTS --socket SOCKET`, run to its end.
    fileprivate func control(_ arguments: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        try run(arguments + ["--socket", socket])
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` now.
private func accepts(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A Python web server (on $PORT, for `--ready web=port`) and a sleeper.
private let webServerAndWorker = """
    web: exec python3 -u -m http.server --bind 127.0.0.1 $PORT
    worker: echo working; exec sleep 1000
    """

@Suite(.serialized) struct AgentTests {
    /// `wait` returns 0 once a Python web server's port accepts, 2 for a name
    /// the Procfile lacks, 124 when its timeout passes first; `quit` stops
    /// the formation as Ctrl-C does, prints the report and returns the
    /// formation's exit code, and nothing is left running.
    @Test func waitForReadyThenQuit() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: webServerAndWorker)
        let swiftman = try project.start(["-p", "\(base)", "--ready", "web=port", "--socket", project.socket])
        // The socket exists once `start` listens; until then `wait` says nothing runs (1).
        #expect(eventually(timeout: 20) { FileManager.default.fileExists(atPath: project.socket) })

        let ready = try project.control(["wait", "web", "worker.1", "--timeout", "30s"])
        #expect(ready.code == 0, "\(ready)")
        #expect(ready.stdout == "web.1 ready\nworker.1 ready\n")
        #expect(accepts(port: base), "wait returned before web's port accepted")

        let unknown = try project.control(["wait", "nope"])
        #expect(unknown.code == 2)
        #expect(unknown.stderr.contains("unknown process type or instance \"nope\""), "\(unknown.stderr)")

        let timedOut = try project.control(["wait", "worker", "--for", "exited", "--timeout", "200ms"])
        #expect(timedOut.code == 124, "\(timedOut)")
        #expect(timedOut.stderr.contains("no reply within 0.2s"), "\(timedOut.stderr)")

        let quit = try project.control(["quit"])
        #expect(quit.code == 0, "\(quit)")
        #expect(quit.stdout.hasPrefix("TYPE"), "no disposability report: \(quit.stdout)")
        #expect(quit.stdout.contains("\nweb "), "\(quit.stdout)")
        // quit returned after the formation stopped: its processes are gone.
        #expect(!accepts(port: base))
        #expect(try swiftman.wait() == 0)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("quit requested"), "\(system)")
        #expect(system.contains("sending SIGTERM to all processes"), "\(system)")
        project.expectNothingLeft()

        // Nothing runs here any more: 1 for both.
        let after = try project.control(["wait", "web"])
        #expect(after.code == 1)
        #expect(after.stderr.contains("no running formation"), "\(after.stderr)")
        #expect(try project.control(["quit"]).code == 1)
    }

    /// A wait that can no longer succeed exits 1 naming the instance and its
    /// exit code: here the instance exits 3 before its ready line, which
    /// also ends the formation (restart never); `quit`'s exit code is the
    /// formation's.
    @Test func waitFailsWhenTheTargetExitsBeforeReady() throws {
        let project = try Project(procfile: """
            once: sleep 1; echo bye; exit 3
            worker: exec sleep 1000
            """)
        let swiftman = try project.start(["--ready", "once=line:never printed", "--restart", "once=never", "--socket", project.socket])
        try swiftman.waitFor(linePrefix: "once.1 started with pid", from: "system")
        let result = try project.control(["wait", "once", "--timeout", "60"])
        #expect(result.code == 1, "\(result)")
        #expect(result.stderr.contains("once.1 exited with code 3"), "\(result.stderr)")
        #expect(try swiftman.wait() == 3)
        project.expectNothingLeft()
    }

    /// `wait --for exited` and `--for running`; waiting for a one-shot task
    /// that has finished to be ready fails (it can no longer get there).
    @Test func waitForRunningAndExited() throws {
        let project = try Project(procfile: """
            task: echo done
            worker: exec sleep 1000
            """)
        let swiftman = try project.start(["--socket", project.socket])
        #expect(eventually(timeout: 20) { FileManager.default.fileExists(atPath: project.socket) })
        let exited = try project.control(["wait", "task", "--for", "exited", "--timeout", "30"])
        #expect(exited.code == 0, "\(exited)")
        #expect(exited.stdout == "task.1 exited with code 0\n")
        let running = try project.control(["wait", "worker", "--for", "running"])
        #expect(running.code == 0, "\(running)")
        #expect(running.stdout == "worker.1 running\n")
        // Ready: task has no check, but it is no longer running: it cannot get there.
        let ready = try project.control(["wait", "task"])
        #expect(ready.code == 1, "\(ready)")
        #expect(ready.stderr.contains("task.1 exited with code 0 before it was ready"), "\(ready.stderr)")

        let quit = try project.control(["quit", "--timeout", "1m"])
        #expect(quit.code == 0, "\(quit)")
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// Bad arguments are usage errors (exit 2) before anything is sent.
    @Test func waitAndQuitUsage() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        let noTarget = try project.control(["wait"])
        #expect(noTarget.code == 2)
        let badState = try project.control(["wait", "web", "--for", "up"])
        #expect(badState.code == 2)
        #expect(badState.stderr.contains("expected ready, running or exited"), "\(badState.stderr)")
        let badTimeout = try project.control(["wait", "web", "--timeout", "soon"])
        #expect(badTimeout.code == 2)
        #expect(badTimeout.stderr.contains("invalid duration \"soon\""), "\(badTimeout.stderr)")
        #expect(try project.control(["quit", "extra"]).code == 2)
    }
}

/// `start -D`: checked in the foreground, run in the background, returned
/// from once up (or failed, leaving nothing running).
@Suite(.serialized) struct DetachTests {
    /// A detached formation with a Python web server returns only once the
    /// port accepts, keeps none of the caller's descriptors (a command
    /// substitution returns), refuses a second start naming its pid, and
    /// `quit` leaves nothing running.
    @Test func detachedStartReturnsOnceReadyAndQuitStopsIt() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: webServerAndWorker)
        let start = ["start", "-D", "-f", project.path("Procfile"), "-p", "\(base)", "--ready", "web=port",
                     "--socket", project.socket]
        // As a script would: out=$(swiftman start -D …) returns only when no
        // descriptor of the caller is left open in the background.
        let shell = try project.swiftman(["-c", "out=$(\"$0\" \"$@\") && echo \"$out\" && echo captured", Binary.path] + start,
                                         executable: "/bin/sh")
        #expect(try shell.wait(timeout: 60) == 0, "\(shell.stdout)\(shell.stderr)")
        #expect(shell.stdout.contains("started in the background (pid "), "\(shell.stdout)")
        #expect(shell.stdout.hasSuffix("captured\n"))
        #expect(accepts(port: base), "start -D returned before web's port accepted")

        let ps = try project.control(["ps"])
        #expect(ps.code == 0)
        #expect(ps.stdout.contains("web.1") && ps.stdout.contains("ready"), "\(ps.stdout)")
        let again = try project.run(start)
        #expect(again.code != 0)
        #expect(again.stderr.contains("already running"), "\(again.stderr)")
        #expect(again.stderr.contains("(pid "), "\(again.stderr)")

        let quit = try project.control(["quit"])
        #expect(quit.code == 0, "\(quit)")
        #expect(!accepts(port: base))
        project.expectNothingLeft()
    }

    /// A type that exits 3 before it is ready: `start -D` prints its last
    /// lines, stops the formation, exits non-zero, and nothing is left.
    @Test func detachedStartThatFailsPrintsTheLastLinesAndLeavesNothing() throws {
        let project = try Project(procfile: """
            api: echo "config missing: DATABASE_URL"; exit 3
            worker: echo working; exec sleep 1000
            """)
        let result = try project.run(["start", "-D", "-f", project.path("Procfile"), "--no-color", "--ready", "api=port",
                                      "--socket", project.socket])
        #expect(result.code != 0)
        #expect(result.stderr.contains("api.1    | config missing: DATABASE_URL"), "\(result.stderr)")
        #expect(result.stderr.contains("api.1 exited with code 3"), "\(result.stderr)")
        project.expectNothingLeft()
        #expect(!FileManager.default.fileExists(atPath: project.socket))
    }

    /// What is wrong in the foreground is the same error and exit code as
    /// without -D, and nothing starts.
    @Test func detachedStartChecksInTheForeground() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        let plain = try project.run(["start", "-f", project.path("Procfile"), "nope", "--socket", project.socket])
        let detached = try project.run(["start", "-D", "-f", project.path("Procfile"), "nope", "--socket", project.socket])
        #expect(detached.code == plain.code)
        #expect(detached.code != 0)
        #expect(detached.stderr == plain.stderr)
        project.expectNothingLeft()
    }
}

/// `swiftman logs`: the history of a formation read from another process.
@Suite(.serialized) struct LogsTests {
    /// Lines printed before `logs` connected come back in order, filtered by
    /// target and -n; `logs -f` prints new lines and ends (0) when the
    /// formation quits.
    @Test func logsShowsWhatWasPrintedBeforeAndFollows() throws {
        let project = try Project(procfile: """
            web: for i in 1 2 3 4 5; do echo "web line $i"; done; exec sleep 1000
            worker: echo "worker says hi"; exec sleep 1000
            """)
        let swiftman = try project.start(["-m", "web=2,worker=1", "--socket", project.socket])
        try swiftman.waitFor(line: "web line 5", from: "web.2")
        try swiftman.waitFor(line: "web line 5", from: "web.1")
        try swiftman.waitFor(line: "worker says hi", from: "worker.1")

        let all = try project.control(["logs", "--no-color", "--no-timestamp"])
        #expect(all.code == 0, "\(all)")
        let lines = all.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("system   | web.1 started with pid \(swiftman.startedPid("web.1") ?? 0)"), "\(lines)")
        #expect(lines.filter { $0.hasPrefix("web.1    | ") } == (1...5).map { "web.1    | web line \($0)" })

        let two = try project.control(["logs", "-n", "2", "web.2", "--no-prefix"])
        #expect(two.stdout == "web line 4\nweb line 5\n", "\(two)")
        let worker = try project.control(["logs", "worker", "--no-prefix"])
        #expect(worker.stdout == "worker says hi\n", "\(worker)")
        let json = try project.control(["logs", "--log-format", "json", "-n", "1", "worker"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["process"] as? String == "worker.1")
        #expect(object?["message"] as? String == "worker says hi")
        #expect(try project.control(["logs", "nope"]).code == 2)

        let follower = try project.swiftman(["logs", "-f", "worker", "--no-prefix", "--socket", project.socket])
        try follower.waitFor("worker says hi")
        let quit = try project.control(["quit"])
        #expect(quit.code == 0)
        #expect(try follower.wait(timeout: 30) == 0)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// A follower gets the lines of instances that `scale` adds after it
    /// connected, not only of those that ran when it came.
    @Test func aFollowerSeesInstancesAddedByScale() throws {
        let project = try Project(procfile: "worker: python3 \(resource("worker.py"))\n")
        let swiftman = try project.start(["--socket", project.socket])
        _ = try swiftman.waitFor(linePrefix: "worker up", from: "worker.1")
        let follower = try project.swiftman(["logs", "-f", "worker", "--socket", project.socket])
        try follower.waitFor("worker.1")
        #expect(try project.control(["scale", "worker=2"]).code == 0)
        _ = try swiftman.waitFor(linePrefix: "worker up", from: "worker.2")
        try follower.waitFor("worker.2 ")
        #expect(try project.control(["quit"]).code == 0)
        #expect(try follower.wait(timeout: 30) == 0)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// A `logs -f` client that never reads does not hold up a flood: the
    /// formation relays it all and quits as usual.
    @Test func aFollowerThatNeverReadsDoesNotSlowTheRelay() throws {
        let project = try Project(procfile: """
            flood: exec python3 flood.py
            idle: exec sleep 1000
            """)
        // It floods once the stalled follower is connected (the file "go").
        try project.write("flood.py", """
            import os, sys, time
            while not os.path.exists("go"): time.sleep(0.02)
            for i in range(50000): sys.stdout.write("flood line %d %s\\n" % (i, "x" * 60))
            print("flood done")
            """)
        // The stalled follower: connected, request sent, never read.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let swiftman = try project.start(["--socket", project.socket, "--restart", "flood=never"])
        #expect(eventually(timeout: 20) { FileManager.default.fileExists(atPath: project.socket) })
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in project.socket.utf8.enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(connected == 0)
        let request = "swiftman/1 logs ftp - -\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        try project.write("go", "")
        // The flood ends the formation (restart never, exit 0): all relayed.
        #expect(try swiftman.wait(timeout: 120) == 0)
        #expect(swiftman.stdout.contains("flood.1 | flood line 49999 "))
        #expect(swiftman.stdout.contains("flood.1 | flood done\n"))
        project.expectNothingLeft()
    }
}

/// `swiftman events`: the lifecycle as data.
@Suite(.serialized) struct EventsTests {
    /// `events --json --no-follow` parses and names the instances; `events
    /// --json` follows a restart and ends (0) when the formation quits.
    @Test func eventsAsJSONNameTheInstancesAndFollowUntilQuit() throws {
        let project = try Project(procfile: """
            web: exec sleep 1000
            worker: exec sleep 1000
            """)
        let swiftman = try project.start(["--socket", project.socket])
        try swiftman.waitFor(linePrefix: "worker.1 started with pid", from: "system")
        try swiftman.waitFor(linePrefix: "web.1 started with pid", from: "system")

        let kept = try project.control(["events", "--json", "--no-follow"])
        #expect(kept.code == 0, "\(kept)")
        let objects = try kept.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let started = objects.filter { $0["event"] as? String == "started" }
        #expect(Set(started.compactMap { $0["process"] as? String }) == ["web.1", "worker.1"], "\(objects)")
        #expect(started.allSatisfy { $0["pid"] is Int && $0["stream"] as? String == "system" })

        let text = try project.control(["events", "--no-follow"])
        #expect(text.stdout.contains("system   | web.1 started with pid"), "\(text.stdout)")

        let follower = try project.swiftman(["events", "--json", "--socket", project.socket])
        try follower.waitFor("\"event\":\"started\"")
        #expect(try project.control(["restart", "worker"]).code == 0)
        try follower.waitFor("\"action\":\"restarting\"")
        #expect(try project.control(["quit"]).code == 0)
        #expect(try follower.wait(timeout: 30) == 0)
        #expect(follower.stdout.contains("\"event\":\"quit\""), "\(follower.stdout)")
        #expect(follower.stdout.contains("\"event\":\"stopped\""), "\(follower.stdout)")
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }
}
