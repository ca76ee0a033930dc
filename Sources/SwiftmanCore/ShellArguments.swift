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
        let scan = Scan(command)
        let script = scan.usesPositionalParameters ? command : scan.code.trimmingSpaces + " \"$@\""
        return ["/bin/sh", "-c", script, name] + arguments
    }

    /// One pass over the command the way sh tokenises quotes and comments.
    struct Scan {
        /// The command up to its comment, if any.
        var code: Substring
        var usesPositionalParameters = false

        init(_ command: String) {
            code = command[...]
            var single = false, double = false, escaped = false
            var previous: Character? = nil
            var i = command.startIndex
            while i < command.endIndex {
                let c = command[i]
                defer { previous = c; i = command.index(after: i) }
                if escaped {
                    escaped = false
                    continue
                }
                if single {
                    if c == "'" { single = false }
                    continue
                }
                switch c {
                case "\\": escaped = true
                case "'" where !double: single = true
                case "\"": double.toggle()
                case "$":
                    let next = command.index(after: i)
                    guard next < command.endIndex else { break }
                    var n = command[next]
                    if n == "{" {
                        let after = command.index(after: next)
                        guard after < command.endIndex else { break }
                        n = command[after]
                        // ${#} is the count, ${#name} a length.
                        if n == "#" {
                            let close = command.index(after: after)
                            if close < command.endIndex && command[close] == "}" { usesPositionalParameters = true }
                            break
                        }
                    }
                    if n == "@" || n == "*" || n == "#" || ("1"..."9").contains(n) { usesPositionalParameters = true }
                case "#" where !double:
                    // A comment starts at a word's start: after a blank or an operator.
                    if previous == nil || " \t;&|()<>".contains(previous!) {
                        code = command[..<i]
                        return
                    }
                default: break
                }
            }
        }
    }
}
