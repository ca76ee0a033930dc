/// `swiftman restart TARGET`: a type's instances, or one, stopped and started again.
enum RestartCommand {
    static let command = Command(
        name: "restart", usage: "restart TARGET", summary: "restart a type (web) or an instance (web.2)",
        help: """
            Usage: swiftman restart TYPE|TYPE.N [OPTIONS]

            Stops the instance(s) gracefully and starts them again.
            """,
        options: ControlOptions.options, positionals: .types, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        try ControlCall.run(command, raw, environment: environment) { .restart($0) }
    }
}
