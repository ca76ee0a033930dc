import SwiftmanModel

/// `swiftman quit`: stops the running formation as Ctrl-C does and waits for it.
enum QuitCommand {
    static let command = Command(
        name: "quit", usage: "quit", summary: "stop the running formation and wait until it has stopped",
        help: """
            Usage: swiftman quit [--timeout DURATION] [OPTIONS]

            Stops the formation exactly as Ctrl-C does (reverse start order, the stop
            signal, SIGKILL after the grace time), waits until every process has exited,
            prints the disposability report and exits with the formation's exit code.
            --timeout gives up waiting after DURATION (exit 124; the formation goes on
            stopping). 1 when no formation runs here.
            """,
        options: ControlOptions.options + [
            Option(long: "timeout", short: nil, valueName: "DURATION",
                   help: "give up waiting after DURATION (30, 0.5, 500ms, 2m; default: no limit)"),
        ],
        run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        // SWIFTMAN_TIMEOUT (and .foreman's timeout) is start's grace time, not this wait.
        guard let args = try command.arguments(raw, environment: environment.filter { $0.key != "SWIFTMAN_TIMEOUT" }) else { return 0 }
        if let extra = args.positionals.first { throw UsageError(message: "unexpected argument \"\(extra)\"") }
        let lines = try ControlCall.send(.quit, for: command.name, args, environment: environment,
                                         timeout: (try ControlCall.timeoutMs(args), 124))
        guard let first = lines.first, first.hasPrefix("exit="), let code = Int32(first.dropFirst(5)),
              let report = DisposabilityReport(encoded: Array(lines.dropFirst())) else {
            CLI.printError("\(command.name): unexpected reply")
            return 1
        }
        if !report.rows.isEmpty { print(report.table.joined(separator: "\n")) }
        return code
    }
}
