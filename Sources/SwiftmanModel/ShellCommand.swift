/// How a Procfile command is started: always under `/bin/sh -c` (so `$PORT`,
/// quotes and shell syntax work), with `exec` in front when it is a simple
/// command. dash, Debian's `/bin/sh`, does not exec the last command itself:
/// without `exec` the shell would lead the group and the program would be
/// its child, so `ps` would show the shell and its exit would be the shell's.
public enum ShellCommand {
    /// The script given to `/bin/sh -c`.
    public static func script(for command: String) -> String {
        isSimple(command) ? "exec " + command : command
    }

    /// True for one command with arguments: words, quotes and `$` expansions,
    /// but no list, pipeline, redirection, subshell, compound command,
    /// leading assignment or builtin that `exec` cannot run.
    public static func isSimple(_ command: String) -> Bool {
        let scan = ShellScan(command)
        guard !scan.hasOperators, !scan.unterminated else { return false }
        guard let first = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) else { return false }
        if first.hasPrefix("#") || notExecutable.contains(first) { return false }
        // `FOO=1 cmd`: exec would take the assignment for the program's name.
        if let eq = first.firstIndex(of: "="), !first[..<eq].isEmpty,
           first[..<eq].allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) {
            return false
        }
        return true
    }

    /// Reserved words, and builtins with no program of the same name.
    static let notExecutable: Set<String> = [
        "exec", "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
        "{", "}", "!", "[[", "function", "time", "cd", ".", ":", "eval", "export", "readonly", "set", "shift",
        "trap", "unset", "ulimit", "umask", "wait", "alias", "unalias", "read", "break", "continue", "return",
        "exit", "source", "local", "getopts", "command", "type", "hash", "jobs", "fg", "bg",
    ]
}

/// One pass over the command the way sh tokenises quotes and comments.
struct ShellScan {
    /// The command up to its comment, if any.
    var code: Substring
    var usesPositionalParameters = false
    /// An unquoted list, pipeline, redirection, subshell or command
    /// substitution operator (or a newline) before the comment.
    var hasOperators = false
    /// A quote or a backslash left open at the end.
    var unterminated = false

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
            case ";", "&", "|", "<", ">", "(", ")", "`", "\n", "\r":
                if !double { hasOperators = true }
            case "#" where !double:
                // A comment starts at a word's start: after a blank or an operator.
                if previous == nil || " \t;&|()<>".contains(previous!) {
                    code = command[..<i]
                    return
                }
            default: break
            }
        }
        unterminated = single || double || escaped
    }
}
