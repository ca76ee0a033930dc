#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftmanCore

// Block the loop's signals before anything else can start a thread or a child.
SignalSetup.install()
exit(CLI.main(Array(CommandLine.arguments.dropFirst())))
