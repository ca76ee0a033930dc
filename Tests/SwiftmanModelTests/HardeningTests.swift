// Unit tests for issue 13 ("Hardening"): the linear table behind `check`, the
// exec limit, ports from `scale`, and the control socket's lock and directory.
import Glibc
import CSwiftman
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

private func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A fresh private directory under /tmp, removed with its content.
private final class TempDir {
    let path: String
    init() throws {
        var template = Array("/tmp/smh-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Diagnostic("mkdtemp", errnoDescription()) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = p
    }
    deinit {
        // Only what these tests create: files and one level of directories.
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let full = path + "/" + name
                if unlink(full) != 0 { rmdir(full) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}

@Suite struct TextTableTests {
    @Test func alignsEveryPaddedColumnToItsWidestCell() {
        let text = TextTable.render([["a", "×1", "port 5000", "cmd a"], ["long-name", "×10", "port 5100-5109", "b"]],
                                   indent: "  ", padded: 3)
        #expect(text == """
              a          ×1   port 5000       cmd a
              long-name  ×10  port 5100-5109  b

            """)
    }

    /// `check` rendered its table in quadratic time (each row recomputed every
    /// column's width): 10k types took 9.7 s. 100k rows must take a moment; the
    /// bound is generous so a loaded machine cannot break it, while quadratic
    /// would need tens of minutes.
    @Test func rendersAHundredThousandRowsInLinearTime() {
        let rows = (0..<100_000).map { ["t\($0)", "×1", "port \($0)", "echo \($0)"] }
        let started = seconds()
        let text = TextTable.render(rows, indent: "  ", padded: 3)
        #expect(seconds() - started < 30)
        #expect(text.utf8.split(separator: UInt8(ascii: "\n")).count == 100_000)
    }
}

@Suite struct ExecLimitsTests {
    @Test func oneEnvironmentStringMayHoldAtMost131071Bytes() {
        let fits = String(repeating: "x", count: 131_071 - "K=".count)
        #expect(ExecLimits.environmentProblems(["K": fits], source: ".env").isEmpty)
        let problems = ExecLimits.environmentProblems(["K": fits + "x", "OK": "1"], source: ".env")
        #expect(problems.count == 1)
        #expect(problems.first?.description.contains(".env: K: \"K=…\" is 131072 bytes") == true, "\(problems)")
        #expect(problems.first?.description.contains("MAX_ARG_STRLEN") == true)
    }
}

@Suite struct ScalePortPlanTests {
    private let procfile = try! Procfile.parse(Array("web: a\nworker: b\n".utf8), path: "Procfile")

    @Test func thePortPlanNamesTheFirstInstanceWithoutAPort() {
        let ports = PortPlan(base: 65535)
        #expect(ports.problem(type: "web", typeIndex: 0, count: 1) == nil)
        #expect(ports.problem(type: "web", typeIndex: 0, count: 0) == nil)
        #expect(ports.problem(type: "web", typeIndex: 0, count: 3) == "web.2 would get port 65536, above 65535")
        // worker's slot (65635) is past the end already: not even one.
        #expect(ports.problem(type: "worker", typeIndex: 1, count: 1) == "worker.1 would get port 65635, above 65535")
        #expect(ports.maxInstances(typeIndex: 0) == 1 && ports.maxInstances(typeIndex: 1) == 0)
    }

    @Test func startStillNamesTheFirstInstanceWithoutAPort() {
        #expect(throws: Diagnostic("--formation", "web.37 would get port 65536, above 65535")) {
            try FormationPlan(procfile: procfile, formation: Formation(counts: ["web": 40]), ports: PortPlan(base: 65500))
        }
    }
}

@Suite struct ControlSocketSafetyTests {
    @Test func emptyPathIsRefused() {
        #expect(throws: Diagnostic.self) { try ControlSocketSafety.validateExplicit("") }
        #expect(throws: Diagnostic.self) { try ControlSocketSafety.validateExplicit("/tmp/" + String(repeating: "s", count: 110)) }
    }

    @Test func privateDirectoryIsCreatedOrChecked() throws {
        let tmp = try TempDir()
        let dir = tmp.path + "/control"
        try ControlSocketSafety.preparePrivateDirectory(dir)
        var st = stat()
        #expect(lstat(dir, &st) == 0 && st.st_mode & 0o777 == 0o700)
        try ControlSocketSafety.preparePrivateDirectory(dir)  // again: fine

        chmod(dir, 0o755)
        #expect(throws: Diagnostic.self) { try ControlSocketSafety.preparePrivateDirectory(dir) }
        let link = tmp.path + "/link"
        symlink(dir, link)
        chmod(dir, 0o700)
        do {
            try ControlSocketSafety.preparePrivateDirectory(link)
            Issue.record("a symlinked control directory was accepted")
        } catch {
            #expect(error.message.contains("symbolic link"), "\(error)")
        }
    }

    @Test func lockIsExclusiveAndRemovedOnRelease() throws {
        let tmp = try TempDir()
        let path = tmp.path + "/s.sock.lock"
        let first = try #require(try SocketLock.acquire(path))
        #expect(try SocketLock.acquire(path) == nil, "two holders of one lock")
        first.release()
        #expect(access(path, F_OK) != 0, "the lock file outlived its holder")
        let second = try #require(try SocketLock.acquire(path))
        second.release()
    }

    /// One formation per socket, atomically: while a server holds the socket,
    /// another one cannot take it, even when the file at the path looks stale
    /// (a refused socket), which is exactly the window in which two `start`s
    /// used to both unlink and bind.
    @Test func aSecondServerCannotTakeAHeldSocketEvenWhenItLooksStale() throws {
        let tmp = try TempDir()
        let path = tmp.path + "/s.sock"
        let first = try ControlServer(path: path, defaultDirectory: nil)
        unlink(path)
        let stale = sm_unix_listen(path, 1)
        close(stale)  // a socket file nobody listens on: ECONNREFUSED
        #expect(ControlSocketSafety.probe(path) == .stale)
        do {
            _ = try ControlServer(path: path, defaultDirectory: nil)
            Issue.record("a second server took a socket whose lock is held")
        } catch {
            #expect(error.message.contains("holds this control socket"), "\(error)")
        }
        first.close()
        #expect(access(path + ".lock", F_OK) != 0)
        // The stale file was not first's: it stays for the next owner to replace.
        #expect(ControlSocketSafety.probe(path) == .stale)
        let next = try ControlServer(path: path, defaultDirectory: nil)
        next.close()
        #expect(ControlSocketSafety.probe(path) == .absent)
    }

    @Test func onlyARefusedSocketIsStale() throws {
        let tmp = try TempDir()
        let path = tmp.path + "/s.sock"
        #expect(ControlSocketSafety.probe(path) == .absent)
        let listening = sm_unix_listen(path, 4)
        defer { close(listening) }
        // Accepts (backlog) but never answers: live, like a stopped formation.
        guard case .live = ControlSocketSafety.probe(path, timeoutMs: 200) else {
            Issue.record("a silent listener was not taken for live")
            return
        }
        let file = tmp.path + "/plain"
        close(open(file, O_CREAT | O_WRONLY, 0o600))
        #expect(ControlSocketSafety.probe(file) == .notASocket)
        symlink(path, tmp.path + "/link")
        #expect(ControlSocketSafety.probe(tmp.path + "/link") == .symlink)
    }
}
