// The `port` ready check looks at who listens (the kernel's socket tables and
// /proc), not whether something answers: a listener on either loopback or on
// any address passes when the instance's own process group holds it; another
// process holding the port is named and does not make the instance ready.
import Glibc
import Foundation
import Testing

/// Whether a socket can listen on ::1 here (IPv6 may be off in a container).
private let hasIPv6Loopback: Bool = {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in6()
    addr.sin6_family = sa_family_t(AF_INET6)
    addr.sin6_addr.__in6_u.__u6_addr8.15 = 1
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
    }
}()

extension Project {
    /// `listen.py HOST PORT` started by the test, outside swiftman (its own
    /// process group), tagged so the project's cleanup ends it whatever happens.
    func staleListener(port: Int, host: String = "127.0.0.1") throws -> Foundation.Process {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", resource("listen.py"), host, String(port)]
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFTMAN_TEST_TAG": tag]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        guard eventually({ !tcpPortIsFree(port) }) else { throw HarnessError("the stale listener never listened") }
        return process
    }
}

/// SIGKILL: the test process blocks signals, and Foundation's children inherit that.
func stopListener(_ process: Foundation.Process) {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
}

@Suite(.serialized) struct PortCheckTests {
    /// A dev server listening only on [::1] (or on ::, 0.0.0.0, 127.0.0.1) is
    /// ready, and its dependent starts after it.
    @Test(.enabled(if: hasIPv6Loopback, "IPv6 loopback is not available here: skipped"),
          arguments: ["::1", "::", "127.0.0.1", "0.0.0.0"])
    func aListenerOnEitherLoopbackOrAnyAddressIsReady(host: String) throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            db: exec python3 \(resource("listen.py")) \(host) $PORT
            web: echo "web up"; exec sleep 1000
            """)
        let swiftman = try project.start(["-p", "\(base)", "--ready", "db=port", "--after", "web=db"])
        try swiftman.waitFor(line: "web up", from: "web.1")
        let system = swiftman.messages(from: "system")
        #expect(system.contains { $0.hasPrefix("db.1 ready after ") && $0.hasSuffix("(port \(base))") }, "\(system)")
        #expect(!system.contains { $0.contains("is held by") }, "\(system)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// A stale server from another process group holds db's port; db crashes
    /// with "Address already in use". db is never ready and web never starts.
    @Test func aStaleListenerOfAnotherGroupDoesNotMakeACrashingInstanceReady() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            db: exec python3 \(resource("listen.py")) 127.0.0.1 $PORT
            web: echo "web up"; exec sleep 1000
            """)
        let stale = try project.staleListener(port: base)
        defer { stopListener(stale) }
        let swiftman = try project.start(["-p", "\(base)", "--ready", "db=port", "--after", "web=db"])
        #expect(try swiftman.wait() == 1)
        let system = swiftman.messages(from: "system")
        #expect(!system.contains { $0.hasPrefix("db.1 ready") }, "\(system)")
        #expect(!system.contains { $0.hasPrefix("web.1 started") }, "\(system)")
        #expect(system.contains("db.1 exited with code 1 before it was ready; web waits for it: stopping"), "\(system)")
        #expect(swiftman.messages(from: "db.1").contains { $0.contains("Address already in use") }, "\(swiftman.stdout)")
        stopListener(stale)
        project.expectNothingLeft()
    }

    /// While db runs without listening, the stale server is named once (pid and
    /// command) and db is still not ready when the ready timeout ends.
    @Test func theProcessHoldingThePortIsNamedAndTheCheckKeepsWaiting() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            db: echo "db never listens"; exec sleep 1000
            web: echo "web up"; exec sleep 1000
            """)
        let stale = try project.staleListener(port: base)
        defer { stopListener(stale) }
        let swiftman = try project.start(["-p", "\(base)", "--ready", "db=port", "--after", "web=db", "--ready-timeout", "1"])
        #expect(try swiftman.wait() == 1)
        let system = swiftman.messages(from: "system")
        // (python3, or python3.N under a version manager's shim)
        let held = system.filter {
            $0.hasPrefix("port \(base) is held by pid \(stale.processIdentifier) (python3") && $0.hasSuffix("), not by db.1")
        }
        #expect(held.count == 1, "\(system)")
        #expect(system.contains("db.1 was not ready within 1s (port \(base)); web waits for it: stopping"), "\(system)")
        #expect(!system.contains { $0.hasPrefix("web.1 started") }, "\(system)")
        stopListener(stale)
        project.expectNothingLeft()
    }
}
