import Glibc
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

/// Records the effects the supervisor returns, and answers its spawns with
/// pids counting up from 100 (or the errors in `failSpawns`).
final class FakeHost {
    var nextPid: Int32 = 100
    var spawned: [(name: String, pid: Int32)] = []
    var signals: [(pid: Int32, signal: Signal)] = []
    /// Groups sent SIGCONT (after a stop signal), kept apart from `signals`.
    var resumed: [Int32] = []
    var orphanSignals: [Signal] = []
    var events: [LifecycleEvent] = []
    var messages: [String] { events.map(\.text) }
    var failSpawns: [String: SpawnError] = [:]
    /// Readiness checks the supervisor asked for, and the ones it called off.
    var watched: [(name: String, pid: Int32, check: ReadyCheck)] = []
    var cancelled: [Int32] = []
    /// Health checks asked for (`--health`), and the ones called off.
    var healthChecks: [(name: String, pid: Int32, check: ReadyCheck)] = []
    var healthCancelled: [Int32] = []
    /// Every effect of the last input, in order.
    var lastEffects: [SupervisorEffect] = []

    func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError> {
        if let error = failSpawns[instance.name] { return .failure(error) }
        nextPid += 1
        spawned.append((instance.name, nextPid))
        return .success(nextPid)
    }

    /// Carries out (records) the effects; returns the reply, if any.
    @discardableResult
    func apply(_ effects: [SupervisorEffect]) -> ControlReply? {
        lastEffects = effects
        var reply: ControlReply?
        for effect in effects {
            switch effect {
            case .signal(let group, let signal):
                if signal == .continue { resumed.append(group) } else { signals.append((group, signal)) }
            case .signalOrphans(let signal): orphanSignals.append(signal)
            case .report(let event): events.append(event)
            case .watchReadiness(let spec, let pid, let check): watched.append((spec.name, pid, check))
            case .cancelReadiness(let pid): cancelled.append(pid)
            case .checkHealth(let spec, let pid, let check): healthChecks.append((spec.name, pid, check))
            case .cancelHealth(let pid): healthCancelled.append(pid)
            case .reply(let answer): reply = answer
            }
        }
        return reply
    }

    func pid(_ name: String) -> Int32 { spawned.last { $0.name == name }!.pid }
}

/// Drives a supervisor with inputs (one call, one input) and hands its
/// effects to the fake host; control requests answer as the socket would.
final class Driver {
    let supervisor: Supervisor
    let host: FakeHost

    init(_ supervisor: Supervisor, _ host: FakeHost) {
        self.supervisor = supervisor
        self.host = host
    }

    @discardableResult
    func send(_ input: SupervisorInput, now: Int64) -> ControlReply? { host.apply(supervisor.handle(input, now: now)) }

    func start(now: Int64) { send(.start, now: now) }
    func childExited(pid: Int32, status: SwiftmanModel.ExitStatus, now: Int64) { send(.childExited(pid: pid, status: status), now: now) }
    func leaderExited(pid: Int32, status: SwiftmanModel.ExitStatus, remaining: Int, now: Int64) {
        send(.leaderExited(pid: pid, status: status, remaining: remaining), now: now)
    }
    func instanceReady(pid: Int32, now: Int64) { send(.ready(pid: pid), now: now) }
    func requestStop(signal: Signal?, now: Int64) { send(signal.map(SupervisorInput.signal) ?? .outputClosed, now: now) }
    func forward(signal: Signal) { send(.signal(signal), now: 0) }
    func tick(now: Int64) { send(.timers, now: now) }

    func scale(_ type: String, to count: Int, now: Int64) throws(ControlFailure) -> String {
        try control(.scale([.init(type: type, count: count)]), now: now)[0]
    }
    func restart(_ target: String, now: Int64) throws(ControlFailure) -> [String] { try control(.restart(target), now: now) }
    func stop(_ target: String, now: Int64) throws(ControlFailure) -> [String] { try control(.stop(target), now: now) }

    func control(_ request: ControlRequest, now: Int64) throws(ControlFailure) -> [String] {
        switch send(.control(request), now: now) {
        case .ok(let lines)?: return lines
        case .error(let failure)?: throw failure
        case nil: throw ControlFailure("no reply")
        }
    }

    func snapshot(now: Int64) -> [InstanceStatus] { supervisor.snapshot(now: now) }
    func disposability() -> DisposabilityReport { supervisor.disposability() }
    var instances: [Supervisor.Instance] { supervisor.instances }
    var phase: Supervisor.Phase { supervisor.phase }
    var exitCode: Int32 { supervisor.exitCode }
    var isFinished: Bool { supervisor.isFinished }
    var nextDeadline: Int64? { supervisor.nextDeadline }
}

let second: Int64 = 1_000_000_000

func makeSupervisor(_ procfile: String = "web: a\nworker: b\n", formation: Formation = Formation(),
                    configure: (inout SupervisorConfig) -> Void = { _ in }) throws -> (Driver, FakeHost) {
    let plan = try FormationPlan(procfile: Procfile.parse(Array(procfile.utf8), path: "Procfile"),
                                 formation: formation, ports: PortPlan(base: 5000))
    var config = SupervisorConfig()
    configure(&config)
    let host = FakeHost()
    return (Driver(Supervisor(plan: plan, config: config, spawner: host.spawn), host), host)
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
        sup.childExited(pid: 9999, status: .exited(0), now: 0)
        #expect(host.lastEffects.isEmpty, "an orphan's exit is not the supervisor's business")
        #expect(host.messages.count == 2, "an orphan's exit is not announced")
    }

    @Test func spawnFailureFollowsTheRestartPolicy() throws {
        let (sup, host) = try makeSupervisor { $0.restart = PerType(.never) }
        host.failSpawns = ["worker.1": SpawnError("boom")]
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
        #expect(Durations.setting(500_000_000) == "0.5s")
        #expect(Durations.setting(2 * second) == "2s")
        #expect(Durations.setting(60 * second) == "1m")
        #expect(Durations.setting(1_250_000_000) == "1.25s")
    }

    // MARK: the process group is the instance

    @Test func stopSignalIsFollowedBySIGCONT() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.requestStop(signal: Signal.terminate, now: 0)
        #expect(host.resumed.sorted() == [host.pid("web.1"), host.pid("worker.1")].sorted(),
                "a SIGSTOPped group wakes up to handle its stop signal")
    }

    @Test func leaderGoneGroupAliveIsStoppedBeforeAnyRestart() throws {
        let (sup, host) = try makeSupervisor { $0.timeout = 2 * second }
        sup.start(now: 0)
        let web = host.pid("web.1")
        sup.leaderExited(pid: web, status: .signaled(9), remaining: 2, now: second)
        #expect(host.events.last == .leaderExited(instance: "web.1", pid: web, status: .signaled(9), remaining: 2))
        #expect(host.signals.map(\.signal) == [Signal.terminate], "the rest of the group gets the stop signal")
        #expect(host.resumed == [web])
        #expect(host.spawned.count == 2, "no second copy while the group lives")
        #expect(sup.snapshot(now: second).first?.state == .stopping)
        sup.tick(now: 3 * second)
        #expect(host.signals.last?.signal == Signal.kill)
        #expect(host.events.contains(.killedAfterGrace(instance: "web.1", pid: web, grace: 2 * second)))
        sup.childExited(pid: web, status: .signaled(9), now: 3 * second)
        #expect(host.events.contains(.exited(instance: "web.1", pid: web, status: .signaled(9))))
        #expect(host.events.last == .restarting(instance: "web.1", delay: 500_000_000), "the policy decides once the group is empty")
    }

    @Test func leaderExitDuringAStopIsNotAnnouncedTwice() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        let web = host.pid("web.1")
        _ = try sup.restart("web.1", now: 0)
        let signalsBefore = host.signals.count
        sup.leaderExited(pid: web, status: .signaled(15), remaining: 1, now: 0)
        #expect(host.signals.count == signalsBefore)
        #expect(!host.events.contains { $0.name == "leader_exited" })
        #expect(host.spawned.count == 2, "the new copy waits for the old group")
        sup.childExited(pid: web, status: .signaled(15), now: second)
        #expect(host.spawned.count == 3)
    }

    @Test func nothingStartsOnceShutdownHasBegun() throws {
        let (sup, host) = try makeSupervisor("a: x\nb: y\nc: z\n") { $0.restart = PerType(.never) }
        host.failSpawns = ["a.1": SpawnError("Argument list too long")]
        sup.start(now: 0)
        #expect(host.spawned.isEmpty, "b and c are never launched")
        #expect(sup.isFinished)
        #expect(sup.exitCode == 127)
    }

    @Test func aSpawnErrorNoRetryCanFixStopsTheFormation() throws {
        let (sup, host) = try makeSupervisor()
        host.failSpawns = ["worker.1": SpawnError("Argument list too long", permanent: true)]
        sup.start(now: 0)
        #expect(host.events.contains(.cannotStart(instance: "worker.1", reason: "Argument list too long")))
        #expect(!host.events.contains { $0.name == "restarting" })
        #expect(sup.exitCode == 127)
        guard case .stopping = sup.phase else { Issue.record("expected shutdown"); return }
    }

    @Test func secondInterruptKillsWhatIsLeftIncludingDrainingGroups() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.requestStop(signal: Signal.terminate, now: 0)
        sup.requestStop(signal: Signal.quit, now: 0)
        #expect(host.signals.filter { $0.signal == Signal.kill }.count == 2)
        #expect(host.events.last == .killedOnRequest(instances: ["web.1", "worker.1"]))
    }
}
