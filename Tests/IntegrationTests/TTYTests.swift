// `--tty`: children on their own pseudo-terminal, output still whole prefixed lines.
import Glibc
import Foundation
import Testing

/// Each child reports whether its stdin, stdout and stderr are terminals.
private let reportTerminals = "for fd in 0 1 2; do if test -t $fd; then printf 'tty-yes '; else printf 'tty-no '; fi; done; echo"

@Suite struct TTYTests {
    /// (extra arguments, environment, web sees a terminal, worker sees a terminal)
    @Test(arguments: [
        ([], [:], false, false),
        (["--tty"], [:], true, true),
        (["--tty=web"], [:], true, false),
        (["--tty=worker"], [:], false, true),
        ([], ["SWIFTMAN_TTY": "1"], true, true),
        ([], ["SWIFTMAN_TTY": "web"], true, false),
    ] as [([String], [String: String], Bool, Bool)])
    func childSeesATerminalOnlyWhenAsked(arguments: [String], environment: [String: String],
                                         webTTY: Bool, workerTTY: Bool) throws {
        let project = try Project(procfile: "web: \(reportTerminals)\nworker: \(reportTerminals)\n")
        let swiftman = try project.start(arguments, environment: environment)
        #expect(try swiftman.wait() == 0)
        // Without a pty: stdin is /dev/null and stdout/stderr are a pipe.
        #expect(swiftman.messages(from: "web.1") == [webTTY ? "tty-yes tty-yes tty-yes " : "tty-no tty-no tty-no "],
                "\(swiftman.stdout)")
        #expect(swiftman.messages(from: "worker.1") == [workerTTY ? "tty-yes tty-yes tty-yes " : "tty-no tty-no tty-no "],
                "\(swiftman.stdout)")
        // The harness's own stdout for swiftman is a pipe: no colour, no \r.
        #expect(!swiftman.stdoutBytes.contains(13), "carriage return in output")
        project.expectNothingLeft()
    }

    @Test func outputThroughATerminalIsPrefixedWithoutCarriageReturns() throws {
        let project = try Project(procfile: """
            web: echo one; echo two >&2; printf 'three\\n'; printf 'tab\\there\\n'; printf 'no newline'
            """)
        let swiftman = try project.start(["--tty"])
        #expect(try swiftman.wait() == 0)
        // stdout and stderr share the terminal, so their order is kept.
        #expect(swiftman.messages(from: "web.1") == ["one", "two", "three", "tab\there", "no newline"],
                "\(swiftman.stdout)")
        #expect(!swiftman.stdoutBytes.contains(13), "carriage return in output: \(swiftman.stdoutBytes)")
        #expect(swiftman.stdout.contains("web.1  | one\n"))
    }

    @Test func terminalIsTheChildsControllingTerminalIn80x24() throws {
        // `stty size` asks the terminal on stdin; `tty` names it.
        let project = try Project(procfile: "web: stty size; tty\n")
        let swiftman = try project.start(["--tty"])
        #expect(try swiftman.wait() == 0)
        let messages = swiftman.messages(from: "web.1")
        #expect(messages.first == "24 80", "\(swiftman.stdout)")
        #expect(messages.last?.hasPrefix("/dev/pts/") == true, "\(swiftman.stdout)")
    }

    @Test func jsonSaysStdoutForBothStreamsOnATerminal() throws {
        let project = try Project(procfile: "web: echo out-line; echo err-line >&2\n")
        let swiftman = try project.start(["--tty", "--log-format", "json"])
        #expect(try swiftman.wait() == 0)
        let objects = swiftman.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?.compactMapValues { $0 as? String }
        }
        #expect(objects.count == swiftman.stdout.split(separator: "\n").count, "\(swiftman.stdout)")
        let web = objects.filter { $0["process"] == "web.1" && $0["stream"] != "system" }
        #expect(web.map { $0["message"] } == ["out-line", "err-line"])
        #expect(web.allSatisfy { $0["stream"] == "stdout" })
    }

    @Test func sigtermStopsATerminalFormationCleanly() throws {
        let project = try Project(procfile: """
            web: echo ready; sleep 300
            worker: trap 'echo worker stopping; exit 0' TERM; echo ready; while :; do sleep 0.1; done
            plain: echo ready; sleep 300
            """)
        let swiftman = try project.start(["--tty=web,worker"])
        try swiftman.waitFor(line: "ready", from: "web.1")
        try swiftman.waitFor(line: "ready", from: "worker.1")
        try swiftman.waitFor(line: "ready", from: "plain.1")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("web.1 terminated by SIGTERM"), "\(system)")
        #expect(system.contains("worker.1 exited with code 0"), "\(system)")
        #expect(system.contains("plain.1 terminated by SIGTERM"), "\(system)")
        // What the child wrote to its terminal while stopping is not lost.
        // (The shell may also report its killed sleep as "Terminated".)
        let worker = swiftman.messages(from: "worker.1")
        #expect(worker.first == "ready" && worker.last == "worker stopping", "\(swiftman.stdout)")
        project.expectNothingLeft()
    }

    @Test func crashingTerminalChildIsRestarted() throws {
        let project = try Project(procfile: """
            web: if [ -e marker ]; then echo second run; sleep 300; else touch marker; echo first run; exit 1; fi
            """)
        let swiftman = try project.start(["--tty"])
        try swiftman.waitFor(line: "second run", from: "web.1", timeout: 30)
        #expect(swiftman.messages(from: "web.1") == ["first run", "second run"])
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}
