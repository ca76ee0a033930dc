import SwiftmanModel

/// `swiftman wait TARGET…`: until the targets are ready, running or exited.
enum WaitCommand {
    static let command = Command(
        name: "wait", usage: "wait TARGET…", summary: "wait until types or instances are ready, running or exited",
        help: """
            Usage: swiftman wait TYPE|TYPE.N… [--for ready|running|exited] [--timeout DURATION] [OPTIONS]

            Returns once every instance of the targets is in the state at the same
            moment: ready (the default: its --ready check passed; a type without one is
            ready once started), running (started), or exited. Exit codes: 0 there;
            1 when a target can no longer get there (it exited or crashed before, even if
            it is restarting; the formation stopped: the message names it and its exit
            code) or no formation runs here;
            2 for a target the Procfile does not have; 124 on timeout.
            """,
        options: ControlOptions.options + [
            Option(long: "for", short: nil, valueName: "STATE", help: "ready, running or exited (default: ready)"),
            Option(long: "timeout", short: nil, valueName: "DURATION",
                   help: "give up after DURATION (30, 0.5, 500ms, 2m; default: no limit)"),
        ],
        positionals: .types, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        // SWIFTMAN_TIMEOUT (and .foreman's timeout) is start's grace time, not this wait.
        guard let args = try command.arguments(raw, environment: environment.filter { $0.key != "SWIFTMAN_TIMEOUT" }) else { return 0 }
        let targets = args.positionals
        guard !targets.isEmpty, targets.count <= 64 else { throw UsageError(message: "expected 1 to 64 TYPE or TYPE.N") }
        for target in targets where !ControlRequest.isName(target) {
            throw UsageError(message: "invalid target \"\(target)\" (expected TYPE or TYPE.N)")
        }
        let word = args["for"] ?? "ready"
        guard let goal = WaitGoal(rawValue: word) else {
            throw UsageError(message: "\(args.source("for")): expected ready, running or exited, got \"\(word)\"")
        }
        let lines = try ControlCall.send(.wait(targets: targets, goal: goal), for: command.name, args, environment: environment,
                                         timeout: (try ControlCall.timeoutMs(args), 124))
        for line in lines { print(line) }
        return 0
    }
}
