import Glibc
import Foundation
import Testing

/// The child's shell ($$) lists its own descriptors; `ls` is a separate process,
/// so its directory handle does not show up.
private let listDescriptors = "web: ls /proc/$$/fd; sleep 300\n"

@Suite struct DescriptorTests {
    @Test func childrenGetOnlyStdinStdoutAndStderr() throws {
        let project = try Project(procfile: listDescriptors)
        let swiftman = try project.start()
        try swiftman.waitFor(line: "2", from: "web.1")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["0", "1", "2"])
    }

    @Test func descriptorsSwiftmanInheritedDoNotReachChildren() throws {
        let project = try Project(procfile: listDescriptors)
        // A shell opens fd 7 (without close-on-exec) and execs swiftman with it.
        let swiftman = try project.swiftman(
            ["-c", "exec 7</dev/null; exec \"$0\" \"$@\"", Binary.path,
             "start", "-f", project.path("Procfile"), "--no-color", "--no-timestamp"],
            executable: "/bin/sh")
        try swiftman.waitFor(line: "2", from: "web.1")
        #expect(FileManager.default.fileExists(atPath: "/proc/\(swiftman.pid)/fd/7"), "swiftman did not inherit fd 7")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        #expect(swiftman.messages(from: "web.1") == ["0", "1", "2"])
    }
}
