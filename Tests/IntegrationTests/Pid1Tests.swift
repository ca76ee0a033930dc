// swiftman as PID 1: `unshare --pid --fork --mount-proc swiftman start …` makes it
// the init of a new PID namespace, as in a container. Orphans are re-parented to
// it, the kernel only delivers it signals it handles, and its exit code is the
// container's (unshare passes it on). The tests look at the namespace from the
// host: swiftman's host pid is the child of the unshare process, and /proc on the
// host shows every process of the namespace with host pids.
//
// Skipped where unshare is missing or refused (no CAP_SYS_ADMIN, no user
// namespaces); the subreaper test at the end runs everywhere.
import Glibc
import CSwiftman
import Foundation
import Testing

// MARK: helpers shared with FaultTests

/// The fields of /proc/PID/stat these tests need.
struct ProcStat: Sendable, CustomStringConvertible {
    let pid: pid_t
    let comm: String
    /// R, S, D, Z, T, …
    let state: Character
    let ppid: pid_t
    let pgid: pid_t

    var isZombie: Bool { state == "Z" }
    var description: String { "\(pid) \(comm) \(state) ppid=\(ppid) pgid=\(pgid)" }
}

/// A look at the host's process table through /proc.
enum ProcScan {
    static func stat(_ pid: pid_t) -> ProcStat? {
        guard let bytes = readAll("/proc/\(pid)/stat"),
              let open = bytes.firstIndex(of: UInt8(ascii: "(")),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")), close + 2 < bytes.count
        else { return nil }
        // The command name may hold spaces and ')': the fields follow the last ')'.
        let fields = bytes[(close + 2)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 2, let state = fields[0].first,
              let ppid = pid_t(String(decoding: fields[1], as: UTF8.self)),
              let pgid = pid_t(String(decoding: fields[2], as: UTF8.self))
        else { return nil }
        return ProcStat(pid: pid, comm: String(decoding: bytes[(open + 1)..<close], as: UTF8.self),
                        state: Character(Unicode.Scalar(state)), ppid: ppid, pgid: pgid)
    }

    static func all() -> [ProcStat] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.compactMap { stat($0) }
    }

    static func children(of pid: pid_t) -> [ProcStat] {
        all().filter { $0.ppid == pid }
    }

    /// Every process below `root` (children, grandchildren, …), zombies included.
    static func descendants(of root: pid_t) -> [ProcStat] {
        var byParent: [pid_t: [ProcStat]] = [:]
        for entry in all() { byParent[entry.ppid, default: []].append(entry) }
        var result: [ProcStat] = []
        var pending = [root]
        while let next = pending.popLast() {
            for child in byParent[next] ?? [] {
                result.append(child)
                pending.append(child.pid)
            }
        }
        return result
    }

    /// A `KEY:   value kB` field of /proc/PID/status or `key: value` of /proc/PID/io.
    static func field(_ file: String, _ key: String) -> Int? {
        guard let bytes = readAll(file) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        }
        return nil
    }

    /// Open descriptors of a process.
    static func descriptorCount(_ pid: pid_t) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }
}

/// Runs a program to completion with stdin, stdout and stderr on /dev/null.
/// Returns its exit code (128 + n for signal n), or -1 when it cannot start.
func runQuietly(_ path: String, _ arguments: [String]) -> Int32 {
    let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
    guard devNull >= 0 else { return -1 }
    defer { close(devNull) }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    guard sm_spawn(&pid, path, argv, envp, nil, devNull, devNull, devNull, nil) == 0 else { return -1 }
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 {
        if errno != EINTR { return -1 }
    }
    return sm_wifexited(raw) != 0 ? sm_wexitstatus(raw) : 128 + sm_wtermsig(raw)
}

enum PIDNamespace {
    static let unshare = "/usr/bin/unshare"
    static let nsenter = "/usr/bin/nsenter"

    /// Whether this machine lets us make a PID namespace (root, or user namespaces).
    static let available: Bool = FileManager.default.isExecutableFile(atPath: unshare)
        && runQuietly(unshare, ["--pid", "--fork", "--mount-proc", "true"]) == 0

    static let unavailable: Comment = "unshare --pid --fork --mount-proc is not available or not permitted here"
}

extension Project {
    /// `unshare --pid --fork --mount-proc swiftman start -f PROCFILE --no-color
    /// --no-timestamp ARGUMENTS`. The returned Swiftman is the unshare process
    /// (its exit code is swiftman's); `hostPid` is swiftman's pid on the host.
    func startAsPID1(_ arguments: [String] = []) throws -> (runner: Swiftman, hostPid: pid_t) {
        let runner = try swiftman(
            ["--pid", "--fork", "--mount-proc", Binary.path, "start", "-f", path("Procfile"),
             "--no-color", "--no-timestamp"] + arguments,
            executable: PIDNamespace.unshare)
        var found: pid_t?
        _ = eventually(timeout: 20) {
            found = ProcScan.children(of: runner.pid).first { $0.comm == "swiftman" }?.pid
            return found != nil
        }
        guard let hostPid = found else {
            throw HarnessError("unshare (pid \(runner.pid)) has no swiftman child: \(ProcScan.children(of: runner.pid))")
        }
        return (runner, hostPid)
    }
}

// MARK: orphans and zombies

/// Instances that hand orphans to swiftman, then stay up (exec: the instance's pid
/// is a `sleep 300` that leads its own process group):
/// - double: double-forked sleeps, re-parented at once;
/// - daemon: a `setsid` daemon that forks a sleep and exits;
/// - inherit: a process that leaves two zombie children (it never waits), which
///   are handed to swiftman *as zombies* when it exits at 2.5 s.
private let orphanMakers = """
    double: (sleep 1 &); (sleep 1.5 &); echo forked; exec sleep 300
    daemon: setsid sh -c 'sleep 2 &'; echo daemonized; exec sleep 300
    inherit: (sh -c 'sleep 0.3 & sleep 0.3 & exec sleep 2.5' &); echo spawned; exec sleep 300
    """

/// Watches the processes under `root` (swiftman's host pid) while the orphans come
/// and go, then checks that none is left a zombie. Returns what it saw.
private func expectOrphansReaped(root: pid_t, swiftman: Swiftman,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws -> (orphans: Int, peakZombies: Int) {
    for (name, line) in [("double.1", "forked"), ("daemon.1", "daemonized"), ("inherit.1", "spawned")] {
        try swiftman.waitFor(line: line, from: name)
    }
    var orphans = Set<pid_t>()
    var peakZombies = 0
    // Until every orphan has exited: only the three instances are left alive.
    let settled = eventually(timeout: 20) {
        let tree = ProcScan.descendants(of: root)
        let children = tree.filter { $0.ppid == root }
        // Instances lead their process group; anything else at our level was re-parented here.
        for child in children where child.pid != child.pgid && !child.isZombie { orphans.insert(child.pid) }
        peakZombies = max(peakZombies, children.filter(\.isZombie).count)
        let busy = tree.filter { !$0.isZombie && !($0.ppid == root && $0.pid == $0.pgid) }
        return orphans.count >= 3 && busy.isEmpty
    }
    #expect(settled, "orphans seen: \(orphans.count); still there: \(ProcScan.descendants(of: root))",
            sourceLocation: sourceLocation)
    // sleep 1, sleep 1.5 (double), sleep 2 (daemon), sleep 2.5 (inherit) live for a
    // second or more each, so the 20 ms polling sees at least three of them.
    #expect(orphans.count >= 3, "orphans re-parented to swiftman: \(orphans.count)", sourceLocation: sourceLocation)

    // A zombie may be seen for the moment between its exit and swiftman's waitpid;
    // none may stay.
    let zombies = { ProcScan.descendants(of: root).filter(\.isZombie) }
    #expect(eventually(timeout: 10) { zombies().isEmpty }, "zombies: \(zombies())", sourceLocation: sourceLocation)
    var lingering: [ProcStat] = []
    for _ in 0..<10 {
        lingering += zombies()
        usleep(100_000)
    }
    #expect(lingering.isEmpty, "zombies after the orphans exited: \(lingering)", sourceLocation: sourceLocation)
    let instances = ProcScan.children(of: root).filter { $0.pid == $0.pgid && !$0.isZombie }
    #expect(instances.count == 3, "instances: \(instances)", sourceLocation: sourceLocation)
    return (orphans.count, peakZombies)
}

@Suite struct Pid1Tests {
    @Test(.enabled(if: PIDNamespace.available, PIDNamespace.unavailable))
    func orphansAndDoubleForkedDaemonsAreReaped() throws {
        let project = try Project(procfile: orphanMakers)
        let (swiftman, hostPid) = try project.startAsPID1()
        let seen = try expectOrphansReaped(root: hostPid, swiftman: swiftman)
        print("Pid1Tests: \(seen.orphans) orphans re-parented to PID 1, peak \(seen.peakZombies) zombie children at one time, 0 left")
        kill(hostPid, SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    /// `docker stop` signals PID 1 from outside; `kill 1` in the container from inside.
    /// Children, their grandchildren and an escaped daemon all get the stop signal
    /// (the daemon proves it by writing a file: it is not simply killed when the
    /// namespace ends), and the exit code is 0.
    @Test(.enabled(if: PIDNamespace.available, PIDNamespace.unavailable),
          arguments: [("host", SIGTERM, "SIGTERM"), ("host", SIGINT, "SIGINT"), ("namespace", SIGTERM, "SIGTERM")])
    func stopSignalToPID1StopsEverything(from sender: String, signal: Int32, name: String) throws {
        let project = try Project(procfile: """
            web: echo "parent=$PPID"; sleep 300 & exec sleep 300
            daemon: setsid sh ./daemon.sh & echo escaped; exec sleep 300
            """)
        try project.write("daemon.sh", """
            trap 'echo stopped > daemon-stopped; exit 0' TERM
            echo $$ > daemon-ready
            while :; do sleep 0.1; done
            """)
        // A long grace time: a process that missed the stop signal would hold
        // shutdown for 10 s and then die of SIGKILL, which the checks below see.
        let (swiftman, hostPid) = try project.startAsPID1(["-t", "10"])
        try swiftman.waitFor(line: "parent=1", from: "web.1")
        try swiftman.waitFor(line: "escaped", from: "daemon.1")
        #expect(eventually { FileManager.default.fileExists(atPath: project.path("daemon-ready")) })
        if sender == "host" {
            kill(hostPid, signal)
        } else {
            let code = runQuietly(PIDNamespace.nsenter, ["-t", "\(hostPid)", "-p", "-m", "kill", "-\(name.dropFirst(3))", "1"])
            #expect(code == 0, "nsenter … kill -\(name.dropFirst(3)) 1 exited \(code)")
        }
        #expect(try swiftman.wait(timeout: 30) == 0)
        let system = swiftman.messages(from: "system")
        #expect(system.contains("\(name) received"), "\(system)")
        #expect(system.contains("web.1 terminated by SIGTERM"), "\(system)")
        #expect(system.contains("daemon.1 terminated by SIGTERM"), "\(system)")
        #expect(!system.contains { $0.hasPrefix("sending SIGKILL") }, "\(system)")
        #expect(FileManager.default.fileExists(atPath: project.path("daemon-stopped")),
                "the escaped daemon did not get SIGTERM from PID 1")
        project.expectNothingLeft()
    }

    /// A child and an escaped daemon that both ignore SIGTERM: SIGKILL after -t 1.
    /// swiftman waits for every child it has before exiting, so exiting at all
    /// means it killed and reaped the daemon itself (the namespace's own SIGKILL
    /// comes only once PID 1 has gone).
    @Test(.enabled(if: PIDNamespace.available, PIDNamespace.unavailable))
    func childIgnoringSIGTERMIsKilledAfterTheTimeout() throws {
        let project = try Project(procfile: """
            web: trap '' TERM; echo ready; while true; do sleep 0.2; done
            stubborn: setsid sh -c 'trap "" TERM; while :; do sleep 0.2; done' & echo escaped; exec sleep 300
            """)
        let (swiftman, hostPid) = try project.startAsPID1(["-t", "1"])
        try swiftman.waitFor(line: "ready", from: "web.1")
        try swiftman.waitFor(line: "escaped", from: "stubborn.1")
        let begin = now()
        kill(hostPid, SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        print("Pid1Tests: SIGTERM → exit with -t 1 and two TERM-ignoring processes took \(String(format: "%.2f", now() - begin)) s")
        let system = swiftman.messages(from: "system")
        #expect(system.contains { $0.hasPrefix("sending SIGKILL to ") && $0.contains("web.1") }, "\(system)")
        #expect(system.contains("web.1 terminated by SIGKILL"), "\(system)")
        #expect(system.contains("stubborn.1 terminated by SIGTERM"), "\(system)")
        project.expectNothingLeft()
    }

    /// Under `--restart never` the crashing instance's code is swiftman's, and so
    /// the container's.
    @Test(.enabled(if: PIDNamespace.available, PIDNamespace.unavailable),
          arguments: [("exit 3", 3), ("kill -9 $$", 137)] as [(String, Int32)])
    func crashUnderRestartNeverGivesItsCodeThroughUnshare(command: String, code: Int32) throws {
        let project = try Project(procfile: "web: sleep 300\nbad: echo \"parent=$PPID\"; sleep 0.5; \(command)\n")
        let (swiftman, _) = try project.startAsPID1(["--restart", "never"])
        #expect(try swiftman.wait(timeout: 30) == code)
        #expect(swiftman.messages(from: "bad.1") == ["parent=1"])
        #expect(swiftman.messages(from: "system").contains("web.1 terminated by SIGTERM"))
        project.expectNothingLeft()
    }

    /// The same orphans without a namespace: swiftman is their child subreaper.
    @Test func orphansAreReapedByTheSubreaper() throws {
        let project = try Project(procfile: orphanMakers)
        let swiftman = try project.start()
        let seen = try expectOrphansReaped(root: swiftman.pid, swiftman: swiftman)
        print("Pid1Tests (subreaper): \(seen.orphans) orphans re-parented, peak \(seen.peakZombies) zombie children at one time, 0 left")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}
