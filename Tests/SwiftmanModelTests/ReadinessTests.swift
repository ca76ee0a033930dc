import Glibc
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

@Suite struct StartOrderTests {
    let types = ["web", "worker", "redis", "postgres", "migrate"]

    @Test func stagesFollowDependenciesInProcfileOrder() throws {
        let order = try StartOrder(types: types, after: ["web": ["migrate", "redis"], "worker": ["redis", "migrate"],
                                                         "migrate": ["postgres"]])
        #expect(order.stages == [["redis", "postgres"], ["migrate"], ["web", "worker"]])
        #expect(order.dependencies(of: "web") == ["redis", "migrate"], "Procfile order")
        #expect(order.dependents(of: "redis") == ["web", "worker"])
        #expect(order.dependents(of: "web") == [])
        #expect(order.describe() == "redis, postgres → migrate → web, worker")
        #expect(order.describe(present: ["web", "postgres"]) == "postgres → web")
    }

    /// Issue 17, point 8: linear and iterative. A 200,000-type chain overflowed
    /// the stack (recursive depth and cycle walks) and took quadratic time.
    @Test func aLongChainIsOrderedWithoutRecursion() throws {
        let count = 200_000
        let types = (0..<count).map { "t\($0)" }
        var after: [String: [String]] = [:]
        for i in 1..<count { after[types[i]] = [types[i - 1]] }
        let order = try StartOrder(types: types, after: after)
        #expect(order.stages.count == count)
        #expect(order.stages.last == [types[count - 1]])
        #expect(order.dependents(of: "t0") == ["t1"])
        after["t0"] = [types[count - 1]]
        #expect(throws: StartOrderError.self) { try StartOrder(types: types, after: after) }
        do {
            _ = try StartOrder(types: types, after: after)
        } catch {
            if case .cycle(let cycle) = error { #expect(cycle.count == count + 1 && cycle.first == cycle.last) }
        }
    }

    @Test func noRelationsIsOneStage() throws {
        let order = try StartOrder(types: types, after: [:])
        #expect(order.isEmpty)
        #expect(order.stages == [types])
    }

    @Test func aDiamondTakesTheLongestPath() throws {
        let order = try StartOrder(types: ["a", "b", "c", "d"], after: ["d": ["b", "c"], "b": ["a"], "c": ["b"]])
        #expect(order.stages == [["a"], ["b"], ["c"], ["d"]])
    }

    @Test func cyclesAreFoundAndNamed() {
        #expect(throws: StartOrderError.cycle(["web", "worker", "web"])) {
            try StartOrder(types: types, after: ["web": ["worker"], "worker": ["web"]])
        }
        #expect(throws: StartOrderError.cycle(["web", "web"])) { try StartOrder(types: types, after: ["web": ["web"]]) }
        #expect(throws: StartOrderError.cycle(["web", "migrate", "redis", "web"])) {
            try StartOrder(types: types, after: ["web": ["migrate"], "migrate": ["redis"], "redis": ["web"], "worker": ["redis"]])
        }
    }

    @Test func unknownTypesAreErrors() {
        #expect(throws: StartOrderError.unknownType("db")) { try StartOrder(types: types, after: ["web": ["db"]]) }
        #expect(throws: StartOrderError.unknownType("api")) { try StartOrder(types: types, after: ["api": ["web"]]) }
    }
}

@Suite struct ReadinessOptionTests {
    let types = ["web", "worker", "redis", "migrate"]

    @Test func checksParse() throws {
        let checks = try ReadinessConfig.parseReady(["redis=port,migrate=exit", "web=line:Listening on", "worker=cmd:test -f ready"],
                                                    source: "--ready", types: types)
        #expect(checks == ["redis": .port, "migrate": .exit, "web": .line("Listening on"), "worker": .command("test -f ready")])
    }

    @Test func aTextCheckKeepsCommasThatDoNotStartAnItem() throws {
        let alone = try ReadinessConfig.parseReady(["web=line:ready, willing, able"], source: "--ready", types: types)
        #expect(alone == ["web": .line("ready, willing, able")])
        let listed = try ReadinessConfig.parseReady(["web=cmd:curl -s localhost:$PORT,a,redis=port"], source: "--ready", types: types)
        #expect(listed == ["web": .command("curl -s localhost:$PORT,a"), "redis": .port])
    }

    @Test func badChecksNameTheFlagAndType() {
        #expect(throws: Diagnostic("--ready", "unknown process type \"db\" (Procfile has: web, worker, redis, migrate)")) {
            try ReadinessConfig.parseReady(["db=port"], source: "--ready", types: types)
        }
        #expect(throws: Diagnostic("SWIFTMAN_READY", "invalid check \"tcp\" for web (expected port, http:PATH, line:TEXT, cmd:COMMAND or exit)")) {
            try ReadinessConfig.parseReady(["web=tcp"], source: "SWIFTMAN_READY", types: types)
        }
        #expect(throws: Diagnostic.self) { try ReadinessConfig.parseReady(["port"], source: "--ready", types: types) }
        #expect(throws: Diagnostic.self) { try ReadinessConfig.parseReady(["web=line:"], source: "--ready", types: types) }
    }

    @Test func afterParsesAndMerges() throws {
        let order = try ReadinessConfig.parseAfter(["web=redis+migrate,worker=redis", "web=worker"], source: "--after", types: types)
        #expect(order.dependencies(of: "web") == ["worker", "redis", "migrate"])
        #expect(order.stages == [["redis", "migrate"], ["worker"], ["web"]])
    }

    @Test func afterErrorsNameTheFlagAndTypes() {
        #expect(throws: Diagnostic("--after", "cycle: web waits for worker waits for web")) {
            try ReadinessConfig.parseAfter(["web=worker,worker=web"], source: "--after", types: types)
        }
        #expect(throws: Diagnostic("--after", "unknown process type \"pg\" (Procfile has: web, worker, redis, migrate)")) {
            try ReadinessConfig.parseAfter(["web=pg"], source: "--after", types: types)
        }
        #expect(throws: Diagnostic.self) { try ReadinessConfig.parseAfter(["web=redis+"], source: "--after", types: types) }
        #expect(throws: Diagnostic.self) { try ReadinessConfig.parseAfter(["web"], source: "--after", types: types) }
    }

    @Test func reportTableFlagsKilledTypes() {
        var redis = DisposabilityReport.Row(type: "redis")
        redis.ready = [12_000_000, 30_000_000, 20_000_000]
        redis.stop = [3_000_000]
        var stubborn = DisposabilityReport.Row(type: "stubborn")
        stubborn.stop = [5_001_000_000]
        stubborn.killed = 1
        stubborn.restarts = 2
        let report = DisposabilityReport(rows: [redis, stubborn], grace: 5_000_000_000)
        #expect(report.table == [
            "TYPE      READY (median / max)  STOP (median / max)  KILLED  RESTARTS",
            "redis     20ms / 30ms           3ms                  no      0",
            "stubborn  -                     5.001s               1 of 1  2",
            "stubborn needed SIGKILL (still running after SIGTERM): handle SIGTERM in the program, or set --stop-signal stubborn=SIGNAL",
        ])
        #expect(DisposabilityReport(encoded: report.encoded) == report)
        #expect(report.json.hasPrefix("[{\"type\":\"redis\",\"ready_count\":3,\"ready_median_ms\":20.000,\"ready_max_ms\":30.000,"))
    }
}

/// The supervisor with ready checks and start order, on the fake clock.
@Suite struct ReadinessSupervisorTests {
    static let procfile = "web: w\nworker: k\nredis: r\nmigrate: m\n"

    func make(_ configure: (inout SupervisorConfig) -> Void = { _ in }) throws -> (Driver, FakeHost) {
        try makeSupervisor(Self.procfile) { config in
            config.readiness.checks = ["redis": .port, "migrate": .exit, "web": .port]
            config.readiness.order = try! StartOrder(types: ["web", "worker", "redis", "migrate"],
                                                     after: ["web": ["migrate"], "worker": ["redis", "migrate"], "migrate": ["redis"]])
            config.timeout = 5 * second
            configure(&config)
        }
    }

    func state(_ sup: Driver, _ name: String, now: Int64 = 0) -> String? {
        sup.snapshot(now: now).first { $0.name == name }?.state.description
    }

    @Test func typesStartOnlyOnceTheirDependenciesAreReady() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        #expect(host.spawned.map(\.name) == ["redis.1"])
        #expect(host.watched.map(\.name) == ["redis.1"])
        #expect(host.messages.contains("migrate.1 waiting for redis (port 5200)"))
        #expect(host.messages.contains("worker.1 waiting for redis (port 5200), migrate (exit 0)"))
        #expect(state(sup, "redis.1") == "starting")
        #expect(state(sup, "worker.1") == "waiting for redis, migrate")
        #expect(state(sup, "web.1") == "waiting for migrate")

        sup.instanceReady(pid: host.pid("redis.1"), now: 20_000_000)
        #expect(host.messages.contains("redis.1 ready after 20ms (port 5200)"))
        #expect(host.spawned.map(\.name) == ["redis.1", "migrate.1"])
        #expect(state(sup, "redis.1") == "ready")
        #expect(sup.snapshot(now: second).first { $0.name == "redis.1" }?.readyAfter == 20_000_000)
        #expect(state(sup, "worker.1") == "waiting for migrate")

        sup.childExited(pid: host.pid("migrate.1"), status: .exited(0), now: second)
        #expect(host.messages.contains("migrate.1 ready after 980ms (exit 0)"))
        #expect(host.spawned.map(\.name) == ["redis.1", "migrate.1", "web.1", "worker.1"])
        #expect(state(sup, "migrate.1") == "done")
        #expect(state(sup, "worker.1") == "running", "no check: running once started")
        #expect(state(sup, "web.1") == "starting")
        #expect(sup.phase == .running, "a finished one-shot does not end the formation")
    }

    @Test func aFailedOneShotStopsTheFormationWithItsCode() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        sup.instanceReady(pid: host.pid("redis.1"), now: 0)
        sup.childExited(pid: host.pid("migrate.1"), status: .exited(3), now: second)
        #expect(host.messages.contains("migrate.1 exited with code 3 before it was ready; web, worker wait for it: stopping"))
        #expect(sup.exitCode == 3)
        #expect(!host.spawned.contains { $0.name == "web.1" })
        #expect(host.signals.map(\.pid) == [host.pid("redis.1")])
        sup.childExited(pid: host.pid("redis.1"), status: .exited(0), now: second)
        #expect(sup.isFinished)
    }

    @Test func aDependencyNotReadyInTimeStopsTheFormation() throws {
        let (sup, host) = try make { $0.readiness.timeout = 10 * second }
        sup.start(now: 0)
        #expect(sup.nextDeadline == 10 * second)
        sup.tick(now: 10 * second - 1)
        #expect(sup.phase == .running)
        sup.tick(now: 10 * second)
        #expect(host.messages.contains("redis.1 was not ready within 10s (port 5200); worker, migrate wait for it: stopping"))
        #expect(sup.exitCode == 1)
        #expect(Set(host.cancelled) == [host.pid("redis.1")])
    }

    @Test func aTypeNothingWaitsForIsOnlyReportedNotReady() throws {
        let (sup, host) = try make { $0.readiness.timeout = 10 * second }
        sup.start(now: 0)
        sup.instanceReady(pid: host.pid("redis.1"), now: 0)
        sup.childExited(pid: host.pid("migrate.1"), status: .exited(0), now: 0)
        sup.tick(now: 10 * second)
        #expect(host.messages.contains("web.1 not ready after 10s (still waiting for port 5000); it keeps running"))
        #expect(sup.phase == .running)
        #expect(state(sup, "web.1") == "not ready")
        #expect(sup.nextDeadline == nil, "no more readiness deadline")
    }

    @Test func shutdownStopsDependentsFirstStageByStage() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        let redis = host.pid("redis.1")
        sup.instanceReady(pid: redis, now: 0)
        sup.childExited(pid: host.pid("migrate.1"), status: .exited(0), now: 0)
        let web = host.pid("web.1"), worker = host.pid("worker.1")
        sup.requestStop(signal: Signal.interrupt, now: 10 * second)
        #expect(host.signals.map(\.pid).sorted() == [web, worker], "redis waits for its dependents")
        #expect(host.messages.contains("sending SIGTERM to web.1, worker.1"))
        sup.childExited(pid: web, status: .signaled(15), now: 10 * second + 1000)
        #expect(host.signals.count == 2, "worker still runs")
        // The worker ignores Signal.terminate: killed after the grace, then redis goes.
        sup.tick(now: 15 * second)
        #expect(host.signals.last! == (worker, Signal.kill))
        sup.childExited(pid: worker, status: .signaled(9), now: 15 * second + 2_000_000)
        #expect(host.signals.last! == (redis, Signal.terminate))
        #expect(host.messages.last == "sending SIGTERM to redis.1")
        #expect(sup.nextDeadline == 20 * second + 2_000_000, "its own grace: --timeout is per stage")
        sup.childExited(pid: redis, status: .exited(0), now: 15 * second + 5_000_000)
        #expect(sup.isFinished)

        let report = sup.disposability()
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.type, $0) })
        #expect(rows["redis"]?.ready == [0])
        #expect(rows["redis"]?.stop == [3_000_000])
        #expect(rows["worker"]?.killed == 1)
        #expect(rows["worker"]?.stop == [5 * second + 2_000_000])
        #expect(rows["web"]?.ready == [], "never ready")
        #expect(report.table.last == "worker needed SIGKILL (still running after SIGTERM): handle SIGTERM in the program, or set --stop-signal worker=SIGNAL")
    }

    @Test func aSecondInterruptKillsEveryStageAtOnce() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        let redis = host.pid("redis.1")
        sup.instanceReady(pid: redis, now: 0)
        sup.childExited(pid: host.pid("migrate.1"), status: .exited(0), now: 0)
        sup.requestStop(signal: Signal.interrupt, now: second)
        sup.requestStop(signal: Signal.interrupt, now: 2 * second)
        #expect(Set(host.signals.filter { $0.signal == Signal.kill }.map(\.pid)) == [redis, host.pid("web.1"), host.pid("worker.1")])
    }

    @Test func withoutRelationsEverythingStopsTogether() throws {
        let (sup, host) = try makeSupervisor(Self.procfile) { $0.readiness.checks = ["redis": .port] }
        sup.start(now: 0)
        #expect(host.spawned.count == 4)
        sup.requestStop(signal: Signal.terminate, now: second)
        #expect(host.signals.count == 4)
        #expect(host.messages.last == "sending SIGTERM to all processes")
    }

    @Test func restartsAreTimedAgain() throws {
        let (sup, host) = try makeSupervisor("redis: r\n") { $0.readiness.checks = ["redis": .port] }
        sup.start(now: 0)
        sup.instanceReady(pid: host.pid("redis.1"), now: 10_000_000)
        sup.childExited(pid: host.pid("redis.1"), status: .exited(1), now: second)
        sup.tick(now: sup.nextDeadline!)
        #expect(host.watched.count == 2)
        sup.instanceReady(pid: host.pid("redis.1"), now: sup.instances[0].startedAt + 30_000_000)
        let row = sup.disposability().rows[0]
        #expect(row.ready == [10_000_000, 30_000_000])
        #expect(row.restarts == 1)
    }

    @Test func scaledInstancesOfAWaitingTypeWait() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        _ = try sup.scale("web", to: 2, now: 0)
        #expect(!host.spawned.contains { $0.name.hasPrefix("web") })
        #expect(state(sup, "web.2") == "waiting for migrate")
        sup.instanceReady(pid: host.pid("redis.1"), now: 0)
        sup.childExited(pid: host.pid("migrate.1"), status: .exited(0), now: 0)
        #expect(host.spawned.filter { $0.name.hasPrefix("web") }.count == 2)
    }
}

@Suite struct ReadinessExportTests {
    func input() throws -> ExportInput {
        let text = "web: ./web\nworker: ./work\nredis: redis-server --port $PORT\nmigrate: ./migrate\n"
        let plan = try FormationPlan(procfile: Procfile.parse(Array(text.utf8), path: "Procfile"), formation: Formation(),
                                     ports: PortPlan(base: 5000))
        var readiness = ReadinessConfig()
        readiness.checks = ["redis": .port, "migrate": .exit, "web": .command("curl -fs localhost:$PORT/health"), "worker": .line("up")]
        readiness.order = try StartOrder(types: ["web", "worker", "redis", "migrate"],
                                         after: ["web": ["migrate", "worker"], "worker": ["redis"], "migrate": ["redis"]])
        readiness.timeout = 30_000_000_000
        return ExportInput(plan: plan, root: "/srv/demo", environment: [:],
                           options: ExportOptions(app: "demo", image: "img"), readiness: readiness)
    }

    func files(_ format: ExportFormat) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try Exporter.render(format, input()).map { ($0.path, $0.contents) })
    }

    @Test func systemdOrdersUnitsAndRunsOneShotsAsOneshot() throws {
        let units = try files(.systemd)
        let web = try #require(units["demo-web-1.service"])
        #expect(web.contains("After=demo-worker-1.service demo-migrate-1.service\nRequires=demo-worker-1.service demo-migrate-1.service\n"))
        #expect(try #require(units["demo-migrate-1.service"]).contains("Type=oneshot\nRemainAfterExit=yes\n"))
        let target = try #require(units["demo.target"])
        #expect(target.contains("# Not carried: systemd cannot run the ready checks of worker, redis (port, line, cmd):"), "\(target)")
    }

    /// Stages redis → worker, migrate → web: priority= by stage and programs= in
    /// that order (what supervisord's group starts by); the one-shot runs once.
    @Test func supervisordStartsByStageAndRunsOneShotsOnce() throws {
        let conf = try #require(try files(.supervisord)["demo.conf"])
        #expect(conf.contains("\nprograms=demo-redis-1,demo-worker-1,demo-migrate-1,demo-web-1\n"), "\(conf)")
        func program(_ name: String) -> [Substring] {
            conf.split(separator: "\n\n").first { $0.hasPrefix("[program:\(name)]") }?.split(separator: "\n") ?? []
        }
        #expect(program("demo-redis-1").contains("priority=100"))
        #expect(program("demo-worker-1").contains("priority=200"))
        #expect(program("demo-migrate-1").contains("priority=200"))
        #expect(program("demo-web-1").contains("priority=300"))
        #expect(program("demo-migrate-1").filter { $0.hasPrefix("startsecs=") || $0.hasPrefix("autorestart=") || $0.hasPrefix("exitcodes=") }
                == ["startsecs=0", "autorestart=unexpected", "exitcodes=0"])
        #expect(!program("demo-web-1").contains { $0.hasPrefix("startsecs=") })
        #expect(conf.contains("; Not carried: supervisord does not wait for a program to be ready, or a one-shot to finish,\n"))
        var never = try input()
        never.restart = PerType(.never)
        let neverConf = try Exporter.render(.supervisord, never)[0].contents
        #expect(neverConf.contains("startsecs=0\nautorestart=false\n"))
    }

    /// A one-shot is a Job (run to completion once), with stdin open like the rest.
    @Test func kubernetesExportsAOneShotAsAJob() throws {
        let yaml = try #require(try files(.kubernetes)["demo.yaml"])
        let job = try #require(yaml.components(separatedBy: "---\n").first { $0.contains("name: demo-migrate\n") })
        #expect(job.hasPrefix("apiVersion: batch/v1\nkind: Job\n"), "\(job)")
        #expect(job.contains("\n  parallelism: 1\n  completions: 1\n"), "\(job)")
        #expect(job.contains("restartPolicy: OnFailure\n"), "\(job)")
        #expect(!job.contains("selector") && !job.contains("replicas"))
        #expect(yaml.components(separatedBy: "kind: Deployment\n").count == 4, "web, worker, redis")
        #expect(yaml.components(separatedBy: "stdin: true\n").count == 5, "every container")
    }

    @Test(.enabled(if: Checkers.kubernetesValidate, "kubernetes-validate is not installed (pip install kubernetes-validate; .ci/run does)"))
    func theJobAndDeploymentsPassKubernetesValidateStrict() throws {
        try withTemporaryDirectory { dir in
            var never = try input()
            never.restart = PerType(.never, overrides: ["web": .always])
            try Exporter.write(Exporter.render(.kubernetes, never), to: dir)
            let result = try #require(runTool(["kubernetes-validate", "--strict", dir + "/demo.yaml"]))
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("passed for resource job/demo-migrate"), "\(result.stdout)")
        }
    }

    @Test func composeDependsOnWithConditionsAndHealthchecks() throws {
        let compose = try #require(try files(.compose)["compose.yaml"])
        #expect(compose.contains("""
                depends_on:
                  worker:
                    condition: service_started
                  migrate:
                    condition: service_completed_successfully
            """), "\(compose)")
        #expect(compose.contains("""
                healthcheck:
                  test:
                    - CMD-SHELL
                    - nc -z 127.0.0.1 5200
                  interval: "1s"
                  retries: 30
            """), "\(compose)")
        #expect(compose.contains("- \"curl -fs localhost:$$PORT/health\""))
        #expect(compose.contains("# Not carried: line checks (worker)"))
    }

    @Test func kubernetesReadinessProbesForPortAndCommandChecks() throws {
        let yaml = try #require(try files(.kubernetes)["demo.yaml"])
        #expect(yaml.contains("""
                      readinessProbe:
                        tcpSocket:
                          port: 5200
                        periodSeconds: 1
                        failureThreshold: 30
            """), "\(yaml)")
        #expect(yaml.contains("# Not carried: --after"))
        #expect(yaml.contains("# Not carried: line checks (worker)"))
        #expect(yaml.contains("# One-shots (exit checks) are Jobs that run to completion once: migrate."))
    }
}
