#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftmanCore

// `version` answers before any setup: its start-up time is the product's.
if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "version" {
    CLI.printVersion()
    exit(0)
}
// Block the loop's signals before anything else can start a thread or a child.
SignalSetup.install()
exit(CLI.main(Array(CommandLine.arguments.dropFirst())))
