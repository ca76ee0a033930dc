// Issue 13 ("Hardening"): signals per command, `check` at scale, no /proc,
// descriptors 0-2, the control socket's rules, ports from `scale`, and the
// exec limit on one environment string. Tests that need a mount namespace or a
// second user skip, with a message, where they cannot run.
import Glibc
import CSwiftman
import Foundation
import Testing

private let sleeper = """
    web: echo "port=$PORT ps=$PS"; exec sleep 1000
    """

private func inode(_ path: String) -> (type: mode_t, ino: UInt)? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return (st.st_mode & S_IFMT, UInt(st.st_ino))
}

/// A socket that listens but never accepts: the kernel completes connections
/// (backlog), nothing answers. A stopped server looks exactly like this.
private final class SilentServer {
    let path: String
    let fd: Int32
    init(_ path: String) throws {
        self.path = path
        fd = sm_unix_listen(path, 16)
        guard fd >= 0 else { throw HarnessError("listen \(path): \(errno)") }
    }
    deinit { close(fd) }
}

/// A Unix server of another program: answers every connection with an HTTP
/// error, as a web server on a Unix socket would.
private final class HTTPishServer {
    let path: String
    private let fd: Int32
    private var stopPipe: [Int32] = [-1, -1]
    init(_ path: String) throws {
        self.path = path
        let fd = sm_unix_listen(path, 16)
        guard fd >= 0 else { throw HarnessError("listen \(path): \(errno)") }
        self.fd = fd
        guard sm_pipe(&stopPipe, 0) == 0 else { throw HarnessError("pipe: \(errno)") }
        let stop = stopPipe[0]
        Thread {
            while true {
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
                guard poll(&fds, 2, -1) > 0 else { continue }
                if fds[1].revents != 0 { break }
                let client = accept(fd, nil, nil)
                guard client >= 0 else { continue }
                var buffer = [UInt8](repeating: 0, count: 1024)
                _ = recv(client, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                let answer = Array("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".utf8)
                _ = send(client, answer, answer.count, Int32(MSG_NOSIGNAL))
                close(client)
            }
        }.start()
    }
    deinit {
        close(stopPipe[1])
        usleep(100_000)
        close(stopPipe[0])
        close(fd)
    }
}

/// A listener whose queue is full: listen(2) with a backlog of 0, then
/// connections that are never accepted until the kernel refuses one more with
/// EAGAIN (a non-blocking connect to a Unix socket whose backlog is full). A
/// live server under a burst looks like this: it is not stale.
private final class FullBacklogServer {
    let path: String
    private let fd: Int32
    private var queued: [Int32] = []
    init(_ path: String) throws {
        self.path = path
        fd = sm_unix_listen(path, 0)
        guard fd >= 0 else { throw HarnessError("listen \(path): \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw HarnessError("path too long: \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        for _ in 0..<64 {
            let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard client >= 0 else { throw HarnessError("socket: \(errno)") }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            let error = errno
            if rc == 0 {
                queued.append(client)
                continue
            }
            close(client)
            if error == EAGAIN { return }
            throw HarnessError("connect \(path): \(error)")
        }
        throw HarnessError("\(path): 64 connections queued and still no EAGAIN")
    }
    deinit {
        for client in queued { close(client) }
        close(fd)
    }
}

/// Runs `/usr/bin/env ARGUMENTS` as uid and gid 65534 (setpriv) in the project
/// directory, tagged like every process of the project.
private func asSecondUser(_ project: Project, _ arguments: [String]) throws -> Swiftman {
    try project.swiftman([SecondUser.setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups"] + arguments,
                         executable: "/usr/bin/env")
}

/// Runs `script` under /bin/sh in the project directory (its stdout/stderr captured).
private func shell(_ project: Project, _ script: String, environment: [String: String] = [:],
                   timeout: Double = 60) throws -> (code: Int32, stdout: String, stderr: String) {
    let process = try project.swiftman(["-c", script], environment: environment, executable: "/bin/sh")
    let code = try process.wait(timeout: timeout)
    return (code, process.stdout, process.stderr)
}

/// Single quotes for sh.
private func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

enum MountNamespace {
    static let unshare = "/usr/bin/unshare"
    /// Whether we may make a mount namespace and mount a tmpfs in it.
    static let available: Bool = FileManager.default.isExecutableFile(atPath: unshare)
        && runQuietly(unshare, ["--mount", "sh", "-c", "mount -t tmpfs none /mnt"]) == 0
    static let unavailable: Comment = "unshare --mount (with a tmpfs mount) is not available or not permitted here"
}

enum SecondUser {
    static let setpriv = "/usr/bin/setpriv"
    /// Root, with setpriv to run something as nobody (65534).
    static let available: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: setpriv)
        && runQuietly(setpriv, ["--reuid", "65534", "--regid", "65534", "--clear-groups", "true"]) == 0
    static let unavailable: Comment = "needs root and setpriv to act as a second user (65534)"
}

// MARK: - 3. Only `start` owns SIGINT, SIGTERM and SIGHUP

@Suite struct CommandSignalTests {
    @Test func psWaitingForASilentServerDiesOnSIGTERM() throws {
        let project = try Project(procfile: sleeper)
        let server = try SilentServer(project.path("silent.sock"))
        let ps = try project.swiftman(["ps", "--socket", server.path])
        usleep(500_000)
        ps.signal(SIGTERM)
        let started = now()
        #expect(try ps.wait(timeout: 5) == 128 + SIGTERM)
        #expect(now() - started < 3)
        withExtendedLifetime(server) {}
    }

    @Test func checkBlockedOnItsProcfileDiesOnSIGTERMAndSIGINT() throws {
        let project = try Project()
        #expect(mkfifo(project.path("Procfile"), 0o600) == 0)
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            // Opening a FIFO without a writer blocks: only a signal ends it.
            let check = try project.swiftman(["check", "-f", project.path("Procfile")])
            usleep(300_000)
            check.signal(signal)
            #expect(try check.wait(timeout: 5) == 128 + signal, "signal \(signal)")
        }
    }
}

// MARK: - 4. `check` is linear in the number of types

@Suite struct CheckScaleTests {
    @Test func checkListsAHundredThousandTypes() throws {
        let project = try Project()
        let count = 100_000
        var text = ""
        text.reserveCapacity(count * 24)
        for i in 0..<count { text += "t\(i): echo \(i)\n" }
        try project.write("Procfile", text)
        let started = now()
        // Quadratic took 9.7 s for 10k and more than 10 minutes for 100k;
        // linear takes about 1 s (debug build). The bound only catches a regression.
        let process = try project.swiftman(["check", "-m", "all=0"])
        let code = try process.wait(timeout: 60)
        #expect(code == 0, "\(process.stderr)")
        // The header and one line per type (the env files line goes to stderr).
        #expect(process.stdout.split(separator: "\n").count == count + 1)
        #expect(now() - started < 60)
    }
}

// MARK: - 5. Without /proc

@Suite struct NoProcTests {
    @Test(.enabled(if: MountNamespace.available, MountNamespace.unavailable))
    func commandsWorkWithoutProc() throws {
        let project = try Project(procfile: "web: echo \"bt=${SWIFT_BACKTRACE-unset}\"\n")
        let bin = quoted(Binary.path)
        let result = try shell(project, """
            mount -t tmpfs none /proc || exit 99
            \(bin) version; echo "version=$?"
            \(bin) check; echo "check=$?"
            \(bin) start --no-timestamp --no-color --restart never --socket \(quoted(project.path("s.sock"))); echo "start=$?"
            SWIFT_BACKTRACE=mine \(bin) start --no-timestamp --no-color --restart never --socket \(quoted(project.path("s.sock"))); echo "start=$?"
            """, environment: [:], timeout: 60, namespace: true)
        #expect(result.stdout.contains("swiftman 0.1.0"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("version=0"))
        #expect(result.stdout.contains("valid, 1 process type"))
        #expect(result.stdout.contains("check=0"))
        #expect(result.stdout.contains("web.1  | bt=unset"), "the runtime's override leaked: \(result.stdout)")
        #expect(result.stdout.contains("web.1  | bt=mine"), "the caller's SWIFT_BACKTRACE was lost: \(result.stdout)")
        #expect(result.stdout.components(separatedBy: "start=0").count == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(!result.stderr.contains("Unable to obtain"), "\(result.stderr)")
        // The degraded orphan sweep is announced once per start.
        #expect(result.stdout.components(separatedBy: "/proc is not readable").count == 3, "\(result.stdout)")
        project.expectNothingLeft()
    }
}

private func shell(_ project: Project, _ script: String, environment: [String: String], timeout: Double,
                   namespace: Bool) throws -> (code: Int32, stdout: String, stderr: String) {
    guard namespace else { return try shell(project, script, environment: environment, timeout: timeout) }
    let process = try project.swiftman(["--mount", "/bin/sh", "-c", script], environment: environment,
                                       executable: MountNamespace.unshare)
    let code = try process.wait(timeout: timeout)
    return (code, process.stdout, process.stderr)
}

// MARK: - 7, 8. The socket directory actually used is created and checked

@Suite struct SocketDirectoryTests {
    /// A runtime dir and project name that together pass the sun_path limit
    /// make the path fall back to /tmp/swiftman-UID/, which must be created
    /// (0700) like the default one. A private /tmp (tmpfs in a mount
    /// namespace) keeps the machine's own out of it.
    @Test(.enabled(if: MountNamespace.available, MountNamespace.unavailable))
    func fallbackDirectoryIsCreatedPrivate() throws {
        let project = try Project()
        let bin = quoted(Binary.path)
        let uid = getuid()
        // 60 bytes: still used, but with the project's name the path is too long.
        let runtime = "/tmp/rt-" + String(repeating: "x", count: 52)
        // The binary may live under /tmp (a checkout there): copy it out of
        // the way of the tmpfs first.
        let result = try shell(project, """
            keep=$(mktemp -d /var/tmp/swiftman-bin.XXXXXX) && cp \(bin) "$keep/swiftman" || exit 97
            trap 'rm -rf "$keep"' EXIT
            mount -t tmpfs none /tmp || exit 99
            mkdir -m 700 \(runtime)
            mkdir /tmp/a-rather-long-project-directory-name && cd /tmp/a-rather-long-project-directory-name
            printf 'web: exec sleep 1000\\n' > Procfile
            export XDG_RUNTIME_DIR=\(runtime)
            "$keep/swiftman" start --no-timestamp --no-color > out 2>&1 &
            pid=$!
            i=0; while [ $i -lt 100 ] && ! grep -q 'started with pid' out; do sleep 0.1; i=$((i+1)); done
            cat out
            echo "mode=$(stat -c '%a %u %F' /tmp/swiftman-\(uid))"
            "$keep/swiftman" ps; echo "ps=$?"
            kill -TERM $pid; wait $pid; echo "start=$?"
            ls -A /tmp/swiftman-\(uid); echo listed
            """, environment: [:], timeout: 60, namespace: true)
        #expect(result.stdout.contains("web.1 started with pid"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("mode=700 \(uid) directory"), "\(result.stdout)")
        #expect(result.stdout.contains("ps=0"), "\(result.stdout)")
        #expect(result.stdout.contains("start=0"), "\(result.stdout)")
        // Socket and lock file are gone with the formation.
        #expect(result.stdout.contains("\nlisted"), "\(result.stdout)")
        project.expectNothingLeft()
    }

    /// Another user made /tmp/swiftman-UID first (world-writable): start
    /// refuses, naming the owner and --socket, instead of binding in their
    /// directory. A symlink there is refused too.
    @Test(.enabled(if: MountNamespace.available, MountNamespace.unavailable))
    func fallbackDirectoryOfAnotherUserIsRefused() throws {
        let project = try Project()
        let bin = quoted(Binary.path)
        let uid = getuid()
        let other = uid == 65534 ? 65533 : 65534
        let result = try shell(project, """
            keep=$(mktemp -d /var/tmp/swiftman-bin.XXXXXX) && cp \(bin) "$keep/swiftman" || exit 97
            trap 'rm -rf "$keep"' EXIT
            mount -t tmpfs none /tmp || exit 99
            mkdir /tmp/p && cd /tmp/p && printf 'web: exec sleep 1000\\n' > Procfile
            unset XDG_RUNTIME_DIR
            mkdir -m 777 /tmp/swiftman-\(uid) && chown \(other) /tmp/swiftman-\(uid) || exit 98
            timeout 10 "$keep/swiftman" start --no-timestamp --no-color; echo "foreign=$?"
            ls -A /tmp/swiftman-\(uid); echo listed
            rmdir /tmp/swiftman-\(uid); mkdir /tmp/elsewhere; ln -s /tmp/elsewhere /tmp/swiftman-\(uid)
            timeout 10 "$keep/swiftman" start --no-timestamp --no-color; echo "symlink=$?"
            ls -A /tmp/elsewhere; echo listed
            """, environment: [:], timeout: 60, namespace: true)
        #expect(result.stdout.contains("foreign=1"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("belongs to uid \(other)"), "\(result.stderr)")
        #expect(result.stderr.contains("--socket"), "\(result.stderr)")
        #expect(result.stdout.contains("symlink=1"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("symbolic link"), "\(result.stderr)")
        #expect(!result.stdout.contains("started with pid"), "\(result.stdout)")
        #expect(result.stdout.components(separatedBy: "\nlisted").count == 3, "files were created: \(result.stdout)")
        project.expectNothingLeft()
    }

    /// The client believes only a server of its own uid (or root): a server
    /// run by another user at the path is not trusted, whatever it answers.
    @Test(.enabled(if: SecondUser.available, SecondUser.unavailable))
    func clientDoesNotBelieveAServerOfAnotherUser() throws {
        let project = try Project(procfile: sleeper)
        let socket = try sharedSocket(project)
        let foreign = try project.swiftman([SecondUser.setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups",
                                            Binary.path, "start", "-f", project.path("Procfile"), "--no-timestamp",
                                            "--no-color", "--socket", socket], executable: "/usr/bin/env")
        try foreign.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.code == 1)
        #expect(ps.stderr.contains("uid 65534"), "\(ps.stderr)")
        #expect(!ps.stdout.contains("web.1"), "believed a foreign server: \(ps.stdout)")
        foreign.signal(SIGTERM)
        #expect(try foreign.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}

// MARK: - 9, 10, 11, 12. Only a refused socket is stale; one formation per socket

@Suite struct SocketOwnershipTests {
    @Test func stoppedFormationIsLiveAndKeepsItsSocket() throws {
        let project = try Project(procfile: sleeper)
        let socket = project.path("s.sock")
        let first = try project.start(["--socket", socket])
        try first.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let before = inode(socket)
        first.signal(SIGSTOP)
        defer { first.signal(SIGCONT) }
        let started = now()
        let second = try project.swiftman(["start", "-f", project.path("Procfile"), "--socket", socket])
        #expect(try second.wait(timeout: 8) == 1, "a second formation started next to a stopped one")
        #expect(now() - started < 8)
        #expect(!second.stdout.contains("started with pid"), "\(second.stdout)")
        #expect(second.stderr.contains("stopped"), "\(second.stderr)")
        #expect(inode(socket)?.ino == before?.ino, "the stopped formation's socket was replaced")
        first.signal(SIGCONT)
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.code == 0 && ps.stdout.contains("web.1"), "\(ps.stderr)")
        first.signal(SIGTERM)
        #expect(try first.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    @Test func formationRemovesOnlyItsOwnSocketAtExit() throws {
        let project = try Project(procfile: sleeper)
        let socket = project.path("s.sock")
        let formation = try project.start(["--socket", socket])
        try formation.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        // Someone else now has a socket at that path.
        unlink(socket)
        let other = try SilentServer(socket)
        let theirs = inode(socket)
        formation.signal(SIGTERM)
        #expect(try formation.wait(timeout: 30) == 0)
        #expect(theirs != nil && inode(socket)?.ino == theirs?.ino, "swiftman removed a socket that was not its own")
        withExtendedLifetime(other) {}
        project.expectNothingLeft()
    }

    @Test func concurrentStartsAfterAKillRunExactlyOneFormation() throws {
        let project = try Project(procfile: sleeper)
        let socket = project.path("s.sock")
        for round in 0..<6 {
            let killed = try project.start(["--socket", socket])
            try killed.waitFor(line: "port=5000 ps=web.1", from: "web.1")
            if let orphan = killed.messages(from: "system").first(where: { $0.hasPrefix("web.1 started with pid ") }).flatMap({ Int32($0.split(separator: " ").last!) }) { kill(orphan, SIGKILL) }
            killed.signal(SIGKILL)
            _ = try killed.wait()
            #expect(inode(socket)?.type == S_IFSOCK, "round \(round): the stale socket should remain")

            let starts = try (0..<6).map { _ in try project.start(["--socket", socket]) }
            var winners: [Swiftman] = []
            for start in starts {
                do {
                    try start.waitFor("started or refused", timeout: 20) { $0.contains("started with pid") }
                    winners.append(start)
                } catch {
                    #expect(start.stderr.contains("already running") || start.stderr.contains("holds this control socket"),
                            "round \(round): \(start.stderr)")
                }
            }
            #expect(winners.count == 1, "round \(round): \(winners.count) formations on one socket")
            let ps = try project.run(["ps", "--socket", socket])
            #expect(ps.code == 0, "round \(round): \(ps.stderr)")
            for winner in winners {
                winner.signal(SIGTERM)
                #expect(try winner.wait(timeout: 30) == 0)
            }
            #expect(inode(socket) == nil && inode(socket + ".lock") == nil, "round \(round): files left")
        }
        project.expectNothingLeft()
    }

    /// Only ECONNREFUSED means stale: a live listener whose queue is full
    /// (connect fails with EAGAIN) is another program's socket, left alone.
    @Test func aLiveSocketWithAFullBacklogIsNotStale() throws {
        let project = try Project(procfile: "web: touch ran; exec sleep 1000\n")
        let socket = project.path("full.sock")
        let server = try FullBacklogServer(socket)
        let before = inode(socket)
        let start = try project.swiftman(["start", "-f", project.path("Procfile"), "--no-color", "--no-timestamp",
                                          "--socket", socket])
        let code = try? start.wait(timeout: 20)
        #expect(code == 1, "a full listener was taken for a stale socket: \(start.stdout)\n\(start.stderr)")
        if code == nil {
            start.signal(SIGTERM)
            _ = try? start.wait(timeout: 20)
        }
        #expect(start.stderr.contains("another program is listening"), "\(start.stderr)")
        #expect(!start.stdout.contains("started with pid"), "\(start.stdout)")
        #expect(!FileManager.default.fileExists(atPath: project.path("ran")), "a child ran")
        #expect(before?.type == S_IFSOCK && inode(socket)?.ino == before?.ino, "the listener's socket was replaced")
        withExtendedLifetime(server) {}
        project.expectNothingLeft()
    }

    @Test func anotherProgramsSocketIsNeverRemoved() throws {
        let project = try Project(procfile: sleeper)
        for kind in ["silent", "http"] {
            let socket = project.path("\(kind).sock")
            let holder: AnyObject = kind == "silent" ? try SilentServer(socket) : try HTTPishServer(socket)
            let before = inode(socket)
            let start = try project.swiftman(["start", "-f", project.path("Procfile"), "--socket", socket])
            #expect(try start.wait(timeout: 10) == 1, "\(kind)")
            #expect(start.stderr.contains("another program is listening"), "\(kind): \(start.stderr)")
            #expect(!start.stdout.contains("started with pid"), "\(kind): \(start.stdout)")
            #expect(before != nil && inode(socket)?.ino == before?.ino, "\(kind): the socket was removed")
            let ps = try project.run(["ps", "--socket", socket])
            #expect(ps.code == 1, "\(kind): \(ps.stdout)")
            #expect(inode(socket)?.ino == before?.ino, "\(kind): ps removed the socket")
            withExtendedLifetime(holder) {}
        }
        project.expectNothingLeft()
    }

    @Test func emptyAndSymlinkSocketPathsAreClearErrors() throws {
        let project = try Project(procfile: sleeper)
        let empty = try project.swiftman(["start", "-f", project.path("Procfile"), "--socket", ""])
        #expect(try empty.wait(timeout: 10) == 2)
        #expect(empty.stderr.contains("--socket: empty path"), "\(empty.stderr)")
        let emptyPS = try project.run(["ps", "--socket", ""])
        #expect(emptyPS.code == 2)
        #expect(emptyPS.stderr.contains("empty path"), "\(emptyPS.stderr)")
        let envEmpty = try project.swiftman(["start", "-f", project.path("Procfile")], environment: ["SWIFTMAN_SOCKET": ""])
        #expect(try envEmpty.wait(timeout: 10) == 2)
        #expect(envEmpty.stderr.contains("SWIFTMAN_SOCKET: empty path"), "\(envEmpty.stderr)")

        let link = project.path("dangling.sock")
        #expect(symlink(project.path("nowhere/x.sock"), link) == 0)
        let dangling = try project.swiftman(["start", "-f", project.path("Procfile"), "--socket", link])
        #expect(try dangling.wait(timeout: 10) == 1)
        #expect(dangling.stderr.contains("symbolic link"), "\(dangling.stderr)")
        #expect(inode(link)?.type == S_IFLNK)
        project.expectNothingLeft()
    }
}

// MARK: - The socket's ownership rules across users (issue 22)

/// What the mode bits would allow, the uid checks refuse: the server answers
/// only its own uid or root (SO_PEERCRED), and `connect` believes only a server
/// of its own uid or root.
@Suite struct SecondUserSocketTests {
    @Test(.enabled(if: SecondUser.available, SecondUser.unavailable))
    func serverRefusesControlFromAnotherUser() throws {
        let project = try Project(procfile: sleeper)
        chmod(project.dir, 0o755)
        let socket = project.path("s.sock")
        let swiftman = try project.start(["--socket", socket])
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let pid = try #require(swiftman.startedPid("web.1"))
        // The filesystem lets anyone connect: only the peer-uid check is left.
        #expect(chmod(socket, 0o666) == 0)
        for command in [["ps"], ["stop", "web"]] {
            let other = try asSecondUser(project, [Binary.path] + command + ["--socket", socket])
            let code = try other.wait(timeout: 30)
            #expect(code != 0, "\(command): exit \(code): \(other.stdout)")
            #expect(other.stderr.contains("permission denied: uid 65534 does not own this formation"),
                    "\(command): \(other.stderr)")
            #expect(!other.stdout.contains("web.1"), "\(command): \(other.stdout)")
        }
        // The instance was not stopped: same pid, running, nothing said about it.
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.code == 0, "\(ps.stderr)")
        let row = ps.stdout.split(separator: "\n").first { $0.hasPrefix("web.1 ") }.map(String.init) ?? ""
        #expect(row.contains(" \(pid) ") && row.contains("running"), "\(ps.stdout)")
        #expect(kill(pid, 0) == 0, "web.1 (pid \(pid)) is gone")
        swiftman.expectNoLine(from: "system", for: 0.5) { $0.hasPrefix("web.1 terminated") || $0.hasPrefix("web.1 exited") }
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }

    /// Root's `connect` to a formation run by 65534 (whose server would
    /// answer root): refused by the client, which never says it connected.
    @Test(.enabled(if: SecondUser.available, SecondUser.unavailable))
    func connectDoesNotBelieveAServerOfAnotherUser() throws {
        let project = try Project(procfile: sleeper)
        let socket = try sharedSocket(project)
        let foreign = try asSecondUser(project, [Binary.path, "start", "-f", project.path("Procfile"), "--no-timestamp",
                                                 "--no-color", "--socket", socket])
        try foreign.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        let client = try project.swiftman(["connect", "web", "--socket", socket], stdin: .terminal)
        // (waitFor throws at once when the client exits without connecting.)
        let connected = (try? client.waitFor("connected to", timeout: 20)) != nil
        #expect(!connected, "connect believed a server of uid 65534: \(client.stdout)")
        if connected { client.type(bytes: [0x1d]) }
        #expect(try client.wait(timeout: 20) == 1, "\(client.stdout)")
        #expect(client.stdout.contains("does not run as you"), "\(client.stdout)")
        #expect(!client.stdout.contains("connected to"), "\(client.stdout)")
        foreign.signal(SIGTERM)
        #expect(try foreign.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}

// MARK: - 14. Descriptors 0-2

@Suite struct StandardDescriptorTests {
    @Test func startWithStdoutClosedFailsLoudly() throws {
        let project = try Project(procfile: sleeper)
        let result = try shell(project, "exec \(quoted(Binary.path)) start --socket s.sock >&-")
        #expect(result.code == 1, "\(result.stderr)")
        #expect(result.stderr.contains("stdout"), "\(result.stderr)")
        #expect(inode(project.path("s.sock")) == nil)
        project.expectNothingLeft()
    }

    @Test func closedStdinAndStderrAreNotReusedForOurFiles() throws {
        let project = try Project(procfile: sleeper)
        let swiftman = try project.swiftman(["-c", "exec \"$0\" start --no-timestamp --no-color --socket s.sock <&- 2>&-", Binary.path],
                                            executable: "/bin/sh")
        try swiftman.waitFor(line: "port=5000 ps=web.1", from: "web.1")
        for fd in [0, 2] {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(swiftman.pid)/fd/\(fd)")
            #expect(target == "/dev/null", "fd \(fd) is \(target)")
        }
        let ps = try project.run(["ps", "--socket", project.path("s.sock")])
        #expect(ps.code == 0 && ps.stdout.contains("web.1"), "\(ps.stderr)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        project.expectNothingLeft()
    }
}

// MARK: - 16. `scale` never hands out a port above 65535

@Suite struct ScalePortTests {
    @Test func scalePastPort65535IsRefused() throws {
        let project = try Project(procfile: sleeper)
        let socket = project.path("s.sock")
        let swiftman = try project.start(["--socket", socket, "-p", "65535"])
        try swiftman.waitFor(line: "port=65535 ps=web.1", from: "web.1")
        let scaled = try project.run(["scale", "web=3", "--socket", socket])
        #expect(scaled.code == 1)
        #expect(scaled.stderr.contains("web.2 would get port 65536, above 65535"), "\(scaled.stderr)")
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.stdout.contains("web.1") && !ps.stdout.contains("web.2"), "\(ps.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait(timeout: 30) == 0)
        #expect(!swiftman.stdout.contains("65536"), "\(swiftman.stdout)")
        project.expectNothingLeft()
    }
}

// MARK: - 20 (check). One environment string over MAX_ARG_STRLEN

@Suite struct ExecLimitTests {
    @Test func checkAndStartNameTheVariableOverTheLimit() throws {
        let project = try Project(procfile: sleeper)
        try project.write(".env", "SMALL=1\nHUGE=" + String(repeating: "x", count: 140_000) + "\n")
        let check = try project.run(["check"])
        #expect(check.code == 1)
        #expect(check.stderr.contains("HUGE"), "\(check.stderr)")
        #expect(check.stderr.contains("131071") && check.stderr.contains("MAX_ARG_STRLEN"), "\(check.stderr)")
        #expect(!check.stderr.contains("SMALL"))
        let start = try project.swiftman(["start", "-f", project.path("Procfile"), "--socket", project.path("s.sock")])
        #expect(try start.wait(timeout: 10) == 1)
        #expect(start.stderr.contains("HUGE"), "\(start.stderr)")
        #expect(!start.stdout.contains("started with pid"))
        project.expectNothingLeft()
    }
}

/// A socket path in a directory every user may write (`shared/`, mode 0777,
/// under a traversable project directory): where a second user's formation
/// can be started and found.
private func sharedSocket(_ project: Project) throws -> String {
    let shared = project.path("shared")
    try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
    chmod(shared, 0o777)
    chmod(project.dir, 0o755)
    return shared + "/s.sock"
}
