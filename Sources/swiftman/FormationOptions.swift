import SwiftmanModel

/// How the formation is stopped, restarted and ordered: the options `start`
/// shares with `check` (readiness) and `export` (both).
enum FormationOptions {
    /// How processes are stopped and restarted: shared with `export`.
    static let lifecycle = [
        Option(long: "timeout", short: "t", valueName: "DURATION", help: "grace time after the stop signal before SIGKILL (default: 5)"),
        Option(long: "restart", short: nil, valueName: "POLICY", help: "on-failure (default), always or never; per type: web=always,migrate=never"),
        Option(long: "restart-limit", short: nil, valueName: "N", help: "more than N failures in a row (none after a run of 10 s) or within the window stop the formation (default: 10; per type: web=3)"),
        Option(long: "restart-window", short: nil, valueName: "DURATION", help: "more than the restart limit within this long stops the formation too (default: 60)"),
        Option(long: "stop-signal", short: nil, valueName: "SIGNAL", help: "signal that asks a process to stop (default: TERM; per type: web=QUIT)"),
    ]

    /// `--ready`, `--after`, `--ready-timeout`: shared with `check` and `export`.
    static let readiness = [
        Option(long: "ready", short: nil, valueName: "TYPE=CHECK",
               help: "when a type is ready: port, http:PATH[=STATUS], line:TEXT, cmd:COMMAND or exit (repeatable; comma lists)", repeatable: true),
        Option(long: "after", short: nil, valueName: "TYPE=DEP+DEP",
               help: "start a type once its dependencies are ready; stop it before them (repeatable)", repeatable: true),
        Option(long: "ready-timeout", short: nil, valueName: "DURATION",
               help: "a dependency not ready this long after starting stops the formation (default: 60)"),
    ]

    /// `--watch`, `--watch-ignore`, `--watch-delay`: restart on change (start only).
    static let watch = [
        Option(long: "watch", short: nil, valueName: "TYPE[=PATTERN,…]",
               help: "restart TYPE when its files change: files, directories or globs (*, ?, **) relative to the Procfile's directory; none: all of it (repeatable)",
               repeatable: true),
        Option(long: "watch-ignore", short: nil, valueName: "PATTERN",
               help: "changes to these never restart anything (gitignore syntax; .git/, editor files and .gitignore's are ignored already; repeatable)",
               repeatable: true),
        Option(long: "watch-delay", short: nil, valueName: "SECONDS",
               help: "quiet time after the last change before restarting (default: 0.2)"),
    ]

    /// The watched types and their patterns, checked against the Procfile;
    /// nil without `--watch`. `gitignore` is the text of the top `.gitignore`.
    static func watchMatcher(_ args: Arguments, plan: FormationPlan, gitignore: String) throws(UsageError) -> WatchMatcher? {
        let values = args.all("watch")
        guard !values.isEmpty else {
            if args["watch-delay"] != nil || !args.all("watch-ignore").isEmpty {
                throw UsageError(message: "\(args.source(args["watch-delay"] != nil ? "watch-delay" : "watch-ignore")) needs --watch TYPE")
            }
            return nil
        }
        var watches: [(type: String, patterns: [String])] = []
        for value in values {
            let type = String(value.prefix { $0 != "=" })
            let patterns = value.contains("=")
                ? value.drop { $0 != "=" }.dropFirst().split(separator: ",").map { String(String($0.drop { $0 == " " }).reversed().drop { $0 == " " }.reversed()) }
                    .filter { !$0.isEmpty }
                : []
            guard plan.procfile.index(of: type) != nil else {
                throw UsageError(message: "\(args.source("watch")): unknown process type \"\(type)\" (Procfile has: \(plan.procfile.typeNames))")
            }
            for pattern in patterns {
                if let problem = WatchMatcher.problem(with: pattern) { throw UsageError(message: "\(args.source("watch")): \(problem)") }
            }
            if let index = watches.firstIndex(where: { $0.type == type }) {
                watches[index].patterns += patterns
            } else {
                watches.append((type, patterns))
            }
        }
        var ignores = IgnoreRules(gitignore: gitignore)
        ignores.append(IgnoreRules(patterns: args.all("watch-ignore")))
        return WatchMatcher(watches: watches, ignores: ignores)
    }

    /// `--health`, `--health-interval`, `--health-retries`: checks while running.
    static let health = [
        Option(long: "health", short: nil, valueName: "TYPE=CHECK",
               help: "check a ready type while it runs: port, http:PATH[=STATUS] or cmd:COMMAND (repeatable; comma lists)", repeatable: true),
        Option(long: "health-interval", short: nil, valueName: "DURATION",
               help: "time between health checks: seconds (0.5) or with a unit (500ms, 2s, 1m) (default: 10)"),
        Option(long: "health-retries", short: nil, valueName: "N",
               help: "failed health checks in a row that restart an instance (default: 3)"),
    ]

    static func healthConfig(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> HealthConfig {
        var health = HealthConfig()
        do throws(Diagnostic) {
            health.checks = try HealthConfig.parseHealth(args.all("health"), source: args.source("health"),
                                                         types: plan.procfile.types.map(\.name))
        } catch {
            throw UsageError(message: error.description)
        }
        if let text = args["health-interval"] {
            guard let interval = HealthConfig.parseInterval(text) else {
                throw UsageError(message: "\(args.source("health-interval")): invalid duration \"\(text)\" (seconds such as 0.5, or 500ms, 2s, 1m)")
            }
            health.interval = interval
        }
        if let text = args["health-retries"] {
            guard let retries = Int(text), retries >= 1, retries <= 1000 else {
                throw UsageError(message: "\(args.source("health-retries")): invalid count \"\(text)\" (1…1000)")
            }
            health.retries = retries
        }
        return health
    }

    static func supervisorConfig(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> SupervisorConfig {
        var supervisor = SupervisorConfig()
        supervisor.timeout = try seconds(args, "timeout", default: 5)
        supervisor.restartWindow = try seconds(args, "restart-window", default: 60)
        supervisor.restart = try perType(args, "restart", default: .onFailure, plan: plan) { RestartPolicy(rawValue: $0) }
        supervisor.stopSignal = try perType(args, "stop-signal", default: Signal.terminate, plan: plan) { Signals.parse($0) }
        for (type, signal) in [("", supervisor.stopSignal.fallback)] + supervisor.stopSignal.overrides.sorted(by: { $0.key < $1.key }) {
            if let reason = Signals.cannotStop(signal) {
                throw UsageError(message: "\(args.source("stop-signal")): \(type.isEmpty ? "" : type + ": ")\(Signals.name(signal)) \(reason): use TERM (the default), INT, QUIT, HUP, USR1, USR2 or KILL")
            }
        }
        supervisor.restartLimit = try perType(args, "restart-limit", default: 10, plan: plan) { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        supervisor.readiness = try readinessConfig(args, plan: plan)
        if !args.all("watch").isEmpty {
            supervisor.watch.types = Set(args.all("watch").map { String($0.prefix { $0 != "=" }) })
            supervisor.watch.delay = try seconds(args, "watch-delay", default: 0.2)
        }
        supervisor.health = try healthConfig(args, plan: plan)
        return supervisor
    }

    static func readinessConfig(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> ReadinessConfig {
        var readiness = ReadinessConfig()
        let types = plan.procfile.types.map(\.name)
        do throws(Diagnostic) {
            readiness.checks = try ReadinessConfig.parseReady(args.all("ready"), source: args.source("ready"), types: types)
            readiness.order = try ReadinessConfig.parseAfter(args.all("after"), source: args.source("after"), types: types)
        } catch {
            throw UsageError(message: error.description)
        }
        readiness.timeout = try seconds(args, "ready-timeout", default: 60)
        return readiness
    }

    static func seconds(_ args: Arguments, _ name: String, default fallback: Double) throws(UsageError) -> Int64 {
        guard let text = args[name] else { return Int64(fallback * 1e9) }
        guard let ns = Durations.parse(text) else {
            throw UsageError(message: "\(args.source(name)): invalid duration \"\(text)\" (e.g. 5, 0.5, 500ms, 2m)")
        }
        return ns
    }

    static func perType<V>(_ args: Arguments, _ name: String, default fallback: V, plan: FormationPlan,
                           _ parse: (String) -> V?) throws(UsageError) -> PerType<V> {
        guard let text = args[name] else { return PerType(fallback) }
        do throws(Diagnostic) {
            let value = try PerType.parse(text, default: fallback, source: args.source(name), value: parse)
            for type in value.overrides.keys.sorted() where plan.procfile.index(of: type) == nil {
                throw Diagnostic(args.source(name), "unknown process type \"\(type)\"")
            }
            return value
        } catch {
            throw UsageError(message: error.description)
        }
    }
}
