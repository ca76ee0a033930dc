import Testing
@testable import SwiftmanModel

/// `swiftman wait`'s answer, from the supervisor's state, and `quit`; plus
/// the durations every option reads.
@Suite struct WaitTests {
    func make() throws -> (Driver, FakeHost) {
        try makeSupervisor("web: w\nworker: k\n") { config in
            config.readiness.checks = ["web": .port]
        }
    }

    func outcome(_ sup: Driver, _ targets: [String], _ goal: WaitGoal = .ready) throws(ControlFailure) -> WaitOutcome {
        try sup.supervisor.waitOutcome(targets: targets, goal: goal)
    }

    @Test func readyMeansPastTheCheckOrStartedWithoutOne() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        #expect(try outcome(sup, ["worker"]) == .reached(["worker.1 ready"]))
        #expect(try outcome(sup, ["web", "worker"]) == .pending)
        #expect(try outcome(sup, ["web.1"], .running) == .reached(["web.1 running"]))
        sup.instanceReady(pid: host.pid("web.1"), now: 2 * second)
        #expect(try outcome(sup, ["web", "worker.1"]) == .reached(["web.1 ready", "worker.1 ready"]))
    }

    @Test func aTargetThatExitedCannotGetThere() throws {
        let (sup, host) = try makeSupervisor("web: w\nworker: k\n") { config in
            config.readiness.checks = ["web": .port]
            config.restart = PerType(.never)
        }
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(3), now: second)
        #expect(try outcome(sup, ["web"]) == .failed("web.1 exited with code 3 before it was ready"))
        // The formation is stopping (worker got SIGTERM): it will not run again.
        #expect(try outcome(sup, ["worker"], .running) == .failed("worker.1 is not running and the formation is stopping"))
        sup.childExited(pid: host.pid("worker.1"), status: .signaled(.terminate), now: 2 * second)
        #expect(try outcome(sup, ["web", "worker"], .exited)
                == .reached(["web.1 exited with code 3", "worker.1 terminated by SIGTERM (exit code 143)"]))
    }

    @Test func unknownNamesAreBadTargets() throws {
        let (sup, _) = try make()
        sup.start(now: 0)
        #expect(throws: ControlFailure.self) { try outcome(sup, ["nope"]) }
        do {
            _ = try outcome(sup, ["web.7"])
            Issue.record("web.7 resolved")
        } catch {
            #expect(error.kind == .refused)
        }
    }

    @Test func quitStopsAsCtrlCDoesAndRepliesOk() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        #expect(try sup.control(.quit, now: second) == [])
        #expect(host.messages.contains("quit requested"))
        #expect(host.signals.map(\.signal).allSatisfy { $0 == .terminate })
        #expect(host.signals.count == 2)
        // A second quit during shutdown changes nothing and is answered too.
        #expect(try sup.control(.quit, now: second) == [])
        #expect(host.messages.filter { $0 == "quit requested" }.count == 1)
    }

    @Test func waitAndQuitRequestsRoundTrip() throws {
        for request in [ControlRequest.quit, .wait(targets: ["web", "worker.2"], goal: .exited)] {
            #expect(try ControlRequest.parse(Array(request.encoded.utf8.dropLast())) == request)
        }
        #expect(throws: ControlFailure.self) { try ControlRequest.parse(Array("swiftman/1 wait soon web".utf8)) }
        #expect(throws: ControlFailure.self) { try ControlRequest.parse(Array("swiftman/1 wait ready".utf8)) }
        #expect(throws: ControlFailure.self) { try ControlRequest.parse(Array("swiftman/1 quit 5".utf8)) }
    }

    @Test func durationsTakePlainSecondsOrAUnit() {
        #expect(Durations.parse("0.5") == 500_000_000)
        #expect(Durations.parse("5") == 5 * second)
        #expect(Durations.parse("500ms") == 500_000_000)
        #expect(Durations.parse("2s") == 2 * second)
        #expect(Durations.parse("1.5m") == 90 * second)
        #expect(Durations.parse("1h") == 3600 * second)
        #expect(Durations.parse(".25s") == 250_000_000)
        #expect(Durations.parse("5.") == 5 * second)
        #expect(Durations.parse("1.0000000001") == second)
        #expect(Durations.parse("8760h") == 8760 * 3600 * second)
        for bad in ["", "-1", "1e3", "inf", "nan", "s", ".", "1.2.3", "5 s", "2d", "400d", "8761h", "99999999999999999999",
                    "٣", "5ｓ", "0x10"] {
            #expect(Durations.parse(bad) == nil, "\(bad)")
        }
    }
}

extension WaitTests {
    /// A crash that the restart policy will retry still fails a wait: the
    /// script hears of it now, with the exit code.
    @Test func aCrashBeforeReadyFailsEvenWhenRestarting() throws {
        let (sup, host) = try make()
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(3), now: second)
        #expect(try outcome(sup, ["web"]) == .failed("web.1 exited with code 3 before it was ready (restarting)"))
        #expect(try outcome(sup, ["worker"]) == .reached(["worker.1 ready"]))
    }
}

extension WaitTests {
    @Test func eventsRequestsRoundTripAndTheHistoryKeepsTheNewest() throws {
        for request in [ControlRequest.events(follow: true, json: false), .events(follow: false, json: true), .events(follow: false, json: false)] {
            #expect(try ControlRequest.parse(Array(request.encoded.utf8.dropLast())) == request)
        }
        let kept = EventHistory(limit: 3)
        for i in 0..<5000 { kept.append(.notice("n\(i)"), time: i) }
        #expect(kept.all.map(\.event.text) == ["n4997", "n4998", "n4999"])
    }
}
