import SwiftmanModel

/// `swiftman completion bash|zsh|fish`: a shell's completion script (see
/// CompletionScript), and `completion types`, which the scripts call.
enum CompletionCommand {
    static let command = Command(
        name: "completion", usage: "completion SHELL", summary: "print a bash, zsh or fish completion script",
        help: """
            Usage: swiftman completion bash|zsh|fish

            Prints a completion script for the shell: commands, options, the process
            types of the Procfile in the current directory (for start, restart, stop and
            run) and the formats of export. Load it with
            source <(swiftman completion bash) in ~/.bashrc, or
            swiftman completion zsh > "${fpath[1]}/_swiftman", or
            swiftman completion fish > ~/.config/fish/completions/swiftman.fish.
            `swiftman completion types [-f PROCFILE]` prints the type names, one a line.
            """,
        options: ProjectOptions.options.filter { ["procfile", "root"].contains($0.long) }, listsOptions: false,
        positionals: .shells, readsDefaults: false, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let shell = raw.first, !["-h", "--help"].contains(shell) else {
            if raw.isEmpty { throw UsageError(message: "expected bash, zsh or fish") }
            HelpText.print(command.help ?? "")
            return 0
        }
        if shell == "types" {
            try? CLI.loadForemanDefaults()
            guard let args = try command.arguments(Array(raw.dropFirst()), environment: environment) else { return 0 }
            // Completion must stay quiet: a broken or missing Procfile lists nothing.
            let procfile = try? ProjectOptions.load(args, environment: environment, formation: false).procfile
            for type in procfile?.types ?? [] { print(type.name) }
            return 0
        }
        guard raw.count == 1 else { throw UsageError(message: "unexpected argument \"\(raw[1])\"") }
        switch shell {
        case "bash": print(CompletionScript.bash(), terminator: "")
        case "zsh": print(CompletionScript.zsh(), terminator: "")
        case "fish": print(CompletionScript.fish(), terminator: "")
        default: throw UsageError(message: "unknown shell \"\(shell)\" (expected bash, zsh or fish)")
        }
        return 0
    }
}
