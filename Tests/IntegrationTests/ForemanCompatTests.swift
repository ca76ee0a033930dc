// Issue 12 part 3: the habits foreman and honcho users bring: `.foreman`,
// a Rails `bin/dev`, honcho's -q and --no-prefix, shell completion, a man page.
import Glibc
import Foundation
import Testing

/// The directory of the swiftman binary, first on PATH (scripts call `swiftman`).
/// Whether the program at `path` is there to run (tests that need it are skipped otherwise).
private func installed(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

private let pathWithSwiftman = URL(fileURLWithPath: Binary.path).deletingLastPathComponent().path
    + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

@Suite struct ForemanFileTests {
    @Test func foremanFileSetsDefaultsThatFlagsAndVariablesOverride() throws {
        let project = try Project()
        try project.write("Procfile.dev", "web: echo \"web $PORT\"\nworker: echo \"worker $PORT\"\n")
        try project.write(".foreman", """
            # foreman defaults
            ---
            procfile: Procfile.dev
            port: 6000   # base port
            formation: 'web=1,worker=0'
            timestamp: false
            """)
        let start = try project.swiftman(["start", "--no-color"])
        #expect(try start.wait() == 0, "\(start.stderr)")
        // No timestamp: the line starts with the name.
        #expect(start.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("system ") || $0.hasPrefix("web.1 ") },
                "\(start.stdout)")
        #expect(start.messages(from: "web.1") == ["web 6000"])
        #expect(start.messages(from: "worker.1").isEmpty)
        // A flag wins, and so does a SWIFTMAN_ variable.
        let flag = try project.swiftman(["start", "--no-color", "-p", "7000", "-m", "worker=1"])
        #expect(try flag.wait() == 0)
        #expect(flag.messages(from: "worker.1") == ["worker 7100"], "\(flag.stdout)")
        let variable = try project.swiftman(["start", "--no-color"], environment: ["SWIFTMAN_PORT": "8000"])
        #expect(try variable.wait() == 0)
        #expect(variable.messages(from: "web.1") == ["web 8000"], "\(variable.stdout)")
        // check says it read the file.
        let check = try project.run(["check"])
        #expect(check.code == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("Procfile.dev: valid, 2 process types\n"), "\(check.stdout)")
        #expect(check.stderr.contains("defaults: .foreman (procfile, port, formation, timestamp)\n"), "\(check.stderr)")
        // run uses its procfile too.
        let run = try project.run(["run", "worker"])
        #expect(run.stdout == "worker 6100\n", "\(run.stderr)")
    }

    @Test func badForemanLineIsAnErrorNamingFileAndLine() throws {
        let project = try Project(procfile: "web: echo web\n")
        for (text, line, message) in [
            ("port: 5000\nprocfil: Procfile\n", 2, "unknown key \"procfil\""),
            ("procfile: Procfile\n  nested: 1\n", 2, "indented line"),
            ("env: \"unterminated\n", 1, "unterminated double quote"),
            ("port: 1\nport: 2\n", 2, "port is given twice"),
            ("formation: [web, worker]\n", 1, "unsupported YAML value"),
            ("timestamp: maybe\n", 1, "timestamp: expected true or false"),
        ] {
            try project.write(".foreman", text)
            let result = try project.run(["check"])
            #expect(result.code == 1, "\(text): \(result.code)")
            #expect(result.stderr.contains("swiftman: .foreman:\(line): \(message)"), "\(text): \(result.stderr)")
        }
        // A bad value is reported at its line, as a bad file (exit 1).
        try project.write(".foreman", "# comment\nport: 99999\n")
        let port = try project.run(["start"])
        #expect(port.code == 1)
        #expect(port.stderr.contains(".foreman:2: invalid port \"99999\""), "\(port.stderr)")
    }
}

@Suite struct RailsBinDevTests {
    /// Rails' bin/dev with the one-line swap; PORT exported as Rails does.
    private func railsProject() throws -> Project {
        let project = try Project()
        try project.write("Procfile.dev", """
            web: echo "web $PORT ${SECRET-unset}"
            css: echo "css $PORT"
            js: echo "js $PORT"
            """)
        try project.write(".env", "SECRET=from-dotenv\nPORT=9999\n")
        try FileManager.default.createDirectory(atPath: project.path("bin"), withIntermediateDirectories: true)
        try project.write("bin/dev", """
            #!/usr/bin/env sh
            export PORT="${PORT:-3000}"
            exec swiftman start -f Procfile.dev "$@"
            """)
        chmod(project.path("bin/dev"), 0o755)
        return project
    }

    private func binDev(_ project: Project, _ arguments: [String]) throws -> Swiftman {
        let process = try project.swiftman(arguments, environment: ["PATH": pathWithSwiftman],
                                           executable: project.path("bin/dev"))
        #expect(try process.wait() == 0, "\(arguments): \(process.stderr)")
        return process
    }

    @Test func flagsBehaveAsUnderForeman() throws {
        let project = try railsProject()
        // .env's PORT wins over the exported one, as under foreman (env files override the shell).
        let plain = try binDev(project, [])
        #expect(plain.messages(from: "web.1") == ["web 9999 from-dotenv"], "\(plain.stdout)")
        #expect(plain.messages(from: "css.1") == ["css 10099"])
        // -e /dev/null: no env file at all, PORT from bin/dev's export.
        let noEnv = try binDev(project, ["-e", "/dev/null"])
        #expect(noEnv.messages(from: "web.1") == ["web 3000 unset"], "\(noEnv.stdout)")
        #expect(noEnv.messages(from: "css.1") == ["css 3100"])
        #expect(noEnv.messages(from: "js.1") == ["js 3200"])
        // -p wins over everything.
        let port = try binDev(project, ["-e", "/dev/null", "-p", "4000"])
        #expect(port.messages(from: "js.1") == ["js 4200"], "\(port.stdout)")
        // -m: counts, and the unnamed types do not run.
        let formation = try binDev(project, ["-e", "/dev/null", "-m", "web=2,css=1"])
        #expect(formation.messages(from: "web.2") == ["web 3001 unset"], "\(formation.stdout)")
        #expect(formation.messages(from: "js.1").isEmpty)
        // Positional types: only those, keeping their port slots.
        let only = try binDev(project, ["-e", "/dev/null", "js"])
        #expect(only.messages(from: "js.1") == ["js 3200"], "\(only.stdout)")
        #expect(only.messages(from: "web.1").isEmpty && only.messages(from: "css.1").isEmpty)
    }
}

@Suite struct HonchoHabitTests {
    @Test func quietHidesThoseTypesOutputButNotTheirSystemLines() throws {
        let project = try Project(procfile: """
            web: echo web-line
            redis: echo redis-line; echo redis-err >&2
            postgres: echo postgres-line
            """)
        for style in [[String](), ["--log-format", "json"]] {
            let swiftman = try project.start(["-q", "redis,postgres"] + style)
            #expect(try swiftman.wait() == 0, "\(swiftman.stderr)")
            #expect(swiftman.stdout.contains("web-line"), "\(swiftman.stdout)")
            for hidden in ["redis-line", "redis-err", "postgres-line"] {
                #expect(!swiftman.stdout.contains(hidden), "\(style): \(swiftman.stdout)")
            }
            #expect(swiftman.stdout.contains("redis.1 started with pid"), "\(swiftman.stdout)")
        }
        let unknown = try project.start(["--quiet", "nosuch"])
        #expect(try unknown.wait() == 2)
        #expect(unknown.stderr.contains("--quiet: unknown process type \"nosuch\""), "\(unknown.stderr)")
    }

    @Test func noPrefixPrintsTheLinesAlone() throws {
        let project = try Project(procfile: "web: echo web-line\nworker: echo worker-line\n")
        // Colour and timestamps on: --no-prefix drops them with the prefix.
        let swiftman = try project.swiftman(["start", "--no-prefix", "--color"])
        #expect(try swiftman.wait() == 0, "\(swiftman.stderr)")
        let lines = swiftman.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("web-line") && lines.contains("worker-line"), "\(swiftman.stdout)")
        #expect(lines.contains { $0.hasPrefix("web.1 started with pid") }, "\(swiftman.stdout)")
        #expect(!swiftman.stdout.contains(" | ") && !swiftman.stdout.contains("\u{1B}["), "\(swiftman.stdout)")
    }
}

@Suite struct CompletionTests {
    private func project() throws -> Project {
        let project = try Project(procfile: "web: a\nworker: b\n")
        try project.write("Procfile.dev", "css: c\n")
        return project
    }

    /// Runs `script` in `shell` in the project directory, swiftman on PATH.
    private func shell(_ project: Project, _ shell: String, _ arguments: [String]) throws -> (code: Int32, stdout: String, stderr: String) {
        let process = try project.swiftman(arguments, environment: ["PATH": pathWithSwiftman], executable: shell)
        let code = try process.wait()
        return (code, process.stdout, process.stderr)
    }

    @Test(.enabled(if: installed("/bin/bash"), "bash is not installed (apt-get install -y bash)"))
    func bashLoadsAndCompletes() throws {
        let project = try project()
        let script = """
            source <(swiftman completion bash) || exit 9
            complete -p swiftman
            c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _swiftman; echo "${COMPREPLY[*]}"; }
            c swiftman st
            c swiftman start ''
            c swiftman start -f Procfile.dev ''
            c swiftman export ''
            c swiftman start --no-p
            c swiftman stop w
            """
        let result = try shell(project, "/bin/bash", ["-c", script])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").map(String.init) == [
            "complete -F _swiftman swiftman", "start stop", "web worker", "css",
            "systemd compose kubernetes supervisord", "--no-prefix", "web worker",
        ], "\(result.stdout)")
    }

    @Test(.enabled(if: installed("/usr/bin/zsh"), "zsh is not installed (apt-get install -y zsh)"))
    func zshLoadsAndCompletes() throws {
        let project = try project()
        // compadd only works inside a completion widget: a stand-in prints what it is given.
        let script = """
            autoload -Uz compinit && compinit -u -D
            source <(swiftman completion zsh) || exit 9
            print -r -- $_comps[swiftman]
            compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -r -- "$@"; }
            words=(swiftman start ''); CURRENT=3; _swiftman
            words=(swiftman start -f Procfile.dev ''); CURRENT=5; _swiftman
            words=(swiftman export ''); CURRENT=3; _swiftman
            """
        let result = try shell(project, "/usr/bin/zsh", ["-fc", script])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").map(String.init) == [
            "_swiftman", "web worker", "css", "systemd compose kubernetes supervisord",
        ], "\(result.stdout)")
    }

    @Test(.enabled(if: installed("/usr/bin/fish"), "fish is not installed (apt-get install -y fish)"))
    func fishLoadsAndCompletes() throws {
        let project = try project()
        let script = """
            swiftman completion fish | source; or exit 9
            complete -C 'swiftman start '
            echo ---
            complete -C 'swiftman export '
            echo ---
            complete -C 'swiftman start --no-p'
            """
        let result = try shell(project, "/usr/bin/fish", ["--no-config", "-c", script])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let sections = result.stdout.components(separatedBy: "---\n")
        #expect(sections.count == 3, "\(result.stdout)")
        guard sections.count == 3 else { return }
        let types = sections[0].split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
        #expect(Set(types) == ["web", "worker"], "\(result.stdout)")
        #expect(Set(sections[1].split(separator: "\n").map(String.init)) == ["systemd", "compose", "kubernetes", "supervisord"])
        #expect(sections[2].hasPrefix("--no-prefix\t"), "\(result.stdout)")
    }

    /// `signal TARGET SIGNAL`: the types, then the signal names, in the three shells.
    @Test func signalCompletesTypesThenSignalNames() throws {
        let project = try project()
        let bash = """
            source <(swiftman completion bash) || exit 9
            c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _swiftman; echo "${COMPREPLY[*]}"; }
            c swiftman sig
            c swiftman signal ''
            c swiftman signal web US
            c swiftman signal --socket s web US
            """
        if installed("/bin/bash") {
            let result = try shell(project, "/bin/bash", ["-c", bash])
            #expect(result.code == 0 && result.stderr.isEmpty, "\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").map(String.init) == ["signal", "web worker", "USR1 USR2", "USR1 USR2"],
                    "\(result.stdout)")
        }
        let zsh = """
            autoload -Uz compinit && compinit -u -D
            source <(swiftman completion zsh) || exit 9
            compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -r -- "$@"; }
            words=(swiftman signal ''); CURRENT=3; _swiftman
            words=(swiftman signal web ''); CURRENT=4; _swiftman
            """
        if installed("/usr/bin/zsh") {
            let result = try shell(project, "/usr/bin/zsh", ["-fc", zsh])
            #expect(result.code == 0 && result.stderr.isEmpty, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "web worker", "\(result.stdout)")
            #expect(lines.count == 2 && lines[1].split(separator: " ").contains("USR1"), "\(result.stdout)")
        }
        let fish = """
            swiftman completion fish | source; or exit 9
            complete -C 'swiftman signal '
            echo ---
            complete -C 'swiftman signal web US'
            """
        if installed("/usr/bin/fish") {
            let result = try shell(project, "/usr/bin/fish", ["--no-config", "-c", fish])
            #expect(result.code == 0 && result.stderr.isEmpty, "\(result.stderr)")
            let sections = result.stdout.components(separatedBy: "---\n").map { Set($0.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }) }
            #expect(sections == [["web", "worker"], ["USR1", "USR2"]], "\(result.stdout)")
        }
    }

    @Test func unknownShellIsAUsageError() throws {
        let result = try Project().run(["completion", "tcsh"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("unknown shell \"tcsh\""), "\(result.stderr)")
    }
}

@Suite struct ManPageTests {
    /// The committed docs/swiftman.1 is what `swiftman man` prints today.
    @Test func committedManPageIsUpToDate() throws {
        let result = try Project().run(["man"])
        #expect(result.code == 0)
        let committed = try String(contentsOfFile: repositoryRoot + "/docs/swiftman.1", encoding: .utf8)
        #expect(result.stdout == committed, "docs/swiftman.1 is stale: run `swift run swiftman man > docs/swiftman.1`")
        // Every command and option of --help is in it.
        for option in ["\\-\\-no\\-prefix", "\\-\\-quiet", "\\-\\-procfile", "swiftman completion"] {
            #expect(committed.contains(option), "\(option)")
        }
    }

    @Test(.enabled(if: installed("/usr/bin/man"), "man is not installed (apt-get install -y man-db)"))
    func manRendersItWithoutWarnings() throws {
        let project = try Project()
        let process = try project.swiftman(["-c", "MANWIDTH=80 man --warnings -l \"$0\" > rendered.txt", repositoryRoot + "/docs/swiftman.1"],
                                           executable: "/bin/sh")
        #expect(try process.wait() == 0, "\(process.stderr)")
        #expect(process.stderr.isEmpty, "\(process.stderr)")
        let rendered = try String(contentsOfFile: project.path("rendered.txt"), encoding: .utf8)
        #expect(rendered.contains("SWIFTMAN(1)") && rendered.contains("--no-prefix"), "\(rendered.prefix(500))")
    }
}
