import Glibc
import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// Options shared by the commands that read a project: where the Procfile,
/// root and env files are, and which formation and ports to use.
enum ProjectOptions {
    static let options: [Option] = [
        Option(long: "procfile", short: "f", valueName: "PATH", help: "Procfile to read (default: ./Procfile, or ROOT/Procfile)"),
        Option(long: "root", short: "d", valueName: "DIR", help: "working directory of the processes (default: the Procfile's directory)"),
        Option(long: "env", short: "e", valueName: "FILES", help: "comma-separated env files (default: ROOT/.env when it exists)"),
        Option(long: "formation", short: "m", valueName: "SPEC", help: "instances per type: all=1,web=2,worker=0", aliases: ["-c", "--concurrency"]),
        Option(long: "port", short: "p", valueName: "N", help: "base port (default: PORT from env files, else $PORT, else 5000)"),
    ]

    /// A loaded project: every problem found is collected, so `check` can
    /// report them all; `start` refuses to run on any.
    struct Project {
        var procfile: Procfile?
        var root: String
        var envFiles: [String: String] = [:]
        /// The env files read, in order (absolute).
        var envPaths: [String] = []
        /// Lines of the env files that were skipped (`file:line: warning: …`).
        var envWarnings: [DotEnv.Warning] = []
        /// The same, as the user named them (`.env`, `config/dev.env`).
        var envNames: [String] = []
        /// The base port and foreman's scheme.
        var ports = PortPlan(base: 5000)
        var plan: FormationPlan?
        var problems: [Diagnostic] = []
    }

    /// Loads a project that must be valid: throws every problem found.
    static func loadValid(_ args: Arguments, environment: [String: String],
                          selected: [String]? = nil) throws -> (Project, FormationPlan) {
        let project = try load(args, environment: environment, selected: selected)
        guard project.problems.isEmpty, let plan = project.plan else { throw Diagnostics(project.problems) }
        return (project, plan)
    }

    /// Loads the project. Without `procfileRequired` a missing Procfile is fine
    /// (for `run`, which also works outside a project). Without `formation` no
    /// plan is made (`run` checks only the type it runs, not the formation).
    /// `selected` are the types to run (default: the positional arguments).
    static func load(_ args: Arguments, environment: [String: String],
                     procfileRequired: Bool = true, formation wantsPlan: Bool = true,
                     selected: [String]? = nil) throws(UsageError) -> Project {
        let root = args["root"]
        let procfilePath = args["procfile"] ?? (root.map { FileSystem.join($0, "Procfile") } ?? "Procfile")
        if let root, !FileSystem.isDirectory(root) {
            throw UsageError(message: "\(args.source("root")): \"\(root)\" is not a directory")
        }
        var project = Project(root: root ?? FileSystem.directory(of: procfilePath))

        if procfileRequired || FileSystem.exists(procfilePath) {
            do throws(Diagnostics) {
                project.procfile = try Procfile.load(procfilePath)
            } catch {
                project.problems += error.all
            }
        }

        var envPaths = [FileSystem.join(project.root, ".env")]
        if let list = args["env"] {
            envPaths = list.split(separator: ",").map { String($0) }
            if envPaths.isEmpty { throw UsageError(message: "\(args.source("env")): no file named") }
        } else if !FileSystem.exists(envPaths[0]) {
            envPaths = []
        }
        project.envNames = envPaths
        project.envPaths = envPaths.map(FileSystem.absolute)
        let env = DotEnv.load(envPaths, environment: environment)
        project.envFiles = env.values
        project.envWarnings = env.warnings
        project.problems += env.problems
        // What execve cannot pass would make every spawn fail: refused here,
        // by `check` and `start` alike.
        project.problems += ExecLimits.environmentProblems(project.envFiles, source: envPaths.joined(separator: ","))

        let formation: Formation
        let base: Int
        do throws(Diagnostic) {
            formation = try args["formation"].map { text throws(Diagnostic) in
                try Formation.parse(text, source: args.source("formation"))
            } ?? Formation()
            base = try PortPlan.basePort(flag: args["port"], flagSource: args.source("port"),
                                         envFiles: project.envFiles, inherited: environment)
        } catch {
            throw UsageError(message: error.description)
        }
        project.ports = PortPlan(base: base)
        if wantsPlan, let procfile = project.procfile {
            do throws(Diagnostic) {
                project.plan = try FormationPlan(procfile: procfile, formation: formation,
                                                 ports: project.ports, selected: selected ?? args.positionals,
                                                 source: args.source("formation"))
            } catch {
                throw UsageError(message: error.description)
            }
        }
        return project
    }
}

enum Start {
    /// How processes are stopped and restarted: shared with `export`.
    static let lifecycleOptions = [
        Option(long: "timeout", short: "t", valueName: "SECONDS", help: "grace time after the stop signal before SIGKILL (default: 5)"),
        Option(long: "restart", short: nil, valueName: "POLICY", help: "on-failure (default), always or never; per type: web=always,migrate=never"),
        Option(long: "restart-limit", short: nil, valueName: "N", help: "more than N restarts within the window stops the formation (default: 10; per type: web=3)"),
        Option(long: "restart-window", short: nil, valueName: "SECONDS", help: "the crash-loop window (default: 60)"),
        Option(long: "stop-signal", short: nil, valueName: "SIGNAL", help: "signal that asks a process to stop (default: TERM; per type: web=QUIT)"),
    ]

    /// `--ready`, `--after`, `--ready-timeout`: shared with `check` and `export`.
    static let readinessOptions = [
        Option(long: "ready", short: nil, valueName: "TYPE=CHECK",
               help: "when a type is ready: port, line:TEXT, cmd:COMMAND or exit (repeatable; comma lists)", repeatable: true),
        Option(long: "after", short: nil, valueName: "TYPE=DEP+DEP",
               help: "start a type once its dependencies are ready; stop it before them (repeatable)", repeatable: true),
        Option(long: "ready-timeout", short: nil, valueName: "SECONDS",
               help: "a dependency not ready this long after starting stops the formation (default: 60)"),
    ]

    static let options = ProjectOptions.options + lifecycleOptions + readinessOptions + [
        Option(long: "color", short: nil, valueName: nil, help: "colour the prefixes even when stdout is not a terminal"),
        Option(long: "no-color", short: nil, valueName: nil, help: "never colour (also: NO_COLOR set to anything)", aliases: ["--no-colour"]),
        Option(long: "no-timestamp", short: nil, valueName: nil, help: "leave the time out of the prefix"),
        Option(long: "no-prefix", short: nil, valueName: nil, help: "print the lines alone, without the \"HH:MM:SS name | \" prefix"),
        Option(long: "quiet", short: "q", valueName: "TYPES", help: "hide these types' output (redis,postgres); system lines about them stay"),
        Option(long: "log-format", short: nil, valueName: "FORMAT", help: "text (default) or json: one object per line with time, process, stream, message"),
        Option(long: "tty", short: nil, valueName: "TYPES", help: "run children on a pseudo-terminal: all, or --tty=web,worker", optionalValue: true),
        Option(long: "input", short: nil, valueName: "TARGET", help: "send the lines typed here to TARGET's stdin (web: its first instance, or web.2)"),
        ControlOptions.socket,
    ]

    static let help = """
        Usage: swiftman start [OPTIONS] [TYPE…]

        Runs the Procfile's process types in the foreground; with TYPE… only those.
        Each instance TYPE.N gets PORT (base + 100 × type index + N − 1) and PS=TYPE.N.
        Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every process group: the stop signal,
        then SIGKILL after the timeout; a second Ctrl-C kills at once.
        With --input TARGET, each line typed (or piped) on swiftman's stdin goes to
        that instance's stdin, so a debugger's prompt there can be answered; to attach
        another terminal to an instance, see `swiftman connect`.

        Options:
        \(Start.optionHelp)
        """

    static var optionHelp: String { describe(options) }

    static func run(_ rawArgs: [String], environment: [String: String]) throws -> Int32 {
        // Only `start` owns SIGINT, SIGTERM and SIGHUP (read by its loop from a
        // signalfd): blocked here, before any thread or child exists. Every
        // other command keeps the default actions, so it can be interrupted.
        SignalSetup.install()
        guard let args = try Arguments.parse(rawArgs, options: options, help: help, environment: environment) else { return 0 }
        if Platform.closedStandardDescriptors.contains(1) {
            throw Diagnostic("stdout", "closed when swiftman started: the formation's output would go nowhere (redirect it to /dev/null to discard it)")
        }
        let (project, plan) = try ProjectOptions.loadValid(args, environment: environment)

        let supervisor = try supervisorConfig(args, plan: plan)

        var env = environment
        env.merge(project.envFiles) { _, file in file }
        let socket = try ControlOptions.socketPath(args, root: project.root, environment: environment)
        let root = FileSystem.canonical(project.root) ?? project.root
        var config = RunConfig(plan: plan, root: root, environment: env, supervisor: supervisor,
                               style: try style(args, environment: environment, plan: plan),
                               tty: try tty(args, plan: plan),
                               controlSocket: socket.path, controlDirectory: socket.directory,
                               notices: project.envWarnings.map(\.description))
        config.input = try input(args, plan: plan)
        let loop = try FormationRuntime(config: config)
        return loop.run()
    }

    static func supervisorConfig(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> SupervisorConfig {
        var supervisor = SupervisorConfig()
        supervisor.timeout = try seconds(args, "timeout", default: 5)
        supervisor.restartWindow = try seconds(args, "restart-window", default: 60)
        supervisor.restart = try perType(args, "restart", default: .onFailure, plan: plan) { RestartPolicy(rawValue: $0) }
        supervisor.stopSignal = try perType(args, "stop-signal", default: Signal.terminate, plan: plan) { Signals.parse($0) }
        for (type, signal) in [("", supervisor.stopSignal.fallback)] + supervisor.stopSignal.overrides.sorted(by: { $0.key < $1.key }) {
            if let reason = Signals.cannotStop(signal) {
                throw UsageError(message: "\(args.source("stop-signal")): \(type.isEmpty ? "" : type + ": ")\(Signals.name(signal)) \(reason): use TERM (the default), INT, QUIT, HUP, USR1, USR2 or KILL")
            }
        }
        supervisor.restartLimit = try perType(args, "restart-limit", default: 10, plan: plan) { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        supervisor.readiness = try readiness(args, plan: plan)
        return supervisor
    }

    static func readiness(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> ReadinessConfig {
        var readiness = ReadinessConfig()
        let types = plan.procfile.types.map(\.name)
        do throws(Diagnostic) {
            readiness.checks = try ReadinessConfig.parseReady(args.all("ready"), source: args.source("ready"), types: types)
            readiness.order = try ReadinessConfig.parseAfter(args.all("after"), source: args.source("after"), types: types)
        } catch {
            throw UsageError(message: error.description)
        }
        readiness.timeout = try seconds(args, "ready-timeout", default: 60)
        return readiness
    }

    static func tty(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> TTYSelection {
        guard let value = args["tty"] else { return .none }
        if value == "true" { return .all }
        return .types(try typeList(args, "tty", plan: plan))
    }

    /// A comma-separated list of the Procfile's types (`--tty=web,worker`, `-q redis`).
    static func typeList(_ args: Arguments, _ name: String, plan: FormationPlan) throws(UsageError) -> Set<String> {
        let types = (args[name] ?? "").split(separator: ",").map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
        for type in types where plan.procfile.index(of: type) == nil {
            throw UsageError(message: "\(args.source(name)): unknown process type \"\(type)\" (Procfile has: \(plan.procfile.typeNames))")
        }
        guard !types.isEmpty else { throw UsageError(message: "\(args.source(name)): no process type named") }
        return Set(types)
    }

    static func input(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> String? {
        guard let target = args["input"] else { return nil }
        do throws(Diagnostic) {
            return try InputTarget.resolve(target, plan: plan, source: args.source("input"))
        } catch {
            throw UsageError(message: error.description)
        }
    }

    static func style(_ args: Arguments, environment: [String: String], plan: FormationPlan) throws(UsageError) -> OutputStyle {
        var format = OutputStyle.Format.text
        if let text = args["log-format"] {
            guard let f = OutputStyle.Format(rawValue: text) else {
                throw UsageError(message: "\(args.source("log-format")): expected text or json, got \"\(text)\"")
            }
            format = f
        }
        let color: Bool
        if args.flag("no-color") {
            color = false
        } else if args.flag("color") {
            color = true
        } else if environment["NO_COLOR"] != nil {
            color = false
        } else if let force = environment["FORCE_COLOR"], !["0", "false", "no"].contains(force.lowercased()) {
            color = true
        } else {
            color = isatty(1) == 1
        }
        var style = OutputStyle(color: color && format == .text, timestamps: !args.flag("no-timestamp"), format: format)
        style.prefix = !args.flag("no-prefix")
        if args["quiet"] != nil { style.quiet = try typeList(args, "quiet", plan: plan) }
        return style
    }

    static func seconds(_ args: Arguments, _ name: String, default fallback: Double) throws(UsageError) -> Int64 {
        guard let text = args[name] else { return Int64(fallback * 1e9) }
        guard let value = Double(text), value >= 0, value <= 86_400 * 365 else {
            throw UsageError(message: "\(args.source(name)): invalid number of seconds \"\(text)\"")
        }
        return Int64(value * 1e9)
    }

    static func perType<V>(_ args: Arguments, _ name: String, default fallback: V, plan: FormationPlan,
                           _ parse: (String) -> V?) throws(UsageError) -> PerType<V> {
        guard let text = args[name] else { return PerType(fallback) }
        do throws(Diagnostic) {
            let value = try PerType.parse(text, default: fallback, source: args.source(name), value: parse)
            for type in value.overrides.keys.sorted() where plan.procfile.index(of: type) == nil {
                throw Diagnostic(args.source(name), "unknown process type \"\(type)\"")
            }
            return value
        } catch {
            throw UsageError(message: error.description)
        }
    }
}

enum Check {
    static let options = ProjectOptions.options + Start.readinessOptions
    static let help = """
        Usage: swiftman check [OPTIONS]

        Validates the Procfile and env files, reporting every problem with its file
        and line, then lists each process type with its instances and ports.
        Exits 1 when anything is wrong.

        Options:
        \(describe(options))
        """

    static func run(_ rawArgs: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try Arguments.parse(rawArgs, options: options, help: help, environment: environment) else { return 0 }
        let project = try ProjectOptions.load(args, environment: environment)
        for warning in project.envWarnings { CLI.printError(warning.description) }
        guard project.problems.isEmpty, let plan = project.plan else { throw Diagnostics(project.problems) }
        // --ready/--after are checked before anything is called valid.
        let readiness = try Start.readiness(args, plan: plan)
        let types = plan.procfile.types
        print("\(plan.procfile.path): valid, \(types.count) process type\(types.count == 1 ? "" : "s")")
        let rows: [[String]] = types.enumerated().map { index, type in
            let count = plan.count(for: type.name)
            let first = plan.ports.port(typeIndex: index, number: 1)
            let ports = count > 1 ? "\(first)-\(plan.ports.port(typeIndex: index, number: count))" : "\(first)"
            // A type that does not run keeps its port slot, shown only while it is a port.
            let idle = first <= 65535 ? "(port \(ports), not started)" : "(not started; port \(first) out of range)"
            return [type.name, "×\(count)", count == 0 ? idle : "port \(ports)", type.command]
        }
        print(TextTable.render(rows, indent: "  ", padded: 3), terminator: "")
        // What was read goes to stderr: stdout stays the header and one line
        // per type, which scripts (and the dotenv-compat runner) parse.
        var notes = ["env files: " + (project.envNames.isEmpty ? "none (no \(FileSystem.join(project.root, ".env")))"
                                      : project.envNames.joined(separator: ", "))]
        if let foreman = CLI.foremanFile {
            var line = "defaults: \(foreman.path)"
            if !foreman.usedKeys.isEmpty { line += " (" + foreman.usedKeys.joined(separator: ", ") + ")" }
            if !foreman.ignoredKeys.isEmpty { line += "; ignored: " + foreman.ignoredKeys.joined(separator: ", ") }
            notes.append(line)
        }
        if !readiness.order.isEmpty { notes.append("start order: \(readiness.order.describe())") }
        let checks = plan.procfile.types.enumerated().compactMap { index, type in
            readiness.checks[type.name].map { "\(type.name): \($0.awaited(port: plan.ports.port(typeIndex: index, number: 1)))" }
        }
        if !checks.isEmpty { notes.append("ready when: \(checks.joined(separator: "; "))") }
        var text = notes.joined(separator: "\n") + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        return 0
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self).split(separator: " ").joined() }
}

/// Option lines for --help.
func describe(_ options: [Option]) -> String {
    options.map { opt in
        var names = opt.short.map { "-\($0), " } ?? "    "
        names += "--\(opt.long)"
        if let v = opt.valueName { names += " \(v)" }
        let pad = String(repeating: " ", count: max(1, 30 - names.count))
        return "  \(names)\(pad)\(opt.help)  [\(opt.environmentName)]"
    }.joined(separator: "\n")
}
