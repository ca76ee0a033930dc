import Testing
@testable import SwiftmanModel

/// The one duration formatter and the one column aligner.
@Suite struct DurationsTests {
    let second: Int64 = 1_000_000_000

    @Test func settingsAreExactToTheMillisecond() {
        #expect(Durations.setting(500_000_000) == "0.5s")
        #expect(Durations.setting(2 * second) == "2s")
        #expect(Durations.setting(60 * second) == "1m")
        #expect(Durations.setting(90 * second) == "90s")
        #expect(Durations.setting(1_250_000_000) == "1.25s")
        #expect(Durations.setting(0) == "0s")
    }

    @Test func measuredDurationsKeepMillisecondsBelowTenSeconds() {
        #expect(Durations.measured(999_999) == "<1ms")
        #expect(Durations.measured(12_000_000) == "12ms")
        #expect(Durations.measured(1_250_000_000) == "1.25s")
        #expect(Durations.measured(2 * second) == "2s")
        #expect(Durations.measured(12_345_000_000) == "12s")
        #expect(Durations.measured(123 * second) == "2m3s")
    }

    @Test func uptimeIsToTheSecond() {
        #expect(Durations.uptime(5_900_000_000) == "5s")
        #expect(Durations.uptime(123 * second) == "2m3s")
        #expect(Durations.uptime(3723 * second) == "1h2m")
    }

    @Test func millisecondsAreAJSONNumberWithThreeDecimals() {
        #expect(Durations.milliseconds(12_345_678) == "12.345")
        #expect(Durations.milliseconds(7_000) == "0.007")
    }
}

@Suite struct TextTableLinesTests {
    /// `ps` and the disposability report: every column but the last padded, no trailing blanks.
    @Test func padsEveryColumnButTheLast() {
        #expect(TextTable.lines([["NAME", "PID", "STATE"], ["web.1", "42", "running"], ["worker.10", "-", "done (exit 0)"]]) == [
            "NAME       PID  STATE",
            "web.1      42   running",
            "worker.10  -    done (exit 0)",
        ])
    }

    @Test func rendersTheSameLinesWithNewlines() {
        let rows = [["a", "b", "c"], ["long", "x", "y"]]
        #expect(TextTable.render(rows, padded: 2) == TextTable.lines(rows, padded: 2).map { $0 + "\n" }.joined())
    }
}
