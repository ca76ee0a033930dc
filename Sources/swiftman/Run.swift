#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftmanCore

/// `swiftman run`: one-off admin processes in the app's environment (factor XII).
enum Run {
    static let options = ProjectOptions.options.filter { ["procfile", "root", "env", "port"].contains($0.long) }
    static let help = """
        Usage: swiftman run [OPTIONS] COMMAND [ARGS…]

        Loads the env files as `start` does and executes COMMAND in place of swiftman,
        in the root directory: same pid, stdin/tty, signals and exit code. When COMMAND
        names a Procfile type, its command runs under /bin/sh -c (ARGS appended as
        "$@") with that type's PORT; otherwise COMMAND is looked up on the PATH the env
        files give. A command that cannot be found exits 127.

        Options:
        \(describe(options))
        """

    static func run(_ rawArgs: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try Arguments.parse(rawArgs, options: options, help: help, environment: environment,
                                             stopAtFirstPositional: true) else { return 0 }
        guard let command = args.positionals.first else { throw UsageError(message: "missing COMMAND") }
        let extra = Array(args.positionals.dropFirst())
        let project = try ProjectOptions.load(args, environment: environment, procfileRequired: args["procfile"] != nil)
        guard project.problems.isEmpty else { throw Diagnostics(project.problems) }

        var env = environment
        env.merge(project.envFiles) { _, file in file }
        var argv: [String]
        var executable: String
        if let plan = project.plan, let index = plan.procfile.index(of: command) {
            let type = plan.procfile.types[index]
            env["PORT"] = String(plan.ports.port(typeIndex: index, number: 1))
            executable = "/bin/sh"
            argv = extra.isEmpty ? ["/bin/sh", "-c", type.command]
                : ["/bin/sh", "-c", type.command + " \"$@\"", type.name] + extra
        } else {
            guard let path = Exec.resolve(command, path: env["PATH"]) else {
                CLI.printError("run: \(command): command not found")
                return 127
            }
            executable = path
            argv = [command] + extra
        }
        if chdir(project.root) != 0 {
            throw Diagnostic(project.root, "cannot change directory: \(errnoDescription())")
        }
        let error = Exec.replaceProcess(executable: executable, arguments: argv, environment: env)
        CLI.printError("run: \(command): \(errnoDescription(error))")
        return error == ENOENT ? 127 : 126
    }
}
