// `-x/--exclude TYPE[,TYPE…]` (SWIFTMAN_EXCLUDE): every type but those; a
// type that comes after an excluded one does not wait for it.
import Glibc
import Testing

@Suite struct ExcludeTests {
    /// `-x worker` runs everything else; worker never starts.
    @Test func everyTypeButTheExcludedOnesRuns() throws {
        let project = try Project(procfile: """
            web: echo "web up"; exec sleep 1000
            worker: echo "worker up"; exec sleep 1000
            clock: echo "clock up"; exec sleep 1000
            """)
        let swiftman = try project.start(["-x", "worker"])
        try swiftman.waitFor(line: "web up", from: "web.1")
        try swiftman.waitFor(line: "clock up", from: "clock.1")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        #expect(!swiftman.stdout.contains("worker"), "\(swiftman.stdout)")
        project.expectNothingLeft()
    }

    /// An excluded dependency counts as ready, said in one system line; the
    /// variable works as the flag does.
    @Test func anExcludedDependencyLetsItsDependentStart() throws {
        let project = try Project(procfile: """
            db: exec sleep 1000
            web: echo "web up"; exec sleep 1000
            """)
        let swiftman = try project.start(["--ready", "db=port", "--after", "web=db"], environment: ["SWIFTMAN_EXCLUDE": "db"])
        try swiftman.waitFor(line: "web up", from: "web.1")
        let system = swiftman.messages(from: "system")
        #expect(system.filter { $0.contains("excluded") } == ["db is excluded: web starts without waiting for it"], "\(system)")
        #expect(!system.contains { $0.hasPrefix("db.1") }, "\(system)")
        swiftman.signal(SIGTERM)
        #expect(try swiftman.wait() == 0)
        project.expectNothingLeft()
    }

    /// An unknown type is an error, as a positional one is, before anything starts.
    @Test func anUnknownExcludedTypeIsAnError() throws {
        let project = try Project(procfile: "web: exec sleep 1000\n")
        let result = try project.run(["start", "-f", project.path("Procfile"), "--exclude", "web,wrker"])
        #expect(result.code == 2 || result.code == 1)
        #expect(result.stderr.contains("--exclude: unknown process type \"wrker\" (Procfile has: web)"), "\(result.stderr)")
        #expect(!result.stdout.contains("started"))
        project.expectNothingLeft()
    }
}
