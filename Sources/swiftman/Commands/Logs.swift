import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman logs [TARGET…]`: what the running formation printed lately.
enum LogsCommand {
    static let command = Command(
        name: "logs", usage: "logs [TARGET…]", summary: "print what the running formation's processes printed lately",
        help: """
            Usage: swiftman logs [TYPE|TYPE.N…] [-n N] [--since DURATION] [-f] [OPTIONS]

            Prints the lines the formation kept (each instance's recent output and the
            system lines, within --history per instance) in the order they were relayed,
            with the usual prefixes, then exits; with TARGETs only theirs. -n N prints
            the last N (after the target filter); -f keeps printing new lines until the
            formation ends. A reader that stops reading never slows the formation.
            """,
        options: ControlOptions.options.filter { $0.long != "procfile" } + [
            Option(long: "procfile", short: nil, valueName: "PATH", help: "Procfile of the running formation (finds its root)"),
            Option(long: "lines", short: "n", valueName: "N", help: "only the last N lines"),
            Option(long: "since", short: nil, valueName: "DURATION", help: "only lines printed in the last DURATION (90s, 5m)"),
            Option(long: "follow", short: "f", valueName: nil, help: "keep printing new lines until the formation ends"),
            Option(long: "color", short: nil, valueName: nil, help: "colour the prefixes even when stdout is not a terminal"),
            Option(long: "no-color", short: nil, valueName: nil, help: "never colour (also: NO_COLOR set to anything)"),
            Option(long: "no-timestamp", short: nil, valueName: nil, help: "leave the time out of the prefix"),
            Option(long: "no-prefix", short: nil, valueName: nil, help: "print the lines alone"),
            Option(long: "log-format", short: nil, valueName: "FORMAT", help: "text (default) or json"),
        ],
        positionals: .types, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        var query = LogsQuery()
        query.targets = args.positionals
        guard query.targets.count <= 64 else { throw UsageError(message: "at most 64 targets") }
        for target in query.targets where !ControlRequest.isName(target) {
            throw UsageError(message: "invalid target \"\(target)\" (expected TYPE or TYPE.N)")
        }
        if let text = args["lines"] {
            guard let n = Int(text), n >= 0, n <= 100_000_000 else { throw UsageError(message: "\(args.source("lines")): invalid number of lines \"\(text)\"") }
            query.last = n
        }
        if let text = args["since"] {
            guard let ns = Durations.parse(text) else {
                throw UsageError(message: "\(args.source("since")): invalid duration \"\(text)\" (e.g. 90s, 5m, 1h)")
            }
            query.since = max(0, WallTime.nowMilliseconds() - Int(ns / 1_000_000))
        }
        query.follow = args.flag("follow")
        switch args["log-format"] ?? "text" {
        case "text": break
        case "json": query.json = true
        case let other: throw UsageError(message: "\(args.source("log-format")): expected text or json, got \"\(other)\"")
        }
        query.color = args.flag("color")
            || (!args.flag("no-color") && environment["NO_COLOR"] == nil && FileDescriptor.standardOutput.isTerminal)
        query.timestamp = !args.flag("no-timestamp")
        query.prefix = !args.flag("no-prefix")

        return try ControlCall.stream(.logs(query), for: command.name, args, environment: environment, follow: query.follow)
    }
}
