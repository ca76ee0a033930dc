import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman run`: one-off admin processes in the app's environment (factor XII).
enum RunCommand {
    static let command = Command(
        name: "run", usage: "run COMMAND", summary: "execute a command (or a Procfile type) in the app's environment",
        help: """
            Usage: swiftman run [OPTIONS] COMMAND [ARGS…]

            Loads the env files as `start` does and executes COMMAND in place of swiftman,
            in the root directory: same pid, stdin/tty, signals and exit code. When COMMAND
            names a Procfile type, its command runs under /bin/sh -c with that type's PORT;
            ARGS are the shell's positional parameters, appended as "$@" unless the command
            already uses them. Otherwise COMMAND is looked up on the PATH the env files
            give. A command that cannot be found exits 127, one that cannot be run 126.
            """,
        options: ProjectOptions.options.filter { ["procfile", "root", "env", "port"].contains($0.long) },
        positionals: .commandLine, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment, stopAtFirstPositional: true) else { return 0 }
        guard let command = args.positionals.first else { throw UsageError(message: "missing COMMAND") }
        let extra = Array(args.positionals.dropFirst())
        // The words after the options are the command, never a selection of types;
        // and only what runs is checked (not the formation's other ports).
        let project = try ProjectOptions.load(args, environment: environment,
                                              procfileRequired: args["procfile"] != nil, formation: false)
        guard project.problems.isEmpty else { throw Diagnostics(project.problems) }

        var env = environment
        env.merge(project.envFiles) { _, file in file }
        var argv: [String]
        var executable: String
        if let procfile = project.procfile, let index = procfile.index(of: command) {
            let type = procfile.types[index]
            let port = project.ports.port(typeIndex: index, number: 1)
            guard port <= 65535 else {
                throw UsageError(message: "\(type.name) would get port \(port), above 65535 (base port \(project.ports.base))")
            }
            env["PORT"] = String(port)
            executable = "/bin/sh"
            argv = ShellArguments.argv(command: ShellCommand.script(for: type.command), name: type.name, arguments: extra)
        } else {
            if command.contains("/") && FileSystem.isDirectory(command) {
                CLI.printError("\(Self.command.name): \(command): \(Errno.isADirectory)")
                return 126
            }
            guard let path = Exec.resolve(command, path: env["PATH"]) else {
                CLI.printError("\(Self.command.name): \(command): command not found")
                return 127
            }
            executable = path
            argv = [command] + extra
        }
        do throws(Errno) {
            try Platform.changeDirectory(project.root)
        } catch {
            throw Diagnostic(project.root, "cannot change directory: \(error)")
        }
        let error = Exec.replaceProcess(executable: executable, arguments: argv, environment: env)
        CLI.printError("\(Self.command.name): \(command): \(error)")
        return error == .noEntry ? 127 : 126
    }
}
