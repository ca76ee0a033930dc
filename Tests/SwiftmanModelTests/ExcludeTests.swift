import Testing
@testable import SwiftmanModel

/// `-x/--exclude TYPE[,TYPE…]`: every type but those, and what comes after an
/// excluded type does not wait for it.
@Suite struct ExcludeTests {
    static let procfile = "web: w\nworker: k\nredis: r\nmigrate: m\n"

    func plan(excluded: [String], selected: [String] = []) throws -> FormationPlan {
        try FormationPlan(procfile: Procfile.parse(Array(Self.procfile.utf8), path: "Procfile"), formation: Formation(),
                          ports: PortPlan(base: 5000), selected: selected, excluded: excluded, excludeSource: "-x")
    }

    @Test func valuesParseAsCommaListsAcrossRepeats() throws {
        #expect(try FormationPlan.parseExclude(["worker", "redis, migrate"], source: "-x") == ["worker", "redis", "migrate"])
        #expect(try FormationPlan.parseExclude([], source: "-x") == [])
        #expect(throws: Diagnostic("-x", "expected TYPE[,TYPE…], got \"worker,\"")) {
            try FormationPlan.parseExclude(["worker,"], source: "-x")
        }
        #expect(throws: Diagnostic.self) { try FormationPlan.parseExclude([""], source: "-x") }
    }

    @Test func excludedTypesGetNoInstancesAndKeepTheirPorts() throws {
        let plan = try plan(excluded: ["worker", "migrate"])
        #expect(plan.instances.map(\.name) == ["web.1", "redis.1"])
        #expect(plan.instances.map(\.port) == [5000, 5200])
        // With a positional selection too: the exclusion wins.
        #expect(try self.plan(excluded: ["worker"], selected: ["web", "worker"]).instances.map(\.name) == ["web.1"])
    }

    @Test func unknownExcludedTypesAreErrors() {
        #expect(throws: Diagnostic("-x", "unknown process type \"db\" (Procfile has: web, worker, redis, migrate)")) {
            try plan(excluded: ["db"])
        }
    }

    @Test func anExcludedDependencyCountsAsReadyWithOneLine() throws {
        let plan = try plan(excluded: ["redis"])
        var config = SupervisorConfig()
        config.readiness.checks = ["redis": .port, "migrate": .exit]
        config.readiness.order = try StartOrder(types: ["web", "worker", "redis", "migrate"],
                                                after: ["web": ["migrate"], "worker": ["redis", "migrate"], "migrate": ["redis"]])
        let host = FakeHost()
        let sup = Driver(Supervisor(plan: plan, config: config, spawner: host.spawn), host)
        sup.start(now: 0)
        #expect(host.messages.filter { $0.contains("excluded") } == ["redis is excluded: worker, migrate start without waiting for it"])
        #expect(host.spawned.map(\.name) == ["migrate.1"])
        #expect(host.messages.contains("worker.1 waiting for migrate (exit 0)"))
        sup.childExited(pid: host.pid("migrate.1"), status: .exited(0), now: second)
        #expect(host.spawned.map(\.name) == ["migrate.1", "web.1", "worker.1"])
    }

    @Test func anExcludedTypeNothingWaitsForIsNotMentioned() throws {
        let plan = try plan(excluded: ["worker"])
        let host = FakeHost()
        let sup = Driver(Supervisor(plan: plan, config: SupervisorConfig(), spawner: host.spawn), host)
        sup.start(now: 0)
        #expect(!host.messages.contains { $0.contains("excluded") })
        #expect(host.spawned.map(\.name) == ["web.1", "redis.1", "migrate.1"])
    }
}
