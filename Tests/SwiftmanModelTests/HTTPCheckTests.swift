import Testing
@testable import SwiftmanModel

/// `http:PATH[=STATUS]`: parsing, the request, and the status line of the
/// reply (read without trusting it: truncated, oversized, not HTTP).
@Suite struct HTTPCheckTests {
    func reply(_ text: String, ended: Bool = false) -> HTTPCheck.Reply { HTTPCheck.reply(Array(text.utf8), ended: ended) }

    @Test func checksParseWithAnOptionalExactStatus() {
        #expect(ReadyCheck.parse("http:/up") == .http(path: "/up", status: nil))
        #expect(ReadyCheck.parse("http:/up=204") == .http(path: "/up", status: 204))
        #expect(ReadyCheck.parse("http:/health?full=1") == .http(path: "/health?full=1", status: nil))
        #expect(ReadyCheck.parse("http:/a?x=123") == .http(path: "/a?x", status: 123), "a trailing =NNN is the status")
        #expect(ReadyCheck.parse("http:/up")?.description == "http:/up")
        #expect(ReadyCheck.parse("http:/up=204")?.description == "http:/up=204")
        for bad in ["http:", "http:up", "http:/a b", "http:/up\r\nX: y", "http:=200"] {
            #expect(ReadyCheck.parse(bad) == nil, "\(bad)")
        }
        #expect(ReadyCheck.http(path: "/up", status: nil).awaited(port: 5000) == "GET /up on port 5000 to answer 2xx or 3xx")
        #expect(ReadyCheck.http(path: "/up", status: 204).awaited(port: 5000) == "GET /up on port 5000 to answer 204")
    }

    @Test func readyListsTakeHTTPChecks() throws {
        let checks = try ReadinessConfig.parseReady(["web=http:/up,worker=port", "api=http:/ok=200"], source: "--ready",
                                                    types: ["web", "worker", "api"])
        #expect(checks == ["web": .http(path: "/up", status: nil), "worker": .port, "api": .http(path: "/ok", status: 200)])
    }

    @Test func theRequestIsAPlainGetThatAsksToClose() {
        let request = String(decoding: HTTPCheck.request(path: "/up", port: 5000), as: UTF8.self)
        #expect(request.hasPrefix("GET /up HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n"))
        #expect(request.contains("\r\nConnection: close\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))
    }

    @Test func statusLinesAreRead() {
        #expect(reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == .status(200))
        #expect(reply("HTTP/1.0 503 Service Unavailable\r\n") == .status(503))
        #expect(reply("HTTP/1.1 204\r\n") == .status(204), "the reason may be missing")
        #expect(reply("HTTP/1.1 301 Moved\n") == .status(301), "a bare LF ends the line too")
        #expect(reply("HTTP/2 200 \r\n") == .status(200))
    }

    @Test func aTruncatedReplyWaitsUntilItEnds() {
        for prefix in ["", "H", "HTTP/1", "HTTP/1.1 2", "HTTP/1.1 200 OK"] {
            #expect(reply(prefix) == .incomplete, "\(prefix)")
        }
        #expect(reply("HTTP/1.1 200 OK", ended: true) == .invalid("reply cut short"))
        #expect(reply("", ended: true) == .invalid("closed without a reply"))
    }

    @Test func anOversizedStatusLineFails() {
        let long = "HTTP/1.1 200 " + String(repeating: "k", count: HTTPCheck.statusLineLimit)
        #expect(reply(long) == .invalid("status line longer than \(HTTPCheck.statusLineLimit) bytes"))
        // A long line that does end is no better.
        #expect(reply(long + "\r\n") == .invalid("status line longer than \(HTTPCheck.statusLineLimit) bytes"))
        // A huge header after a good status line is never read.
        #expect(reply("HTTP/1.1 200 OK\r\nX: " + String(repeating: "h", count: 100_000)) == .status(200))
    }

    @Test func nonHTTPRepliesFailAtTheirFirstBytes() {
        #expect(reply("SSH-2.0-OpenSSH_9.6\r\n") == .invalid("not an HTTP reply"))
        #expect(reply("X") == .invalid("not an HTTP reply"), "known before the line ends")
        #expect(reply("\u{0}\u{1}\u{2}") == .invalid("not an HTTP reply"))
        for bad in ["HTTP/1.1 20\r\n", "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 abc OK\r\n", "HTTP/ 200 OK\r\n",
                    "HTTP/1.1 099 Low\r\n", "HTTP/1.1 600 High\r\n", "HTTP/x.y 200 OK\r\n", "HTTP/1.1\r\n"] {
            #expect(reply(bad) == .invalid("not an HTTP reply"), "\(bad)")
        }
    }

    @Test func twoXXAndThreeXXPassUnlessAnExactStatusIsAsked() {
        #expect(HTTPCheck.passes(200, expected: nil))
        #expect(HTTPCheck.passes(302, expected: nil))
        #expect(!HTTPCheck.passes(404, expected: nil))
        #expect(!HTTPCheck.passes(503, expected: nil))
        #expect(!HTTPCheck.passes(199, expected: nil))
        #expect(HTTPCheck.passes(204, expected: 204))
        #expect(!HTTPCheck.passes(200, expected: 204))
        #expect(HTTPCheck.passes(503, expected: 503))
    }
}

/// `http:` ready checks in exports: Kubernetes' httpGet (a command for an
/// exact status), compose's healthcheck with curl.
@Suite struct HTTPCheckExportTests {
    func files(_ format: ExportFormat) throws -> [String: String] {
        var readiness = ReadinessConfig()
        readiness.checks = ["web": .http(path: "/up", status: nil), "api": .http(path: "/ok", status: 204)]
        readiness.order = try StartOrder(types: ["web", "api", "worker"], after: ["worker": ["web"]])
        return try exportedFiles(format, procfile: "web: ./web\napi: ./api\nworker: ./work\n", readiness: readiness)
    }

    @Test func kubernetesProbesWithHTTPGet() throws {
        let yaml = try #require(try files(.kubernetes)["demo.yaml"])
        #expect(yaml.contains("readinessProbe:\n            httpGet:\n              path: /up\n              port: 5000\n"), "\(yaml)")
        // Kubernetes would expand $(…): the dollar is doubled.
        #expect(yaml.contains("test \\\"$$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:5100/ok')\\\" = 204"), "\(yaml)")
    }

    @Test func composeChecksWithCurlAndDependentsWaitForHealthy() throws {
        let yaml = try #require(try files(.compose).values.first)
        #expect(yaml.contains("curl -fsS -o /dev/null 'http://127.0.0.1:5000/up'"), "\(yaml)")
        #expect(yaml.contains("condition: service_healthy"), "\(yaml)")
    }
}

/// What `export FORMAT` writes (path → contents) for a Procfile's text, with
/// these checks, as app "demo" in /srv/demo from image "img".
func exportedFiles(_ format: ExportFormat, procfile text: String, readiness: ReadinessConfig,
                   health: HealthConfig = HealthConfig()) throws -> [String: String] {
    let plan = try FormationPlan(procfile: Procfile.parse(Array(text.utf8), path: "Procfile"), formation: Formation(),
                                 ports: PortPlan(base: 5000))
    let input = ExportInput(plan: plan, root: "/srv/demo", environment: [:],
                            options: ExportOptions(app: "demo", image: "img"), readiness: readiness, health: health)
    return Dictionary(uniqueKeysWithValues: try Exporter.render(format, input).map { ($0.path, $0.contents) })
}
