/// How `swiftman run TYPE ARGS…` hands ARGS to a Procfile command: always as
/// the shell's positional parameters (`/bin/sh -c SCRIPT TYPE ARGS…`), so they
/// are never parsed as shell text. When the command already refers to them
/// (`"$@"`, `$*`, `$1`…, `$#`) the script is the command unchanged; otherwise
/// ` "$@"` is appended after the command with its trailing `# comment` removed,
/// so the arguments reach the command's last word list and are not swallowed
/// by the comment.
public enum ShellArguments {
    /// The argv (`/bin/sh -c …`) that runs `command` with `arguments`; `name`
    /// becomes `$0` (the type's name, as in error messages from the shell).
    public static func argv(command: String, name: String, arguments: [String]) -> [String] {
        guard !arguments.isEmpty else { return ["/bin/sh", "-c", command] }
        let scan = ShellScan(command)
        let script = scan.usesPositionalParameters ? command : scan.code.trimmingSpaces + " \"$@\""
        return ["/bin/sh", "-c", script, name] + arguments
    }
}
