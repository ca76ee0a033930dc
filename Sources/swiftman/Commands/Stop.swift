/// `swiftman stop TARGET`: a type's instances, or one, stopped until asked back.
enum StopCommand {
    static let command = Command(
        name: "stop", usage: "stop TARGET", summary: "stop a type or an instance",
        help: """
            Usage: swiftman stop TYPE|TYPE.N [OPTIONS]

            Stops the instance(s) gracefully; they stay stopped (whatever the restart
            policy) until `restart` or `scale`.
            """,
        options: ControlOptions.options, positionals: .types, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        try ControlCall.run(command, raw, environment: environment) { .stop($0) }
    }
}
