// Leaks in a long-running `swiftman start`: after hundreds of restarts and
// scale cycles driven over the control socket, its descriptors (and resident
// memory) must be back where they were, and no process may be left over.
//
// Restarting a crashing child would take minutes (0.5 s backoff, doubling),
// so the restarts are requested directly on the socket: `swiftman/1 restart
// web`, then wait until the new instance is up, a few hundred times.
import Glibc
import CSwiftman
import Foundation
import Testing

private let sleeper = "web: exec sleep 1000\n"

/// Descriptors and resident memory of a live process, from /proc.
private struct Usage: CustomStringConvertible {
    /// What each descriptor is, without inode numbers: `pipe`, `socket`,
    /// `anon_inode:[signalfd]`, `/dev/null`, … (sorted).
    let fds: [String]
    let rssKiB: Int

    init(pid: pid_t) throws {
        let dir = "/proc/\(pid)/fd"
        fds = try FileManager.default.contentsOfDirectory(atPath: dir).map { entry in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(entry)")) ?? "?"
            for kind in ["pipe", "socket"] where target.hasPrefix(kind + ":[") { return kind }
            return target
        }.sorted()
        guard let status = readAll("/proc/\(pid)/status") else { throw HarnessError("cannot read /proc/\(pid)/status") }
        let line = String(decoding: status, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        guard let kib = line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap({ Int($0) })
        else { throw HarnessError("no VmRSS in /proc/\(pid)/status") }
        rssKiB = kib
    }

    var description: String {
        let kinds = Dictionary(fds.map { ($0, 1) }, uniquingKeysWith: +).sorted { $0.key < $1.key }
            .map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
        return "\(fds.count) fds (\(kinds)), VmRSS \(rssKiB) KiB"
    }
}

/// One row of a raw `ps` reply (`name pid state uptime-ms restarts port
/// requested exit-code processes`); `restarts` here counts requested ones.
private struct Row: CustomStringConvertible {
    let name: String
    let pid: Int32?
    let state: String
    let restarts: Int
    var description: String { "\(name) pid=\(pid.map(String.init) ?? "-") \(state) restarts=\(restarts)" }
}

/// Sends one request line over the control socket and returns the lines after `ok`;
/// throws on an `error` reply.
private func controlRequest(_ socket: String, _ line: String) throws -> [String] {
    let fd = sm_unix_connect(socket, 15_000)
    guard fd >= 0 else { throw HarnessError("connect \(socket): errno \(errno)") }
    defer { close(fd) }
    let bytes = Array((line + "\n").utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw HarnessError("send \(line): errno \(errno)") }
        sent += n
    }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        reply += buffer[0..<n]
    }
    let lines = String(decoding: reply, as: UTF8.self).split(separator: "\n").map(String.init)
    guard lines.first == "ok" else { throw HarnessError("\(line): \(lines.joined(separator: " / "))") }
    return Array(lines.dropFirst())
}

private func psRows(_ socket: String) throws -> [Row] {
    try controlRequest(socket, "swiftman/1 ps").map { line in
        let f = line.split(separator: " ").map(String.init)
        guard f.count >= 9, let restarts = Int(f[6]) else { throw HarnessError("unexpected ps row \(line)") }
        return Row(name: f[0], pid: Int32(f[1]), state: f[2], restarts: restarts)
    }
}

/// Polls ps (reading swiftman's output meanwhile) until `condition` holds; returns the rows.
@discardableResult
private func waitForRows(_ swiftman: Swiftman, _ what: String, socket: String, timeout: Double = 60,
                         _ condition: @escaping ([Row]) -> Bool) throws -> [Row] {
    var rows: [Row] = []
    do {
        try swiftman.waitFor("ps: \(what)", timeout: timeout) { _ in
            rows = (try? psRows(socket)) ?? []
            return condition(rows)
        }
    } catch {
        throw HarnessError("\(error)\n--- last ps ---\n\(rows)")
    }
    return rows
}

/// How often swiftman has said `web.1 started with pid …`.
private func startCount(_ output: String) -> Int {
    IntegrationTests.messages(from: "system", in: output).filter { $0.hasPrefix("web.1 started with pid ") }.count
}

/// Reads output for a moment so that everything a request set off has settled.
private func settle(_ swiftman: Swiftman, _ seconds: Double = 0.5) {
    _ = try? swiftman.waitFor("nothing", timeout: seconds) { _ in false }
}

@Suite(.serialized) struct LeakTests {
    @Test func restartsOverTheControlSocketLeakNoDescriptorsOrMemory() throws {
        let project = try Project(procfile: sleeper)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--socket", socket])
        try waitForRows(swiftman, "web.1 running", socket: socket) { $0.count == 1 && $0[0].state == "running" }
        // ps can answer `running` before the start line is read from the pipe: then the first
        // restart would count that line as its own, and send the next request mid-restart.
        try swiftman.waitFor("web.1's first start line", timeout: 10) { startCount($0) == 1 }

        func restart(times: Int) throws {
            for _ in 0..<times {
                let started = startCount(swiftman.stdout)
                let reply = try controlRequest(socket, "swiftman/1 restart web")
                #expect(reply == ["web.1"])
                try swiftman.waitFor("web.1 started again after \(started) starts", timeout: 30) { startCount($0) > started }
            }
        }
        // Warm up, so lazily grown buffers are at their working size.
        try restart(times: 10)
        try waitForRows(swiftman, "10 restarts", socket: socket) { $0.first?.restarts == 10 && $0.first?.state == "running" }
        settle(swiftman)
        let before = try Usage(pid: swiftman.pid)

        try restart(times: 200)
        let rows = try waitForRows(swiftman, "210 restarts", socket: socket) {
            $0.count == 1 && $0[0].restarts == 210 && $0[0].state == "running"
        }
        settle(swiftman)
        let after = try Usage(pid: swiftman.pid)
        print("LeakTests: 200 restarts of web.1: before \(before); after \(after)")

        #expect(after.fds == before.fds, "descriptors before: \(before), after: \(after)")
        #expect(after.rssKiB <= before.rssKiB + 2048, "VmRSS grew from \(before.rssKiB) to \(after.rssKiB) KiB")
        #expect(startCount(swiftman.stdout) == 211)
        #expect(swiftman.messages(from: "system").filter { $0 == "web.1 terminated by SIGTERM" }.count == 210)
        // Only swiftman and the latest sleep are alive: every replaced one was reaped.
        let latest = try #require(rows.first?.pid)
        #expect(eventually { project.liveProcesses().count == 2 }, "\(project.liveProcesses())")
        #expect(project.liveProcesses().contains(latest), "web.1's pid \(latest) is not alive")

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func scaleCyclesLeaveNoDescriptorsOrProcesses() throws {
        let project = try Project(procfile: sleeper)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--socket", socket])
        let first = try waitForRows(swiftman, "web.1 running", socket: socket) { $0.count == 1 && $0[0].state == "running" }
        let web1 = try #require(first.first?.pid)

        func cycle() throws {
            #expect(try controlRequest(socket, "swiftman/1 scale web=20") == ["web: 1 → 20"])
            try waitForRows(swiftman, "20 webs running", socket: socket) { rows in
                rows.count == 20 && rows.allSatisfy { $0.state == "running" }
            }
            #expect(try controlRequest(socket, "swiftman/1 scale web=1") == ["web: 20 → 1"])
            try waitForRows(swiftman, "back to web.1 alone", socket: socket) { $0.map(\.name) == ["web.1"] }
            // Every stopped instance has been reaped: swiftman and web.1's sleep are left.
            try swiftman.waitFor("19 sleeps gone", timeout: 30) { _ in project.liveProcesses().count == 2 }
        }
        // The first cycle creates the 19 extra slots (and their output labels) for good.
        try cycle()
        settle(swiftman)
        let before = try Usage(pid: swiftman.pid)

        for _ in 0..<20 { try cycle() }
        settle(swiftman)
        let after = try Usage(pid: swiftman.pid)
        print("LeakTests: 20 cycles of scale web=20 / web=1: before \(before); after \(after)")

        #expect(after.fds == before.fds, "descriptors before: \(before), after: \(after)")
        #expect(after.rssKiB <= before.rssKiB + 2048, "VmRSS grew from \(before.rssKiB) to \(after.rssKiB) KiB")
        let rows = try psRows(socket)
        #expect(rows.count == 1 && rows.first?.pid == web1 && rows.first?.restarts == 0, "web.1 was touched: \(rows)")
        #expect(project.liveProcesses().count == 2, "\(project.liveProcesses())")
        #expect(swiftman.messages(from: "system").filter { $0.hasPrefix("web.20 started with pid ") }.count == 21)

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}
