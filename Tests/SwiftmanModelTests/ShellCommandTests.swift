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
        #expect(ShellCommand.isSimple("echo 'a;b|c>d'"))
        #expect(ShellCommand.isSimple("grep \"x && y\" file"))
        #expect(ShellCommand.isSimple("echo a\\;b"))
    }

    @Test func operatorsInATrailingCommentDoNotCount() {
        #expect(ShellCommand.isSimple("node server.js # start; then serve | log"))
        #expect(!ShellCommand.isSimple("node server.js; # done"))
    }
}
