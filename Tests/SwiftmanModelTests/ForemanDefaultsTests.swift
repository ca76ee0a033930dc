@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform
import Testing

@Suite struct ForemanDefaultsTests {
    @Test func readsTheYAMLForemanUsersWrite() throws {
        let file = try ForemanDefaults.parse("""
            ---
            # comment
            procfile: Procfile.dev
            port: 5000 # inline comment
            env: ".env, .env.local"
            formation: 'web=1,it''s=2'
            timeout: 3.5
            :root: /srv/app
            color: no
            timestamp: off
            app: demo
            log: /var/log/demo
            user:
            """)
        let options = try file.options()
        #expect(options["procfile"]?.value == "Procfile.dev")
        #expect(options["procfile"]?.source == ".foreman:3")
        #expect(options["port"]?.value == "5000")
        #expect(options["env"]?.value == ".env, .env.local")
        #expect(options["formation"]?.value == "web=1,it's=2")
        #expect(options["timeout"]?.value == "3.5")
        #expect(options["root"]?.value == "/srv/app")
        #expect(options["no-color"]?.value == "true" && options["color"] == nil)
        #expect(options["no-timestamp"]?.source == ".foreman:10")
        #expect(options["app"]?.value == "demo")
        #expect(options["user"] == nil)   // empty: not set
        #expect(file.ignoredKeys == ["log"])
        #expect(file.usedKeys == ["procfile", "port", "env", "formation", "timeout", "root", "color", "timestamp", "app"])
    }

    @Test func concurrencyIsFormation() throws {
        let options = try ForemanDefaults.parse("concurrency: web=2\r\n").options()
        #expect(options["formation"]?.value == "web=2")
        #expect(throws: Diagnostics.self) { try ForemanDefaults.parse("concurrency: web=2\nformation: web=1\n") }
    }

    @Test func everyBadLineIsReportedWithItsLine() {
        do {
            _ = try ForemanDefaults.parse("port: 1\nnope: 2\n  indented: 3\n- list\nenv: 'open\nport: 2\nprocfile: \"a\" junk\n")
            Issue.record("expected errors")
        } catch {
            #expect(error.all.map(\.line) == [2, 3, 4, 5, 6, 7], "\(error)")
            #expect(error.all.allSatisfy { $0.source == ".foreman" })
        }
    }
}

@Suite struct ShellArgumentsTests {
    @Test func argumentsArePositionalParameters() {
        #expect(ShellArguments.argv(command: "rake", name: "job", arguments: []) == ["/bin/sh", "-c", "rake"])
        #expect(ShellArguments.argv(command: "rake", name: "job", arguments: ["a b"])
                    == ["/bin/sh", "-c", "rake \"$@\"", "job", "a b"])
    }

    @Test func trailingCommentIsDroppedBeforeTheArguments() {
        #expect(ShellArguments.argv(command: "rake db:migrate # run me", name: "m", arguments: ["x"])[2] == "rake db:migrate \"$@\"")
        #expect(ShellArguments.argv(command: "a;# c", name: "m", arguments: ["x"])[2] == "a; \"$@\"")
        // Not comments: inside quotes, inside a word, $#.
        for command in ["echo 'a # b'", "echo \"a # b\"", "echo a#b", "echo \\# x"] {
            #expect(ShellArguments.argv(command: command, name: "m", arguments: ["x"])[2] == command + " \"$@\"", "\(command)")
        }
    }

    @Test func commandUsingTheArgumentsGetsThemOnce() {
        for command in ["exec rake \"$@\"", "echo $*", "echo $1", "echo ${2}", "echo ${@:-none}", "echo $#", "echo ${#}"] {
            #expect(ShellArguments.argv(command: command, name: "m", arguments: ["x"])[2] == command, "\(command)")
        }
        // Not positional: quoted literally, a length, in a comment.
        for command in ["echo '$@'", "echo ${#name}", "echo hi # uses $@"] {
            #expect(ShellArguments.argv(command: command, name: "m", arguments: ["x"])[2].hasSuffix(" \"$@\""), "\(command)")
        }
    }
}
