import Testing
@testable import SwiftmanModel

/// Issue 23's supervisor points, driven with inputs and a fake clock: the
/// crash-loop guard fires under the defaults, a second Ctrl-C's SIGKILL is
/// in the report, a request is said before what it caused, the report's line.
@Suite struct FidelityTests {
    /// Fails web.1 at once, every time its backoff ends, until the formation
    /// stops or `limit` failures; returns the failure times (`lastStart`: when
    /// it was last started again).
    func crashLoop(_ sup: Driver, _ host: FakeHost, runFor: Int64 = 0, limit: Int = 100,
                   lastStart: UnsafeMutablePointer<Int64>? = nil) -> [Int64] {
        var now: Int64 = 0
        var failures: [Int64] = []
        while failures.count < limit, sup.phase == .running {
            now += runFor
            sup.childExited(pid: host.pid("web.1"), status: .exited(3), now: now)
            failures.append(now)
            guard sup.phase == .running, let next = sup.nextDeadline else { break }
            now = next
            sup.tick(now: now)
            lastStart?.pointee = now
        }
        return failures
    }

    @Test func theDefaultCrashLoopGuardFiresInBoundedTime() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        let failures = crashLoop(sup, host)
        // Defaults: limit 10, so the 11th failure in a row stops the formation.
        // Backoffs 0.5+1+2+4+8+16+30+30+30+30 s = 151.5 s before it.
        #expect(failures.count == 11)
        #expect(failures.last == 151_500_000_000)
        #expect(sup.exitCode == 3)
        guard case .stopping = sup.phase else { Issue.record("expected shutdown"); return }
        #expect(host.messages.contains("web.1 failed 11 times without running 10s in between (restart limit 10); stopping"))
        // Under the old rule alone (more than 10 within 60 s) it never fired:
        // no 60 s window holds more than 7 of these failures.
        let mostInAWindow = failures.map { start in failures.filter { $0 >= start && $0 < start + 60 * second }.count }.max()
        #expect(mostInAWindow == 7)
    }

    @Test func aProcessThatFailsAfterNineSecondsIsStoppedToo() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        let failures = crashLoop(sup, host, runFor: 9 * second)
        #expect(failures.count == 11)
        // Each failure at most backoff (≤ 30 s) + run (< 10 s) after the last:
        // the bound of docs/lifecycle.md, 151.5 s + 11 × 10 s.
        #expect(failures.last! <= 151_500_000_000 + 11 * 10 * second)
        guard case .stopping = sup.phase else { Issue.record("expected shutdown"); return }
    }

    @Test func aHealthyRunResetsTheCount() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        // Ten quick failures, then a run of 10 s, then ten more: never 11 in a row.
        var now: Int64 = 0
        _ = crashLoop(sup, host, limit: 10, lastStart: &now)
        #expect(sup.phase == .running)
        now += 10 * second
        sup.childExited(pid: host.pid("web.1"), status: .exited(3), now: now)
        #expect(sup.phase == .running, "a failure after a healthy run starts a new count")
        for _ in 0..<9 {
            now = sup.nextDeadline!
            sup.tick(now: now)
            sup.childExited(pid: host.pid("web.1"), status: .exited(3), now: now)
        }
        #expect(sup.phase == .running, "10 in a row are within the limit")
        now = sup.nextDeadline!
        sup.tick(now: now)
        sup.childExited(pid: host.pid("web.1"), status: .exited(3), now: now)
        guard case .stopping = sup.phase else { Issue.record("the 11th in a row stops it"); return }
    }

    @Test func theWindowRuleStillHolds() throws {
        // Healthy runs (20 s) but more than 2 failures within 60 s.
        let (sup, host) = try makeSupervisor { $0.restartLimit = PerType(2) }
        sup.start(now: 0)
        let failures = crashLoop(sup, host, runFor: 20 * second)
        #expect(failures.count == 3)
        #expect(host.messages.contains("web.1 failed 3 times within 1m (restart limit 2); stopping"))
    }

    @Test func aSecondInterruptCountsAsSIGKILLInTheReport() throws {
        let (sup, host) = try makeSupervisor("stubborn: a\npolite: b\n")
        sup.start(now: 0)
        sup.requestStop(signal: Signal.interrupt, now: second)
        sup.childExited(pid: host.pid("polite.1"), status: .signaled(15), now: second + 10_000_000)
        sup.requestStop(signal: Signal.interrupt, now: 2 * second)
        sup.childExited(pid: host.pid("stubborn.1"), status: .signaled(9), now: 2 * second)
        #expect(sup.isFinished)
        let report = sup.disposability()
        let rows = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.type, $0) })
        #expect(rows["stubborn"]?.killed == 1)
        #expect(rows["polite"]?.killed == 0)
        #expect(report.table[1].contains("1 of 1"), "\(report.table)")
        #expect(report.shutdown == second)
        #expect(report.summary == "stopped 2 types in 1s; stubborn needed SIGKILL (still running after SIGTERM): handle SIGTERM in the program, or set --stop-signal stubborn=SIGNAL (the table: --report)")
    }

    @Test func theSummaryNamesSlowTypesOnly() {
        var fast = DisposabilityReport.Row(type: "web")
        fast.stop = [12_000_000]
        var slow = DisposabilityReport.Row(type: "worker")
        slow.stop = [1_004_000_000]
        var done = DisposabilityReport.Row(type: "migrate")
        done.ready = [5_000_000]
        #expect(DisposabilityReport(rows: [fast, done], grace: 5 * second, shutdown: 12_000_000).summary == "stopped 1 type in 12ms")
        #expect(DisposabilityReport(rows: [fast, slow, done], grace: 5 * second, shutdown: 1_004_000_000).summary
            == "stopped 2 types in 1.004s; worker took 1.004s to stop (the table: --report)")
        #expect(DisposabilityReport(rows: [done], grace: 5 * second).summary == nil, "nothing was stopped")
    }

    @Test func theRequestIsSaidBeforeWhatItCaused() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        host.events = []
        _ = try sup.scale("web", to: 2, now: second)
        #expect(host.messages == ["scaled web: 1 → 2 on request", "web.2 started with pid 103"])
        // restart of a stopped instance: the request, then the start.
        _ = try sup.stop("worker", now: second)
        sup.childExited(pid: host.pid("worker.1"), status: .signaled(15), now: second)
        host.events = []
        _ = try sup.restart("worker", now: 2 * second)
        #expect(host.messages == ["restarting worker.1 on request", "worker.1 started with pid 104"])
        // The reply still comes last.
        if case .reply = host.lastEffects.last {} else { Issue.record("the reply is the last effect") }
    }

    @Test func attachReplaysTheLastLinesAndThePartialOne() {
        func tail(_ text: String, cut: Bool = false, lines: Int = 3, limit: Int = 4096) -> String {
            String(decoding: AttachReplay.tail(Array(text.utf8), cut: cut, lines: lines, limit: limit), as: UTF8.self)
        }
        #expect(tail("a\nb\nc\nd\n(Pdb) ") == "c\nd\n(Pdb) ", "the partial line counts as one")
        #expect(tail("a\nb\nc\nd\n") == "b\nc\nd\n")
        #expect(tail("x\n(Pdb) ") == "x\n(Pdb) ")
        #expect(tail("") == "")
        #expect(tail("lf the line\nwhole\n", cut: true) == "whole\n", "a line cut at its start is left out")
        #expect(tail("0123456789\nab\n", limit: 5) == "ab\n", "at most `limit` bytes, whole lines")
        #expect(tail("0123456789", limit: 5) == "56789", "one long partial line: its end")
    }
}
