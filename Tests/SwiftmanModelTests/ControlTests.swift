import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

@Suite struct ControlProtocolTests {
    private func parse(_ text: String) throws(ControlFailure) -> ControlRequest {
        try ControlRequest.parse(Array(text.utf8))
    }

    @Test func requestsRoundTrip() throws {
        let requests: [ControlRequest] = [.hello, .ps, .scale([.init(type: "web", count: 3), .init(type: "worker", count: 0)]),
                                          .restart("web.2"), .stop("worker"),
                                          .signal(target: "web", signal: .user1), .signal(target: "web.2", signal: Signal(64)),
                                          .signal(target: "worker", signal: .hangup)]
        for request in requests {
            var line = Array(request.encoded.utf8)
            #expect(line.removeLast() == 10)
            #expect(try ControlRequest.parse(line) == request)
        }
    }

    @Test(arguments: [
        "", "hello", "swiftman/2 ps", "swiftman/1", "swiftman/1 dance", "swiftman/1 ps now",
        "swiftman/1 scale", "swiftman/1 scale web", "swiftman/1 scale web=-1", "swiftman/1 scale web=10001",
        "swiftman/1 scale web.1=2", "swiftman/1 scale w$b=1", "swiftman/1 restart", "swiftman/1 restart a b",
        "swiftman/1 stop ../x/y", "swiftman/1 ps\u{7}",
        "swiftman/1 signal", "swiftman/1 signal web", "swiftman/1 signal web USR1", "swiftman/1 signal web 0",
        "swiftman/1 signal web 65", "swiftman/1 signal web 010", "swiftman/1 signal web +10", "swiftman/1 signal web -10",
        "swiftman/1 signal web 10 x", "swiftman/1 signal ../x 10", "swiftman/1 signal web 1.5",
    ])
    func malformedRequestsAreRejected(_ text: String) {
        #expect(throws: ControlFailure.self) { try parse(text) }
    }

    @Test func oversizedRequestIsRejected() {
        #expect(throws: ControlFailure("request too long")) {
            try ControlRequest.parse(Array(("swiftman/1 stop " + String(repeating: "a", count: 5000)).utf8))
        }
    }

    @Test func signalRequestsCarryTheNumber() {
        #expect(ControlRequest.signal(target: "web", signal: .user1).encoded == "swiftman/1 signal web 10\n")
    }

    @Test func replies() {
        #expect(ControlReply.ok(["a", "b"]).encoded == "ok\na\nb\n")
        #expect(ControlReply.parse("ok\na\nb\n") == .ok(["a", "b"]))
        #expect(ControlReply.parse("error refused nope\n") == .error(ControlFailure("nope")))
        #expect(ControlReply.parse("what") == nil)
    }

    /// The kind crosses the socket: the CLI chooses its exit code from it, not from the wording.
    @Test func errorRepliesCarryTheirKind() {
        let unknown = ControlFailure.unknownTarget("unknown process type \"nope\" (Procfile has: web)")
        #expect(ControlReply.error(unknown).encoded == "error bad-target unknown process type \"nope\" (Procfile has: web)\n")
        for failure in [unknown, ControlFailure("no instance web.9 (web has 1)"), ControlFailure("", kind: .badTarget)] {
            #expect(ControlReply.parse(ControlReply.error(failure).encoded) == .error(failure))
        }
        #expect(ControlFailure("shutting down").kind == .refused)
        #expect(ControlReply.parse("error nope\n") == nil, "no kind")
        #expect(ControlReply.parse("error unknown-kind message\n") == nil)
    }

    @Test func psRowsRoundTrip() {
        let row = InstanceStatus(name: "web.1", pid: 42, state: .running, uptime: 3_000_000_000, restarts: 2, port: 5000)
        #expect(InstanceStatus(encoded: row.encoded) == row)
        let stopped = InstanceStatus(name: "web.2", pid: nil, state: .stopped, uptime: 0, restarts: 0, port: 5001)
        #expect(InstanceStatus(encoded: stopped.encoded) == stopped)
    }

    @Test func psRowCarriesCommandReadyAndSignal() throws {
        var row = InstanceStatus(name: "web.2", pid: nil, state: .stopped, uptime: 0, restarts: 1, port: 5001, exitCode: 143)
        row.command = "printf '100%% done\n' && echo  two\nlines\t%20"
        row.exitSignal = .terminate
        row.ready = false
        #expect(!row.encoded.dropFirst().contains("\n"))
        let back = try #require(InstanceStatus(encoded: row.encoded), "\(row.encoded)")
        #expect(back == row)
        #expect(back.command == row.command && back.exitSignal == .terminate && back.ready == false)
        #expect(back.type == "web" && back.index == 2)
        for command in ["", "-", "%", "ünïcode ✓", "a\u{7F}b"] {
            row.command = command
            #expect(InstanceStatus(encoded: row.encoded)?.command == command, "\(row.encoded)")
        }
        row.ready = true
        #expect(InstanceStatus(encoded: row.encoded)?.ready == true)
        // An older peer's row (no ready, signal or command) still parses.
        let old = try #require(InstanceStatus(encoded: "web.1 12 running 5 0 5000 0 - 1 - 0 off"))
        #expect(old.command == "" && old.ready == nil && old.exitSignal == nil)
        #expect(InstanceStatus(encoded: "web.1 12 running 5 0 5000 0 - 1 - 0 off 1 - a%2") == nil, "bad escape")
    }

    static let states: [InstanceState] = [.starting, .waiting(for: ["redis", "migrate"]), .waiting(for: ["db"]), .waiting(for: []),
                                          .running, .ready, .notReady, .stopping, .backoff, .done, .crashed, .stopped]

    /// Every state is one word on the wire, and comes back as itself.
    @Test(arguments: states)
    func instanceStatesRoundTrip(_ state: InstanceState) {
        #expect(!state.encoded.contains(" "))
        #expect(InstanceState(encoded: state.encoded) == state)
        let row = InstanceStatus(name: "web.1", pid: 7, state: state, uptime: 0, restarts: 0, port: 5000)
        #expect(InstanceStatus(encoded: row.encoded) == row)
    }

    @Test func instanceStatesAreRenderedOnce() {
        #expect(InstanceState.waiting(for: ["redis", "migrate"]).description == "waiting for redis, migrate")
        #expect(InstanceState.waiting(for: ["redis", "migrate"]).encoded == "waiting:redis,migrate")
        #expect(InstanceState.notReady.description == "not ready")
        #expect(InstanceState.notReady.encoded == "not-ready")
        #expect(InstanceState.running.description == "running")
        for bad in ["", "Running", "not ready", "waiting", "waiting:a b", "waiting:a,", "waiting:a/b"] {
            #expect(InstanceState(encoded: bad) == nil, "\(bad)")
        }
    }
}

@Suite struct ControlSocketPathTests {
    @Test func derivedFromTheRootAndStable() {
        let a = ControlSocketPath.derive(root: "/srv/app", uid: 1000, environment: [:])
        #expect(a.hasPrefix("/tmp/swiftman-1000/app-"))
        #expect(a.hasSuffix(".sock"))
        #expect(a == ControlSocketPath.derive(root: "/srv/app", uid: 1000, environment: [:]))
        #expect(a != ControlSocketPath.derive(root: "/home/app", uid: 1000, environment: [:]), "same basename, other root")
    }

    @Test func usesTheRuntimeDirectory() {
        let path = ControlSocketPath.derive(root: "/srv/app", uid: 1000, environment: ["XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(path.hasPrefix("/run/user/1000/swiftman/app-"))
    }

    @Test func deepRootsStayUnderTheSunPathLimit() {
        let deep = "/" + Array(repeating: "a-very-long-directory-name", count: 20).joined(separator: "/")
        let runtime = "/" + String(repeating: "r", count: 59)
        for env in [[:], ["XDG_RUNTIME_DIR": runtime]] {
            let path = ControlSocketPath.derive(root: deep, uid: 4_000_000_000, environment: env)
            #expect(path.utf8.count <= 107)
        }
    }
}

@Suite struct SupervisorControlTests {
    @Test func scaleUpStartsNewInstancesWithSchemePorts() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 1]))
        sup.start(now: 0)
        let web1 = host.pid("web.1")
        #expect(try sup.scale("web", to: 3, now: 0) == "web: 1 → 3")
        #expect(host.spawned.map(\.name) == ["web.1", "web.2", "web.3"])
        #expect(sup.instances.map(\.spec.port) == [5000, 5001, 5002])
        #expect(host.signals.isEmpty, "web.1 is untouched")
        #expect(sup.instances[0].pid == web1)
    }

    @Test func scaleFromZero() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 1]))
        sup.start(now: 0)
        _ = try sup.scale("worker", to: 2, now: 0)
        #expect(host.spawned.map(\.name) == ["web.1", "worker.1", "worker.2"])
        #expect(sup.instances.suffix(2).map(\.spec.port) == [5100, 5101])
    }

    @Test func scaleDownStopsHighestFirstAndRetiresThem() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 3]))
        sup.start(now: 0)
        _ = try sup.scale("web", to: 1, now: 0)
        #expect(host.signals.map(\.pid) == [host.pid("web.3"), host.pid("web.2")])
        sup.childExited(pid: host.pid("web.3"), status: .signaled(15), now: second)
        sup.childExited(pid: host.pid("web.2"), status: .signaled(15), now: second)
        #expect(sup.phase == .running, "retired instances do not stop the formation")
        #expect(sup.snapshot(now: second).map(\.name) == ["web.1"])
        #expect(sup.nextDeadline == nil, "and are not restarted")
    }

    @Test func scaledDownInstanceIsKilledAfterItsGrace() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 2])) { $0.timeout = 3 * second }
        sup.start(now: 0)
        _ = try sup.scale("web", to: 1, now: 0)
        #expect(sup.nextDeadline == 3 * second)
        sup.tick(now: 3 * second)
        #expect(host.signals.last?.signal == 9)
        #expect(host.signals.last?.pid == host.pid("web.2"))
    }

    @Test func scalingUpAgainReusesTheSlot() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 2]))
        sup.start(now: 0)
        _ = try sup.scale("web", to: 1, now: 0)
        sup.childExited(pid: host.pid("web.2"), status: .signaled(15), now: 0)
        _ = try sup.scale("web", to: 2, now: 0)
        #expect(sup.instances.count == 2)
        #expect(sup.snapshot(now: 0).map(\.state) == [.running, .running])
    }

    @Test func restartStopsThenStartsAtOnce() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 2]))
        sup.start(now: 0)
        let old = host.pid("web.2")
        #expect(try sup.restart("web.2", now: 0) == ["web.2"])
        #expect(host.signals.map(\.pid) == [old])
        sup.childExited(pid: old, status: .signaled(15), now: second)
        #expect(host.pid("web.2") != old)
        #expect(sup.instances[1].requestedRestarts == 1)
        #expect(sup.instances[1].restarts == 0, "a requested restart is not counted as a crash restart")
    }

    @Test func stopHoldsAnInstanceWhateverThePolicy() throws {
        let (sup, host) = try makeSupervisor { $0.restart = PerType(.always) }
        sup.start(now: 0)
        #expect(try sup.stop("web", now: 0) == ["web.1"])
        sup.childExited(pid: host.pid("web.1"), status: .signaled(15), now: 0)
        #expect(sup.nextDeadline == nil, "not restarted")
        #expect(sup.snapshot(now: 0).first?.state == .stopped)
        #expect(sup.phase == .running)
        _ = try sup.restart("web.1", now: 0)
        #expect(sup.snapshot(now: 0).first?.state == .running)
    }

    @Test func unknownTargetsAreErrors() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        #expect(throws: ControlFailure.self) { try sup.scale("db", to: 1, now: 0) }
        #expect(throws: ControlFailure.self) { try sup.restart("web.7", now: 0) }
        #expect(throws: ControlFailure.self) { try sup.stop("db.1", now: 0) }
        #expect(host.spawned.count == 2)
    }

    @Test func noControlDuringShutdown() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.requestStop(signal: 15, now: 0)
        #expect(throws: ControlFailure("shutting down")) { try sup.scale("web", to: 2, now: 0) }
        #expect(host.spawned.count == 2)
    }

    @Test func psShowsStatesUptimeAndRestarts() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.childExited(pid: host.pid("worker.1"), status: .exited(1), now: 2 * second)
        let rows = sup.snapshot(now: 5 * second)
        #expect(rows.map(\.state) == [.running, .backoff])
        #expect(rows[0].uptime == 5 * second)
        #expect(rows[1].pid == nil)
    }

    @Test func scaleCountsRunningInstances() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 2]))
        sup.start(now: 0)
        _ = try sup.stop("web.1", now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .signaled(15), now: 0)
        #expect(try sup.scale("web", to: 2, now: 0) == "web: 1 → 2", "the stopped web.1 comes back")
        #expect(sup.snapshot(now: 0).map(\.state) == [.running, .running])
        _ = try sup.stop("web.1", now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .signaled(15), now: 0)
        let running = host.pid("web.2")
        #expect(try sup.scale("web", to: 1, now: 0) == "web: 1 → 1")
        #expect(!host.signals.contains { $0.pid == running }, "the running web.2 is not retired")
        #expect(sup.snapshot(now: 0).map(\.name) == ["web.2"])
    }

    @Test func scaleRefusesPortsPastTheLastOne() throws {
        let plan = try FormationPlan(procfile: Procfile.parse(Array("web: a\n".utf8), path: "Procfile"),
                                     formation: Formation(), ports: PortPlan(base: 65535))
        let host = FakeHost()
        let sup = Driver(Supervisor(plan: plan, config: SupervisorConfig(), spawner: host.spawn), host)
        sup.start(now: 0)
        #expect(throws: ControlFailure("web.2 would get port 65536, above 65535")) { try sup.scale("web", to: 3, now: 0) }
        #expect(host.spawned.count == 1, "nothing started: all or nothing")
    }

    @Test func psListsScaledInstancesWithTheirTypeAndShowsExitCodes() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 1, "worker": 1]))
        sup.start(now: 0)
        _ = try sup.scale("web", to: 2, now: 0)
        sup.childExited(pid: host.pid("worker.1"), status: .exited(0), now: second)
        let rows = sup.snapshot(now: second)
        #expect(rows.map(\.name) == ["web.1", "web.2", "worker.1"])
        #expect(rows[2].state == .done)
        #expect(rows[2].exitCode == 0)
        #expect(rows[0].exitCode == nil)
        let wire = try #require(InstanceStatus(encoded: rows[2].encoded))
        #expect(wire == rows[2])
    }

    @Test func scalingUpASlotStillStoppingWaitsForItsOldGroup() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 1]))
        sup.start(now: 0)
        let old = host.pid("web.1")
        _ = try sup.stop("web.1", now: 0)
        #expect(try sup.scale("web", to: 1, now: 0) == "web: 0 → 1")
        #expect(host.spawned.count == 1, "no second copy while the old group still stops")
        sup.childExited(pid: old, status: .signaled(15), now: second)
        #expect(host.spawned.count == 2)
        #expect(host.pid("web.1") != old)
        #expect(sup.snapshot(now: second).map(\.state) == [.running])
    }

    @Test func scalingBackUpReusesTheRetiredSlotOnceItsGroupIsGone() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 2]))
        sup.start(now: 0)
        let old = host.pid("web.2")
        _ = try sup.scale("web", to: 1, now: 0)
        _ = try sup.scale("web", to: 2, now: 0)
        #expect(host.spawned.count == 2, "web.2 does not run twice on its port")
        #expect(sup.instances.count == 2, "the slot is reused, not duplicated")
        sup.childExited(pid: old, status: .signaled(15), now: second)
        #expect(host.spawned.count == 3)
        #expect(sup.snapshot(now: second).map(\.name) == ["web.1", "web.2"])
    }
}
