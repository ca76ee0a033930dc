// `--ready TYPE=http:PATH`: a real server (Python's http.server) asked
// `GET PATH` until it answers 2xx or 3xx; replies that are late, never come or
// are not HTTP fail the try and leave the event loop free.
import Glibc
import Testing

@Suite struct HTTPReadyTests {
    /// web answers 503 three times, then 200: worker (after web) starts only
    /// after the 200.
    @Test func dependentsWaitForA2xx() throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            web: exec python3 \(resource("http_up.py")) $PORT 503x3
            worker: echo "worker up"; exec sleep 1000
            """)
        let swiftman = try project.start(["-p", "\(base)", "--ready", "web=http:/up", "--after", "worker=web"])
        try swiftman.waitFor(line: "worker up", from: "worker.1")
        let system = swiftman.messages(from: "system")
        let readyAt = system.firstIndex { $0.hasPrefix("web.1 ready after ") && $0.hasSuffix("(GET /up on port \(base) to answer 2xx or 3xx)") }
        let workerAt = system.firstIndex { $0.hasPrefix("worker.1 started with pid ") }
        #expect(readyAt != nil && workerAt != nil && readyAt! < workerAt!, "\(system)")
        try swiftman.waitFor(line: "GET /up 200", from: "web.1")
        #expect(swiftman.messages(from: "web.1").filter { $0.hasPrefix("GET /up") }.prefix(4)
            == ["GET /up 503", "GET /up 503", "GET /up 503", "GET /up 200"], "\(swiftman.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// A server that accepts and never answers, and one that answers with
    /// something that is not HTTP: never ready, and swiftman still answers
    /// `ps` and stops at once when asked while the tries hang.
    @Test(arguments: ["silent", "garbage"])
    func aServerThatNeverAnswersHTTPIsNeverReady(mode: String) throws {
        let base = freeBasePort(types: 2)
        let project = try Project(procfile: """
            web: exec python3 \(resource("http_up.py")) $PORT \(mode)
            worker: echo "worker up"; exec sleep 1000
            """)
        let socket = project.path("control.sock")
        let swiftman = try project.start(["-p", "\(base)", "--ready", "web=http:/up", "--after", "worker=web", "--socket", socket])
        // A second try: the first failed (garbage at once, silence after its 2 s).
        try swiftman.waitFor(line: "connection 2", from: "web.1")
        // The loop answers while a try hangs.
        let ps = try project.run(["ps", "--socket", socket])
        #expect(ps.code == 0, "\(ps.stderr)")
        #expect(ps.stdout.contains("web.1"), "\(ps.stdout)")
        #expect(!swiftman.messages(from: "system").contains { $0.hasPrefix("web.1 ready") || $0.hasPrefix("worker.1 started") },
                "\(swiftman.stdout)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }
}
