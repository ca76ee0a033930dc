// `start --log-dir DIR`: each instance's lines, as it printed them, also go to
// DIR/TYPE.N.log, rotated at a size with one old file kept.
import Glibc
import Foundation
import Testing

@Suite struct LogDirTests {
    private func text(_ path: String) -> String? { readAll(path).map { String(decoding: $0, as: UTF8.self) } }

    /// Two instances print known lines (and a last line without a newline);
    /// after the formation stops each file holds exactly its instance's lines,
    /// without prefix or colour; the directory (and its parent) is created.
    @Test func eachInstanceGetsItsOwnFile() throws {
        let project = try Project(procfile: """
            app: for i in 1 2 3; do echo "$PS line $i"; done; printf "$PS last"; exec sleep 1000
            """)
        let dir = project.path("logs/nested")
        let swiftman = try project.start(["-m", "app=2", "--log-dir", dir], environment: ["FORCE_COLOR": "1"])
        for name in ["app.1", "app.2"] { try swiftman.waitFor(line: "\(name) last", from: name) }
        swiftman.signal(SIGINT)
        _ = try swiftman.wait()
        for name in ["app.1", "app.2"] {
            #expect(text(dir + "/\(name).log") == "\(name) line 1\n\(name) line 2\n\(name) line 3\n\(name) last\n")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["app.1.log", "app.2.log"])
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/app.1.log")[.posixPermissions] as? Int
        #expect(mode == 0o644)
        project.expectNothingLeft()

        // A second run (SWIFTMAN_LOG_DIR this time) appends.
        let again = try project.start(["-m", "app=1"], environment: ["SWIFTMAN_LOG_DIR": dir])
        try again.waitFor(line: "app.1 last", from: "app.1")
        again.signal(SIGINT)
        _ = try again.wait()
        #expect(text(dir + "/app.1.log") == String(repeating: "app.1 line 1\napp.1 line 2\napp.1 line 3\napp.1 last\n", count: 2))
        project.expectNothingLeft()
    }

    /// With a small rotation size (SWIFTMAN_TEST_LOG_ROTATE_BYTES, tests
    /// only), a file that would grow past it becomes TYPE.N.log.1 (the older
    /// one replaced) and a new file begins: the two files are the newest lines,
    /// in order, each within the size.
    @Test func filesRotateAtTheSize() throws {
        let project = try Project(procfile: """
            app: for i in $(seq 1 40); do echo "line $i"; sleep 0.01; done; echo done; exec sleep 1000
            """)
        let dir = project.path("logs")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("an old rotated file\n".utf8).write(to: URL(fileURLWithPath: dir + "/app.1.log.1"))
        let swiftman = try project.start(["--log-dir", dir], environment: ["SWIFTMAN_TEST_LOG_ROTATE_BYTES": "60"])
        try swiftman.waitFor(line: "done", from: "app.1")
        swiftman.signal(SIGINT)
        _ = try swiftman.wait()
        let current = try #require(text(dir + "/app.1.log"))
        let old = try #require(text(dir + "/app.1.log.1"))
        let all = (1...40).map { "line \($0)\n" }.joined() + "done\n"
        #expect(!old.isEmpty && !current.isEmpty)
        #expect(old.utf8.count <= 60 && current.utf8.count <= 60, "\(old.utf8.count) \(current.utf8.count)")
        #expect(all.hasSuffix(old + current), "old: \(old) current: \(current)")
        #expect(current.hasSuffix("done\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["app.1.log", "app.1.log.1"])
        project.expectNothingLeft()
    }

    /// A directory that cannot be created, or a file that cannot be opened, is
    /// an error at start naming the flag (or variable) and the path; nothing runs.
    @Test func unusableDirectoryIsAnErrorAtStart() throws {
        let project = try Project(procfile: "app: exec sleep 1000\n")
        try project.write("afile", "")
        let notADirectory = try project.run(["start", "-f", project.path("Procfile"), "--log-dir", project.path("afile/logs")])
        #expect(notADirectory.code == 1)
        #expect(notADirectory.stderr.contains("--log-dir: cannot create directory \(project.path("afile/logs")): \(project.path("afile")) is not a directory"),
                "\(notADirectory.stderr)")
        let viaEnvironment = try project.run(["start", "-f", project.path("Procfile")], environment: ["SWIFTMAN_LOG_DIR": project.path("afile")])
        #expect(viaEnvironment.code == 1)
        #expect(viaEnvironment.stderr.contains("SWIFTMAN_LOG_DIR:"), "\(viaEnvironment.stderr)")
        try FileManager.default.createDirectory(atPath: project.path("logs/app.1.log"), withIntermediateDirectories: true)
        let cannotOpen = try project.run(["start", "-f", project.path("Procfile"), "--log-dir", project.path("logs")])
        #expect(cannotOpen.code == 1)
        #expect(cannotOpen.stderr.contains("--log-dir: cannot open \(project.path("logs/app.1.log")): Is a directory"), "\(cannotOpen.stderr)")
        project.expectNothingLeft()
    }
}
