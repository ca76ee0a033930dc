import SwiftmanModel

/// `swiftman events`: the running formation's lifecycle, as lines or JSON.
enum EventsCommand {
    static let command = Command(
        name: "events", usage: "events", summary: "print the lifecycle events so far, then follow them",
        help: """
            Usage: swiftman events [--json] [--no-follow] [OPTIONS]

            Prints the lifecycle events the formation kept (started, ready, exited with a
            code or signal, restarting, stopping, killed after the grace time, …; the last
            10,000), then follows new ones until the formation ends (exit 0). --json prints
            one object a line with the same fields as --log-format json's system events;
            --no-follow prints what was kept and exits.
            """,
        options: ControlOptions.options + [
            Option(long: "json", short: nil, valueName: nil, help: "one JSON object a line"),
            Option(long: "no-follow", short: nil, valueName: nil, help: "print the events kept so far, then exit"),
        ],
        run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        if let extra = args.positionals.first { throw UsageError(message: "unexpected argument \"\(extra)\"") }
        let follow = !args.flag("no-follow")
        return try ControlCall.stream(.events(follow: follow, json: args.flag("json")), for: command.name, args,
                                      environment: environment, follow: follow)
    }
}
