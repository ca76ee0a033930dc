// Issue 17 ("Hardening, second round"): the rules, as unit tests. Points 6, 7
// and 8 are in ShellCommandTests and StartOrderTests; the runtime's points
// (2, 4, 5, 9, 10, 11) run the real binary in IntegrationTests.
import Glibc
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

private func temporaryDirectory() -> String {
    var template = Array("/tmp/swiftman-h17-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
}

private func write(_ path: String, _ text: String, mode: mode_t = 0o644) {
    try! FileSystem.write(Array(text.utf8), to: path)
    chmod(path, mode)
}

@Suite struct HardeningRoundTwoTests {
    // MARK: point 1: whose .foreman is trusted

    @Test func aForemanFileMustBeTheUsersAndNotWritableByOthers() {
        #expect(ProjectFileRules.distrust(owner: 1000, permissions: 0o644, user: 1000, ownerName: "me") == nil)
        #expect(ProjectFileRules.distrust(owner: 0, permissions: 0o644, user: 1000, ownerName: "uid 0 (root)") == nil)
        #expect(ProjectFileRules.distrust(owner: 1001, permissions: 0o644, user: 1000, ownerName: "uid 1001 (alice)")
            == "owned by uid 1001 (alice), not by you or root")
        #expect(ProjectFileRules.distrust(owner: 1000, permissions: 0o664, user: 1000, ownerName: "me")
            == "writable by group or others (mode 664)")
        #expect(ProjectFileRules.distrust(owner: 1000, permissions: 0o646, user: 1000, ownerName: "me") != nil)
    }

    @Test func anUntrustedForemanFileIsIgnoredWithAWarningNamingIt() throws {
        let dir = temporaryDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let path = dir + "/.foreman"
        write(path, "env: /tmp/theirs.env\n", mode: 0o666)
        var warnings: [String] = []
        #expect(try ForemanDefaults.load(path, warn: { warnings.append($0) }) == nil)
        #expect(warnings == ["\(path): warning: ignored: writable by group or others (mode 666)"])
        chmod(path, 0o644)
        if getuid() == 0 {
            // Root can give it away: another user's file is ignored, its owner named.
            chown(path, 4242, 4242)
            warnings = []
            #expect(try ForemanDefaults.load(path, warn: { warnings.append($0) }) == nil)
            #expect(warnings.first?.contains("owned by uid 4242") == true, "\(warnings)")
            chown(path, 0, 0)
        }
        warnings = []
        #expect(try ForemanDefaults.load(path, warn: { warnings.append($0) })?.entries.count == 1)
        #expect(warnings.isEmpty)
    }

    // MARK: point 3: regular files, bounded

    @Test func onlyANamedFileMayBeAPipeAndDevicesNeverAre() {
        #expect(ProjectFileRules.refusal(kind: .regular, explicit: false) == nil)
        #expect(ProjectFileRules.refusal(kind: .fifo, explicit: true) == nil)
        #expect(ProjectFileRules.refusal(kind: .fifo, explicit: false) != nil)
        #expect(ProjectFileRules.refusal(kind: .other, explicit: false) == "not a regular file (a device or a socket)")
        #expect(ProjectFileRules.refusal(kind: .other, explicit: true) == nil, "-e /dev/null")
        #expect(ProjectFileRules.refusal(kind: .directory, explicit: true) != nil)
        #expect(ProjectFileRules.maxBytes == 16 << 20)
    }

    @Test func aSymlinkToDevZeroOrAHugeFileIsRefusedNamingIt() throws {
        let dir = temporaryDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let env = dir + "/.env"
        symlink("/dev/zero", env)
        #expect(throws: Diagnostic(env, "not a regular file (a device or a socket)")) { try ProjectFiles.read(env) }
        #expect(throws: Diagnostic(env, "larger than 16 MiB, the limit for a project file")) { try ProjectFiles.read(env, explicit: true) }
        #expect(try ProjectFiles.read("/dev/null", explicit: true) == [], "foreman's -e /dev/null")
        let big = dir + "/big.env"
        let fd = open(big, O_CREAT | O_WRONLY, 0o644)
        ftruncate(fd, off_t(ProjectFileRules.maxBytes + 1))
        close(fd)
        #expect(throws: Diagnostic(big, "larger than 16 MiB, the limit for a project file")) { try ProjectFiles.read(big) }
        let loaded = DotEnv.load([env], environment: [:])
        #expect(loaded.problems == [Diagnostic(env, "not a regular file (a device or a socket)")])
        // A FIFO found by convention does not hang: it is refused at once.
        let fifo = dir + "/Procfile"
        mkfifo(fifo, 0o644)
        #expect(throws: Diagnostic(fifo, "not a regular file (a FIFO): only a file named with -f or -e may be a pipe")) {
            try ProjectFiles.read(fifo)
        }
        let ok = dir + "/ok.env"
        write(ok, "A=1\n")
        #expect(try ProjectFiles.read(ok) == Array("A=1\n".utf8))
    }

    // MARK: point 12: messages

    @Test func aNulInAForemanValueIsAnErrorNamingItsLine() {
        #expect(throws: Diagnostics([Diagnostic(".foreman", line: 2, "procfile: the value contains a NUL byte, which no path or option can hold")])) {
            try ForemanDefaults.parse("port: 5000\nprocfile: \"Procfile\\0.evil\"\n")
        }
        #expect(throws: Diagnostics.self) { try ForemanDefaults.parse("env: a\u{0}b\n") }
    }

    @Test func psDuringShutdownCallsWhatTheShutdownStoppedStopped() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.requestStop(signal: .terminate, now: second)
        sup.childExited(pid: host.pid("web.1"), status: .signaled(15), now: second + 1)
        let rows = sup.snapshot(now: second + 2)
        #expect(rows.first { $0.name == "web.1" }?.state == .stopped, "\(rows)")
        #expect(rows.first { $0.name == "worker.1" }?.state == .stopping)
    }

    // MARK: point 9: a repeated stop signal is one request

    @Test func theSameStopSignalTwiceAtOnceIsOneRequestAndALaterOneEscalates() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        sup.requestStop(signal: .terminate, now: second)
        // `timeout` sends SIGTERM to the pid, then to the group.
        #expect(!sup.supervisor.escalates(.terminate, now: second + 1_000_000))
        sup.requestStop(signal: .terminate, now: second + 1_000_000)
        #expect(!host.signals.contains { $0.signal == .kill }, "the grace time holds")
        #expect(sup.supervisor.escalates(.interrupt, now: second + 2_000_000), "another signal is another request")
        #expect(sup.supervisor.escalates(.terminate, now: second + Supervisor.repeatWindow))
        sup.requestStop(signal: .terminate, now: second + Supervisor.repeatWindow)
        #expect(Set(host.signals.filter { $0.signal == .kill }.map(\.pid)) == [host.pid("web.1"), host.pid("worker.1")])
    }

    // MARK: point 10: spawns in batches, in order

    @Test func aBigFormationStartsInBatchesInOrder() throws {
        let (sup, host) = try makeSupervisor(formation: Formation(counts: ["web": 70, "worker": 5]))
        sup.start(now: 0)
        let batch = Supervisor.launchBatch
        #expect(host.spawned.count == batch)
        #expect(sup.nextDeadline == 0, "the next batch is due at once")
        #expect(sup.snapshot(now: 0).filter { $0.state == .starting }.count == 75 - batch)
        sup.tick(now: 1)
        #expect(host.spawned.count == 2 * batch)
        sup.tick(now: 2)
        #expect(host.spawned.count == 75)
        #expect(sup.nextDeadline == nil)
        let expected = (1...70).map { "web.\($0)" } + (1...5).map { "worker.\($0)" }
        #expect(host.spawned.map(\.name) == expected)
        let started = host.events.compactMap { event -> String? in
            if case .started(let name, _) = event { return name } else { return nil }
        }
        #expect(started == expected, "started lines keep their order")
    }

    @Test func aBigScaleGoesOnBetweenInputsAndStopsAtShutdown() throws {
        let (sup, host) = try makeSupervisor()
        sup.start(now: 0)
        _ = try sup.scale("web", to: 100, now: second)
        #expect(host.spawned.count == 2 + Supervisor.launchBatch, "web.1, worker.1, then one batch")
        // A control request in between is served, and a scale while the line
        // is long queues behind it.
        _ = try sup.scale("worker", to: 2, now: second)
        #expect(!host.spawned.contains { $0.name == "worker.2" })
        sup.tick(now: second + 1)
        sup.tick(now: second + 2)
        sup.tick(now: second + 3)
        #expect(host.spawned.filter { $0.name.hasPrefix("web.") }.count == 100)
        #expect(host.spawned.last?.name == "worker.2")
        _ = try sup.scale("web", to: 200, now: 2 * second)
        let before = host.spawned.count
        sup.requestStop(signal: .interrupt, now: 2 * second)
        sup.tick(now: 2 * second + 1)
        #expect(host.spawned.count == before, "nothing starts once shutdown has begun")
        #expect(sup.instances.allSatisfy { $0.state != .pending })
    }

    // MARK: point 11: a stopped dependency

    @Test func aDependencyStoppedBeforeReadyHoldsItsDependents() throws {
        let (sup, host) = try makeSupervisor("db: a\nweb: b\nother: c\n", formation: Formation(counts: ["db": 1, "web": 1, "other": 0])) { config in
            config.readiness.checks = ["db": .port]
            config.readiness.order = try! StartOrder(types: ["db", "web", "other"], after: ["web": ["db"]])
        }
        sup.start(now: 0)
        #expect(sup.phase == .running, "\(host.messages)")
        _ = try sup.stop("db", now: second)
        sup.childExited(pid: host.pid("db.1"), status: .signaled(15), now: second + 1)
        let web = sup.snapshot(now: 2 * second).first { $0.name == "web.1" }
        #expect(web?.state == .waiting(for: ["db"]), "\(String(describing: web))")
        #expect(sup.phase == .running, "\(host.messages)")
        _ = try sup.scale("other", to: 1, now: 3 * second)
        #expect(!host.spawned.contains { $0.name == "web.1" }, "db is stopped and was never ready")
        _ = try sup.restart("db", now: 4 * second)
        sup.instanceReady(pid: host.pid("db.1"), now: 5 * second)
        #expect(host.spawned.contains { $0.name == "web.1" })
    }
}
