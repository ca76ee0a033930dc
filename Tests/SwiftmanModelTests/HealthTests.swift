import Testing
@testable import SwiftmanModel

/// `--health`: the supervisor's health state machine, driven with inputs on
/// the fake clock.
@Suite struct HealthTests {
    let check = ReadyCheck.http(path: "/up", status: nil)

    func make(ready: ReadyCheck? = nil, restart: RestartPolicy = .onFailure,
              _ configure: (inout SupervisorConfig) -> Void = { _ in }) throws -> (Driver, FakeHost) {
        try makeSupervisor("web: w\nworker: k\n") { config in
            config.health.checks = ["web": check]
            config.health.interval = second
            config.health.retries = 3
            config.restart = PerType(restart)
            if let ready { config.readiness.checks = ["web": ready] }
            configure(&config)
        }
    }

    func health(_ sup: Driver, _ name: String = "web.1", now: Int64 = 0) -> String? {
        sup.snapshot(now: now).first { $0.name == name }?.health?.description
    }

    @Test func checksStartOneIntervalAfterReadyAndRepeat() throws {
        let (sup, host) = try make(ready: .port)
        sup.start(now: 0)
        let pid = host.pid("web.1")
        #expect(health(sup) == "-")
        #expect(health(sup, "worker.1") == nil, "worker has no health check")
        sup.tick(now: 5 * second)
        #expect(host.healthChecks.isEmpty, "not before it is ready")
        sup.instanceReady(pid: pid, now: 5 * second)
        #expect(sup.nextDeadline == 6 * second)
        sup.tick(now: 6 * second)
        #expect(host.healthChecks.map(\.name) == ["web.1"])
        #expect(host.healthChecks.first?.check == check)
        sup.tick(now: 7 * second)
        #expect(host.healthChecks.count == 1, "one check at a time")
        sup.send(.health(pid: pid, passed: true, detail: ""), now: 7 * second)
        #expect(health(sup) == "healthy")
        #expect(sup.nextDeadline == 8 * second)
        sup.tick(now: 8 * second)
        #expect(host.healthChecks.count == 2)
    }

    @Test func retriesFailuresInARowRestartGracefullyAsAFailure() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        let pid = host.pid("web.1")
        var now: Int64 = 0
        for failure in 1...3 {
            now += second
            sup.tick(now: now)
            sup.send(.health(pid: pid, passed: false, detail: "503"), now: now)
            if failure < 3 { #expect(health(sup, now: now) == "unhealthy \(failure)/3") }
        }
        #expect(host.messages.contains("web.1 unhealthy (http:/up: 503, 3 times): restarting"), "\(host.messages)")
        #expect(host.signals.map(\.signal) == [.terminate], "gracefully: the stop signal first")
        // It handles SIGTERM and exits 0: still a failure, so on-failure restarts it.
        sup.childExited(pid: pid, status: .exited(0), now: now + 100_000_000)
        #expect(host.messages.contains { $0.hasPrefix("web.1 restarting in ") }, "\(host.messages)")
        sup.tick(now: now + 10 * second)
        #expect(host.spawned.map(\.name).filter { $0 == "web.1" }.count == 2)
        #expect(sup.snapshot(now: now + 10 * second).first { $0.name == "web.1" }?.restarts == 1)
        #expect(health(sup, now: now + 10 * second) == "-", "a new run starts unchecked")
    }

    @Test func aPassBetweenFailuresResetsTheCountAndIsSaid() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        let pid = host.pid("web.1")
        sup.tick(now: second)
        sup.send(.health(pid: pid, passed: false, detail: "timed out"), now: second)
        sup.tick(now: 2 * second)
        sup.send(.health(pid: pid, passed: false, detail: "timed out"), now: 2 * second)
        sup.tick(now: 3 * second)
        sup.send(.health(pid: pid, passed: true, detail: ""), now: 3 * second)
        #expect(host.messages.contains("web.1 healthy again (http:/up) after 2 failed checks"))
        #expect(health(sup, now: 3 * second) == "healthy")
        sup.tick(now: 4 * second)
        sup.send(.health(pid: pid, passed: false, detail: "timed out"), now: 4 * second)
        #expect(health(sup, now: 4 * second) == "unhealthy 1/3")
        #expect(host.signals.isEmpty)
    }

    @Test func underNeverAnUnhealthyInstanceStopsTheFormation() throws {
        let (sup, host) = try make(restart: .never) { $0.health.retries = 1 }
        sup.start(now: 0)
        let pid = host.pid("web.1")
        sup.tick(now: second)
        sup.send(.health(pid: pid, passed: false, detail: "500"), now: second)
        #expect(host.messages.contains("web.1 unhealthy (http:/up: 500, 1 time): restarting"))
        sup.childExited(pid: pid, status: .signaled(15), now: 2 * second)
        #expect(sup.phase != .running)
    }

    @Test func theRestartLimitCountsUnhealthyRestarts() throws {
        let (sup, host) = try make { config in
            config.health.retries = 1
            config.restartLimit = PerType(1)
        }
        sup.start(now: 0)
        var now: Int64 = 0
        for _ in 0..<2 {
            let pid = host.pid("web.1")
            now += second
            sup.tick(now: now)
            sup.send(.health(pid: pid, passed: false, detail: "500"), now: now)
            sup.childExited(pid: pid, status: .exited(0), now: now)
            now += 60 * second
            sup.tick(now: now)
        }
        #expect(host.messages.contains { $0.contains("(restart limit 1); stopping") }, "\(host.messages)")
    }

    @Test func aStopCallsOffARunningCheckAndLateAnswersAreIgnored() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        let pid = host.pid("web.1")
        sup.tick(now: second)
        #expect(host.healthChecks.count == 1)
        _ = try sup.stop("web.1", now: second)
        #expect(host.healthCancelled == [pid])
        sup.send(.health(pid: pid, passed: false, detail: "500"), now: second)
        #expect(!host.messages.contains { $0.contains("unhealthy") })
        sup.childExited(pid: pid, status: .signaled(15), now: 2 * second)
        sup.tick(now: 10 * second)
        #expect(host.healthChecks.count == 1, "a stopped instance is not checked")
    }

    @Test func healthOptionsParse() throws {
        let types = ["web", "worker"]
        #expect(try HealthConfig.parseHealth(["web=http:/up,worker=cmd:true"], source: "--health", types: types)
            == ["web": .http(path: "/up", status: nil), "worker": .command("true")])
        #expect(throws: Diagnostic("--health", "line:ok cannot check web's health (expected port, http:PATH or cmd:COMMAND)")) {
            try HealthConfig.parseHealth(["web=line:ok"], source: "--health", types: types)
        }
        #expect(throws: Diagnostic.self) { try HealthConfig.parseHealth(["web=exit"], source: "--health", types: types) }
        #expect(HealthConfig.parseInterval("0.5") == 500_000_000)
        #expect(HealthConfig.parseInterval("10") == 10 * second)
        #expect(HealthConfig.parseInterval("500ms") == 500_000_000)
        #expect(HealthConfig.parseInterval("2s") == 2 * second)
        #expect(HealthConfig.parseInterval("1m") == 60 * second)
        #expect(HealthConfig.parseInterval("5h") == 5 * 3600 * second, "every duration option takes the same units")
        for bad in ["", "0", "-1", "abc", "25h", "0.1ms", "nan", "inf"] { #expect(HealthConfig.parseInterval(bad) == nil, "\(bad)") }
    }

    @Test func healthCrossesTheControlSocketAndIsTypedInJSON() {
        var row = InstanceStatus(name: "web.1", pid: 7, state: .ready, uptime: 0, restarts: 0, port: 5000)
        for health in [nil, InstanceHealth.unchecked, .healthy, .unhealthy(failures: 2, retries: 3)] {
            row.health = health
            #expect(InstanceStatus(encoded: row.encoded)?.health == health, "\(row.encoded)")
        }
        let event = LifecycleEvent.unhealthy(instance: "web.1", check: "http:/up", reason: "503", failures: 3)
        #expect(event.name == "unhealthy")
        #expect(event.fields.contains { $0.key == "failures" && $0.value == .number(3) })
        #expect(LifecycleEvent.healthy(instance: "web.1", check: "port", failures: 1).text == "web.1 healthy again (port) after 1 failed check")
    }
}

/// `--health` in exports: Kubernetes livenessProbe, compose healthcheck, and
/// a note where the format cannot run it.
@Suite struct HealthExportTests {
    func files(_ format: ExportFormat) throws -> [String: String] {
        var readiness = ReadinessConfig()
        readiness.checks = ["web": .port]
        var health = HealthConfig()
        health.checks = ["web": .http(path: "/up", status: nil), "worker": .command("pgrep -f work")]
        health.interval = 1_500_000_000
        health.retries = 4
        return try exportedFiles(format, procfile: "web: ./web\nworker: ./work\n", readiness: readiness, health: health)
    }

    @Test func kubernetesGetsLivenessProbes() throws {
        let yaml = try #require(try files(.kubernetes)["demo.yaml"])
        #expect(yaml.contains("readinessProbe:\n            tcpSocket:\n              port: 5000\n"), "\(yaml)")
        #expect(yaml.contains("livenessProbe:\n            httpGet:\n              path: /up\n              port: 5000\n"
            + "            periodSeconds: 2\n            failureThreshold: 4\n"), "\(yaml)")
        #expect(yaml.contains("livenessProbe:\n            exec:\n"), "\(yaml)")
        #expect(yaml.contains("# Health checks are liveness probes (web, worker): periodSeconds 2, failureThreshold 4."), "\(yaml)")
    }

    @Test func composeHealthchecksAreTheHealthChecks() throws {
        let yaml = try #require(try files(.compose)["compose.yaml"])
        #expect(yaml.contains("curl -fsS -o /dev/null 'http://127.0.0.1:5000/up'"), "\(yaml)")
        #expect(!yaml.contains("nc -z 127.0.0.1 5000"), "the ready check's healthcheck is replaced: \(yaml)")
        #expect(yaml.contains("interval: \"2s\"\n      retries: 4"), "\(yaml)")
        #expect(!yaml.contains("nc -z"), "no note about nc when no port check is a healthcheck")
        #expect(yaml.contains("does not restart it"), "\(yaml)")
    }

    @Test func systemdAndSupervisordSayTheyCannot() throws {
        #expect(try files(.systemd)["demo.target"]?.contains("# Not carried: systemd cannot run the health checks of web, worker.") == true)
        #expect(try files(.supervisord)["demo.conf"]?.contains("; Not carried: supervisord cannot run the health checks of web, worker.") == true)
    }
}
