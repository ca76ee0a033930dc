import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

private let procfile = try! Procfile.parse(Array("web: a\nworker: b\nclock: c\n".utf8), path: "Procfile")

@Suite struct FormationTests {
    @Test func parsesCountsAndAll() throws {
        let f = try Formation.parse("all=2, web=3,worker=0", source: "-m")
        #expect(f.all == 2)
        #expect(f.count(for: "web") == 3)
        #expect(f.count(for: "worker") == 0)
        #expect(f.count(for: "clock") == 2)
    }

    @Test func noFormationRunsOneOfEach() {
        #expect(Formation().count(for: "web") == 1)
    }

    @Test func namingTypesWithoutAllRunsNoneOfTheRest() throws {
        let f = try Formation.parse("web=2", source: "-m")
        #expect(f.count(for: "worker") == 0)
    }

    @Test(arguments: ["web", "web=", "=2", "web=-1", "web=x", "web=1,web=2", "web=100000", "web=1,,worker=2"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: Diagnostic.self) { try Formation.parse(text, source: "--formation") }
    }

    @Test func errorNamesTheSource() {
        do {
            _ = try Formation.parse("web=x", source: "SWIFTMAN_FORMATION")
            Issue.record("expected an error")
        } catch {
            #expect(error.source == "SWIFTMAN_FORMATION")
            #expect(error.message.contains("\"x\""))
        }
    }

    @Test func foremanPortScheme() throws {
        let plan = try FormationPlan(procfile: procfile, formation: Formation(counts: ["web": 2, "clock": 1]),
                                     ports: PortPlan(base: 6000))
        #expect(plan.instances.map(\.name) == ["web.1", "web.2", "clock.1"])
        #expect(plan.instances.map(\.port) == [6000, 6001, 6200], "worker keeps its slot though it does not run")
    }

    @Test func positionalSelectionKeepsSlots() throws {
        let plan = try FormationPlan(procfile: procfile, formation: Formation(), ports: PortPlan(base: 5000),
                                     selected: ["worker"])
        #expect(plan.instances.map(\.name) == ["worker.1"])
        #expect(plan.instances.map(\.port) == [5100])
    }

    @Test func unknownTypesAreErrors() {
        #expect(throws: Diagnostic.self) {
            try FormationPlan(procfile: procfile, formation: Formation(counts: ["db": 1]), ports: PortPlan(base: 5000))
        }
        #expect(throws: Diagnostic.self) {
            try FormationPlan(procfile: procfile, formation: Formation(), ports: PortPlan(base: 5000), selected: ["db"])
        }
    }

    @Test func portsPastTheRangeAreErrors() {
        #expect(throws: Diagnostic.self) {
            try FormationPlan(procfile: procfile, formation: Formation(all: 1), ports: PortPlan(base: 65400))
        }
    }

    @Test func basePortPrecedence() throws {
        #expect(try PortPlan.basePort(flag: "7000", envFiles: ["PORT": "8000"], inherited: ["PORT": "9000"]) == 7000)
        #expect(try PortPlan.basePort(flag: nil, envFiles: ["PORT": "8000"], inherited: ["PORT": "9000"]) == 8000)
        #expect(try PortPlan.basePort(flag: nil, envFiles: [:], inherited: ["PORT": "9000"]) == 9000)
        #expect(try PortPlan.basePort(flag: nil, envFiles: [:], inherited: [:]) == 5000)
        #expect(throws: Diagnostic.self) { try PortPlan.basePort(flag: "http", envFiles: [:], inherited: [:]) }
    }

    @Test func perTypeValues() throws {
        let p = try PerType.parse("web=always,all=never", default: RestartPolicy.onFailure, source: "--restart") {
            RestartPolicy(rawValue: $0)
        }
        #expect(p["web"] == .always)
        #expect(p["worker"] == .never)
        #expect(try PerType.parse("always", default: RestartPolicy.onFailure, source: "--restart") {
            RestartPolicy(rawValue: $0)
        }["x"] == .always)
        #expect(throws: Diagnostic.self) {
            try PerType.parse("web=sometimes", default: RestartPolicy.onFailure, source: "--restart") { RestartPolicy(rawValue: $0) }
        }
    }

    @Test func signalNames() {
        #expect(Signals.parse("QUIT") == 3)
        #expect(Signals.parse("sigterm") == 15)
        #expect(Signals.parse("9") == 9)
        #expect(Signals.parse("NOPE") == nil)
        #expect(Signals.name(15) == "SIGTERM")
        #expect(ExitStatus.signaled(9).code == 137)
    }
}
