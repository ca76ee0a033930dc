import Foundation
import Glibc
import Testing

/// `--watch`: real files, the real binary, inotify. Every wait reads output
/// (no sleeps); absences are checked over a window with `expectAbsent`.
@Suite struct WatchTests {
    let server = "python3 -u \(resource("watched.py"))"

    func project(_ procfile: String) throws -> Project {
        let project = try Project(procfile: procfile)
        try FileManager.default.createDirectory(atPath: project.path("lib"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: project.path("build"), withIntermediateDirectories: true)
        try project.write("app.py", "print('app')\n")
        try project.write(".gitignore", "build/\n")
        return project
    }

    /// SIGTERM: swiftman exits 0 and leaves nothing behind.
    func stop(_ swiftman: Swiftman, _ project: Project, sourceLocation: SourceLocation = #_sourceLocation) throws {
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0, sourceLocation: sourceLocation)
        project.expectNothingLeft(sourceLocation: sourceLocation)
    }

    /// `start --watch …` on a project whose web is the watched.py server, its first `up` line read.
    func startServer(_ arguments: [String]) throws -> (Project, Swiftman) {
        let project = try project("web: \(server)\n")
        let swiftman = try project.start(arguments)
        try swiftman.waitFor(linePrefix: "up ", from: "web.1")
        return (project, swiftman)
    }

    func changedLines(_ swiftman: Swiftman, _ type: String) -> [String] {
        swiftman.messages(from: "system").filter { $0.hasPrefix("\(type): ") && $0.contains(" changed (") }
    }

    @Test func aChangeToAWatchedFileRestartsOnlyThatType() throws {
        let project = try project("web: \(server)\nworker: sleep 300\n")
        let swiftman = try project.start(["--watch", "web=**/*.py", "--watch-delay", "0.1"])
        let first = try swiftman.waitFor(linePrefix: "up ", from: "web.1")
        let worker = try #require(swiftman.startedPid("worker.1"))
        try project.write("lib/db.py", "x = 1\n")
        try swiftman.waitFor("web: 1 file changed (lib/db.py): restarting")
        let oldPid = first.split(separator: " ")[1]
        try swiftman.waitFor("a new web") { messages(from: "web.1", in: $0).filter { $0.hasPrefix("up ") }.count == 2 }
        let lines = swiftman.messages(from: "web.1")
        // The old group stopped gracefully (and was drained) before the new one started.
        #expect(lines == [first, "stopping \(oldPid)", lines[2]])
        #expect(!lines[2].hasPrefix("up \(oldPid) "))
        #expect(swiftman.startedPid("worker.1") == worker)
        // An unwatched file and a .gitignored directory restart nothing.
        try project.write("README.md", "hello\n")
        try project.write("build/out.py", "y = 2\n")
        try project.write("lib/db.py.swp", "swap\n")
        swiftman.expectAbsent("a second change", for: 1.5) { text in
            messages(from: "system", in: text).filter { $0.contains(" changed (") }.count > 1
        }
        try stop(swiftman, project)
    }

    @Test func writesInQuickSuccessionGiveOneRestart() throws {
        let (project, swiftman) = try startServer(["--watch", "web", "--watch-delay", "0.5"])
        for i in 0..<5 { try project.write("lib/db.py", "x = \(i)\n") }
        try swiftman.waitFor("web: 1 file changed (lib/db.py): restarting")
        try swiftman.waitFor("a new web") { messages(from: "web.1", in: $0).filter { $0.hasPrefix("up ") }.count == 2 }
        swiftman.expectAbsent("a second restart", for: 1.5) { messages(from: "system", in: $0).filter { $0.contains(" changed (") }.count > 1 }
        try stop(swiftman, project)
    }

    @Test func aCrashedTypeStartsAgainAfterAChange() throws {
        let project = try project("web: python3 -u app.py\nother: sleep 300\n")
        try project.write("app.py", "import sys\nprint('broken')\nsys.exit(3)\n")
        let swiftman = try project.start(["--watch", "web=*.py", "--restart", "never", "--watch-delay", "0.1"])
        try swiftman.waitFor("web.1 exited with code 3: waiting for a change to its files")
        try project.write("app.py", "import time\nprint('fixed', flush=True)\ntime.sleep(300)\n")
        try swiftman.waitFor(line: "fixed", from: "web.1")
        #expect(swiftman.messages(from: "system").contains("web: 1 file changed (app.py): starting"))
        try stop(swiftman, project)
    }

    @Test func aDependentRestartsOnceItsDependencyIsReadyAgain() throws {
        let project = try project("db: \(server)\nweb: echo web up; exec sleep 300\n")
        let swiftman = try project.start(["--watch", "db=version.txt", "--ready", "db=line:up", "--after", "web=db",
                                          "--watch-delay", "0.1"])
        try swiftman.waitFor(line: "web up", from: "web.1")
        let web = try #require(swiftman.startedPid("web.1"))
        try project.write("version.txt", "2\n")
        try swiftman.waitFor(linePrefix: "up ", from: "db.1")
        try swiftman.waitFor("db is ready again: restarting web.1")
        try swiftman.waitFor("web's second run") { messages(from: "web.1", in: $0).count == 2 }
        #expect(swiftman.startedPid("web.1") != web)
        let system = swiftman.messages(from: "system")
        let readyAgain = try #require(system.lastIndex { $0.hasPrefix("db.1 ready after") })
        let webRestart = try #require(system.firstIndex(of: "db is ready again: restarting web.1"))
        #expect(readyAgain < webRestart)
        try stop(swiftman, project)
    }

    @Test func aDirectoryCreatedAfterStartIsWatched() throws {
        let (project, swiftman) = try startServer(["--watch", "web=**/*.py", "--watch-delay", "0.1"])
        try FileManager.default.createDirectory(atPath: project.path("lib/new/deeper"), withIntermediateDirectories: true)
        try project.write("lib/new/deeper/m.py", "z = 1\n")
        try swiftman.waitFor("lib/new/deeper/m.py")
        try swiftman.waitFor("a new web") { messages(from: "web.1", in: $0).filter { $0.hasPrefix("up ") }.count == 2 }
        // Once the first restart has settled, a later write in it restarts again.
        try project.write("lib/new/deeper/m.py", "z = 2\n")
        try swiftman.waitFor("a third web") { messages(from: "web.1", in: $0).filter { $0.hasPrefix("up ") }.count == 3 }
        // A deleted directory is dropped: deleting it is a change, nothing breaks.
        // (Well after the last start: a third change right after a restart
        // would look like a loop; see aProgramWritingItsOwnLogDoesNotLoop.)
        swiftman.keepReading(for: 1.5)
        try FileManager.default.removeItem(atPath: project.path("lib/new"))
        try swiftman.waitFor("a fourth web") { messages(from: "web.1", in: $0).filter { $0.hasPrefix("up ") }.count == 4 }
        try stop(swiftman, project)
    }

    @Test func aProgramWritingItsOwnLogDoesNotLoop() throws {
        // It appends to log/web.log inside the watched tree at every start;
        // the file closes when it is stopped: each restart causes the next.
        let project = try project("web: \(server) >> log/web.log; echo done\n")
        try FileManager.default.createDirectory(atPath: project.path("log"), withIntermediateDirectories: true)
        let swiftman = try project.start(["--watch", "web", "--watch-delay", "0.1"])
        try swiftman.waitFor("a loop; from now on only changes from outside restart web")
        #expect(swiftman.messages(from: "system").contains { $0.hasPrefix("web: changed by itself 3 times in a row while starting or stopping (log/web.log") })
        let changes = changedLines(swiftman, "web").count
        swiftman.expectAbsent("another restart", for: 2) { text in
            messages(from: "system", in: text).filter { $0.contains(" changed (") }.count > changes
        }
        // A change from outside (well after its last start) restarts it again.
        try project.write("app.py", "print('edited')\n")
        try swiftman.waitFor("web: 1 file changed (app.py): restarting")
        // …and its log closing as it stops does not start the loop again.
        try swiftman.waitFor("web.1 started again") { $0.components(separatedBy: "web.1 started with pid").count == 5 }
        swiftman.expectAbsent("a restart after the edit's", for: 2) { text in
            messages(from: "system", in: text).filter { $0.contains(" changed (") }.count > changes + 1
        }
        #expect(swiftman.messages(from: "system").filter { $0.contains("a loop") }.count == 1)
        try stop(swiftman, project)
    }

    @Test func theWatchLimitIsAClearErrorAtStart() throws {
        let project = try project("web: sleep 300\n")
        let result = try project.run(["start", "-f", project.path("Procfile"), "--watch", "web"],
                                     environment: ["SWIFTMAN_TEST_INOTIFY_WATCHES": "1"])
        #expect(result.code != 0)
        // The top, lib (build is .gitignored): two directories.
        #expect(result.stderr.contains("watching needs 2 directories, but fs.inotify.max_user_watches is 1"))
        #expect(!result.stdout.contains("started"))
        project.expectNothingLeft()
    }

    @Test func watchNeedsAKnownType() throws {
        let project = try project("web: sleep 300\n")
        let result = try project.run(["start", "-f", project.path("Procfile"), "--watch", "api=*.py"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("--watch: unknown process type \"api\""))
        let outside = try project.run(["start", "-f", project.path("Procfile"), "--watch", "web=../x"])
        #expect(outside.stderr.contains("leaves the Procfile's directory"))
        project.expectNothingLeft()
    }

    @Test func psAndTheJSONLogShowChangeRestarts() throws {
        let project = try project("web: \(server)\nother: python3 -u -c 'import sys; sys.exit(4)'\n")
        let socket = project.path("control.sock")
        let swiftman = try project.start(["--watch", "web=*.py", "--watch", "other=other.txt", "--restart", "other=never",
                                          "--watch-delay", "0.1", "--log-format", "json", "--socket", socket])
        try swiftman.waitFor("web up") { $0.contains("\"up ") }
        try swiftman.waitFor("other waiting") { $0.contains("waiting for a change to its files") }
        try project.write("app.py", "print('v2')\n")
        try swiftman.waitFor("the changed event") { $0.contains("\"event\":\"changed\"") }
        let event = try #require(swiftman.stdout.split(separator: "\n").first { $0.contains("\"event\":\"changed\"") })
        #expect(event.contains("\"type\":\"web\"") && event.contains("\"count\":1") && event.contains("\"paths\":[\"app.py\"]"))
        try swiftman.waitFor("a new web") { $0.components(separatedBy: "\"up ").count == 3 }
        let ps = try project.run(["ps", "--socket", socket])
        let rows = ps.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first?.last == "CHANGED", "\(ps.stdout)")
        #expect(rows.first { $0.first == "web.1" }?.last == "1", "\(ps.stdout)")
        #expect(ps.stdout.contains("waiting for a change (exit 4)"), "\(ps.stdout)")
        let json = try project.run(["ps", "--json", "--socket", socket])
        #expect(json.stdout.contains("\"name\":\"web.1\"") && json.stdout.contains("\"change_restarts\":1"), "\(json.stdout)")
        #expect(json.stdout.contains("\"state\":\"waiting for a change\""), "\(json.stdout)")
        try stop(swiftman, project)
    }

    @Test func checkCountsTheFilesAndExportSaysWatchIsNotCarried() throws {
        let project = try project("web: \(server)\nworker: sleep 300\n")
        try project.write("lib/db.py", "x = 1\n")
        try project.write("build/out.py", "ignored\n")
        let check = try project.run(["check", "-f", project.path("Procfile"), "--watch", "web=**/*.py", "--watch", "worker=lib"])
        #expect(check.code == 0, "\(check.stderr)")
        #expect(check.stderr.contains("watch web: **/*.py (2 files now)"), "\(check.stderr)")
        #expect(check.stderr.contains("watch worker: lib (1 file now)"), "\(check.stderr)")
        #expect(check.stderr.contains("watch: 2 directories to watch; ignored: .git/, editor files, .gitignore"), "\(check.stderr)")
        let out = project.path("exported")
        let export = try project.run(["export", "supervisord", out, "-f", project.path("Procfile"), "--watch", "web"])
        #expect(export.code == 0, "\(export.stderr)")
        let conf = try String(contentsOfFile: try #require(export.stdout.split(separator: "\n").first.map(String.init)), encoding: .utf8)
        #expect(conf.contains("; --watch web is not carried: restarting on change is a development feature of `swiftman start`."))
        project.expectNothingLeft()
    }

    @Test func eachTypeRestartsOnlyForItsOwnFilesEveryTime() throws {
        let project = try project("web: \(server)\nworker: \(server)\n")
        for dir in ["web", "jobs", "shared"] {
            try FileManager.default.createDirectory(atPath: project.path(dir), withIntermediateDirectories: true)
        }
        let swiftman = try project.start(["--watch", "web=web,shared/*.py", "--watch", "worker=jobs/**/*.py",
                                          "--watch-delay", "0.1"])
        func ups(_ name: String) -> Int { swiftman.messages(from: name).filter { $0.hasPrefix("up ") }.count }
        try swiftman.waitFor("both up") { messages(from: "web.1", in: $0).count == 1 && messages(from: "worker.1", in: $0).count == 1 }
        for round in 1...3 {
            // (Each edit well after the type's last start: a change from outside.)
            swiftman.keepReading(for: 1.2)
            try project.write(round == 2 ? "shared/util.py" : "web/app.py", "v = \(round)\n")
            try swiftman.waitFor("web's run \(round + 1)") { _ in ups("web.1") == round + 1 }
            swiftman.keepReading(for: 1.2)
            try project.write("jobs/task.py", "v = \(round)\n")
            try swiftman.waitFor("worker's run \(round + 1)") { _ in ups("worker.1") == round + 1 }
            #expect(ups("web.1") == round + 1, "round \(round)")
        }
        #expect(changedLines(swiftman, "web").count == 3 && changedLines(swiftman, "worker").count == 3)
        // A file worker's pattern does not name restarts nothing; a shared one, web only.
        try project.write("jobs/notes.txt", "x\n")
        try project.write("shared/x.py", "x = 1\n")
        try swiftman.waitFor("web's run 5") { _ in ups("web.1") == 5 }
        swiftman.expectAbsent("a worker restart", for: 1) { _ in ups("worker.1") > 4 }
        try stop(swiftman, project)
    }
}
