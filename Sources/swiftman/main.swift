import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

// The arguments as the kernel passed them (CommandLine.arguments needs /proc).
let arguments = Platform.startUp()
// `version` answers before any setup: its start-up time is the product's.
if arguments.count == 2 && arguments[1] == VersionCommand.command.name {
    VersionCommand.printVersion()
    Platform.exit(0)
}
// Signals are set up by the command that owns them (`start`), not here.
Platform.exit(CLI.main(Array(arguments.dropFirst())))
