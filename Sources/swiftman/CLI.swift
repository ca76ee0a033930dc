import Glibc
import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// Command dispatch: parse arguments, call the core, map errors to exit codes
/// (2 for usage errors, 1 for bad input files, the formation's code for start).
enum CLI {
    static let version = "0.1.0"
    #if DEBUG
    static let buildMode = "debug"
    #else
    static let buildMode = "release"
    #endif

    static func main(_ args: [String]) -> Int32 {
        let environment = inheritedEnvironment()
        guard let command = args.first else {
            print(usage)
            return 0
        }
        let rest = Array(args.dropFirst())
        do {
            if !["version", "--version", "-v", "help", "--help", "-h", "completion", "man"].contains(command) {
                try loadForemanDefaults()
            }
            switch command {
            case "start": return try Start.run(rest, environment: environment)
            case "check": return try Check.run(rest, environment: environment)
            case "run": return try Run.run(rest, environment: environment)
            case "export": return try Export.run(rest, environment: environment)
            case "scale", "ps", "restart", "stop": return try Control.run(command, rest, environment: environment)
            case "connect": return try Connect.run(rest, environment: environment)
            case "version", "--version", "-v":
                if rest == ["--help"] || rest == ["-h"] {
                    print("Usage: swiftman version\n\nPrints the version and the build mode (release or debug).")
                    return 0
                }
                guard rest.isEmpty else { throw UsageError(message: "unexpected argument \"\(rest[0])\"") }
                printVersion()
                return 0
            case "completion": return try Completion.run(rest, environment: environment)
            case "man":
                if rest == ["--help"] || rest == ["-h"] {
                    print(helpText("man")!)
                    return 0
                }
                guard rest.isEmpty else { throw UsageError(message: "unexpected argument \"\(rest[0])\"") }
                print(ManPage.render(), terminator: "")
                return 0
            case "help", "--help", "-h":
                if let topic = rest.first, let text = helpText(topic) {
                    print(text)
                } else {
                    print(usage)
                }
                return 0
            default:
                throw UsageError(message: "unknown command \"\(command)\"")
            }
        } catch let error as UsageError {
            // A bad value in .foreman is a bad file: exit 1, its line named.
            if error.message.hasPrefix(ForemanDefaults.fileName + ":") {
                printError(error.message)
                return 1
            }
            let hint = helpText(command) != nil ? "swiftman \(command) --help" : "swiftman help"
            printError("\(command): \(error.message) (see \(hint))")
            return 2
        } catch let error as Diagnostics {
            for d in error.all { printError(d.description) }
            return 1
        } catch let error as Diagnostic {
            printError(error.description)
            return 1
        } catch {
            printError("\(error)")
            return 1
        }
    }

    static func helpText(_ command: String) -> String? {
        switch command {
        case "start": return Start.help
        case "check": return Check.help
        case "run": return Run.help
        case "export": return Export.help
        case "scale", "ps", "restart", "stop": return Control.help(command)
        case "completion": return Completion.help
        case "man": return """
            Usage: swiftman man

            Prints swiftman's manual page (roff), made from the same text as --help:
            swiftman man > swiftman.1; man -l swiftman.1
            """
        case "connect": return Connect.help
        default: return nil
        }
    }

    /// Each command's options, for the manual page and shell completion.
    static func options(_ command: String) -> [Option] {
        switch command {
        case "start": return Start.options
        case "check": return Check.options
        case "run": return Run.options
        case "export": return Export.options
        case "scale", "ps", "restart", "stop": return Control.options(command)
        case "connect": return Connect.options
        case "completion": return Completion.options
        default: return []
        }
    }

    /// The commands, as `help` lists them: usage and a one-line summary.
    static let commands: [(usage: String, summary: String)] = [
        ("start [TYPE…]", "run the formation in the foreground"),
        ("check", "validate the Procfile and env files, list types and ports"),
        ("run COMMAND", "execute a command (or a Procfile type) in the app's environment"),
        ("scale TYPE=N…", "change the running formation (web=3 worker=0)"),
        ("ps", "list the running formation's instances"),
        ("restart TARGET", "restart a type (web) or an instance (web.2)"),
        ("stop TARGET", "stop a type or an instance"),
        ("connect TARGET", "attach this terminal to a running instance (Ctrl-] detaches)"),
        ("export FORMAT DIR", "write systemd, compose, kubernetes or supervisord units"),
        ("completion SHELL", "print a bash, zsh or fish completion script"),
        ("man", "print the manual page"),
        ("version", "print the version and build mode"),
        ("help [COMMAND]", "show help"),
    ]

    static var commandNames: [String] { commands.map { String($0.usage.split(separator: " ")[0]) } }

    static let intro = "swiftman \(version): run a Procfile's processes, foreman-compatible."
    static let closing = """
        Every command accepts --help. Options can also be set as SWIFTMAN_<OPTION>
        environment variables (e.g. SWIFTMAN_TIMEOUT=10); flags win. A .foreman file
        in the current directory sets defaults, as under foreman; flags and variables win.
        """

    static var usage: String {
        let width = commands.map { $0.usage.count }.max()! + 2
        let lines = commands.map { "  " + $0.usage + String(repeating: " ", count: width - $0.usage.count) + $0.summary }
        return intro + "\n\nUsage: swiftman COMMAND [OPTIONS]\n\nCommands:\n" + lines.joined(separator: "\n")
            + "\n\n" + closing
    }

    /// Reads `.foreman` in the current directory, if any, into the defaults
    /// every command's arguments fall back to.
    static func loadForemanDefaults() throws {
        guard let file = try ForemanDefaults.load() else { return }
        foremanFile = file
        Arguments.fileDefaults = try file.options()
    }

    /// The `.foreman` read for this command, for `check` to mention.
    nonisolated(unsafe) static var foremanFile: ForemanDefaults?

    static func printVersion() {
        var line = "swiftman \(version) (\(buildMode))\n"
        line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
    }

    /// Writes to fd 2 directly (the `stderr` global is not concurrency-safe).
    static func printError(_ message: String) {
        var line = "swiftman: " + message + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
