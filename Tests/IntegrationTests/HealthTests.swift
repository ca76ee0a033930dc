// `--health TYPE=CHECK` against a real server (Python's http.server): checks
// every interval once ready; failures in a row restart the instance.
import Glibc
import Testing

@Suite struct HealthTests {
    /// /up answers 200 three times, then 500: after two 500s in a row web.1 is
    /// restarted (one line naming the check and the last failure).
    @Test func anInstanceThatTurnsUnhealthyIsRestarted() throws {
        let base = freeBasePort(types: 1)
        let project = try Project(procfile: "web: exec python3 \(resource("http_up.py")) $PORT 500after3\n")
        let swiftman = try project.start(["-p", "\(base)", "--ready", "web=http:/up", "--health", "web=http:/up",
                                          "--health-interval", "200ms", "--health-retries", "2"])
        try swiftman.waitFor("the unhealthy line") { _ in
            swiftman.messages(from: "system").contains("web.1 unhealthy (http:/up: 500, 2 times): restarting")
        }
        try swiftman.waitFor("web.1 started a second time") { _ in
            swiftman.messages(from: "system").filter { $0.hasPrefix("web.1 started with pid ") }.count == 2
        }
        let web = swiftman.messages(from: "web.1").filter { $0.hasPrefix("GET /up") }
        #expect(web.prefix(5) == ["GET /up 200", "GET /up 200", "GET /up 200", "GET /up 500", "GET /up 500"], "\(web)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// A healthy server is checked again and again and never restarted; `ps`
    /// shows it healthy.
    @Test func aHealthyInstanceIsNeverRestarted() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            web: exec python3 \(resource("http_up.py")) $PORT 503x0
            worker: exec sleep 1000
            """)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["-p", "\(base)", "--ready", "web=http:/up", "--health", "web=http:/up",
                                          "--health-interval", "0.1", "--health-retries", "1", "--socket", socket])
        // The ready check, then five health checks.
        try swiftman.waitFor("six requests") { _ in
            swiftman.messages(from: "web.1").filter { $0 == "GET /up 200" }.count >= 6
        }
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.code == 0, "\(ps.stderr)")
        let lines = ps.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first?.last == "HEALTH", "\(ps.stdout)")
        #expect(lines.first { $0.first == "web.1" }?.last == "healthy", "\(ps.stdout)")
        #expect(lines.first { $0.first == "worker.1" }?.last == "-", "\(ps.stdout)")
        let system = swiftman.messages(from: "system")
        #expect(!system.contains { $0.contains("unhealthy") || $0.contains("restarting") }, "\(system)")
        #expect(system.filter { $0.hasPrefix("web.1 started") }.count == 1, "\(system)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// The README's web example (docs/examples/web: Python's http.server with a
    /// Rails-like /up route): ready on GET /up, then its worker starts, and
    /// its health checks pass.
    @Test func theWebExampleIsReadyAndHealthy() throws {
        let base = freeBasePort(types: 2)
        let project = try Project()
        let swiftman = try project.swiftman(["start", "-f", repositoryRoot + "/docs/examples/web/Procfile", "--no-color", "--no-timestamp",
                                             "-p", "\(base)", "--ready", "web=http:/up", "--health", "web=http:/up",
                                             "--health-interval", "0.2", "--after", "worker=web"])
        try swiftman.waitFor(line: "job 1 done", from: "worker.1")
        let system = swiftman.messages(from: "system")
        #expect(system.contains { $0.hasPrefix("web.1 ready after ") }, "\(system)")
        // The ready check's request, then two health checks.
        try swiftman.waitFor("three requests") { _ in swiftman.messages(from: "web.1").filter { $0 == "GET /up 200" }.count >= 3 }
        #expect(!swiftman.messages(from: "system").contains { $0.contains("unhealthy") })
        swiftman.signal(SIGINT)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }
}
