import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// Dispatch: finds the command in the table, runs it, and maps errors to exit
/// codes (2 for usage errors, 1 for bad input files, the command's own code
/// otherwise; a control error's kind decides between 1 and 2, in ControlCall).
enum CLI {
    static func main(_ args: [String]) -> Int32 {
        let environment = inheritedEnvironment()
        guard let word = args.first else {
            print(CommandTable.overview)
            return 0
        }
        let command = CommandTable.command(word)
        do {
            if command?.readsDefaults ?? true { try loadForemanDefaults() }
            guard let command else { throw UsageError(message: "unknown command \"\(word)\"") }
            return try command.run(Array(args.dropFirst()), environment)
        } catch let error as UsageError {
            // A bad value in .foreman is a bad file: exit 1, its line named.
            if error.message.hasPrefix(ForemanDefaults.fileName + ":") {
                printError(error.message)
                return 1
            }
            let hint = CommandTable.help(word) != nil ? "swiftman \(word) --help" : "swiftman help"
            printError("\(word): \(error.message) (see \(hint))")
            return 2
        } catch let exit as CommandExit {
            return exit.code
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

    /// Reads `.foreman` in the current directory, if any, into the defaults
    /// every command's arguments fall back to.
    static func loadForemanDefaults() throws {
        // One written by someone else is ignored, with a warning naming its owner.
        guard let file = try ForemanDefaults.load(warn: { printError($0) }) else { return }
        foremanFile = file
        Arguments.fileDefaults = try file.options()
    }

    /// The `.foreman` read for this command, for `check` to mention.
    nonisolated(unsafe) static var foremanFile: ForemanDefaults?

    /// Writes to fd 2 directly (the `stderr` global is not concurrency-safe).
    static func printError(_ message: String) {
        let line = "swiftman: " + message + "\n"
        try? FileDescriptor.standardError.writeAll(line)
    }
}

/// A command that has said what went wrong ends with this exit code.
struct CommandExit: Error {
    let code: Int32
}
