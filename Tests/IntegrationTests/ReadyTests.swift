// Readiness, start order, stop order and the disposability report, with real
// programs: redis-server (Debian; `.ci/run` installs it), Python workers and
// web servers, one-shot shell tasks.
import Glibc
import Foundation
import Testing

private let hasRedis = commandExists("redis-server")

private extension Swiftman {
    /// Index of the first `system` line starting with `prefix` (Int.max if none).
    func systemIndex(_ prefix: String) -> Int {
        messages(from: "system").firstIndex { $0.hasPrefix(prefix) } ?? Int.max
    }
}

private extension Project {
    /// `ps --json` rows by name: state, ready_ms and ready (nil: null, no check).
    func psStates(_ socket: String) throws -> [String: (state: String, readyMS: Double?, ready: Bool?)] {
        let result = try run(["ps", "--json", "--socket", socket])
        guard result.code == 0,
              let rows = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        else { throw HarnessError("ps: \(result.code) \(result.stdout) \(result.stderr)") }
        var states: [String: (String, Double?, Bool?)] = [:]
        for row in rows {
            states[row["name"] as! String] = (row["state"] as! String, row["ready_ms"] as? Double, row["ready"] as? Bool)
        }
        return states
    }
}

@Suite(.serialized) struct ReadyTests {
    /// The worker finishes its job and saves it to redis before redis gets
    /// SIGTERM; redis starts first and is ready (port check) before the worker.
    @Test(.enabled(if: hasRedis, "redis-server is not installed (.ci/run installs it): skipped"))
    func redisStopsAfterItsWorkerFinishedTheJob() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            redis: exec redis-server --port $PORT --save '' --appendonly no
            worker: exec python3 \(resource("job_worker.py")) \(base)
            """)
        let swiftman = try project.start(["-p", "\(base)", "--ready", "redis=port", "--after", "worker=redis", "-t", "5", "--report"])
        try swiftman.waitFor(line: "worker up, redis says +PONG", from: "worker.1")
        #expect(swiftman.systemIndex("redis.1 ready after ") < swiftman.systemIndex("worker.1 started with pid"))
        #expect(swiftman.messages(from: "system").contains("worker.1 waiting for redis (port \(base))"))

        swiftman.signal(SIGINT)
        #expect(try swiftman.wait(timeout: 30) == 0)
        let system = swiftman.messages(from: "system")
        #expect(swiftman.messages(from: "worker.1").contains("job saved: +OK"), "\(swiftman.stdout)")
        #expect(system.contains("sending SIGTERM to worker.1"))
        #expect(swiftman.systemIndex("worker.1 exited with code 0") < swiftman.systemIndex("sending SIGTERM to redis.1"))
        #expect(system.contains("redis.1 exited with code 0"))
        // The report: redis was timed ready; the worker's stop took the job's second.
        let report = system.drop { $0 != "disposability report:" }
        let redisRow = try #require(report.first { $0.hasPrefix("  redis ") })
        #expect(redisRow.contains("ms"), "\(redisRow)")
        let workerRow = try #require(report.first { $0.hasPrefix("  worker ") })
        #expect(workerRow.contains(" 1.0") || workerRow.contains(" 1.1"), "\(workerRow)")
        #expect(!report.contains { $0.contains("ignored SIGTERM") })
        project.expectNothingLeft()
    }

    @Test func aOneShotMigrateRunsToCompletionBeforeWeb() throws {
        let project = try Project(procfile: """
            web: echo "web up"; exec sleep 1000
            migrate: sleep 0.3; echo migrated
            """)
        let swiftman = try project.start(["--ready", "migrate=exit", "--after", "web=migrate"])
        try swiftman.waitFor(line: "web up", from: "web.1")
        let system = swiftman.messages(from: "system")
        #expect(system.contains("web.1 waiting for migrate (exit 0)"))
        let migrated = try #require(swiftman.stdout.range(of: "migrated"), "\(swiftman.stdout)")
        let webStarted = try #require(swiftman.stdout.range(of: "web.1 started with pid"), "\(swiftman.stdout)")
        #expect(migrated.lowerBound < webStarted.lowerBound, "\(swiftman.stdout)")
        #expect(system.contains { $0.hasPrefix("migrate.1 ready after ") && $0.hasSuffix("(exit 0)") })
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func aFailedMigrateStopsTheFormationWithItsNameAndCode() throws {
        let project = try Project(procfile: """
            web: echo "web up"; exec sleep 1000
            cache: exec sleep 1000
            migrate: echo "relation already exists"; exit 3
            """)
        let swiftman = try project.start(["--ready", "migrate=exit", "--after", "web=migrate"])
        #expect(try swiftman.wait() == 3)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("migrate.1 exited with code 3 before it was ready; web waits for it: stopping"), "\(system)")
        #expect(!system.contains { $0.hasPrefix("web.1 started") })
        #expect(system.contains("sending SIGTERM to all processes"), "cache.1, the only one running")
        project.expectNothingLeft()
    }

    /// The timeout from `SWIFTMAN_READY_TIMEOUT`, or from `--ready-timeout`,
    /// which wins over the variable (600 s there would outlast the test).
    @Test(arguments: [
        ([], ["SWIFTMAN_READY_TIMEOUT": "0.5"]),
        (["--ready-timeout", "0.5"], ["SWIFTMAN_READY_TIMEOUT": "600"]),
    ] as [([String], [String: String])])
    func aDependencyNotReadyInTimeStopsTheFormation(flags: [String], environment: [String: String]) throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            db: echo "db never listens"; exec sleep 1000
            web: echo "web up"; exec sleep 1000
            """)
        let started = now()
        let swiftman = try project.start(["-p", "\(base)", "--after", "web=db"] + flags,
                                         environment: ["SWIFTMAN_READY": "db=port"].merging(environment) { $1 })
        #expect(try swiftman.wait() == 1)
        #expect(now() - started < 10)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("db.1 was not ready within 0.5s (port \(base)); web waits for it: stopping"), "\(system)")
        #expect(!system.contains { $0.hasPrefix("web.1 started") })
        project.expectNothingLeft()
    }

    @Test func aLineCheck() throws {
        let project = try Project(procfile: """
            app: echo booting; sleep 0.3; echo "listening on $PORT"; exec sleep 1000
            client: echo "client up"; exec sleep 1000
            """)
        let swiftman = try project.start(["-p", "6100", "--ready", "app=line:listening on", "--after", "client=app"])
        try swiftman.waitFor(line: "client up", from: "client.1")
        let system = swiftman.messages(from: "system")
        #expect(system.contains("client.1 waiting for app (a line containing \"listening on\")"))
        let ready = try #require(system.first { $0.hasPrefix("app.1 ready after ") })
        #expect(ready.hasSuffix("(a line containing \"listening on\")"))
        let listening = try #require(swiftman.stdout.range(of: "listening on 6100"), "\(swiftman.stdout)")
        let clientStarted = try #require(swiftman.stdout.range(of: "client.1 started"), "\(swiftman.stdout)")
        #expect(listening.lowerBound < clientStarted.lowerBound, "\(swiftman.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func aCommandCheckSeesTheInstancePort() throws {
        let project = try Project(procfile: """
            app: sleep 0.4; touch ready.$PORT; exec sleep 1000
            client: echo "client up"; exec sleep 1000
            """)
        let swiftman = try project.start(["-p", "6200", "--ready", "app=cmd:test -f ready.$PORT", "--after", "client=app"])
        try swiftman.waitFor(line: "client up", from: "client.1")
        let system = swiftman.messages(from: "system")
        let ready = try #require(system.first { $0.hasPrefix("app.1 ready after ") })
        #expect(ready.hasSuffix("(`test -f ready.$PORT` to succeed)"))
        #expect(FileManager.default.fileExists(atPath: project.path("ready.6200")))
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func checkPrintsTheStartOrderAndRejectsACycle() throws {
        let project = try Project(procfile: "web: a\nworker: b\nredis: c\nmigrate: d\n")
        let good = try project.run(["check", "--ready", "redis=port,migrate=exit", "--after", "web=migrate+redis,worker=redis",
                                    "--after", "migrate=redis"])
        #expect(good.code == 0, "\(good.stderr)")
        // stdout stays the header and one line per type; what else check found goes to stderr.
        #expect(good.stdout.split(separator: "\n").count == 5, "\(good.stdout)")
        #expect(good.stderr.contains("start order: redis → worker, migrate → web"), "\(good.stderr)")
        #expect(good.stderr.contains("ready when: redis: port 5200; migrate: exit 0"), "\(good.stderr)")

        let cycle = try project.run(["check", "--after", "web=worker,worker=redis+web"])
        #expect(cycle.code != 0)
        #expect(!cycle.stdout.contains("valid"), "\(cycle.stdout)")
        #expect(cycle.stderr.contains("--after: cycle: web waits for worker waits for web"), "\(cycle.stderr)")
        let start = try project.run(["start", "--after", "web=worker", "--after", "worker=web"])
        #expect(start.code != 0)
        #expect(start.stderr.contains("--after: cycle: web waits for worker waits for web"), "\(start.stderr)")
        let unknown = try project.run(["start"], environment: ["SWIFTMAN_READY": "db=port"])
        #expect(unknown.code != 0)
        #expect(unknown.stderr.contains("SWIFTMAN_READY: unknown process type \"db\""), "\(unknown.stderr)")
        project.expectNothingLeft()
    }

    @Test func psShowsStatesAndTimings() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            db: sleep 1.5; exec python3 -m http.server $PORT --bind 127.0.0.1
            web: echo "web up"; exec sleep 1000
            """)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["-p", "\(base)", "--ready", "db=port", "--after", "web=db", "--socket", socket])
        try swiftman.waitFor(linePrefix: "web.1 waiting for db", from: "system")
        let early = try project.psStates(socket)
        #expect(early["db.1"]?.state == "starting", "\(early)")
        #expect(early["web.1"]?.state == "waiting for db", "\(early)")
        #expect(early["db.1"]?.ready == false && early["web.1"]?.ready == nil, "\(early)")
        let table = try project.run(["ps", "--socket", socket])
        #expect(table.stdout.contains("waiting for db"), "\(table.stdout)")
        #expect(table.stdout.split(separator: "\n").first?.hasSuffix("READY") == true, "\(table.stdout)")

        try swiftman.waitFor(line: "web up", from: "web.1")
        let later = try project.psStates(socket)
        #expect(later["db.1"]?.state == "ready")
        #expect(later["web.1"]?.state == "running")
        #expect(later["db.1"]?.ready == true && later["web.1"]?.ready == nil, "\(later)")
        let readyMS = try #require(later["db.1"]?.readyMS)
        #expect(readyMS >= 1500 && readyMS < 10_000, "\(readyMS)")

        let timings = try project.run(["ps", "--timings", "--socket", socket])
        #expect(timings.code == 0, "\(timings.stderr)")
        #expect(timings.stdout.hasPrefix("TYPE"), "\(timings.stdout)")
        #expect(timings.stdout.contains("\ndb "), "\(timings.stdout)")
        let json = try project.run(["ps", "--timings", "--json", "--socket", socket])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.first?["type"] as? String == "db")
        #expect(rows.first?["ready_count"] as? Int == 1)
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    @Test func theEndOfRunReportFlagsATypeThatIgnoresSIGTERM() throws {
        let project = try Project(procfile: """
            stubborn: exec python3 \(resource("ignore_term.py"))
            polite: exec python3 \(resource("trap_term.py"))
            """)
        let swiftman = try project.start(["-t", "1", "--report"])
        try swiftman.waitFor(linePrefix: "ignoring ", from: "stubborn.1")
        try swiftman.waitFor(linePrefix: "ready ", from: "polite.1")
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        let system = swiftman.messages(from: "system")
        let report = Array(system.drop { $0 != "disposability report:" })
        #expect(report.count == 5, "\(report)")
        let stubborn = try #require(report.first { $0.hasPrefix("  stubborn ") })
        #expect(stubborn.contains("1 of 1"), "\(stubborn)")
        let polite = try #require(report.first { $0.hasPrefix("  polite ") })
        #expect(polite.contains(" no "), "\(polite)")
        #expect(report.last == "  stubborn needed SIGKILL (still running after SIGTERM): handle SIGTERM in the program, or set --stop-signal stubborn=SIGNAL")
        project.expectNothingLeft()
    }

    @Test func theReportIsOneJSONEvent() throws {
        let project = try Project(procfile: "web: exec python3 \(resource("trap_term.py"))\n")
        let swiftman = try project.start(["--log-format", "json"])
        try swiftman.waitFor("\"ready ")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        let events = swiftman.stdout.split(separator: "\n").filter { $0.contains("\"event\":\"disposability\"") }
        #expect(events.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(events[0].utf8)) as? [String: Any])
        let types = try #require(object["types"] as? [[String: Any]])
        #expect(types.first?["type"] as? String == "web")
        #expect(types.first?["stop_count"] as? Int == 1)
        #expect(types.first?["sigkill"] as? Int == 0)
        project.expectNothingLeft()
    }
}
