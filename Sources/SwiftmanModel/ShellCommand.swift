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
    /// leading assignment, reserved word or builtin. The first word is read
    /// with its quotes and backslashes removed (`"cd"`, `\\exec`, `ec'ho'` are
    /// `cd`, `exec`, `echo`): a builtin behaves differently once exec'd as a
    /// program (`echo 'a\\tb'`, `printf %q`) or is no program at all (`times`).
    public static func isSimple(_ command: String) -> Bool {
        let scan = ShellScan(command)
        guard !scan.hasOperators, !scan.unterminated, let first = scan.firstWord else { return false }
        if first.raw.hasPrefix("#") { return false }
        // An expansion names the program only when it runs: as before, exec'd.
        if !first.expands && shellWords.contains(first.name) { return false }
        // `FOO=1 cmd`: exec would take the assignment for the program's name.
        if let eq = first.raw.firstIndex(of: "="), !first.raw[..<eq].isEmpty,
           first.raw[..<eq].allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) {
            return false
        }
        return true
    }

    /// Reserved words, POSIX's special and regular builtins, and the common
    /// builtins of dash and bash: a first word among these (in any quoting)
    /// keeps the shell.
    static let shellWords: Set<String> = [
        // Reserved words (POSIX, and bash's).
        "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then",
        "until", "while", "[[", "]]", "function", "select", "time", "coproc",
        // POSIX special builtins.
        "break", ":", "continue", ".", "eval", "exec", "exit", "export", "readonly", "return", "set",
        "shift", "times", "trap", "unset",
        // POSIX regular builtins.
        "alias", "bg", "cd", "command", "false", "fc", "fg", "getopts", "hash", "jobs", "kill",
        "newgrp", "pwd", "read", "true", "type", "ulimit", "umask", "unalias", "wait",
        // dash's and bash's common ones.
        "echo", "printf", "test", "[", "local", "source", "declare", "typeset", "let", "shopt",
        "enable", "builtin", "caller", "compgen", "complete", "compopt", "dirs", "disown", "help",
        "history", "logout", "mapfile", "readarray", "popd", "pushd", "suspend", "bind",
    ]
}

/// One pass over the command's bytes the way sh tokenises quotes and comments
/// (bytes, not grapheme clusters: a combining mark after a quote must not hide
/// the `;` that follows).
struct ShellScan {
    /// The command up to its comment, if any.
    var code: Substring
    var usesPositionalParameters = false
    /// An unquoted list, pipeline, redirection, subshell or command
    /// substitution operator (or a newline) before the comment.
    var hasOperators = false
    /// A quote or a backslash left open at the end.
    var unterminated = false
    /// The first word: as written, with quotes and backslashes removed, and
    /// whether it holds a `$` or backquote expansion. Nil when there is none.
    var firstWord: (raw: String, name: String, expands: Bool)?

    init(_ command: String) {
        code = command[...]
        let bytes = Array(command.utf8)
        var single = false, double = false, escaped = false
        var previous: UInt8? = nil
        // The first word: where it started, its unquoted bytes, and whether it ended.
        var wordStart: Int? = nil, wordEnd: Int? = nil
        var name: [UInt8] = [], expands = false
        func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        func finish(_ end: Int) {
            if let wordStart, wordEnd == nil {
                wordEnd = end
                firstWord = (String(decoding: bytes[wordStart..<end], as: UTF8.self),
                             String(decoding: name, as: UTF8.self), expands)
            }
        }
        var i = 0
        scan: while i < bytes.count {
            let c = bytes[i]
            defer { previous = c; i += 1 }
            let inWord = wordStart != nil && wordEnd == nil
            if escaped {
                escaped = false
                if inWord { name.append(c) }
                continue
            }
            if single {
                if c == UInt8(ascii: "'") { single = false } else if inWord { name.append(c) }
                continue
            }
            if wordStart == nil && !isBlank(c) { wordStart = i }
            let collecting = wordStart != nil && wordEnd == nil
            switch c {
            case UInt8(ascii: "\\"): escaped = true
            case UInt8(ascii: "'") where !double: single = true
            case UInt8(ascii: "\""): double.toggle()
            case UInt8(ascii: "$"):
                if collecting { expands = true; name.append(c) }
                let next = i + 1
                guard next < bytes.count else { break }
                var n = bytes[next]
                if n == UInt8(ascii: "{") {
                    let after = next + 1
                    guard after < bytes.count else { break }
                    n = bytes[after]
                    // ${#} is the count, ${#name} a length.
                    if n == UInt8(ascii: "#") {
                        let close = after + 1
                        if close < bytes.count && bytes[close] == UInt8(ascii: "}") { usesPositionalParameters = true }
                        break
                    }
                }
                if n == UInt8(ascii: "@") || n == UInt8(ascii: "*") || n == UInt8(ascii: "#")
                    || (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(n) { usesPositionalParameters = true }
            case UInt8(ascii: ";"), UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "<"), UInt8(ascii: ">"),
                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "`"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                if c == UInt8(ascii: "`") && collecting { expands = true }
                if !double {
                    hasOperators = true
                    finish(i)
                } else if collecting {
                    name.append(c)
                }
            case UInt8(ascii: "#") where !double:
                // A comment starts at a word's start: after a blank or an operator.
                if previous == nil || Array(" \t;&|()<>".utf8).contains(previous!) {
                    if wordStart == i { wordStart = nil }  // a comment is no word
                    finish(i)
                    code = Substring(String(decoding: bytes[..<i], as: UTF8.self))
                    break scan
                }
                if collecting { name.append(c) }
            default:
                if isBlank(c) && !double {
                    finish(i)
                } else if collecting {
                    name.append(c)
                }
            }
        }
        if i >= bytes.count { finish(bytes.count) }
        unterminated = single || double || escaped
    }
}
