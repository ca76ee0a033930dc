import Testing
@testable import SwiftmanModel

/// `--watch` in the supervisor: `.changed` inputs, the quiet period, the
/// restart, crashed types waiting for a change, dependents after readiness.
@Suite struct WatchSupervisorTests {
    let ms: Int64 = 1_000_000

    func watching(_ procfile: String = "web: a\nworker: b\n", types: Set<String> = ["web"],
                  configure: (inout SupervisorConfig) -> Void = { _ in }) throws -> (Driver, FakeHost) {
        try makeSupervisor(procfile) { config in
            config.watch = WatchSettings(types: types, delay: 200_000_000)
            configure(&config)
        }
    }

    @Test func aChangeRestartsTheTypeAfterTheQuietPeriod() throws {
        let (sup, host) = try watching()
        sup.start(now: 0)
        let old = host.pid("web.1")
        sup.send(.changed(type: "web", paths: ["app.py"]), now: 1 * second)
        #expect(host.signals.isEmpty)                        // quiet period first
        #expect(sup.nextDeadline == 1 * second + 200 * ms)
        sup.send(.changed(type: "web", paths: ["lib/db.py", "app.py"]), now: 1 * second + 100 * ms)
        sup.tick(now: 1 * second + 200 * ms)
        #expect(host.signals.isEmpty)                        // a later change moved it
        sup.tick(now: 1 * second + 300 * ms)
        #expect(host.signals.map(\.pid) == [old])            // web only, gracefully
        #expect(host.messages.contains("web: 2 files changed (app.py, lib/db.py): restarting"))
        sup.childExited(pid: old, status: .signaled(.terminate), now: 2 * second)
        #expect(host.pid("web.1") != old)                    // started again once exited
        #expect(sup.instances[0].changeRestarts == 1 && sup.instances[0].requestedRestarts == 0)
        #expect(sup.phase == .running)
    }

    @Test func atMostThreePathsAreNamed() {
        let event = LifecycleEvent.changed(type: "web", paths: ["a", "b", "c"], count: 5, action: "restarting")
        #expect(event.text == "web: 5 files changed (a, b, c, …): restarting")
        #expect(event.fields.contains { $0.key == "paths" && $0.value == .raw("[\"a\",\"b\",\"c\"]") })
        #expect(event.name == "changed")
    }

    @Test func psRowsCarryChangeRestartsOnTheWire() {
        var row = InstanceStatus(name: "web.1", pid: nil, state: .awaitingChange, uptime: 0, restarts: 0, port: 5000, exitCode: 4)
        row.changeRestarts = 3
        #expect(InstanceStatus(encoded: row.encoded) == row)
        #expect(row.state.description == "waiting for a change")
        // A peer without --watch's field still reads.
        #expect(InstanceStatus(encoded: "web.1 12 running 5 0 5000 0 - 1 -")?.changeRestarts == 0)
    }

    @Test func changesDuringARestartCoalesce() throws {
        let (sup, host) = try watching()
        sup.start(now: 0)
        let old = host.pid("web.1")
        sup.send(.changed(type: "web", paths: ["a.py"]), now: 0)
        sup.tick(now: 200 * ms)
        sup.send(.changed(type: "web", paths: ["b.py"]), now: 300 * ms)
        sup.tick(now: 500 * ms)                               // still stopping: no second signal
        #expect(host.signals.count == 1)
        sup.childExited(pid: old, status: .signaled(.terminate), now: 600 * ms)
        #expect(host.spawned.filter { $0.name == "web.1" }.count == 2)
    }

    @Test func unwatchedTypesIgnoreChanges() throws {
        let (sup, host) = try watching()
        sup.start(now: 0)
        sup.send(.changed(type: "worker", paths: ["x"]), now: 0)
        sup.tick(now: 1 * second)
        #expect(host.signals.isEmpty)
    }

    @Test func aCrashedWatchedTypeWaitsForAChange() throws {
        let (sup, host) = try watching { $0.restart = PerType(.never) }
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 1 * second)
        #expect(sup.phase == .running)                        // not the end of the formation
        #expect(host.messages.last == "web.1 exited with code 1: waiting for a change to its files")
        #expect(sup.snapshot(now: 1 * second)[0].state == .awaitingChange)
        sup.send(.changed(type: "web", paths: ["app.py"]), now: 2 * second)
        sup.tick(now: 3 * second)
        #expect(host.spawned.filter { $0.name == "web.1" }.count == 2)
        #expect(host.messages.contains("web: 1 file changed (app.py): starting"))
        // An unwatched type under --restart never still ends the formation.
        sup.childExited(pid: host.pid("worker.1"), status: .exited(3), now: 4 * second)
        #expect(sup.phase != .running && sup.exitCode == 3)
    }

    @Test func theRestartLimitMakesAWatchedTypeWait() throws {
        let (sup, host) = try watching { $0.restartLimit = PerType(1) }
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 0)
        sup.tick(now: 1 * second)
        sup.childExited(pid: host.pid("web.1"), status: .exited(1), now: 1 * second)
        #expect(sup.phase == .running)
        #expect(sup.snapshot(now: 1 * second)[0].state == .awaitingChange)
    }

    @Test func aWatchedOneShotKeepsTheFormation() throws {
        let (sup, host) = try watching("web: a\n")
        sup.start(now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .exited(0), now: 1 * second)
        #expect(sup.phase == .running && !host.messages.contains("all processes have finished"))
    }

    @Test func aStoppedTypeStaysStopped() throws {
        let (sup, host) = try watching()
        sup.start(now: 0)
        _ = try sup.stop("web", now: 0)
        sup.childExited(pid: host.pid("web.1"), status: .signaled(.terminate), now: 100 * ms)
        sup.send(.changed(type: "web", paths: ["a.py"]), now: 1 * second)
        sup.tick(now: 2 * second)
        #expect(host.spawned.filter { $0.name == "web.1" }.count == 1)
    }

    @Test func restartsCausedOnlyByItsOwnChangesAreALoop() throws {
        let (sup, host) = try watching()
        sup.start(now: 0)
        var t: Int64 = 0
        // Each restart's exit closes its log: a change while it stops.
        for run in 1...2 {
            sup.send(.changed(type: "web", paths: ["log/web.log"]), now: t + 100 * ms)
            sup.tick(now: t + 300 * ms)
            sup.childExited(pid: host.pid("web.1"), status: .signaled(.terminate), now: t + 400 * ms)
            #expect(host.spawned.count == 2 + run)
            t += 400 * ms
        }
        sup.send(.changed(type: "web", paths: ["log/web.log"]), now: t + 100 * ms)
        sup.tick(now: t + 300 * ms)
        #expect(host.spawned.count == 4)                      // the third is not made
        #expect(host.messages.last?.hasPrefix("web: changed by itself 3 times in a row while starting or stopping (log/web.log)") == true)
        #expect(sup.supervisor.ownChangesIgnored == ["web"])
        // Its own changes are ignored from now on; one from outside (later
        // than the window after its start) restarts it.
        sup.send(.changed(type: "web", paths: ["log/web.log"]), now: t + 500 * ms)
        sup.tick(now: t + 800 * ms)
        #expect(host.signals.count == 2)
        sup.send(.changed(type: "web", paths: ["app.py"]), now: t + 5 * second)
        sup.tick(now: t + 6 * second)
        #expect(host.signals.count == 3)
        sup.childExited(pid: host.pid("web.1"), status: .signaled(.terminate), now: t + 6 * second)
        sup.send(.changed(type: "web", paths: ["log/web.log"]), now: t + 6 * second)
        sup.tick(now: t + 7 * second)
        #expect(host.signals.count == 3)                      // its log closing: no new loop
        #expect(host.messages.filter { $0.contains("a loop") }.count == 1)
    }

    @Test func changesFromOutsideAreNeverALoop() throws {
        let (sup, host) = try watching()
        sup.start(now: 0)
        var t: Int64 = 0
        for _ in 1...5 {
            t += 3 * second                                   // well after the last start
            sup.send(.changed(type: "web", paths: ["app.py"]), now: t)
            sup.tick(now: t + 200 * ms)
            sup.childExited(pid: host.pid("web.1"), status: .signaled(.terminate), now: t + 300 * ms)
        }
        #expect(host.spawned.filter { $0.name == "web.1" }.count == 6)
        #expect(sup.supervisor.ownChangesIgnored.isEmpty)
    }

    @Test func dependentsRestartOnceItIsReadyAgain() throws {
        let (sup, host) = try watching("db: a\nweb: b\napi: c\n", types: ["db"]) { config in
            config.readiness.checks = ["db": .port]
            config.readiness.order = try! StartOrder(types: ["db", "web", "api"], after: ["web": ["db"], "api": ["web"]])
        }
        sup.start(now: 0)
        sup.instanceReady(pid: host.pid("db.1"), now: 10 * ms)
        let web = host.pid("web.1"), api = host.pid("api.1"), db = host.pid("db.1")
        sup.send(.changed(type: "db", paths: ["schema.sql"]), now: 1 * second)
        sup.tick(now: 2 * second)
        #expect(host.signals.map(\.pid) == [db])
        sup.childExited(pid: db, status: .signaled(.terminate), now: 2 * second)
        #expect(host.signals.map(\.pid) == [db])              // not before db is ready again
        sup.instanceReady(pid: host.pid("db.1"), now: 3 * second)
        #expect(host.signals.map(\.pid) == [db, web])
        #expect(host.messages.contains("db is ready again: restarting web.1"))
        sup.childExited(pid: web, status: .signaled(.terminate), now: 4 * second)
        // web has no check: ready at once, so api follows.
        #expect(host.signals.map(\.pid) == [db, web, api])
        sup.childExited(pid: api, status: .signaled(.terminate), now: 5 * second)
        #expect(host.spawned.map(\.name) == ["db.1", "web.1", "api.1", "db.1", "web.1", "api.1"])
        #expect(sup.supervisor.cascade.isEmpty)
    }
}
