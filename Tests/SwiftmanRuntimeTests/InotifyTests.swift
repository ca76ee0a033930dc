// inotify and directory listing as typed values, on a real temporary tree.
import Glibc
import Testing
import SwiftmanModel
import SwiftmanPlatform
@testable import SwiftmanRuntime

@Suite struct InotifyTests {
    /// A fresh directory under /tmp, removed by the caller (`rm -r` through the shell is not needed: it is small).
    func temporaryDirectory() throws -> String {
        var template = Array("/tmp/swiftman-inotify-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Errno.current }
        return String(cString: made)
    }

    func removeTree(_ path: String) {
        for entry in (try? FileSystem.entries(of: path)) ?? [] {
            let child = path + "/" + entry.name
            if entry.isDirectory { removeTree(child) } else { unlink(child) }
        }
        rmdir(path)
    }

    @Test func listsEntriesAndReadsEventsWithoutBlocking() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        try FileSystem.makeDirectory(dir + "/sub", permissions: 0o700)
        try FileSystem.write(Array("x".utf8), to: dir + "/a.py")
        let entries = try FileSystem.entries(of: dir).sorted { $0.name < $1.name }
        #expect(entries.map(\.name) == ["a.py", "sub"] && entries.map(\.isDirectory) == [false, true])

        let inotify = try Inotify()
        let watch = try inotify.add(directory: dir)
        #expect(try inotify.read().isEmpty)                   // nothing yet: it does not block
        try FileSystem.write(Array("y".utf8), to: dir + "/a.py")
        try FileSystem.makeDirectory(dir + "/new", permissions: 0o700)
        let events = try inotify.read()
        #expect(events.contains { $0.watch == watch && $0.name == "a.py" && $0.mask.contains(.closeWrite) })
        #expect(events.contains { $0.name == "new" && $0.mask.contains(.create) && $0.mask.contains(.isDirectory) })
        #expect(throws: Errno.self) { try inotify.add(directory: dir + "/a.py") }   // only directories
    }

    @Test func theWatchTreeSkipsIgnoredAndUnreachableDirectories() throws {
        let dir = try temporaryDirectory()
        defer { removeTree(dir) }
        for sub in ["src", "src/deep", "lib", ".git", "build"] { try FileSystem.makeDirectory(dir + "/" + sub, permissions: 0o700) }
        for file in ["src/a.py", "src/deep/b.py", "lib/c.py", "build/d.py", "top.py"] { try FileSystem.write([], to: dir + "/" + file) }
        let matcher = WatchMatcher(watches: [(type: "web", patterns: ["src"]), (type: "all", patterns: ["**/*.py"])],
                                   ignores: IgnoreRules(gitignore: "build/\n"))
        let directories = WatchSource.directories(under: "", root: dir, matcher: matcher)
        #expect(Set(directories) == ["", "src", "src/deep", "lib"])
        let tree = WatchTree.scan(root: dir, matcher: matcher)
        #expect(tree.directories == 4)
        #expect(tree.files == ["web": 2, "all": 4])
    }
}
