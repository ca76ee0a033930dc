import SwiftmanPlatform

/// `swiftman version`: the version and the build mode.
enum VersionCommand {
    static let number = "0.1.0"
    #if DEBUG
    static let buildMode = "debug"
    #else
    static let buildMode = "release"
    #endif

    // No help of its own in the table: `help version` shows the overview and
    // the manual page has no section for it; `version --help` answers below.
    static let command = Command(
        name: "version", aliases: ["--version", "-v"], usage: "version", summary: "print the version and build mode",
        help: nil, readsDefaults: false, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard try Command.takesNothing(raw, help: "Usage: swiftman version\n\nPrints the version and the build mode (release or debug).")
        else { return 0 }
        printVersion()
        return 0
    }

    static func printVersion() {
        let line = "swiftman \(number) (\(buildMode))\n"
        try? FileDescriptor.standardOutput.writeAll(line)
    }
}
