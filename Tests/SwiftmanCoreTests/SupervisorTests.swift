import Testing
@testable import SwiftmanCore

/// A host that records what the supervisor asks for; pids count up from 100.
final class FakeHost: SupervisorHost {
    var nextPid: Int32 = 100
    var spawned: [(name: String, pid: Int32)] = []
    var signals: [(pid: Int32, signal: Int32)] = []
    var orphanSignals: [Int32] = []
    var messages: [String] = []
    var failSpawns: Set<String> = []

    func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError> {
        if failSpawns.contains(instance.name) { return .failure(SpawnError("boom")) }
        nextPid += 1
        spawned.append((instance.name, nextPid))
        return .success(nextPid)
    }
    func signal(group: Int32, _ signal: Int32) { signals.append((group, signal)) }
    func signalOrphans(_ signal: Int32) { orphanSignals.append(signal) }
    func system(_ message: String) { messages.append(message) }

    func pid(_ name: String) -> Int32 { spawned.last { $0.name == name }!.pid }
}

let second: Int64 = 1_000_000_000

func makeSupervisor(_ procfile: String = "web: a\nworker: b\n", formation: Formation = Formation(),
                    configure: (inout SupervisorConfig) -> Void = { _ in }) throws -> (Supervisor, FakeHost) {
    let plan = try FormationPlan(procfile: Procfile.parse(Array(procfile.utf8), path: "Procfile"),
                                 formation: formation, ports: PortPlan(base: 5000))
    var config = SupervisorConfig()
    configure(&config)
    let host = FakeHost()
    return (Supervisor(plan: plan, config: config, host: host), host)
}

@Suite struct SupervisorTests {
    @Test func startsEveryInstanceAndLogsPids() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 2, "worker": 1]))
        sup.start(now: 0)
        #expect(host.spawned.map(\.name) == ["web.1", "web.2", "worker.1"])
        #expect(host.messages.contains("web.2 started with pid 102"))
        #expect(sup.phase == .running)
    }

    @Test func failedInstanceRestartsAfterDoublingBackoff() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 1 * second)
        #expect(host.messages.last == "web.1 restarting in 0.5s")
        #expect(sup.nextDeadline == 1 * second + 500_000_000)
        sup.tick(now: 1 * second + 499_000_000)
        #expect(host.spawned.count == 2, "not restarted before the backoff ends")
        sup.tick(now: 1 * second + 500_000_000)
        #expect(host.spawned.last?.name == "web.1")
        #expect(sup.instances[0].restarts == 1)
        // A quick second crash doubles the delay.
        sup.childExited(pid: host.pid("web.1"), status: .signaled(11), now: 2 * second)
        #expect(host.messages.last == "web.1 restarting in 1s")
    }

    @Test func backoffResetsAfterALongRun() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 1 * second)
        sup.tick(now: 2 * second)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 60 * second)
        #expect(host.messages.last == "web.1 restarting in 0.5s")
    }

    @Test func backoffIsCappedAtMaximum() throws {
        let (sup, host) = try makeSupervisor { $0.restartLimit = PerType(1000) }
        sup.start(now: 0)
        var now: Int64 = 0
        for _ in 0..<12 {
            sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: now)
            now = sup.nextDeadline!
            sup.tick(now: now)
        }
        #expect(host.messages.filter { $0.hasPrefix("web.1 restarting") }.last == "web.1 restarting in 30s")
    }

    @Test func cleanExitUnderOnFailureStaysDone() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(0), now: second)
        #expect(sup.instances[0].state == .exited(.exited(0)))
        #expect(sup.phase == .running, "the others keep running")
        sup.childExited(pid: host.pid("worker.1"), status: .exited(0), now: second)
        #expect(sup.isFinished)
        #expect(sup.exitCode == 0)
    }

    @Test func alwaysRestartsCleanExits() throws {
        let (sup, host) = try makeSupervisor { $0.restart = PerType(.onFailure, overrides: ["web": .always]) }
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(0), now: second)
        #expect(host.messages.last == "web.1 restarting in 0.5s")
    }

    @Test func neverStopsTheFormationWithTheExitCode() throws {
        let (sup, host) = try makeSupervisor { $0.restart = PerType(.never) }
        sup.start(now: 0)
        let worker = host.pid("worker.1")
        sup.childExited(pid: host.pid("web.1"), status: .signaled(9), now: second)
        #expect(sup.exitCode == 137)
        #expect(host.signals.map(\.pid) == [worker])
        #expect(host.signals.map(\.signal) == [15])
        #expect(!sup.isFinished)
        sup.childExited(pid: worker, status: .signaled(15), now: second)
        #expect(sup.isFinished)
        #expect(sup.exitCode == 137, "the first cause keeps its code")
    }

    @Test func crashLoopPastTheLimitStopsTheFormation() throws {
        let (sup, host) = try makeSupervisor { $0.restartLimit = PerType(10, overrides: ["web": 2]) }
        sup.start(now: 0)
        var now: Int64 = 0
        for _ in 0..<2 {
            sup.childExited(pid: host.pid("web.1"), status: .exited(4), now: now)
            now = sup.nextDeadline!
            sup.tick(now: now)
        }
        #expect(sup.phase == .running, "two restarts are within the limit")
        sup.childExited(pid: host.pid("web.1"), status: .exited(4), now: now)
        #expect(sup.exitCode == 4)
        guard case .stopping = sup.phase else { Issue.record("expected shutdown"); return }
    }

    @Test func failuresOutsideTheWindowDoNotCount() throws {
        let (sup, host) = try makeSupervisor { $0.restartLimit = PerType(1) }
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 0)
        sup.tick(now: second)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 120 * second)
        #expect(sup.phase == .running)
    }

    @Test func requestedStopSignalsGroupsThenKillsAfterGrace() throws {
        let (sup, host) = try makeSupervisor { $0.timeout = 2 * second; $0.stopSignal = PerType(15, overrides: ["web": 3]) }
        sup.start(now: 0)
        sup.requestStop(signal: 2, now: 10 * second)
        #expect(host.signals.map(\.signal).sorted() == [3, 15])
        #expect(host.orphanSignals == [15])
        #expect(sup.nextDeadline == 12 * second)
        sup.tick(now: 11 * second)
        #expect(host.signals.count == 2, "no SIGKILL before the grace ends")
        sup.tick(now: 12 * second)
        #expect(host.signals.filter { $0.signal == 9 }.count == 2)
        #expect(host.orphanSignals == [15, 9])
        #expect(sup.exitCode == 0)
    }

    @Test func secondInterruptKillsAtOnce() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.requestStop(signal: 15, now: 0)
        sup.requestStop(signal: 1, now: 0)
        #expect(!host.signals.contains { $0.signal == 9 }, "SIGHUP during shutdown does not escalate")
        sup.requestStop(signal: 2, now: 0)
        #expect(host.signals.filter { $0.signal == 9 }.count == 2)
    }

    @Test func exitsDuringShutdownDoNotRestart() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.requestStop(signal: 15, now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 0)
        sup.tick(now: 10 * second)
        #expect(host.spawned.count == 2)
        #expect(sup.exitCode == 0)
    }

    @Test func backoffInstancesAreDroppedAtShutdown() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 0)
        sup.requestStop(signal: 15, now: 0)
        sup.childExited(pid: host.pid("worker.1"), status: .signaled(15), now: 0)
        #expect(sup.isFinished)
    }

    @Test func forwardsUserSignalsToRunningGroups() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.forward(signal: 10)
        #expect(host.signals.map(\.signal) == [10, 10])
    }

    @Test func unknownPidIsAnOrphan() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        #expect(!sup.childExited(pid: 9999, status: .exited(0), now: 0))
        #expect(host.messages.count == 2, "an orphan's exit is not announced")
    }

    @Test func spawnFailureFollowsTheRestartPolicy() throws {
        let (sup, host) = try makeSupervisor { $0.restart = PerType(.never) }
        host.failSpawns = ["worker.1"]
        sup.start(now: 0)
        #expect(host.messages.contains("worker.1 could not start: boom"))
        #expect(sup.exitCode == 127)
    }

    @Test func emptyFormationFinishesAtOnce() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(all: 0))
        sup.start(now: 0)
        #expect(sup.isFinished)
        #expect(host.spawned.isEmpty)
    }

    @Test func durationsReadNaturally() {
        #expect(formatSeconds(500_000_000) == "0.5s")
        #expect(formatSeconds(2 * second) == "2s")
        #expect(formatSeconds(60 * second) == "1m")
        #expect(formatSeconds(1_250_000_000) == "1.25s")
    }
}
