import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman start [TYPE…]`: the formation in the foreground.
enum StartCommand {
    static let command = Command(
        name: "start", usage: "start [TYPE…]", summary: "run the formation in the foreground",
        help: """
            Usage: swiftman start [OPTIONS] [TYPE…]

            Runs the Procfile's process types in the foreground; with TYPE… only those.
            Each instance TYPE.N gets PORT (base + 100 × type index + N − 1) and PS=TYPE.N.
            Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every process group: the stop signal,
            then SIGKILL after the timeout; a second Ctrl-C kills at once.
            With --input TARGET, each line typed (or piped) on swiftman's stdin goes to
            that instance's stdin, so a debugger's prompt there can be answered; to attach
            another terminal to an instance, see `swiftman connect`.
            """,
        options: ProjectOptions.options + FormationOptions.lifecycle + FormationOptions.readiness + FormationOptions.health
            + OutputOptions.options + [ControlOptions.socket],
        positionals: .types, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        if Platform.closedStandardDescriptors.contains(1) {
            throw Diagnostic("stdout", "closed when swiftman started: the formation's output would go nowhere (redirect it to /dev/null to discard it)")
        }
        let (project, plan) = try ProjectOptions.loadValid(args, environment: environment)
        let supervisor = try FormationOptions.supervisorConfig(args, plan: plan)

        var env = environment
        env.merge(project.envFiles) { _, file in file }
        let socket = try ControlOptions.socketPath(args, root: project.root, environment: environment)
        let root = FileSystem.canonical(project.root) ?? project.root
        var config = RunConfig(plan: plan, root: root, environment: env, supervisor: supervisor,
                               style: try OutputOptions.style(args, environment: environment, plan: plan),
                               tty: try OutputOptions.tty(args, plan: plan),
                               controlSocket: socket.path, controlDirectory: socket.directory,
                               notices: project.envWarnings.map(\.description))
        config.input = try OutputOptions.input(args, plan: plan)
        config.fullReport = args.flag("report")
        // Only `start` owns SIGINT, SIGTERM and SIGHUP (read by its loop from a
        // signalfd), and only from here on: while it reads the project (a FIFO
        // `.env`, `-e <(a hung helper)`) a signal ends it at once, as it ends
        // `check`. Blocked before any thread or child exists; one that comes
        // between here and the loop waits in the signalfd.
        SignalSource.installForStart()
        let loop = try FormationRuntime(config: config)
        return loop.run()
    }
}
