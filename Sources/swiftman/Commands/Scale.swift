import SwiftmanModel

/// `swiftman scale TYPE=N…`: the running formation's counts changed.
enum ScaleCommand {
    static let command = Command(
        name: "scale", usage: "scale TYPE=N…", summary: "change the running formation (web=3 worker=0)",
        help: """
            Usage: swiftman scale TYPE=N [TYPE=N…] [OPTIONS]

            Changes the running formation: new instances start with their scheme port
            (base + 100 × type index + N − 1); removed ones, highest numbers first, get
            their stop signal, then SIGKILL after the timeout. Other instances are untouched.
            """,
        options: ControlOptions.options, positionals: .typeCounts, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        guard !args.positionals.isEmpty else { throw UsageError(message: "missing TYPE=N") }
        let items = try ControlCall.usage { () throws(ControlFailure) in
            try args.positionals.map { word throws(ControlFailure) in try ControlRequest.parseScaleItem(word) }
        }
        for line in try ControlCall.send(.scale(items), for: command.name, args, environment: environment) { print(line) }
        return 0
    }
}
