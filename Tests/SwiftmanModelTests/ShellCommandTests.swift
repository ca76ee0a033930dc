import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

@Suite struct ShellCommandTests {
    @Test(arguments: [
        "gunicorn -b 0.0.0.0:$PORT app:app",
        "bundle exec puma -C config/puma.rb",
        "esbuild app/javascript/*.* --bundle --outdir=app/assets/builds --watch",
        "python3 -u 'my script.py' \"$ARG\"",
        "node ${ENTRY:-server.js} # started by swiftman",
        "redis-server --port $PORT",
        "sleep 1000",
    ])
    func aSimpleCommandIsExecdSoTheProgramLeadsTheGroup(command: String) {
        #expect(ShellCommand.isSimple(command))
        #expect(ShellCommand.script(for: command) == "exec " + command)
    }

    @Test(arguments: [
        "cd app && bundle exec puma",
        "echo hi; sleep 1",
        "yes | head",
        "node server.js > log.txt",
        "node server.js 2>&1",
        "(cd x; make)",
        "FOO=1 node server.js",
        "exec node server.js",
        "cd app",
        "export FOO=1",
        "if true; then x; fi",
        "while :; do sleep 1; done",
        "trap 'echo bye' TERM",
        "echo `date`",
        "echo 'unterminated",
        "sleep 1 &",
        "",
        "  ",
        "# only a comment",
        "printf 'a\\nb'\nsleep 1",
    ])
    func shellSyntaxAndBuiltinsKeepTheShell(command: String) {
        #expect(!ShellCommand.isSimple(command))
        #expect(ShellCommand.script(for: command) == command)
    }

    @Test func metacharactersInsideQuotesAreArguments() {
        #expect(ShellCommand.isSimple("cat 'a;b|c>d'"))
        #expect(ShellCommand.isSimple("grep \"x && y\" file"))
        #expect(ShellCommand.isSimple("ls a\\;b"))
    }

    @Test func operatorsInATrailingCommentDoNotCount() {
        #expect(ShellCommand.isSimple("node server.js # start; then serve | log"))
        #expect(!ShellCommand.isSimple("node server.js; # done"))
    }

    /// Issue 17, point 6: a builtin or reserved word in any quoting keeps the
    /// shell (exec'd as a program it prints differently or is not found).
    @Test(arguments: [
        "echo 'a\\tb'", "echo -e 'a\\tb'", "printf %q x", "times", "\"cd\" /", "\\exec true",
        "'echo' hi", "ec'ho' hi", "e\\cho hi", "\"if\" x", "kill -0 1", "test -f x", "[ -f x ]",
        "true", "pwd", "source x", "declare -x A=1",
    ])
    func builtinsInAnyQuotingKeepTheShell(command: String) {
        #expect(!ShellCommand.isSimple(command))
        #expect(ShellCommand.script(for: command) == command)
    }

    @Test func programsNamedLikeNoBuiltinAreStillExecd() {
        #expect(ShellCommand.isSimple("\"my prog\" --flag"))
        #expect(ShellCommand.isSimple("/bin/echo -e x"), "a path is never a builtin")
        #expect(ShellCommand.isSimple("$RUNNER serve"), "an expansion is resolved when it runs")
        #expect(ShellCommand.isSimple("echoes x"))
    }

    /// Issue 17, point 7: the scanner reads bytes. A combining mark after a
    /// quote forms one grapheme cluster with it; it must not hide the `;`.
    @Test func aCombiningMarkAfterAQuoteHidesNoOperator() {
        let command = "echo \"a\"\u{0301}; echo second; echo \"\u{0301}\""
        #expect(ShellScan(command).hasOperators)
        #expect(!ShellCommand.isSimple(command))
        #expect(!ShellCommand.isSimple("sleep 1 \"\u{0301}\"; sleep 2"))
        #expect(ShellCommand.isSimple("node \"caf\u{0065}\u{0301}.js\""))
        let args = ShellArguments.argv(command: "cat \"\u{0301}\" # note", name: "x", arguments: ["a"])
        #expect(args[2] == "cat \"\u{0301}\" \"$@\"")
    }
}
