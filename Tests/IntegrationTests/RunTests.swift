// `swiftman run`: the command replaces swiftman (execve), in the app's environment.
import Glibc
import Foundation
import Testing

@Suite struct RunTests {
    @Test func commandKeepsSwiftmansPid() throws {
        let project = try Project()
        let swiftman = try project.swiftman(["run", "sh", "-c", "echo $$"])
        #expect(try swiftman.wait() == 0)
        // sh's $$ is the pid the harness spawned: swiftman exec'd in place, no parent left.
        #expect(swiftman.stdout == "\(swiftman.pid)\n", "stderr: \(swiftman.stderr)")
        project.expectNothingLeft()
    }

    @Test func signalReachesTheCommandDirectly() throws {
        let project = try Project()
        let swiftman = try project.swiftman([
            "run", "sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready $$; while :; do sleep 0.1; done",
        ])
        try swiftman.waitFor("ready")
        // The signal goes to the pid we spawned, which is the shell itself.
        swiftman.signal(SIGTERM)
        // The command's own trap ran and its exit code is the caller's.
        #expect(try swiftman.wait() == 3)
        #expect(swiftman.stdout == "ready \(swiftman.pid)\ngot-term\n", "stderr: \(swiftman.stderr)")
        project.expectNothingLeft()
    }

    @Test func dotEnvIsApplied() throws {
        let project = try Project(procfile: "web: echo web\n")
        try project.write(".env", "DATABASE_URL=postgres://db.example/app\n")
        // The env file wins over the inherited value, as for start.
        let result = try project.run(["run", "sh", "-c", "echo \"$DATABASE_URL\""],
                                     environment: ["DATABASE_URL": "from-the-shell"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout == "postgres://db.example/app\n")
    }

    @Test func envFlagReplacesTheDefaultDotEnv() throws {
        let project = try Project(procfile: "web: echo web\n")
        try project.write(".env", "DATABASE_URL=from-dotenv\nONLY_DOTENV=yes\n")
        try project.write("other.env", "DATABASE_URL=from-other\n")
        let result = try project.run(["run", "-e", "other.env", "sh", "-c", "echo \"$DATABASE_URL ${ONLY_DOTENV-unset}\""])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout == "from-other unset\n")
    }

    @Test func commandIsLookedUpOnThePathFromTheEnvFile() throws {
        let project = try Project(procfile: "web: echo web\n")
        try FileManager.default.createDirectory(atPath: project.path("bin"), withIntermediateDirectories: true)
        try project.write("bin/mytool", "#!/bin/sh\necho \"mytool $# args: $1|$2\"\n")
        chmod(project.path("bin/mytool"), 0o755)
        try project.write(".env", "PATH=./bin:$PATH\n")
        let result = try project.run(["run", "mytool", "a", "b c"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout == "mytool 2 args: a|b c\n")
        // Without the env file's PATH it is not found.
        try project.write(".env", "UNRELATED=1\n")
        let missing = try project.run(["run", "mytool"])
        #expect(missing.code == 127)
    }

    @Test func procfileTypeRunsUnderShellWithItsPort() throws {
        let project = try Project(procfile: """
            web: echo "web port=$PORT ps=${PS-unset}"
            worker: printf '%s|' worker "$PORT"
            clock: echo "clock port=$PORT"
            """)
        let web = try project.run(["run", "web"])
        #expect(web.code == 0, "\(web.stderr)")
        #expect(web.stdout == "web port=5000 ps=unset\n")
        let clock = try project.run(["run", "clock"])
        #expect(clock.stdout == "clock port=5200\n")
        // Extra arguments are appended as "$@", each kept whole.
        let worker = try project.run(["run", "worker", "a", "b c", "$HOME"])
        #expect(worker.code == 0, "\(worker.stderr)")
        #expect(worker.stdout == "worker|5100|a|b c|$HOME|")
    }

    @Test func procfileTypePortFollowsTheBasePort() throws {
        let project = try Project(procfile: "web: echo web\nworker: echo \"worker port=$PORT\"\n")
        let result = try project.run(["run", "-p", "7000", "worker"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout == "worker port=7100\n")
    }

    @Test func exitCodeIsPassedThrough() throws {
        let project = try Project()
        #expect(try project.run(["run", "sh", "-c", "exit 7"]).code == 7)
        #expect(try project.run(["run", "sh", "-c", "exit 0"]).code == 0)
        #expect(try project.run(["run", "false"]).code == 1)
    }

    @Test func commandDiedOfSignalIsSeenByTheCaller() throws {
        let project = try Project()
        // exec'd in place: the caller sees the death by signal itself, not a code.
        #expect(try project.run(["run", "sh", "-c", "kill -KILL $$"]).code == 128 + SIGKILL)
    }

    @Test func missingCommandExits127() throws {
        let project = try Project(procfile: "web: echo web\n")
        let result = try project.run(["run", "no-such-command-xyz", "arg"])
        #expect(result.code == 127)
        #expect(result.stderr.contains("no-such-command-xyz: command not found"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func nonExecutableFileExits126() throws {
        let project = try Project()
        try project.write("script.sh", "echo hi\n")
        chmod(project.path("script.sh"), 0o644)
        // README: 127 when not found, 126 when it cannot be executed (as a shell:
        // `./script.sh` without the x bit is "Permission denied", 126).
        let result = try project.run(["run", "./script.sh"])
        #expect(result.code == 126, "\(result.stderr)")
        #expect(result.stderr.contains("script.sh"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)

        // Executable, but not a format the kernel can run.
        try project.write("garbage", bytes: [0x7F] + Array("ELF not really".utf8))
        chmod(project.path("garbage"), 0o755)
        let garbage = try project.run(["run", "./garbage"])
        #expect(garbage.code == 126, "\(garbage.stderr)")
        #expect(garbage.stderr.contains("garbage"), "\(garbage.stderr)")
    }

    @Test func runWithoutCommandIsAUsageError() throws {
        let project = try Project(procfile: "web: echo web\n")
        let result = try project.run(["run"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("swiftman: run: "), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func worksOutsideAProject() throws {
        let project = try Project()   // no Procfile
        try project.write(".env", "GREETING=hello-from-env\n")
        let result = try project.run(["run", "sh", "-c", "echo \"$GREETING\" \"${PORT-noport}\"; pwd"])
        #expect(result.code == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "hello-from-env noport")
        #expect(lines.count == 2)
        #expect(FileSystemPaths.same(lines.last ?? "", project.dir))
    }

    @Test func rootOptionIsTheWorkingDirectory() throws {
        let project = try Project(procfile: "web: echo web\n")
        try FileManager.default.createDirectory(atPath: project.path("app"), withIntermediateDirectories: true)
        try project.write("app/.env", "WHERE=app-env\n")
        let result = try project.run(["run", "-d", project.path("app"), "sh", "-c", "echo \"$WHERE\"; pwd"])
        #expect(result.code == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "app-env")
        #expect(FileSystemPaths.same(lines.last ?? "", project.path("app")))
    }

    /// Issue 12: with -f (or --procfile=, SWIFTMAN_PROCFILE) the words after the
    /// options are still the command, not a selection of types.
    @Test func procfileFlagStillRunsTheCommand() throws {
        let project = try Project()
        try project.write("Procfile.dev", "web: echo web\nworker: echo worker\n")
        for (flags, env) in [(["-f", "Procfile.dev"], [:]), (["--procfile=Procfile.dev"], [:]),
                             ([], ["SWIFTMAN_PROCFILE": "Procfile.dev"])] as [([String], [String: String])] {
            let result = try project.run(["run"] + flags + ["sh", "-c", "echo migrated \"$1\"", "sh", "db:migrate"],
                                         environment: env)
            #expect(result.code == 0, "\(flags) \(env): \(result.stderr)")
            #expect(result.stdout == "migrated db:migrate\n", "\(flags) \(env)")
            // And the first word still names a type when it is one.
            let type = try project.run(["run"] + flags + ["worker"], environment: env)
            #expect(type.stdout == "worker\n", "\(flags) \(env): \(type.stderr)")
        }
    }

    /// A simple type command is exec'd by the shell as under `start`: it keeps
    /// swiftman's pid, with or without arguments.
    @Test func procfileTypeKeepsSwiftmansPid() throws {
        let project = try Project(procfile: "pid: sh -c 'echo $$ \"$@\"' pid\n")
        for arguments in [[], ["an arg"]] {
            let swiftman = try project.swiftman(["run", "pid"] + arguments)
            #expect(try swiftman.wait() == 0)
            #expect(swiftman.stdout == "\(swiftman.pid)\(arguments.map { " " + $0 }.joined())\n", "stderr: \(swiftman.stderr)")
        }
    }

    /// Issue 13 #18: other types' ports do not stop `run`.
    @Test func runChecksOnlyWhatItRuns() throws {
        let project = try Project(procfile: "web: echo \"web $PORT\"\nworker: echo worker\n")
        try project.write(".env", "PORT=65500\n")
        let echo = try project.run(["run", "echo", "hi"])
        #expect(echo.code == 0, "\(echo.stderr)")
        #expect(echo.stdout == "hi\n")
        let web = try project.run(["run", "web"])
        #expect(web.code == 0, "\(web.stderr)")
        #expect(web.stdout == "web 65500\n")
        // The type it runs is still checked.
        let worker = try project.run(["run", "worker"])
        #expect(worker.code == 2)
        #expect(worker.stderr.contains("worker would get port 65600"), "\(worker.stderr)")
    }

    /// Issue 13 #19: ARGS are positional parameters: a trailing comment does not
    /// swallow them, and a command that uses "$@" gets them once.
    @Test func typeArgumentsSurviveCommentsAndAreNotDoubled() throws {
        let project = try Project(procfile: """
            commented: printf '%s|' one # the first command
            uses: printf '%s|' "$@"; echo " n=$#"
            quoted: printf '%s|' 'a # not a comment' "b#c"
            """)
        let commented = try project.run(["run", "commented", "two", "three four"])
        #expect(commented.code == 0, "\(commented.stderr)")
        #expect(commented.stdout == "one|two|three four|")
        let uses = try project.run(["run", "uses", "x", "y z"])
        #expect(uses.stdout == "x|y z| n=2\n", "\(uses.stderr)")
        let quoted = try project.run(["run", "quoted", "$HOME", "`id`"])
        #expect(quoted.stdout == "a # not a comment|b#c|$HOME|`id`|", "\(quoted.stderr)")
    }

    /// Issue 13 #21: a directory is "Is a directory", 126, as in a shell.
    @Test func directoryExits126() throws {
        let project = try Project()
        try FileManager.default.createDirectory(atPath: project.path("dir"), withIntermediateDirectories: true)
        let result = try project.run(["run", "./dir"])
        #expect(result.code == 126, "\(result.stderr)")
        #expect(result.stderr.contains("./dir: Is a directory"), "\(result.stderr)")
    }

    @Test func stdinIsTheCallers() throws {
        let project = try Project()
        try project.write("input.txt", "line one\nline two\n")
        // `exec swiftman run cat < input.txt` under sh: swiftman's stdin is the file.
        let fromFile = try project.swiftman(["-c", "exec \"$0\" run cat < input.txt", Binary.path],
                                            executable: "/bin/sh")
        #expect(try fromFile.wait() == 0)
        #expect(fromFile.stdout == "line one\nline two\n", "stderr: \(fromFile.stderr)")
        // And from a pipe, read by a shell builtin.
        let fromPipe = try project.swiftman(
            ["-c", "printf 'piped input\\n' | \"$0\" run sh -c 'read x; echo \"got: $x\"'", Binary.path],
            executable: "/bin/sh")
        #expect(try fromPipe.wait() == 0)
        #expect(fromPipe.stdout == "got: piped input\n", "stderr: \(fromPipe.stderr)")
        project.expectNothingLeft()
    }
}

/// Compares directories by identity (device and inode), whatever symlinks /tmp has.
private enum FileSystemPaths {
    static func same(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
