// Issue 17 ("Hardening, second round"): the points that are the runtime's,
// on the real binary (2, 4, 5, 9, 10, 11, and 12's export messages). The rules
// themselves are unit tests (SwiftmanModelTests/HardeningRoundTwoTests).
import Glibc
import Foundation
import Testing

@Suite(.serialized) struct HardeningRoundTwoTests {
    /// Point 2: while `start` reads the project a signal ends it, as it ends
    /// `check` (a FIFO env file nobody writes used to hang it for good).
    @Test func aSignalEndsStartWhileItReadsAHungEnvFile() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        let fifo = project.path("hung.env")
        #expect(mkfifo(fifo, 0o600) == 0)
        for signal in [SIGINT, SIGTERM] {
            let swiftman = try project.start(["-e", fifo])
            swiftman.keepReading(for: 0.3)
            swiftman.signal(signal)
            let code = try swiftman.wait(timeout: 20)
            #expect(code == 128 + signal, "ended by the signal's default action: \(swiftman.stderr)")
        }
        project.expectNothingLeft()
    }

    /// Point 4: a FIFO at the lock path is refused at once, not waited on.
    @Test func aFIFOAtTheLockPathIsRefused() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        let socket = project.path("control.sock")
        #expect(mkfifo(socket + ".lock", 0o600) == 0)
        let result = try project.run(["start", "-f", project.path("Procfile"), "--socket", socket])
        #expect(result.code == 1)
        #expect(result.stderr.contains("\(socket).lock: the lock file is not a regular file"), "\(result.stderr)")
        project.expectNothingLeft()
    }

    /// Point 5: a leader that moved itself into another group is still
    /// stopped: the signal goes to its pid, and swiftman says so.
    @Test func aLeaderThatLeftItsGroupIsStoppedThroughItsPid() throws {
        guard commandExists("perl") else { return }
        let project = try Project(procfile: """
            holder: echo $$ > holder.pid; exec sleep 1000
            web: exec perl -e 'select(undef, undef, undef, 0.05) until -s "holder.pid"; open(F, "holder.pid"); $p = <F>; chomp $p; setpgrp(0, $p) or die "setpgrp: $!"; $| = 1; print "moved\\n"; sleep 1000'

            """)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--socket", socket])
        _ = try swiftman.waitFor(line: "moved", from: "web.1")
        let stop = try project.run(["stop", "web", "--socket", socket])
        #expect(stop.code == 0, "\(stop.stderr)")
        _ = try swiftman.waitFor("has left its process group: signals go to its pid")
        try swiftman.waitFor("web.1's exit") { IntegrationTests.messages(from: "system", in: $0).contains { $0.hasPrefix("web.1 ") && $0.contains("SIGTERM") && !$0.hasPrefix("web.1 started") } }
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.stdout.split(separator: "\n").contains { $0.hasPrefix("web.1") && $0.contains("stopped") }, "\(ps.stdout)")
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// Point 9: GNU `timeout` sends SIGTERM to swiftman and then to its
    /// group; the repeat is the same request, so every type gets its grace.
    @Test func timeoutsTwoSIGTERMsAreOneRequestAndTheGraceHolds() throws {
        guard commandExists("timeout") else { return }
        let graceful = "trap 'sleep 1; echo bye; exit 0' TERM; echo up; while :; do sleep 0.1; done"
        let project = try Project(procfile: "a: \(graceful)\nb: \(graceful)\nc: \(graceful)\n")
        for _ in 0..<3 {
            let swiftman = try project.swiftman(["--preserve-status", "-s", "TERM", "4", Binary.path, "start", "-f", project.path("Procfile"),
                                                 "--no-color", "--no-timestamp"], executable: "/usr/bin/timeout")
            for name in ["a.1", "b.1", "c.1"] { _ = try swiftman.waitFor(line: "up", from: name) }
            let code = try swiftman.wait(timeout: 30)
            #expect(code == 0, "swiftman stopped cleanly (--preserve-status): \(swiftman.stdout)\n\(swiftman.stderr)")
            for name in ["a.1", "b.1", "c.1"] {
                #expect(swiftman.messages(from: name).contains("bye"), "\(name) had its grace time: \(swiftman.stdout)")
            }
            #expect(!swiftman.stdout.contains("SIGKILL"), "\(swiftman.stdout)")
        }
        project.expectNothingLeft()
    }

    /// Point 10: a big `scale` spawns in batches between loop turns: other
    /// output is relayed meanwhile, and the `started` lines keep their order.
    @Test func aBigScaleLetsTheLoopTurnAndKeepsTheOrder() throws {
        let project = try Project(procfile: """
            ticker: while :; do echo tick; sleep 0.01; done
            web: exec sleep 1000

            """)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--socket", socket])
        _ = try swiftman.waitFor(line: "tick", from: "ticker.1")
        let count = 300
        let scale = try project.run(["scale", "web=\(count)", "--socket", socket])
        #expect(scale.code == 0, "\(scale.stderr)")
        _ = try swiftman.waitFor(linePrefix: "web.\(count) started", from: "system", timeout: 120)
        let lines = swiftman.stdout.split(separator: "\n").map(String.init)
        let started = lines.compactMap { line -> Int? in
            guard let range = line.range(of: "| web."), line.contains(" started with pid ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(started == Array(1...count), "started lines in order")
        let first = lines.firstIndex { $0.contains("web.2 started") }!
        let last = lines.firstIndex { $0.contains("web.\(count) started") }!
        #expect(lines[first...last].contains { $0.contains("ticker.1") && $0.hasSuffix("tick") },
                "output was relayed between batches")
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait(timeout: 120) == 0)
        project.expectNothingLeft()
    }

    /// Point 11: a dependency stopped before it was ready holds its
    /// dependents: `ps` names it, and an unrelated scale starts nothing.
    @Test func aStoppedDependencyHoldsWhatWaitsForIt() throws {
        let project = try Project(procfile: """
            db: echo starting; exec sleep 1000
            web: exec sleep 1000
            other: exec sleep 1000

            """)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["-m", "db=1,web=1,other=0", "--after", "web=db",
                                          "--ready", "db=line:never printed", "--socket", socket])
        _ = try swiftman.waitFor(line: "starting", from: "db.1")
        #expect(try project.run(["stop", "db", "--socket", socket]).code == 0)
        try swiftman.waitFor("db.1's exit") { IntegrationTests.messages(from: "system", in: $0).contains { $0.hasPrefix("db.1 ") && $0.contains("SIGTERM") && !$0.hasPrefix("db.1 started") } }
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.stdout.split(separator: "\n").contains { $0.hasPrefix("web.1") && $0.contains("waiting for db") }, "\(ps.stdout)")
        #expect(try project.run(["scale", "other=1", "--socket", socket]).code == 0)
        _ = try swiftman.waitFor(linePrefix: "other.1 started", from: "system")
        swiftman.expectNoLine(from: "system", for: 1, where: { $0.hasPrefix("web.1 started") })
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// Point 12: export's --app, --user and --image errors name where the
    /// value came from, and are usage errors (2; 1 for a bad `.foreman`).
    @Test func exportOptionErrorsNameTheirSource() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        let out = project.path("out")
        let fromEnv = try project.run(["export", "systemd", out], environment: ["SWIFTMAN_APP": "bad name"])
        #expect(fromEnv.code == 2)
        #expect(fromEnv.stderr.contains("SWIFTMAN_APP: invalid name"), "\(fromEnv.stderr)")
        let user = try project.run(["export", "kubernetes", out, "--image", "x", "--user", "bob"])
        #expect(user.code == 2)
        #expect(user.stderr.contains("--user: kubernetes needs a numeric user id"), "\(user.stderr)")
        let image = try project.run(["export", "compose", out], environment: ["SWIFTMAN_IMAGE": ""])
        #expect(image.code == 2, "\(image.stderr)")
        try project.write(".foreman", "app: bad name\n")
        chmod(project.path(".foreman"), 0o644)
        let fromFile = try project.run(["export", "systemd", out])
        #expect(fromFile.code == 1)
        #expect(fromFile.stderr.contains(".foreman:1: invalid name"), "\(fromFile.stderr)")
    }
}
