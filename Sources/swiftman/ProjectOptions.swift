import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// Options shared by the commands that read a project: where the Procfile,
/// root and env files are, and which formation and ports to use.
enum ProjectOptions {
    static let options: [Option] = [
        Option(long: "procfile", short: "f", valueName: "PATH", help: "Procfile to read (default: ./Procfile, or ROOT/Procfile)"),
        Option(long: "root", short: "d", valueName: "DIR", help: "working directory of the processes (default: the Procfile's directory)",
               aliases: ["--app-root"]),
        Option(long: "env", short: "e", valueName: "FILES", help: "comma-separated env files (default: ROOT/.env when it exists)"),
        Option(long: "formation", short: "m", valueName: "SPEC", help: "instances per type: all=1,web=2,worker=0 (honcho's -c web=2 too)", aliases: ["-c", "--concurrency"]),
        Option(long: "port", short: "p", valueName: "N", help: "base port (default: PORT from env files, else $PORT, else 5000)"),
        Option(long: "exclude", short: "x", valueName: "TYPES", help: "leave these types out: web,worker (repeatable); what comes after one does not wait for it",
               repeatable: true),
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

    /// The user named this file (a flag or its SWIFTMAN_* variable, not
    /// `.foreman`): it may be a pipe (`-e <(cmd)`).
    static func named(_ option: String, in args: Arguments) -> Bool {
        args[option] != nil && !args.source(option).hasPrefix(ForemanDefaults.fileName + ":")
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
                project.procfile = try Procfile.load(procfilePath, explicit: named("procfile", in: args))
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
        let env: DotEnv.Loaded
        if args["env"] != nil && args.source("env").hasPrefix(ForemanDefaults.fileName + ":") {
            // Named by `.foreman`: trusted as `.foreman` is, or ignored with a warning.
            env = DotEnv.load(envPaths, environment: environment) { (path: String) throws(Diagnostic) -> [UInt8] in
                try ProjectFiles.readTrusted(path, warn: { CLI.printError($0) }) ?? []
            }
        } else {
            let explicit = named("env", in: args)
            env = DotEnv.load(envPaths, environment: environment) { (path: String) throws(Diagnostic) -> [UInt8] in
                try ProjectFiles.read(path, explicit: explicit)
            }
        }
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
                let excluded = try FormationPlan.parseExclude(args.all("exclude"), source: args.source("exclude"))
                project.plan = try FormationPlan(procfile: procfile, formation: formation,
                                                 ports: project.ports, selected: selected ?? args.positionals,
                                                 excluded: excluded, source: args.source("formation"),
                                                 excludeSource: args.source("exclude"))
            } catch {
                throw UsageError(message: error.description)
            }
        }
        return project
    }
}
