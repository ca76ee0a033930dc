import Testing
@testable import SwiftmanModel

@Suite struct OutputHistoryTests {
    func keep(_ history: OutputHistory, _ label: Int, _ text: String, time: Int = 0) {
        var text = text + "\n"
        text.withUTF8 { history.append(label: label, $0.baseAddress!, $0.count, time: time) }
    }

    func texts(_ lines: [OutputHistory.Line]) -> [String] { lines.map { String(decoding: $0.bytes, as: UTF8.self) } }

    @Test func linesComeBackInRelayOrderFilteredByTarget() {
        let history = OutputHistory()
        let web1 = history.addLabel(name: "web.1", typeIndex: 0, stream: "stdout")
        let web2 = history.addLabel(name: "web.2", typeIndex: 0, stream: "stdout")
        let worker = history.addLabel(name: "worker.1", typeIndex: 1, stream: "stdout")
        let web1err = history.addLabel(name: "web.1", typeIndex: 0, stream: "stderr")
        keep(history, web1, "a")
        history.appendSystem("web.2 started", time: 0)
        keep(history, worker, "b")
        keep(history, web2, "c")
        keep(history, web1err, "d")
        #expect(texts(history.lines()) == ["a", "web.2 started", "b", "c", "d"])
        #expect(texts(history.lines(targets: ["web"])) == ["a", "c", "d"])
        #expect(texts(history.lines(targets: ["web.1"])) == ["a", "d"])
        #expect(texts(history.lines(targets: ["web", "system"])) == ["a", "web.2 started", "c", "d"])
        #expect(texts(history.lines(targets: ["web"], last: 2)) == ["c", "d"])
        // `web` is not a prefix of `webhook.1`, nor `web.1` of `web.10`.
        let hook = history.addLabel(name: "webhook.1", typeIndex: 2, stream: "stdout")
        keep(history, hook, "e")
        #expect(!texts(history.lines(targets: ["web"])).contains("e"))
    }

    @Test func sinceFiltersByTime() {
        let history = OutputHistory()
        let web = history.addLabel(name: "web.1", typeIndex: 0, stream: "stdout")
        keep(history, web, "old", time: 1000)
        keep(history, web, "new", time: 5000)
        #expect(texts(history.lines(since: 2000)) == ["new"])
    }

    /// Under a flood each instance keeps at most its budget: the newest lines.
    @Test func aFloodStaysWithinTheBudget() {
        let budget = 64 * 1024
        let history = OutputHistory(budget: budget)
        let a = history.addLabel(name: "a.1", typeIndex: 0, stream: "stdout")
        let b = history.addLabel(name: "b.1", typeIndex: 1, stream: "stdout")
        for i in 0..<200_000 { keep(history, i % 10 == 0 ? b : a, "line \(i) " + String(repeating: "x", count: i % 97)) }
        #expect(history.bytesHeld <= 2 * 2 * budget)
        let lines = history.lines(targets: ["a"])
        let kept = lines.reduce(0) { $0 + $1.bytes.count + OutputHistory.lineOverhead }
        #expect(kept <= budget)
        #expect(kept > budget / 2)
        #expect(texts(lines).last?.hasPrefix("line 199999 ") == true)
        #expect(texts(history.lines(targets: ["b"])).last?.hasPrefix("line 199990 ") == true)
    }

    /// A follower (`logs -f`) is handed each read's run of lines whole, even
    /// when the budget keeps only its end: nothing it asked for is skipped.
    @Test func aFollowerGetsWholeRunsWhateverTheBudgetKeeps() {
        let history = OutputHistory(budget: 100)
        let web = history.addLabel(name: "web.1", typeIndex: 0, stream: "stdout")
        var handed: [String] = []
        history.onAppend = { _, bytes, _ in handed.append(String(decoding: bytes, as: UTF8.self)) }
        let run = (1...20).map { "line \($0)\n" }.joined()
        var bytes = Array(run.utf8)
        bytes.withUnsafeMutableBufferPointer { history.appendLines(label: web, $0.baseAddress!, $0.count, time: 0) }
        #expect(handed == [run])
        #expect(texts(history.lines()).last == "line 20")
        #expect(history.lines().count < 20, "the budget keeps only the newest lines")
    }

    @Test func zeroKeepsNothing() {
        let history = OutputHistory(budget: 0)
        let web = history.addLabel(name: "web.1", typeIndex: 0, stream: "stdout")
        keep(history, web, "a")
        #expect(history.lines().isEmpty)
    }

    @Test func logsQueriesRoundTrip() throws {
        var query = LogsQuery()
        query.targets = ["web", "worker.2"]
        query.last = 50
        query.follow = true
        query.json = true
        #expect(try ControlRequest.parse(Array(ControlRequest.logs(query).encoded.utf8.dropLast())) == .logs(query))
        #expect(throws: ControlFailure.self) { try ControlRequest.parse(Array("swiftman/1 logs fx - -".utf8)) }
    }
}

extension OutputHistoryTests {
    @Test func historySizes() {
        #expect(OutputHistory.parseBudget("0") == 0)
        #expect(OutputHistory.parseBudget("65536") == 65536)
        #expect(OutputHistory.parseBudget("256k") == 256 * 1024)
        #expect(OutputHistory.parseBudget("4M") == 4 << 20)
        #expect(OutputHistory.parseBudget("1GiB") == 1 << 30)
        for bad in ["", "k", "-1", "1.5m", "2t", "99999999999999"] { #expect(OutputHistory.parseBudget(bad) == nil, "\(bad)") }
    }
}
