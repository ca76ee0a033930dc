import Foundation
import Testing
@testable import SwiftmanModel

/// The supervisor as a function: one input in, the effects out, in order.
@Suite struct SupervisorEffectsTests {
    @Test func oneSIGTERMIsOneInputAndOneBatchOfEffects() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        let web = host.pid("web.1"), worker = host.pid("worker.1")
        let effects = sup.supervisor.handle(.signal(.terminate), now: second)
        #expect(effects == [
            .report(.signalReceived(signal: .terminate)),
            .report(.stopping(instances: ["web.1", "worker.1"], signal: .terminate, all: true)),
            .signal(group: web, .terminate), .signal(group: web, .continue),
            .signal(group: worker, .terminate), .signal(group: worker, .continue),
            .signalOrphans(.terminate),
        ])
        #expect(sup.nextDeadline == second + SupervisorConfig().timeout, "SIGKILL is due after the grace time")
    }

    @Test func aSecondSignalEscalatesOnlyWhenTheTableSaysSo() throws {
        for (second_, escalates) in [(Signal.hangup, false), (.alarm, false), (.power, false), (.interrupt, true), (.terminate, true), (.quit, true)] {
            let (sup, host) = try makeSupervisor()
            sup.start(now: 0)
            _ = sup.supervisor.handle(.signal(.interrupt), now: 0)
            // A person's second one comes later than `timeout`'s repeat.
            let effects = sup.supervisor.handle(.signal(second_), now: Supervisor.repeatWindow)
            let killed = effects.filter { if case .signal(_, .kill) = $0 { return true } else { return false } }
            #expect(killed.count == (escalates ? 2 : 0), "\(second_) after SIGINT")
            #expect(SignalTable.start(second_) == .stop(escalates: escalates))
            _ = host
        }
    }

    @Test func forwardedSignalsGoToRunningGroupsOnly() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 2, "worker": 1]))
        sup.start(now: 0)
        _ = try sup.stop("worker", now: 0)
        let effects = sup.supervisor.handle(.signal(.user1), now: 0)
        #expect(effects == [.signal(group: host.pid("web.1"), .user1), .signal(group: host.pid("web.2"), .user1)])
    }

    @Test func aControlRequestReportsThenReplies() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        let effects = sup.supervisor.handle(.control(.stop("worker")), now: 0)
        let worker = host.pid("worker.1")
        // What was asked, then what it caused, then the reply.
        #expect(effects == [
            .report(.request(action: "stopping", targets: ["worker.1"])),
            .signal(group: worker, .terminate), .signal(group: worker, .continue),
            .reply(.ok(["worker.1"])),
        ])
        let refused = sup.supervisor.handle(.control(.restart("db")), now: 0)
        #expect(refused == [.reply(.error(.unknownTarget("unknown process type or instance \"db\" (Procfile has: web, worker)")))])
    }

    @Test func timersAreOneInput() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: second)
        #expect(sup.supervisor.handle(.timers, now: second).isEmpty, "nothing is due before the backoff ends")
        let due = try #require(sup.nextDeadline)
        let effects = sup.supervisor.handle(.timers, now: due)
        #expect(effects == [.report(.started(instance: "web.1", pid: host.pid("web.1")))])
    }

    @Test func oneResolverForEveryTarget() throws {
        let (sup, _) = try makeSupervisor(formation: Formation(counts: ["web": 2]))
        sup.start(now: 0)
        let s = sup.supervisor
        #expect(try s.resolve("web").map { s.instances[$0].spec.name } == ["web.1", "web.2"])
        #expect(try s.resolve("web.2").map { s.instances[$0].spec.name } == ["web.2"])
        #expect(throws: ControlFailure("no instance web.3 (web has 2)")) { try s.resolve("web.3") }
        #expect(throws: ControlFailure.unknownTarget("unknown process type or instance \"db\" (Procfile has: web, worker)")) { try s.resolve("db") }
    }
}

/// The signal table: what each command does with each signal, in one place.
@Suite struct SignalTableTests {
    @Test func startHandlesWhatEndsAProcessAndLeavesFaultsAlone() {
        for signal in [Signal.interrupt, .terminate, .hangup, .quit, .alarm, .power, .user1, .child, .windowChange] {
            #expect(SignalTable.startHandles.contains(signal), "\(signal)")
        }
        for signal in [Signal.segmentation, .bus, .illegal, .floatingPoint, .trap, .kill, .stop] {
            #expect(SignalTable.start(signal) == .default, "\(signal)")
            #expect(!SignalTable.startHandles.contains(signal))
        }
        #expect(SignalTable.startIgnores == [.pipe, .terminalInput, .terminalOutput])
        #expect(SignalTable.start(Signal(40)) == .stop(escalates: false), "real-time signals stop")
    }

    @Test func connectEndsOnTerminationAndDetachesOnCtrlC() {
        #expect(SignalTable.connect(.interrupt) == .detachInLineMode)
        #expect(SignalTable.connect(.terminate) == .end)
        #expect(SignalTable.connect(.windowChange) == .resize)
        #expect(Set(SignalTable.connectHandles) == [.interrupt, .terminate, .quit, .hangup, .windowChange])
    }
}

extension SignalTableTests {
    /// docs/lifecycle.md shows the table the code uses.
    @Test func theManualShowsTheTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/lifecycle.md"), encoding: .utf8)
        #expect(doc.contains(SignalTable.markdown), "docs/lifecycle.md's signal table is stale: paste SignalTable.markdown")
    }
}
