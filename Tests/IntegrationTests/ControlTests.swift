// `swiftman scale / ps / restart / stop`: requests to a running `swiftman start`
// over its control socket. Every test uses a socket inside its own temp
// directory (--socket), except the ones about the default derived path, which
// point XDG_RUNTIME_DIR at a private temp directory of their own.
import Glibc
import CSwiftman
import Foundation
import Testing

/// Each instance says where it runs, then sleeps (exec: the pid is the sleep's).
private let sleepers = """
    web: echo "port=$PORT ps=$PS"; exec sleep 1000
    worker: echo "port=$PORT ps=$PS"; exec sleep 1000
    """

/// One row of `ps --json`.
private struct PSRow: CustomStringConvertible {
    let name: String
    let pid: Int32?
    let state: String
    let uptime: Double
    let restarts: Int
    let port: Int
    var requestedRestarts = 0
    var exitCode: Int? = nil
    var processes = 0
    var type = ""
    var index = 0
    var processGroup: Int32? = nil
    var ready: Bool? = nil
    var exitSignal: String? = nil
    var command = ""
    var formationPid = 0
    var formationRoot = ""
    var formationSocket = ""
    var description: String { "\(name) pid=\(pid.map(String.init) ?? "-") \(state) restarts=\(restarts)+\(requestedRestarts) port=\(port) procs=\(processes)" }
}

private extension Project {
    var controlSocket: String { path("control.sock") }

    /// `swiftman ARGUMENTS --socket SOCKET` (the project's socket unless given).
    func control(_ arguments: [String], socket: String? = nil) throws -> (code: Int32, stdout: String, stderr: String) {
        try run(arguments + ["--socket", socket ?? controlSocket])
    }

    /// `ps --json`, parsed; throws when ps fails or prints something else.
    func ps(socket: String? = nil, environment: [String: String]? = nil) throws -> [PSRow] {
        let result = try environment.map { try run(["ps", "--json"], environment: $0) }
            ?? control(["ps", "--json"], socket: socket)
        guard result.code == 0 else { throw HarnessError("ps exited \(result.code): \(result.stderr)") }
        guard let array = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else {
            throw HarnessError("ps --json is not an array of objects: \(result.stdout)")
        }
        return try array.map { object in
            guard Set(object.keys) == ["name", "type", "index", "pid", "process_group", "processes", "state", "ready",
                                       "exit_code", "exit_signal", "uptime", "restarts", "requested_restarts",
                                       "change_restarts", "port", "ready_ms", "health", "command", "formation"],
                  let type = object["type"] as? String, let index = object["index"] as? Int,
                  let command = object["command"] as? String, let formation = object["formation"] as? [String: Any],
                  Set(formation.keys) == ["pid", "root", "socket"], let formationPid = formation["pid"] as? Int,
                  let formationRoot = formation["root"] as? String, let formationSocket = formation["socket"] as? String,
                  let name = object["name"] as? String, let state = object["state"] as? String,
                  let uptime = object["uptime"] as? Double, let restarts = object["restarts"] as? Int,
                  let port = object["port"] as? Int, let requested = object["requested_restarts"] as? Int,
                  let processes = object["processes"] as? Int, object["change_restarts"] as? Int == 0
            else { throw HarnessError("unexpected ps --json row: \(object)") }
            let pid: Int32?
            if object["pid"] is NSNull {
                pid = nil
            } else if let number = object["pid"] as? Int {
                pid = Int32(number)
            } else {
                throw HarnessError("unexpected pid in \(object)")
            }
            guard (object["process_group"] as? Int).map(Int32.init) == pid || (pid == nil && object["process_group"] is NSNull),
                  object["ready"] is NSNull || object["ready"] is Bool,
                  object["exit_signal"] is NSNull || object["exit_signal"] is String
            else { throw HarnessError("unexpected process_group, ready or exit_signal in \(object)") }
            return PSRow(name: name, pid: pid, state: state, uptime: uptime, restarts: restarts, port: port,
                         requestedRestarts: requested, exitCode: object["exit_code"] as? Int, processes: processes,
                         type: type, index: index, processGroup: pid, ready: object["ready"] as? Bool,
                         exitSignal: object["exit_signal"] as? String, command: command, formationPid: formationPid,
                         formationRoot: formationRoot, formationSocket: formationSocket)
        }
    }
}

private extension Swiftman {
    /// Polls `ps --json` (reading our output meanwhile) until `condition` holds; returns the rows.
    @discardableResult
    func waitForPS(_ what: String, socket: String? = nil, timeout: Double = 30,
                   _ condition: @escaping ([String: PSRow]) -> Bool) throws -> [String: PSRow] {
        var last: [PSRow] = []
        var lastError = ""
        do {
            try waitFor("ps: \(what)", timeout: timeout) { _ in
                do {
                    last = try self.project.ps(socket: socket)
                } catch {
                    lastError = "\(error)"
                    return false
                }
                return condition(Dictionary(last.map { ($0.name, $0) }) { a, _ in a })
            }
        } catch {
            throw HarnessError("\(error)\n--- last ps ---\n\(last)\n\(lastError)")
        }
        return Dictionary(last.map { ($0.name, $0) }) { a, _ in a }
    }
}

/// A short private directory for XDG_RUNTIME_DIR (the derived socket path must fit in sun_path).
private final class RuntimeDir {
    let path: String
    init() throws {
        var template = Array("/tmp/smrt-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw HarnessError("mkdtemp: \(errno)") }
        path = String(cString: p)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    var environment: [String: String] { ["XDG_RUNTIME_DIR": path] }
}

private func fileMode(_ path: String) -> (type: mode_t, permissions: mode_t)? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return (st.st_mode & S_IFMT, st.st_mode & 0o7777)
}

private func isAlive(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0
}

/// Connects to a Unix socket, sends `bytes` (stopping at the first error) and reads
/// the reply until the server closes. `sendError`/`readError` are the errnos, if any.
private func rawExchange(_ path: String, _ bytes: [UInt8]) -> (reply: String, sent: Int, sendError: Int32?, readError: Int32?) {
    let fd = sm_unix_connect(path, 15_000)
    guard fd >= 0 else { return ("", 0, errno, nil) }
    defer { close(fd) }
    var sent = 0
    var sendError: Int32?
    while sent < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, min(1 << 16, $0.count - sent), Int32(MSG_NOSIGNAL)) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
            sendError = errno
            break
        }
        sent += n
    }
    var reply: [UInt8] = []
    var readError: Int32?
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { readError = errno }
        if n <= 0 { break }
        reply += buffer[0..<n]
    }
    return (String(decoding: reply, as: UTF8.self), sent, sendError, readError)
}

@Suite struct ScaleTests {
    @Test func scaleUpStartsNewInstancesWithTheirSchemePorts() throws {
        let project = try Project(procfile: sleepers)
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=1"])
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        try swiftman.waitFor(line: "port=5100 ps=worker.1", from: "worker.1")
        let before = try swiftman.waitForPS("web.1 running") { $0["web.1"]?.state == "running" }
        let web1 = try #require(before["web.1"]?.pid)

        let result = try project.control(["scale", "web=3"])
        #expect(result.code == 0, "\(result.stderr)")
        try swiftman.waitFor(line: "port=5001 ps=web.2", from: "web.2")
        try swiftman.waitFor(line: "port=5002 ps=web.3", from: "web.3")
        let after = try swiftman.waitForPS("three webs running") { rows in
            ["web.1", "web.2", "web.3", "worker.1"].allSatisfy { rows[$0]?.state == "running" }
        }
        #expect(after.count == 4, "\(after.values)")
        #expect(after["web.1"]?.pid == web1, "web.1 was touched")
        #expect(after["web.1"]?.restarts == 0)
        #expect(after["web.2"]?.port == 5001)
        #expect(after["web.3"]?.port == 5002)
        #expect(after["worker.1"]?.pid == before["worker.1"]?.pid)
        #expect(swiftman.messages(from: "system").filter { $0.hasPrefix("web.1 started") }.count == 1)
        for name in ["web.2", "web.3"] {
            let pid = try #require(after[name]?.pid)
            #expect(project.liveProcesses().contains(pid), "\(name) pid \(pid) is not a live process")
        }

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func scaleDownStopsTheHighestNumbersAndLeavesTheRest() throws {
        let project = try Project(procfile: sleepers)
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=3,worker=1"])
        for (name, port) in [("web.1", 5000), ("web.2", 5001), ("web.3", 5002), ("worker.1", 5100)] {
            try swiftman.waitFor(line: "port=\(port) ps=\(name)", from: name)
        }
        let before = try swiftman.waitForPS("all running") { $0.count == 4 && $0.values.allSatisfy { $0.state == "running" } }

        let result = try project.control(["scale", "web=1", "worker=0"])
        #expect(result.code == 0, "\(result.stderr)")
        for name in ["web.3", "web.2", "worker.1"] {
            try swiftman.waitFor(line: "\(name) terminated by SIGTERM", from: "system")
        }
        let after = try swiftman.waitForPS("only web.1 left") { $0.count == 1 }
        #expect(Array(after.keys) == ["web.1"], "\(after.values)")
        #expect(after["web.1"]?.pid == before["web.1"]?.pid, "web.1 was touched")
        #expect(after["web.1"]?.state == "running")
        for name in ["web.2", "web.3", "worker.1"] {
            let pid = try #require(before[name]?.pid)
            #expect(eventually { !isAlive(pid) }, "\(name) (pid \(pid)) still alive")
        }
        swiftman.expectNoLine(from: "system", for: 0.5) { $0.hasPrefix("web.1 terminated") || $0.hasPrefix("web.1 exited") }
        #expect(isAlive(try #require(before["web.1"]?.pid)))

        // Scaling up again brings web.2 back on its own port, listed once.
        let again = try project.control(["scale", "web=2"])
        #expect(again.code == 0, "\(again.stderr)")
        let back = try swiftman.waitForPS("web.2 back") { $0["web.2"]?.state == "running" }
        #expect(back.keys.sorted() == ["web.1", "web.2"], "\(back.values)")
        #expect(back["web.2"]?.port == 5001)
        #expect(back["web.2"]?.pid != before["web.2"]?.pid)
        #expect(back["web.1"]?.pid == before["web.1"]?.pid)

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func scaleFromZeroUsesTheTypesPortSlot() throws {
        let project = try Project(procfile: sleepers)
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=0"])
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let before = try swiftman.waitForPS("web.1 running") { $0["web.1"]?.state == "running" }
        #expect(before.count == 1, "\(before.values)")

        let result = try project.control(["scale", "worker=2"])
        #expect(result.code == 0, "\(result.stderr)")
        try swiftman.waitFor(line: "port=5100 ps=worker.1", from: "worker.1")
        try swiftman.waitFor(line: "port=5101 ps=worker.2", from: "worker.2")
        let after = try swiftman.waitForPS("workers running") { rows in
            rows["worker.1"]?.state == "running" && rows["worker.2"]?.state == "running"
        }
        #expect(after["worker.1"]?.port == 5100)
        #expect(after["worker.2"]?.port == 5101)
        #expect(after["web.1"]?.pid == before["web.1"]?.pid)

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func badScaleRequestsAreRejectedAndChangeNothing() throws {
        let project = try Project(procfile: sleepers)
        // Validated before connecting: a usage error even with nothing running.
        #expect(try project.control(["scale", "web=abc"]).code == 2)

        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=1"])
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        try swiftman.waitFor(line: "port=5100 ps=worker.1", from: "worker.1")
        let before = try swiftman.waitForPS("running") { $0.count == 2 && $0.values.allSatisfy { $0.state == "running" } }

        let abc = try project.control(["scale", "web=abc"])
        #expect(abc.code == 2, "\(abc.stderr)")
        #expect(abc.stderr.contains("abc"), "\(abc.stderr)")
        for bad in [["scale", "web"], ["scale", "web=-1"], ["scale"], ["ps", "extra"], ["restart"], ["stop", "a", "b"]] {
            let result = try project.control(bad)
            #expect(result.code == 2, "\(bad): \(result.code) \(result.stderr)")
        }

        // A type the Procfile does not have is a bad argument (README: exit 2).
        let nope = try project.control(["scale", "nope=1"])
        #expect(nope.code == 2)
        #expect(nope.stderr.contains("nope"), "\(nope.stderr)")
        // All or nothing: web is not scaled when another item is bad.
        let mixed = try project.control(["scale", "web=2", "nope=1"])
        #expect(mixed.code == 2)
        #expect(mixed.stderr.contains("nope"), "\(mixed.stderr)")
        let web9 = try project.control(["restart", "web.9"])
        #expect(web9.code == 1)
        #expect(web9.stderr.contains("web.9"), "\(web9.stderr)")
        let stopNope = try project.control(["stop", "nope"])
        #expect(stopNope.code == 2)
        #expect(stopNope.stderr.contains("nope"), "\(stopNope.stderr)")

        swiftman.expectAbsent("web.2", for: 1)
        let after = try project.ps()
        #expect(after.map(\.name) == ["web.1", "worker.1"], "\(after)")
        #expect(after.map(\.pid) == ["web.1", "worker.1"].map { before[$0]?.pid })

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}

@Suite struct PSTests {
    @Test func tableAndJSONListEveryInstance() throws {
        let project = try Project(procfile: sleepers)
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=2,worker=1"])
        for (name, port) in [("web.1", 5000), ("web.2", 5001), ("worker.1", 5100)] {
            try swiftman.waitFor(line: "port=\(port) ps=\(name)", from: name)
        }
        let rows = try swiftman.waitForPS("all running") { $0.count == 3 && $0.values.allSatisfy { $0.state == "running" } }
        for (name, port) in [("web.1", 5000), ("web.2", 5001), ("worker.1", 5100)] {
            let row = try #require(rows[name])
            #expect(row.port == port)
            #expect(row.restarts == 0)
            #expect(row.uptime >= 0)
            let pid = try #require(row.pid)
            #expect(pid == swiftman.startedPid(name), "\(name)")
            #expect(project.liveProcesses().contains(pid))
        }

        let table = try project.control(["ps"])
        #expect(table.code == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["NAME", "PID", "PROCS", "STATE", "UPTIME", "RESTARTS", "REQUESTED", "PORT"], "\(table.stdout)")
        #expect(lines.count == 4, "\(table.stdout)")
        for cells in lines.dropFirst() {
            guard cells.count == 8, let row = rows[cells[0]] else {
                Issue.record("unexpected row \(cells)")
                continue
            }
            #expect(cells[1] == row.pid.map(String.init))
            #expect(cells[2] == "1", "one process in the group: the exec'd sleep")
            #expect(cells[3] == "running")
            #expect(cells[4].wholeMatch(of: try! Regex("[0-9]+[smh].*")) != nil, "uptime \(cells[4])")
            #expect(cells[5] == "0")
            #expect(cells[6] == "0")
            #expect(cells[7] == String(row.port))
        }

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}

@Suite struct RestartAndStopTests {
    @Test func restartReplacesOnlyTheNamedInstances() throws {
        let project = try Project(procfile: sleepers)
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=2,worker=1"])
        for (name, port) in [("web.1", 5000), ("web.2", 5001), ("worker.1", 5100)] {
            try swiftman.waitFor(line: "port=\(port) ps=\(name)", from: name)
        }
        let first = try swiftman.waitForPS("all running") { $0.count == 3 && $0.values.allSatisfy { $0.state == "running" } }

        let one = try project.control(["restart", "web.2"])
        #expect(one.code == 0, "\(one.stderr)")
        let second = try swiftman.waitForPS("web.2 replaced") { rows in
            rows["web.2"]?.state == "running" && rows["web.2"]?.pid != first["web.2"]?.pid
        }
        #expect(second["web.2"]?.requestedRestarts == 1)
        #expect(second["web.2"]?.restarts == 0, "a requested restart is not a crash restart")
        #expect(second["web.1"]?.pid == first["web.1"]?.pid, "web.1 was touched")
        #expect(second["worker.1"]?.pid == first["worker.1"]?.pid, "worker.1 was touched")
        try swiftman.waitFor(line: "web.2 terminated by SIGTERM", from: "system")
        try swiftman.waitFor("web.2 printed again") { IntegrationTests.messages(from: "web.2", in: $0).count == 2 }
        #expect(swiftman.messages(from: "web.2") == ["port=5001 ps=web.2", "port=5001 ps=web.2"])

        let type = try project.control(["restart", "web"])
        #expect(type.code == 0, "\(type.stderr)")
        let third = try swiftman.waitForPS("every web replaced") { rows in
            ["web.1", "web.2"].allSatisfy { rows[$0]?.state == "running" && rows[$0]?.pid != second[$0]?.pid }
        }
        #expect(third["web.1"]?.requestedRestarts == 1)
        #expect(third["web.2"]?.requestedRestarts == 2)
        #expect(third["worker.1"]?.pid == first["worker.1"]?.pid, "worker.1 was touched")
        for pid in [first["web.1"]?.pid, first["web.2"]?.pid, second["web.2"]?.pid].compactMap({ $0 }) {
            #expect(eventually { !isAlive(pid) }, "old pid \(pid) still alive")
        }

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func stoppedInstanceStaysStoppedUntilRestarted() throws {
        let project = try Project(procfile: sleepers)
        // Even `always` does not bring a stopped instance back.
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=1", "--restart", "always"])
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        try swiftman.waitFor(line: "port=5100 ps=worker.1", from: "worker.1")
        let first = try swiftman.waitForPS("all running") { $0.count == 2 && $0.values.allSatisfy { $0.state == "running" } }
        let worker = try #require(first["worker.1"]?.pid)

        let stop = try project.control(["stop", "worker.1"])
        #expect(stop.code == 0, "\(stop.stderr)")
        try swiftman.waitFor(line: "worker.1 terminated by SIGTERM", from: "system")
        #expect(eventually { !isAlive(worker) })
        // Not started again, well past the 0.5 s restart backoff.
        swiftman.expectAbsent("a second start of worker.1", for: 3) {
            IntegrationTests.messages(from: "system", in: $0).filter { $0.hasPrefix("worker.1 started") }.count > 1
        }
        let stopped = try project.ps()
        let row = try #require(stopped.first { $0.name == "worker.1" })
        #expect(row.state == "stopped", "\(stopped)")
        #expect(row.pid == nil)
        #expect(row.exitSignal == "SIGTERM" && row.exitCode == 143, "\(stopped)")
        // The rest of the row: type, number, command, no ready check, the formation.
        let web = try #require(stopped.first { $0.name == "web.1" })
        #expect(web.type == "web" && web.index == 1 && web.processGroup == web.pid && web.ready == nil)
        #expect(web.command == #"echo "port=$PORT ps=$PS"; exec sleep 1000"#)
        #expect(web.exitSignal == nil && web.exitCode == nil)
        #expect(row.type == "worker" && row.index == 1)
        let canonical = { (path: String) in URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
        for r in stopped {
            #expect(r.formationPid == Int(swiftman.pid), "\(r)")
            #expect(canonical(r.formationRoot) == canonical(project.dir), "\(r.formationRoot)")
            #expect(r.formationSocket == project.controlSocket)
        }
        #expect(stopped.first { $0.name == "web.1" }?.pid == first["web.1"]?.pid)

        let restart = try project.control(["restart", "worker.1"])
        #expect(restart.code == 0, "\(restart.stderr)")
        let back = try swiftman.waitForPS("worker.1 back") { $0["worker.1"]?.state == "running" }
        #expect(back["worker.1"]?.pid != worker)
        try swiftman.waitFor("worker.1 printed again") { IntegrationTests.messages(from: "worker.1", in: $0).count == 2 }
        #expect(back["web.1"]?.pid == first["web.1"]?.pid)

        // A whole type.
        let stopWeb = try project.control(["stop", "web"])
        #expect(stopWeb.code == 0, "\(stopWeb.stderr)")
        let webStopped = try swiftman.waitForPS("web stopped") { $0["web.1"]?.state == "stopped" && $0["web.1"]?.pid == nil }
        #expect(webStopped["web.1"]?.exitSignal == "SIGTERM", "\(webStopped)")
        #expect(webStopped["web.1"]?.processGroup == nil)

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}

@Suite struct ControlSocketTests {
    @Test func secondStartInTheSameProjectIsRefused() throws {
        let project = try Project(procfile: sleepers)
        let first = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=0"])
        try first.waitFor(line: "port=5000 ps=web.1", from: "web.1")

        let second = try project.run(["start", "-f", project.path("Procfile"), "--socket", project.controlSocket])
        #expect(second.code == 1)
        #expect(second.stderr.contains("already running"), "\(second.stderr)")
        #expect(second.stderr.contains("\(first.pid)"), "\(second.stderr)")
        #expect(!second.stdout.contains("started with pid"), "the second start started children: \(second.stdout)")
        // The first is unharmed and still owns the socket.
        let rows = try project.ps()
        #expect(rows.map(\.pid) == [first.startedPid("web.1")])
        #expect(fileMode(project.controlSocket)?.type == S_IFSOCK)

        first.signal(SIGTERM)
        #expect(try first.wait(timeout: 30) == 0)
        // The socket goes away with its formation.
        #expect(fileMode(project.controlSocket) == nil)
        project.expectNothingLeft()
    }

    @Test func staleSocketOfAKilledSwiftmanIsReplaced() throws {
        let project = try Project(procfile: sleepers)
        let killed = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=0"])
        try killed.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let orphan = try #require(killed.startedPid("web.1"))
        killed.signal(SIGKILL)
        #expect(try killed.wait() == 128 + SIGKILL)
        defer {
            kill(-orphan, SIGKILL)
            kill(orphan, SIGKILL)
        }
        #expect(fileMode(project.controlSocket)?.type == S_IFSOCK, "the killed swiftman's socket should remain")
        let none = try project.control(["ps"])
        #expect(none.code == 1)
        #expect(none.stderr.contains("no running formation"), "\(none.stderr)")

        let second = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=0"])
        try second.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let rows = try second.waitForPS("web.1 running") { $0["web.1"]?.state == "running" }
        #expect(rows["web.1"]?.pid == second.startedPid("web.1"))
        #expect(rows["web.1"]?.pid != orphan)

        kill(-orphan, SIGKILL)
        kill(orphan, SIGKILL)
        second.signal(SIGTERM)
        #expect(try second.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func commandsWithoutARunningFormationSaySo() throws {
        let project = try Project(procfile: sleepers)
        let runtime = try RuntimeDir()
        for command in [["ps"], ["ps", "--json"], ["scale", "web=2"], ["restart", "web"], ["stop", "web"]] {
            let explicit = try project.control(command)
            #expect(explicit.code == 1, "\(command)")
            #expect(explicit.stderr.contains("no running formation"), "\(command): \(explicit.stderr)")
            #expect(explicit.stdout.isEmpty)
            let derived = try project.run(command, environment: runtime.environment)
            #expect(derived.code == 1, "\(command)")
            #expect(derived.stderr.contains("no running formation"), "\(command): \(derived.stderr)")
        }
        project.expectNothingLeft()
        withExtendedLifetime(runtime) {}
    }

    @Test func explicitSocketIsPrivate() throws {
        let project = try Project(procfile: sleepers)
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=1,worker=0"])
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let mode = try #require(fileMode(project.controlSocket))
        #expect(mode.type == S_IFSOCK)
        #expect(mode.permissions == 0o600, "mode \(String(mode.permissions, radix: 8))")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func defaultSocketIsDerivedFromTheRootInAPrivateDirectory() throws {
        let project = try Project(procfile: sleepers)
        let runtime = try RuntimeDir()
        let swiftman = try project.start(["-m", "web=1,worker=0"], environment: runtime.environment)
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")

        let directory = runtime.path + "/swiftman"
        let dirMode = try #require(fileMode(directory))
        #expect(dirMode.type == S_IFDIR)
        #expect(dirMode.permissions == 0o700, "mode \(String(dirMode.permissions, radix: 8))")
        // The socket, and the lock its formation holds beside it.
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        let sockets = entries.filter { $0.hasSuffix(".sock") }
        #expect(sockets.count == 1 && entries == [sockets[0], sockets[0] + ".lock"], "\(entries)")
        let socket = directory + "/" + (sockets.first ?? "")
        #expect(fileMode(socket + ".lock")?.permissions == 0o600)
        let mode = try #require(fileMode(socket))
        #expect(mode.type == S_IFSOCK)
        #expect(mode.permissions == 0o600, "mode \(String(mode.permissions, radix: 8))")

        // Control commands run in the project directory find it without --socket.
        let rows = try project.ps(environment: runtime.environment)
        #expect(rows.map(\.name) == ["web.1"])
        #expect(rows.first?.pid == swiftman.startedPid("web.1"))
        let table = try project.run(["ps", "-f", project.path("Procfile")], environment: runtime.environment)
        #expect(table.code == 0, "\(table.stderr)")
        #expect(table.stdout.contains("web.1"))
        let scaled = try project.run(["scale", "worker=1"], environment: runtime.environment)
        #expect(scaled.code == 0, "\(scaled.stderr)")
        try swiftman.waitFor(line: "port=5100 ps=worker.1", from: "worker.1")
        // And so does a second start: refused.
        let second = try project.run(["start", "-f", project.path("Procfile")], environment: runtime.environment)
        #expect(second.code == 1)
        #expect(second.stderr.contains("already running"), "\(second.stderr)")
        #expect(second.stderr.contains("\(swiftman.pid)"), "\(second.stderr)")

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        #expect(fileMode(socket) == nil && fileMode(socket + ".lock") == nil, "socket or lock left behind")
        project.expectNothingLeft()
        withExtendedLifetime(runtime) {}
    }
}

@Suite struct ControlRobustnessTests {
    /// A counter every 50 ms, to see that output keeps flowing.
    private static let procfile = """
        counter: i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.05; done
        web: echo "port=$PORT ps=$PS"; exec sleep 1000
        """

    private func ticks(_ swiftman: Swiftman) -> Int { swiftman.messages(from: "counter.1").count }

    private func expectMoreTicks(_ swiftman: Swiftman, than count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try swiftman.waitFor("10 more ticks after \(count)", timeout: 30) {
                IntegrationTests.messages(from: "counter.1", in: $0).count >= count + 10
            }
        } catch {
            Issue.record("output stopped flowing: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func garbageAndOversizedRequestsGetErrorsAndSwiftmanCarriesOn() throws {
        let project = try Project(procfile: Self.procfile)
        let swiftman = try project.start(["--socket", project.controlSocket])
        try swiftman.waitFor(line: "port=5100 ps=web.1", from: "web.1")
        try swiftman.waitFor(line: "tick 3", from: "counter.1")

        // The raw protocol works (so the errors below are about the requests).
        let good = rawExchange(project.controlSocket, Array("swiftman/1 ps\n".utf8))
        #expect(good.reply.hasPrefix("ok\n"), "\(good)")
        #expect(good.reply.contains("web.1 "), "\(good)")

        for garbage in ["garbage\n", "swiftman/1 launch-missiles\n", "swiftman/9 ps\n", "\u{1B}[2J\u{7}\n", "\n"] {
            let bad = rawExchange(project.controlSocket, Array(garbage.utf8))
            #expect(bad.reply.hasPrefix("error "), "\(garbage.debugDescription): \(bad)")
        }
        let binary = rawExchange(project.controlSocket, [0xFF, 0x00, 0xFE, 10])
        #expect(binary.reply.hasPrefix("error "), "\(binary)")

        let beforeFlood = ticks(swiftman)
        let flood = rawExchange(project.controlSocket, [UInt8](repeating: UInt8(ascii: "A"), count: 10 << 20))
        // The request is refused long before its end: an error reply, or the connection closed.
        #expect(flood.reply.hasPrefix("error refused request too long") || (flood.reply.isEmpty && flood.sendError != nil),
                "sent \(flood.sent), reply \(flood.reply.debugDescription), send errno \(String(describing: flood.sendError)), read errno \(String(describing: flood.readError))")
        #expect(flood.sent < 10 << 20, "swiftman read all 10 MB of a request without a newline")

        // Still running, still answering, output still flowing.
        let rows = try swiftman.waitForPS("still answering") { $0["web.1"]?.state == "running" }
        #expect(rows["counter.1"]?.state == "running")
        #expect(rows["counter.1"]?.restarts == 0)
        expectMoreTicks(swiftman, than: max(beforeFlood, ticks(swiftman)))
        #expect(!swiftman.messages(from: "system").contains { $0.contains("exited") || $0.contains("terminated") })

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func manyIdleConnectionsDoNotStopTheFormation() throws {
        let project = try Project(procfile: Self.procfile)
        let swiftman = try project.start(["--socket", project.controlSocket])
        try swiftman.waitFor(line: "port=5100 ps=web.1", from: "web.1")
        try swiftman.waitFor(line: "tick 3", from: "counter.1")

        var idle: [Int32] = []
        defer { for fd in idle { close(fd) } }
        for _ in 0..<200 {
            let fd = sm_unix_connect(project.controlSocket, 15_000)
            if fd >= 0 { idle.append(fd) }
        }
        #expect(idle.count >= 64, "only \(idle.count) of 200 connections were made")
        let afterConnecting = ticks(swiftman)

        // While they are all held open (sending nothing), ps is answered in time
        // (idle clients time out) and output keeps flowing.
        let rows = try swiftman.waitForPS("ps answered while 200 connections idle", timeout: 60) {
            $0["web.1"]?.state == "running"
        }
        #expect(rows["counter.1"]?.state == "running")
        expectMoreTicks(swiftman, than: afterConnecting)
        #expect(!swiftman.messages(from: "system").contains { $0.contains("exited") || $0.contains("terminated") })

        for fd in idle { close(fd) }
        idle = []
        let ps = try project.control(["ps"])
        #expect(ps.code == 0, "\(ps.stderr)")

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}

/// `swiftman signal TARGET SIGNAL`.
@Suite struct SignalCommandTests {
    private static let procfile = "web: exec python3 \(resource("usr1.py"))\n"

    /// Checked before connecting: usage errors (exit 2) naming the argument, even with nothing running.
    @Test func badArgumentsAreUsageErrors() throws {
        let project = try Project(procfile: Self.procfile)
        for (arguments, named) in [([], "TARGET"), (["web"], "SIGNAL"), (["web", "FOO"], "FOO"), (["web", "0"], "SIGNAL"),
                                   (["web", "65"], "SIGNAL"), (["a/b", "USR1"], "TARGET"), (["web", "USR1", "x"], "\"x\"")] {
            let result = try project.control(["signal"] + arguments)
            #expect(result.code == 2, "\(arguments): \(result.code) \(result.stderr)")
            #expect(result.stderr.contains(named), "\(arguments): \(result.stderr)")
        }
        let none = try project.control(["signal", "web", "usr1"])
        #expect(none.code == 1)
        #expect(none.stderr.contains("no running formation"), "\(none.stderr)")
    }


    @Test
    func usr1ReachesEveryInstanceOfATypeOrTheOneNamed() throws {
        let project = try Project(procfile: Self.procfile)
        let swiftman = try project.start(["--socket", project.controlSocket, "-m", "web=2"])
        try swiftman.waitFor(linePrefix: "ready ", from: "web.1")
        try swiftman.waitFor(linePrefix: "ready ", from: "web.2")

        let all = try project.control(["signal", "web", "USR1"])
        #expect(all.code == 0, "\(all.stderr)")
        #expect(all.stdout == "web.1\nweb.2\n")
        try swiftman.waitFor(linePrefix: "got USR1", from: "web.1")
        try swiftman.waitFor(linePrefix: "got USR1", from: "web.2")

        let one = try project.control(["signal", "web.2", "SIGUSR1"])
        #expect(one.code == 0, "\(one.stderr)")
        #expect(one.stdout == "web.2\n")
        try swiftman.waitFor("web.2's second USR1") {
            IntegrationTests.messages(from: "web.2", in: $0).filter { $0.hasPrefix("got USR1") }.count == 2
        }
        let rows = try swiftman.waitForPS("still running") { $0.count == 2 && $0.values.allSatisfy { $0.state == "running" } }
        #expect(rows.values.allSatisfy { $0.restarts == 0 }, "\(rows)")
        #expect(swiftman.messages(from: "web.1").filter { $0.hasPrefix("got USR1") }.count == 1, "web.1 was not named")

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test
    func anUnknownTargetExits2AndAMissingInstance1() throws {
        let project = try Project(procfile: Self.procfile)
        let swiftman = try project.start(["--socket", project.controlSocket])
        try swiftman.waitFor(linePrefix: "ready ", from: "web.1")

        let nosuch = try project.control(["signal", "nosuch", "USR1"])
        #expect(nosuch.code == 2, "\(nosuch.stderr)")
        #expect(nosuch.stderr.contains("nosuch"), "\(nosuch.stderr)")
        let web9 = try project.control(["signal", "web.9", "USR1"])
        #expect(web9.code == 1, "\(web9.stderr)")
        #expect(web9.stderr.contains("web.9"), "\(web9.stderr)")
        #expect(!swiftman.messages(from: "web.1").contains { $0.hasPrefix("got USR1") })

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}
