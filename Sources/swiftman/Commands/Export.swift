import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman export FORMAT DIR`: the formation as units for another manager.
enum ExportCommand {
    static let command = Command(
        name: "export", usage: "export FORMAT DIR", summary: "write systemd, compose, kubernetes or supervisord units",
        help: """
            Usage: swiftman export FORMAT DIR [OPTIONS] [TYPE…]

            Writes the formation `start` would run (types, counts, ports, env, root, stop
            signal, timeout, restart policy) into DIR as FORMAT: systemd (APP.target and one
            service per instance), compose (compose.yaml), kubernetes (APP.yaml: a Deployment
            per type, a Service for web) or supervisord (APP.conf). With --env-ref secrets
            stay out of DIR: env files are referenced (systemd, compose) or a Secret is
            (kubernetes).
            """,
        options: ProjectOptions.options + FormationOptions.lifecycle + FormationOptions.readiness + FormationOptions.watch + FormationOptions.health + [
            Option(long: "app", short: nil, valueName: "NAME", help: "prefix of every unit and resource (default: the root directory's name)"),
            Option(long: "image", short: nil, valueName: "IMAGE", help: "container image holding the app (compose, kubernetes: required)"),
            Option(long: "user", short: nil, valueName: "USER", help: "run the processes as USER (kubernetes: a numeric uid)"),
            Option(long: "env-ref", short: nil, valueName: nil, help: "reference the env files (or a Secret) instead of copying their values"),
            Option(long: "service", short: nil, valueName: "TYPES", help: "kubernetes: types that get a Service (default: web)"),
        ],
        positionals: .exportTarget, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        guard args.positionals.count >= 2 else { throw UsageError(message: "expected FORMAT and DIR") }
        let formats = ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")
        guard let format = ExportFormat(rawValue: args.positionals[0]) else {
            throw UsageError(message: "unknown format \"\(args.positionals[0])\" (expected \(formats))")
        }
        let dir = args.positionals[1]
        let (project, plan) = try ProjectOptions.loadValid(args, environment: environment,
                                                           selected: Array(args.positionals.dropFirst(2)))
        let lifecycle = try FormationOptions.supervisorConfig(args, plan: plan)
        let root = FileSystem.canonical(project.root) ?? FileSystem.absolute(project.root)
        var input = ExportInput(
            plan: plan, root: root, environment: project.envFiles,
            stopSignal: lifecycle.stopSignal, timeoutSeconds: Double(lifecycle.timeout) / 1e9, restart: lifecycle.restart,
            options: ExportOptions(app: args["app"] ?? ExportOptions.defaultApp(root: root),
                                   image: args["image"], user: args["user"],
                                   referenceEnvFiles: args.flag("env-ref"), envFiles: project.envPaths,
                                   serviceTypes: args["service"].map { $0.split(separator: ",").map(String.init) }),
            readiness: lifecycle.readiness, health: lifecycle.health)
        input.options.watched = try FormationOptions.watchMatcher(args, plan: plan, gitignore: "")?.types ?? []
        let files: [ExportedFile]
        do throws(Diagnostic) {
            files = try Exporter.render(format, input)
        } catch {
            // A bad option value names where it came from (a flag, SWIFTMAN_*,
            // .foreman:LINE) and is a usage error (exit 2; 1 for .foreman).
            let options = ["--app": "app", "--user": "user", "--image": "image", "--timeout": "timeout", "--env": "env"]
            guard let option = options[error.source] else { throw error }
            throw UsageError(message: "\(args.source(option)): \(error.message)")
        }
        try Exporter.write(files, to: dir)
        for warning in Exporter.warnings(format, input) { CLI.printError("export: " + warning) }
        for file in files { print(FileSystem.join(dir, file.path)) }
        return 0
    }
}
