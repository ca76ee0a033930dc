import SwiftmanModel

/// `swiftman signal TARGET SIGNAL`: a signal to a type's or an instance's process groups.
enum SignalCommand {
    static let command = Command(
        name: "signal", usage: "signal TARGET SIG", summary: "send a signal (USR1, HUP…) to a type's or an instance's processes",
        help: """
            Usage: swiftman signal TYPE|TYPE.N SIGNAL [OPTIONS]

            Sends SIGNAL to the process group of every running instance of TYPE, or of
            the instance TYPE.N, and prints the instances signalled: USR1 to make a server
            reopen its logs, HUP to reload its configuration. SIGNAL is a name (USR1,
            SIGUSR1, usr1) or a number. What the processes do with it is theirs to decide;
            an instance it ends is handled as any other exit, by the restart policy.
            """,
        options: ControlOptions.options, positionals: .typeThen(Signals.table.map(\.name)), run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        let words = args.positionals
        guard words.count >= 2 else { throw UsageError(message: words.isEmpty ? "missing TARGET and SIGNAL" : "missing SIGNAL (e.g. USR1)") }
        guard words.count == 2 else { throw UsageError(message: "unexpected argument \"\(words[2])\"") }
        guard ControlRequest.isName(words[0]) else {
            throw UsageError(message: "TARGET: expected a type or TYPE.N, got \"\(words[0])\"")
        }
        guard let signal = Signals.parse(words[1]) else {
            throw UsageError(message: "SIGNAL: expected a name (USR1, SIGUSR1, usr1) or a number from 1 to 64, got \"\(words[1])\"")
        }
        let request = ControlRequest.signal(target: words[0], signal: signal)
        for name in try ControlCall.send(request, for: command.name, args, environment: environment) { print(name) }
        return 0
    }
}
