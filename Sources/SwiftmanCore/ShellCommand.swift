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
        let bytes = Array(command.utf8)
        var quote: UInt8? = nil
        var escaped = false
        for b in bytes {
            if escaped { escaped = false; continue }
            if let q = quote {
                if b == q { quote = nil } else if b == UInt8(ascii: "\\") && q == UInt8(ascii: "\"") { escaped = true }
                continue
            }
            switch b {
            case UInt8(ascii: "\\"): escaped = true
            case UInt8(ascii: "'"), UInt8(ascii: "\""): quote = b
            case UInt8(ascii: "#"): break  // a comment is fine: `exec cmd # note`
            case UInt8(ascii: ";"), UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "<"), UInt8(ascii: ">"),
                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "`"), 10, 13:
                return false
            default: break
            }
        }
        guard quote == nil, !escaped else { return false }
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
