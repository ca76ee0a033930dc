// Busy ports said plainly: before an instance starts, a PORT already bound on
// this machine (by another process, on any address) is one `system` line naming
// the holder; `check` prints the same note. A warning only: the instance starts.
import Glibc
import Foundation
import Testing

@Suite(.serialized) struct BusyPortTests {
    /// A stale server on 0.0.0.0 holds web's port: one line names its pid and
    /// command, before web.1's `started`; web still starts (it may never bind).
    @Test func aBusyPortIsSaidWithThePidAndCommandOfItsHolder() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            web: echo "web up"; exec sleep 1000
            worker: echo "worker up"; exec sleep 1000
            """)
        let stale = try project.staleListener(port: base, host: "0.0.0.0")
        defer { stopListener(stale) }
        let swiftman = try project.start(["-p", "\(base)"])
        try swiftman.waitFor(line: "web up", from: "web.1")
        try swiftman.waitFor(line: "worker up", from: "worker.1")
        let system = swiftman.messages(from: "system")
        let note = "web.1: port \(base) is already in use by pid \(stale.processIdentifier) (python3 \(resource("listen.py")) 0.0.0.0 \(base))"
        let noteAt = system.firstIndex(of: note)
        let startedAt = system.firstIndex { $0.hasPrefix("web.1 started with pid ") }
        #expect(noteAt != nil && startedAt != nil && noteAt! < startedAt!, "\(system)")
        #expect(system.filter { $0.contains("already in use") }.count == 1, "worker's port is free: \(system)")

        let check = try project.run(["check", "-f", project.path("Procfile"), "-p", "\(base)"])
        #expect(check.code == 0, "\(check.stderr)")
        #expect(check.stderr.split(separator: "\n").map(String.init).contains(note), "\(check.stderr)")

        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        stopListener(stale)
        project.expectNothingLeft()
    }

    /// In a crash loop on a busy port (the app's "Address already in use"), the
    /// note is said once, not at every restart.
    @Test func aCrashLoopOnABusyPortIsSaidOnce() throws {
        let base = freeBasePort(types: 1)
        let project = try Project(procfile: "web: exec python3 \(resource("listen.py")) 127.0.0.1 $PORT\n")
        let stale = try project.staleListener(port: base)
        defer { stopListener(stale) }
        let swiftman = try project.start(["-p", "\(base)", "--restart-limit", "2"])
        #expect(try swiftman.wait() == 1)
        let system = swiftman.messages(from: "system")
        #expect(system.filter { $0.hasPrefix("web.1 started") }.count == 3, "\(system)")
        #expect(system.filter { $0.contains("is already in use by pid \(stale.processIdentifier) ") }.count == 1, "\(system)")
        stopListener(stale)
        project.expectNothingLeft()
    }
}
