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
            With -D (--detach) it runs in the background once everything is checked, and
            returns when every instance has started and every type with a --ready check
            is ready (exit 0 and a line naming its pid and socket); if a type fails first,
            its last lines are printed, the formation is stopped and the exit code is not 0.
            Then: swiftman logs, ps, wait, quit.
            """,
        options: ProjectOptions.options + FormationOptions.lifecycle + FormationOptions.readiness + FormationOptions.health
            + OutputOptions.options + [ControlOptions.socket, detach, history, logDir] + FormationOptions.watch,
        positionals: .types, run: run)

    static let detach = Option(long: "detach", short: "D", valueName: nil,
                               help: "run in the background; return once everything has started and is ready")

    static let history = Option(long: "history", short: nil, valueName: "SIZE",
                                help: "recent output kept per instance for `swiftman logs` (default: 256k; 0: none)")

    static let logDir = Option(long: "log-dir", short: nil, valueName: "DIR",
                               help: "also append each instance's lines to DIR/TYPE.N.log (rotated at 10 MiB, one old file kept)")

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        // The background run of `start -D`: it runs the formation (its children
        // do not see the marker).
        let background = environment[Detach.marker] != nil
        var environment = environment
        environment[Detach.marker] = nil
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
        let gitignore = (try? FileSystem.read(FileSystem.join(root, ".gitignore"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        config.watch = try FormationOptions.watchMatcher(args, plan: plan, gitignore: gitignore)
        config.injectedWatchLimit = environment["SWIFTMAN_TEST_INOTIFY_WATCHES"].flatMap { Int($0) }
        // Only `start` owns SIGINT, SIGTERM and SIGHUP (read by its loop from a
        // signalfd), and only from here on: while it reads the project (a FIFO
        // `.env`, `-e <(a hung helper)`) a signal ends it at once, as it ends
        // `check`. Blocked before any thread or child exists; one that comes
        // between here and the loop waits in the signalfd.
        SignalSource.installForStart()
        if let text = args["history"] {
            guard let budget = OutputHistory.parseBudget(text) else {
                throw UsageError(message: "\(args.source("history")): invalid size \"\(text)\" (e.g. 0, 65536, 256k, 4m)")
            }
            config.historyBudget = budget
        }
        if let directory = args["log-dir"] {
            guard !directory.isEmpty else { throw UsageError(message: "\(args.source("log-dir")): empty directory") }
            config.logDirectory = FileSystem.absolute(directory)
            config.logDirectorySource = args.source("log-dir")
            // Tests only: rotate at this many bytes instead of 10 MiB.
            if let bytes = environment["SWIFTMAN_TEST_LOG_ROTATE_BYTES"].flatMap({ Int($0) }), bytes > 0 {
                config.logRotateBytes = bytes
            }
            // Checked here too, so `start -D` reports it before going to the background.
            try LogDirectory.makeDirectories(config.logDirectory!, source: config.logDirectorySource)
        }
        if args.flag("detach") && !background {
            if config.input != nil { throw UsageError(message: "--input reads swiftman's stdin: not with --detach") }
            return try Detach.run(config: config, arguments: raw, environment: environment)
        }
        config.detached = background
        let loop = try FormationRuntime(config: config)
        return loop.run()
    }
}
