import Foundation
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

// MARK: - Fixtures and external checkers

/// web ×2, worker ×1 (stops with QUIT, restarts always), clock ×0 (never restarts).
private func demoInput(_ options: ExportOptions = ExportOptions(app: "demo", image: "registry.example/demo:1"),
                       command: String = #"echo "$PORT" 100% ; x # y"#,
                       environment: [String: String] = ["DATABASE_URL": "postgres://db:5432/demo", "PORT": "5000", "PS": "nope"],
                       timeout: Double = 1.5, root: String = "/srv/demo") throws -> ExportInput {
    let text = "web: \(command)\nworker: ./work --queue=default\nclock: ./tick\n"
    let procfile = try Procfile.parse(Array(text.utf8), path: "Procfile")
    let plan = try FormationPlan(procfile: procfile, formation: Formation.parse("web=2,worker=1,clock=0", source: "-m"),
                                 ports: PortPlan(base: 5000))
    return ExportInput(plan: plan, root: root, environment: environment,
                       stopSignal: PerType(Signal.terminate, overrides: ["worker": Signal.quit]), timeoutSeconds: timeout,
                       restart: PerType(.onFailure, overrides: ["worker": .always, "clock": .never]), options: options)
}

private func render(_ format: ExportFormat, _ input: ExportInput) throws -> [String: String] {
    Dictionary(uniqueKeysWithValues: try Exporter.render(format, input).map { ($0.path, $0.contents) })
}

/// What the Diagnostic thrown by `body` names; nil when nothing is thrown.
private func failureSource(_ body: () throws -> Void) -> String? {
    do { try body() } catch { return (error as? Diagnostic)?.source ?? "\(error)" }
    return nil
}

/// Runs a program found on PATH; nil when it cannot be started.
func runTool(_ arguments: [String]) -> (status: Int32, stdout: String, stderr: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

enum Checkers {
    static let pyYAML = runTool(["python3", "-c", "import yaml"])?.status == 0
    static let python = runTool(["python3", "-c", "import configparser, shlex"])?.status == 0
    static let supervisor = runTool(["python3", "-c", "import supervisor.options"])?.status == 0
    static let systemdAnalyze = runTool(["systemd-analyze", "--version"])?.status == 0
    static let kubernetesValidate = runTool(["kubernetes-validate", "--version"])?.status == 0
    /// `docker compose` (v2), else `docker-compose` (v1), when one works without an engine.
    static let compose: [String]? = [["docker", "compose"], ["docker-compose"]].first { runTool($0 + ["version"])?.status == 0 }
}

/// A fresh directory, removed after `body`.
@discardableResult
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftman-export-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Writes `yaml` to a file and reads it back with PyYAML (every document).
func loadYAML(_ yaml: String) throws -> [JSONValue] {
    try withTemporaryDirectory { dir in
        let path = dir + "/doc.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let script = "import sys, yaml, json; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')))))"
        let result = try #require(runTool(["python3", "-c", script, path]))
        try #require(result.status == 0, "PyYAML failed: \(result.stderr)")
        return try JSONDecoder().decode([JSONValue].self, from: Data(result.stdout.utf8))
    }
}

/// Parsed JSONValue that keeps strings, integers and booleans apart, written as literals.
indirect enum JSONValue: Equatable, Decodable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    case string(String), int(Int), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Int.self) { self = .int(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    init(nilLiteral: ()) { self = .null }

    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

// MARK: - Shared behaviour

@Suite struct ExportSharedTests {
    @Test func systemdWritesATargetAndOneUnitPerRunningInstance() throws {
        let files = try Exporter.render(.systemd, demoInput())
        #expect(files.map(\.path) == ["demo.target", "demo-web-1.service", "demo-web-1.socket", "demo-web-2.service", "demo-web-2.socket",
                                       "demo-worker-1.service", "demo-worker-1.socket"])
        #expect(files[0].contents.contains("\nWants=demo-web-1.service demo-web-2.service demo-worker-1.service\n"))
    }

    @Test(arguments: [
        ("postgres://localhost:5432/app", true), ("redis://127.0.0.1:6379", true), ("http://[::1]:3000/", true),
        ("::1", true), ("LOCALHOST", true), ("postgres://db:5432/app", false), ("mylocalhostname", false),
        ("localhost-proxy.example", false), ("0.0.0.0", false),
    ])
    func valuesPointingAtThisMachineAreRecognised(value: String, local: Bool) {
        #expect(ExportText.pointsAtThisMachine(value) == local)
    }

    /// Compose and Kubernetes name them in the header and on stderr; systemd
    /// and supervisord run on this machine, where localhost still means it.
    @Test func variablesPointingAtLocalhostAreNamedForContainersAndPods() throws {
        let input = try demoInput(environment: ["DATABASE_URL": "postgres://localhost/demo", "REDIS_URL": "redis://127.0.0.1:6379",
                                                "API": "http://api:80", "PORT": "5000"])
        let note = "# Pointing at localhost (each container's own): DATABASE_URL, REDIS_URL; use the service's name instead.\n"
        #expect(try render(.compose, input)["compose.yaml"]!.contains(note))
        #expect(try render(.kubernetes, input)["demo.yaml"]!.contains(note))
        #expect(Exporter.warnings(.kubernetes, input) == [
            "DATABASE_URL points at localhost (127.0.0.1, ::1), which in a pod is the pod itself: use the name of the service it means",
            "REDIS_URL points at localhost (127.0.0.1, ::1), which in a pod is the pod itself: use the name of the service it means",
        ])
        #expect(Exporter.warnings(.compose, input).count == 2)
        #expect(Exporter.warnings(.systemd, input).isEmpty && Exporter.warnings(.supervisord, input).isEmpty)
        #expect(!(try render(.compose, demoInput())["compose.yaml"]!.contains("Pointing at localhost")))
    }

    @Test func typesWithCountZeroKeepZeroReplicasInComposeAndKubernetes() throws {
        let compose = try render(.compose, demoInput())["compose.yaml"]!
        #expect(compose.contains("  clock:\n") && compose.contains("      replicas: 0\n"))
        let kubernetes = try render(.kubernetes, demoInput())["demo.yaml"]!
        #expect(kubernetes.contains("  name: demo-clock\n"))
        #expect(kubernetes.components(separatedBy: "replicas: 0\n").count == 2)
    }

    @Test func eachInstanceGetsItsOwnPortAndPSOverridingTheEnvFiles() throws {
        let units = try render(.systemd, demoInput())
        #expect(units["demo-web-2.service"]!.contains("Environment=\"PORT=5001\"\nEnvironment=\"PS=web.2\"\n"))
        #expect(units["demo-worker-1.service"]!.contains("Environment=\"PORT=5100\"\nEnvironment=\"PS=worker.1\"\n"))
        #expect(!units["demo-web-2.service"]!.contains("PORT=5000"))
        #expect(!units.values.contains { $0.contains("nope") })
        let conf = try render(.supervisord, demoInput())["demo.conf"]!
        #expect(conf.contains("PORT='5001',PS='web.2'\n"))
        #expect(!conf.contains("nope"))
    }

    @Test func defaultAppNameComesFromTheRootDirectory() {
        #expect(ExportOptions.defaultApp(root: "/srv/my_app") == "my_app")
        #expect(ExportOptions.defaultApp(root: "/home/me/My App.v2/") == "My-App-v2")
        #expect(ExportOptions.defaultApp(root: "/srv/.hidden") == "hidden")
        #expect(ExportOptions.defaultApp(root: "/srv/demo/.") == "demo")
        #expect(ExportOptions.defaultApp(root: "/") == "app")
    }

    @Test(arguments: ["", "-demo", "_demo", "de mo", "demo.v2", "dé", "a/b"])
    func invalidAppNamesAreRejected(_ app: String) throws {
        let input = try demoInput(ExportOptions(app: app))
        #expect(failureSource { _ = try Exporter.render(.systemd, input) } == "--app")
    }

    @Test(arguments: [ExportFormat.compose, .kubernetes])
    func containerFormatsRequireAnImage(_ format: ExportFormat) throws {
        let input = try demoInput(ExportOptions(app: "demo"))
        #expect(throws: Diagnostic("--image", "required for the \(format.rawValue) format (the image that holds the app)")) {
            try Exporter.render(format, input)
        }
    }

    @Test func controlCharactersInOptionsAreRejected() throws {
        let input = try demoInput(ExportOptions(app: "demo", user: "me\nyou"))
        #expect(failureSource { _ = try Exporter.render(.systemd, input) } == "--user")
    }

    @Test(arguments: [
        (RestartPolicy.onFailure, "on-failure", "unexpected"),
        (.always, "always", "true"),
        (.never, "no", "false"),
    ])
    func restartPolicyIsMapped(_ policy: RestartPolicy, _ systemdAndCompose: String, _ supervisord: String) throws {
        var input = try demoInput()
        input.restart = PerType(policy)
        #expect(try render(.systemd, input)["demo-web-1.service"]!.contains("\nRestart=\(systemdAndCompose)\n"))
        let compose = systemdAndCompose == "no" ? "\"no\"" : systemdAndCompose
        #expect(try render(.compose, input)["compose.yaml"]!.contains("\n    restart: \(compose)\n"))
        #expect(try render(.supervisord, input)["demo.conf"]!.contains("\nautorestart=\(supervisord)\n"))
    }

    @Test func writeCreatesTheDirectoryAndReplacesFiles() throws {
        try withTemporaryDirectory { dir in
            let target = dir + "/a/b"
            try Exporter.write([ExportedFile(path: "x.service", contents: "old old old\n")], to: target)
            try Exporter.write([ExportedFile(path: "x.service", contents: "new\n"), ExportedFile(path: "sub/y", contents: "é\n")], to: target)
            #expect(try String(contentsOfFile: target + "/x.service", encoding: .utf8) == "new\n")
            #expect(try String(contentsOfFile: target + "/sub/y", encoding: .utf8) == "é\n")
        }
    }

    @Test(arguments: ["../escape", "/etc/passwd", "a/../../b"])
    func writeRefusesPathsOutsideTheDirectory(_ path: String) throws {
        try withTemporaryDirectory { dir in
            #expect(throws: Diagnostic.self) { try Exporter.write([ExportedFile(path: path, contents: "")], to: dir + "/out") }
        }
    }
}

// MARK: - systemd

@Suite struct SystemdExportTests {
    @Test func unitMatchesTheExpectedText() throws {
        let input = try demoInput(ExportOptions(app: "demo", user: "deploy"))
        #expect(try render(.systemd, input)["demo-web-2.service"] == #"""
            # Generated by `swiftman export systemd` for the Procfile in /srv/demo;
            # exporting again overwrites this file.
            [Unit]
            Description=demo web.2
            PartOf=demo.target

            [Service]
            User=deploy
            WorkingDirectory=/srv/demo
            Sockets=demo-web-2.socket
            StandardInput=fd:stdin
            StandardOutput=journal
            StandardError=journal
            Environment="DATABASE_URL=postgres://db:5432/demo"
            Environment="PORT=5001"
            Environment="PS=web.2"
            ExecStart=/bin/sh -c "echo \"$$PORT\" 100%% ; x # y"
            Restart=on-failure
            KillMode=control-group
            KillSignal=SIGTERM
            TimeoutStopSec=1500ms

            """#)
        #expect(try render(.systemd, input)["demo-worker-1.service"]!.contains("\nKillSignal=SIGQUIT\n"))
        #expect(try render(.systemd, input)["demo-web-2.socket"] == """
            # Generated by `swiftman export systemd` for the Procfile in /srv/demo;
            # exporting again overwrites this file.
            [Unit]
            Description=demo web.2 stdin
            PartOf=demo.target

            [Socket]
            ListenFIFO=/run/demo-web-2.stdin
            SocketMode=0600
            FileDescriptorName=stdin
            RemoveOnStop=yes
            Service=demo-web-2.service

            """)
    }

    @Test func targetIsEnabledFromMultiUser() throws {
        #expect(try render(.systemd, demoInput())["demo.target"]!.hasSuffix("""
            [Unit]
            Description=demo (swiftman export)
            Wants=demo-web-1.service demo-web-2.service demo-worker-1.service

            [Install]
            WantedBy=multi-user.target

            """))
    }

    @Test func execStartAndEnvironmentEscapeQuotesBackslashesSpecifiersAndControlCharacters() throws {
        let input = try demoInput(command: #"printf '%s\n' "$HOME" ${X} \"q\" \#u{1B}[0m"#,
                                  environment: ["MULTI": "line 1\nline\t2 \"q\" \\ 100% $HOME"])
        let unit = try render(.systemd, input)["demo-web-1.service"]!
        #expect(unit.contains(#"ExecStart=/bin/sh -c "printf '%%s\\n' \"$$HOME\" $${X} \\\"q\\\" \x1B[0m""# + "\n"))
        // Environment= does not substitute "$", so it stays single.
        #expect(unit.contains(#"Environment="MULTI=line 1\nline\t2 \"q\" \\ 100%% $HOME""# + "\n"))
    }

    @Test func zeroTimeoutStillKillsAtOnce() throws {
        // TimeoutStopSec=0 would mean "wait forever".
        #expect(try render(.systemd, demoInput(timeout: 0))["demo-web-1.service"]!.contains("\nTimeoutStopSec=1ms\n"))
        #expect(try render(.systemd, demoInput(timeout: 5))["demo-web-1.service"]!.contains("\nTimeoutStopSec=5s\n"))
    }

    @Test func envRefUsesEnvironmentFileAndSetsPortOnTheCommandLine() throws {
        let input = try demoInput(ExportOptions(app: "demo", referenceEnvFiles: true, envFiles: ["/srv/demo/.env", "/srv/demo/50% off.env"]))
        let unit = try render(.systemd, input)["demo-web-2.service"]!
        #expect(unit.contains("""
            EnvironmentFile=/srv/demo/.env
            EnvironmentFile=/srv/demo/50%% off.env
            ExecStart=/usr/bin/env PORT=5001 PS=web.2 /bin/sh -c
            """))
        #expect(!unit.contains("Environment=") && !unit.contains("postgres"))
    }

    @Test(.enabled(if: Checkers.systemdAnalyze, "systemd-analyze is not installed (apt-get install systemd)"),
          arguments: [false, true])
    func unitsPassSystemdAnalyzeVerify(referenceEnvFiles: Bool) throws {
        try withTemporaryDirectory { dir in
            let options = ExportOptions(app: "demo", user: "deploy", referenceEnvFiles: referenceEnvFiles, envFiles: [dir + "/.env"])
            let input = try demoInput(options, command: #"printf '%s\n' "$PORT" \"q\" ; exit 0"#,
                                      environment: ["A": "x\ny \"q\" 100% $B", "B": "é"], root: dir)
            let files = try Exporter.render(.systemd, input)
            try Exporter.write(files, to: dir + "/units")
            let result = try #require(runTool(["systemd-analyze", "verify", "--man=no"] + files.map { dir + "/units/" + $0.path }))
            #expect(result.status == 0)
            // verify exits 0 even for lines it ignores, so every complaint about our files counts.
            #expect(!result.stderr.contains(dir), "\(result.stderr)")
        }
    }
}

// MARK: - compose

@Suite struct ComposeExportTests {
    @Test(.enabled(if: Checkers.pyYAML, "python3 with PyYAML is not installed (pip install pyyaml)"))
    func composeReadsBackAsTheFormation() throws {
        let input = try demoInput(ExportOptions(app: "demo", image: "registry.example/demo:1", user: "1000"),
                                  environment: ["ON": "yes", "N": "0x1F", "MULTI": "a: b\n# c", "PORT": "4000"])
        let doc = try loadYAML(render(.compose, input)["compose.yaml"]!)
        func service(_ command: String, port: String, replicas: Int, restart: String, signal: String) -> JSONValue {
            ["image": "registry.example/demo:1", "command": ["/bin/sh", "-c", .string(command)], "working_dir": "/srv/demo",
             "user": "1000", "environment": ["ON": "yes", "N": "0x1F", "MULTI": "a: b\n# c", "PORT": .string(port)],
             "deploy": ["replicas": .int(replicas)], "restart": .string(restart), "stop_signal": .string(signal),
             "stop_grace_period": "1500ms", "stdin_open": true]
        }
        #expect(doc == [["services": [
            "web": service(#"echo "$$PORT" 100% ; x # y"#, port: "5000", replicas: 2, restart: "on-failure", signal: "SIGTERM"),
            "worker": service("./work --queue=default", port: "5100", replicas: 1, restart: "always", signal: "SIGQUIT"),
            "clock": service("./tick", port: "5200", replicas: 0, restart: "no", signal: "SIGTERM"),
        ]]])
    }

    @Test func envRefUsesEnvFileAndKeepsValuesOut() throws {
        let input = try demoInput(ExportOptions(app: "demo", image: "img", referenceEnvFiles: true, envFiles: ["/srv/demo/.env"]))
        let compose = try render(.compose, input)["compose.yaml"]!
        #expect(compose.contains("""
                env_file:
                  - /srv/demo/.env
                environment:
                  PORT: "5000"
                deploy:
            """))
        #expect(!compose.contains("postgres"))
    }

    @Test(.enabled(if: Checkers.compose != nil, "neither `docker compose` nor `docker-compose` is installed"),
          arguments: [false, true])
    func composeFilePassesComposeConfig(referenceEnvFiles: Bool) throws {
        try withTemporaryDirectory { dir in
            try "A=1\n".write(toFile: dir + "/.env", atomically: true, encoding: .utf8)
            let options = ExportOptions(app: "demo", image: "registry.example/demo:1", referenceEnvFiles: referenceEnvFiles,
                                        envFiles: [dir + "/.env"])
            let input = try demoInput(options, environment: ["A": "$HOME ${X:-y} 'q' \"q\" #x"], root: dir)
            try Exporter.write(Exporter.render(.compose, input), to: dir)
            let result = try #require(runTool(Checkers.compose! + ["-f", dir + "/compose.yaml", "config"]))
            #expect(result.status == 0, "\(result.stderr)")
            // An unescaped "$" would be interpolated from this shell, with a warning if unset.
            #expect(!result.stderr.contains("variable is not set"), "\(result.stderr)")
        }
    }
}

// MARK: - Kubernetes

@Suite struct KubernetesExportTests {
    @Test(.enabled(if: Checkers.pyYAML, "python3 with PyYAML is not installed (pip install pyyaml)"))
    func manifestsReadBackAsTheFormation() throws {
        let input = try demoInput(ExportOptions(app: "Demo_App", image: "registry.example/demo:1", user: "1000"),
                                  command: "echo $(date) $PORT", environment: ["OFF": "off", "PORT": "1"])
        let docs = try loadYAML(render(.kubernetes, input)["Demo_App.yaml"]!)
        #expect(docs.map { [$0["kind"] ?? .null, $0["metadata"]?["name"] ?? .null] as JSONValue } == [
            ["Deployment", "demo-app-web"], ["Service", "demo-app-web"], ["Deployment", "demo-app-worker"], ["Deployment", "demo-app-clock"],
        ])
        let labels: JSONValue = ["app.kubernetes.io/name": "demo-app", "app.kubernetes.io/component": "web"]
        #expect(docs[0] == [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "demo-app-web", "labels": labels],
            "spec": ["replicas": 2, "selector": ["matchLabels": labels], "template": [
                "metadata": ["labels": labels],
                "spec": ["terminationGracePeriodSeconds": 2, "securityContext": ["runAsUser": 1000], "containers": [[
                    "name": "web", "image": "registry.example/demo:1", "command": ["/bin/sh", "-c", "echo $$(date) $$PORT"],
                    "workingDir": "/srv/demo",
                    "env": [["name": "OFF", "value": "off"], ["name": "PORT", "value": "5000"]],
                    "stdin": true,
                    "ports": [["name": "http", "containerPort": 5000]],
                ]]],
            ]],
        ])
        #expect(docs[1]["spec"] == ["selector": labels, "ports": [["name": "http", "port": 5000, "targetPort": "http"]]])
        #expect(docs[2]["spec"]?["replicas"] == 1)
        #expect(docs[3]["spec"]?["replicas"] == 0)
        // Only types with a Service expose a container port.
        #expect(docs[2]["spec"]?["template"]?["spec"]?["containers"] == [[
            "name": "worker", "image": "registry.example/demo:1", "command": ["/bin/sh", "-c", "./work --queue=default"],
            "workingDir": "/srv/demo", "env": [["name": "OFF", "value": "off"], ["name": "PORT", "value": "5100"]], "stdin": true,
        ]])
    }

    @Test func envRefReferencesASecretAndSaysHowToCreateIt() throws {
        let input = try demoInput(ExportOptions(app: "demo", image: "img", referenceEnvFiles: true,
                                                envFiles: ["/srv/demo/.env", "/srv/demo/it's.env"]))
        let yaml = try render(.kubernetes, input)["demo.yaml"]!
        #expect(yaml.contains("#   kubectl create secret generic demo-env --from-env-file='/srv/demo/.env' --from-env-file='/srv/demo/it'\\''s.env'\n"))
        #expect(yaml.contains("""
                      envFrom:
                        - secretRef:
                            name: demo-env
            """))
        #expect(!yaml.contains("postgres"))
    }

    @Test func serviceOptionPicksTheTypesThatGetAService() throws {
        var input = try demoInput()
        input.options.serviceTypes = ["worker", "clock"]
        let yaml = try render(.kubernetes, input)["demo.yaml"]!
        #expect(yaml.components(separatedBy: "kind: Service\n").count == 3)
        #expect(yaml.contains("kind: Service\nmetadata:\n  name: demo-worker\n"))
        #expect(!yaml.contains("name: demo-web\n  labels:\n    app.kubernetes.io/name: demo\n    app.kubernetes.io/component: web\nspec:\n  selector"))
        input.options.serviceTypes = ["api"]
        #expect(throws: Diagnostic("--service", "unknown process type \"api\"")) { try Exporter.render(.kubernetes, input) }
    }

    @Test func userMustBeANumericID() throws {
        let input = try demoInput(ExportOptions(app: "demo", image: "img", user: "deploy"))
        #expect(failureSource { _ = try Exporter.render(.kubernetes, input) } == "--user")
    }

    @Test func namesMustBeDNSLabelsAndDistinct() throws {
        let input = try demoInput(ExportOptions(app: "1demo", image: "img"))
        #expect(failureSource { _ = try Exporter.render(.kubernetes, input) } == "--app")
        let procfile = try Procfile.parse(Array("a_b: x\na-b: y\n".utf8), path: "Procfile")
        let plan = try FormationPlan(procfile: procfile, formation: Formation(), ports: PortPlan(base: 5000))
        let clash = ExportInput(plan: plan, root: "/srv", environment: [:], options: ExportOptions(app: "demo", image: "img"))
        #expect(throws: Diagnostic("a-b", "has the same Kubernetes name \"demo-a-b\" as a_b")) { try Exporter.render(.kubernetes, clash) }
    }

    @Test func unsupportedStopSignalsAndRestartPoliciesAreNoted() throws {
        let yaml = try render(.kubernetes, demoInput())["demo.yaml"]!
        #expect(yaml.contains("# Kubernetes always stops containers with SIGTERM"))
        #expect(yaml.contains("# Deployments always restart their containers"))
        var input = try demoInput()
        input.stopSignal = PerType(Signal.terminate)
        input.restart = PerType(.always)
        #expect(!(try render(.kubernetes, input)["demo.yaml"]!.contains("always stops")))
    }
}

// MARK: - supervisord

/// Reads a supervisord config back as JSONValue: with `replica`, the way supervisord
/// 4 does (RawConfigParser with inline comments, %-expansion, shlex for
/// command=, non-POSIX shlex for environment=); with `supervisor`, through
/// supervisord's own option parser.
private let supervisordReader = #"""
import sys, json, shlex, signal
mode, path = sys.argv[1], sys.argv[2]
out = {}
if mode == "replica":
    import configparser
    p = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    p.read(path, encoding="utf-8")
    def env(text):
        lexer = shlex.shlex(text); lexer.wordchars += "/.+-():"
        t = list(lexer)
        return {t[i]: t[i + 2].strip("'\"") for i in range(0, len(t), 4)}
    for s in p.sections():
        d = {k: p.get(s, k) % {} for k in p.options(s)}
        if s.startswith("program:"):
            d["command"] = shlex.split(d["command"])
            d["environment"] = env(d["environment"])
        out[s] = d
else:
    import os, tempfile
    from supervisor.options import ServerOptions
    conf = os.path.join(tempfile.mkdtemp(), "supervisord.conf")
    open(conf, "w").write("[supervisord]\n[include]\nfiles = %s\n" % path)
    opts = ServerOptions(); opts.realize(args=["-c", conf])
    for g in opts.process_group_configs:
        out["group:" + g.name] = {"programs": ",".join(pc.name for pc in g.process_configs)}
        for pc in g.process_configs:
            out["program:" + pc.name] = {"command": shlex.split(pc.command), "directory": pc.directory,
                "environment": pc.environment, "stopsignal": signal.Signals(pc.stopsignal).name[3:],
                "stopwaitsecs": str(pc.stopwaitsecs), "exitcodes": ",".join(map(str, pc.exitcodes)),
                "stopasgroup": str(pc.stopasgroup).lower(), "killasgroup": str(pc.killasgroup).lower(),
                "autorestart": {"RestartUnconditionally": "true", "RestartWhenExitUnexpected": "unexpected"}.get(
                    getattr(pc.autorestart, "__name__", ""), str(pc.autorestart).lower())}
print(json.dumps(out))
"""#

@Suite struct SupervisordExportTests {
    /// A command and values that stress every quoting rule: ";" and "#" after
    /// blanks, "%", both quotes, backslashes, unicode.
    private static let command = #"echo "$PORT" 100% ; printf '%s\n' \"x\" # done"#
    private static let environment = ["JSONValue": #"{"a":"b;c"}"#, "WORDS": "it's 50%#1", "PATHS": #"C:\x;y"#, "EMPTY": "", "U": "été"]

    private func readBack(_ mode: String, root: String = "/srv/demo") throws -> JSONValue {
        try withTemporaryDirectory { dir in
            let input = try demoInput(command: Self.command, environment: Self.environment, root: root)
            try Exporter.write(Exporter.render(.supervisord, input), to: dir)
            let result = try #require(runTool(["python3", "-c", supervisordReader, mode, dir + "/demo.conf"]))
            try #require(result.status == 0, "\(result.stderr)")
            return try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))
        }
    }

    private func expected(root: String) -> JSONValue {
        let env: JSONValue = .object(Self.environment.mapValues { .string($0) })
        func program(_ command: String, _ port: String, _ ps: String, restart: String, signal: String) -> JSONValue {
            guard case .object(var environment) = env else { fatalError() }
            environment["PORT"] = .string(port)
            environment["PS"] = .string(ps)
            return ["command": ["/bin/sh", "-c", .string(command)], "directory": .string(root), "environment": .object(environment),
                    "autorestart": .string(restart), "exitcodes": "0", "stopsignal": .string(signal), "stopwaitsecs": "2",
                    "stopasgroup": "true", "killasgroup": "true"]
        }
        return [
            "group:demo": ["programs": "demo-web-1,demo-web-2,demo-worker-1"],
            "program:demo-web-1": program(Self.command, "5000", "web.1", restart: "unexpected", signal: "TERM"),
            "program:demo-web-2": program(Self.command, "5001", "web.2", restart: "unexpected", signal: "TERM"),
            "program:demo-worker-1": program("./work --queue=default", "5100", "worker.1", restart: "true", signal: "QUIT"),
        ]
    }

    @Test(.enabled(if: Checkers.python, "python3 is not installed"))
    func configReadsBackThroughConfigParserAsSupervisordParsesIt() throws {
        #expect(try readBack("replica") == expected(root: "/srv/demo"))
    }

    @Test(.enabled(if: Checkers.supervisor, "supervisor is not installed (pip install supervisor)"))
    func configLoadsInSupervisord() throws {
        try withTemporaryDirectory { root in
            let config = try readBack("supervisor", root: root)
            #expect(config == expected(root: root))
        }
    }

    @Test func envRefIsRefused() throws {
        let input = try demoInput(ExportOptions(app: "demo", referenceEnvFiles: true, envFiles: ["/srv/demo/.env"]))
        #expect(throws: Diagnostic("--env-ref", "supervisord cannot read env files; leave --env-ref out to inline their values")) {
            try Exporter.render(.supervisord, input)
        }
    }

    @Test(arguments: ["two\nlines", "bell\u{7}", #"both ' and ""#, #"back\slash and ""#, "cut ;here", "cut\t#here", "'edge"])
    func unrepresentableValuesAreRefused(_ value: String) throws {
        let input = try demoInput(environment: ["BAD": value])
        #expect(failureSource { _ = try Exporter.render(.supervisord, input) } == "BAD")
    }
}
