import SwiftmanPlatform
import SwiftmanModel
import SwiftmanRuntime

/// How `start` shows the formation's output and feeds its input: colour,
/// prefixes, JSON, quiet types, terminals, `--input`.
enum OutputOptions {
    static let options = [
        Option(long: "color", short: nil, valueName: nil, help: "colour the prefixes even when stdout is not a terminal (foreman's -c: when no TYPE=N follows)",
               aliases: ["-c"]),
        Option(long: "no-color", short: nil, valueName: nil, help: "never colour (also: NO_COLOR set to anything)", aliases: ["--no-colour"]),
        Option(long: "timestamp", short: nil, valueName: nil, help: "put the time in the prefix (the default; foreman's flag)"),
        Option(long: "no-timestamp", short: nil, valueName: nil, help: "leave the time out of the prefix"),
        Option(long: "no-prefix", short: nil, valueName: nil, help: "print the lines alone, without the \"HH:MM:SS name | \" prefix"),
        Option(long: "quiet", short: "q", valueName: "TYPES", help: "hide these types' output (redis,postgres); system lines about them stay"),
        Option(long: "log-format", short: nil, valueName: "FORMAT", help: "text (default) or json: one object per line with time, process, stream, message"),
        Option(long: "tty", short: nil, valueName: "TYPES", help: "run children on a pseudo-terminal: every type, or only these with --tty=web,worker", optionalValue: true),
        Option(long: "input", short: nil, valueName: "TARGET", help: "send the lines typed here to TARGET's stdin (web: its first instance, or web.2)"),
        Option(long: "report", short: nil, valueName: nil, help: "end with the disposability table (per type: ready, stop, SIGKILL, restarts), not its one line"),
    ]

    static func tty(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> TTYSelection {
        guard let value = args["tty"] else { return .none }
        if value == "true" {
            // `--tty web` reads as `--tty` then the type to start: refused,
            // as it is likelier a mistake for `--tty=web`.
            if let next = args.followedBy["tty"], plan.procfile.index(of: next) != nil {
                throw UsageError(message: "\(args.source("tty")) is followed by the process type \"\(next)\": write --tty=\(next) to run only \(next) on a terminal, or put \(next) first (start \(next) --tty) to start only \(next) with every type on a terminal")
            }
            return .all
        }
        return .types(try typeList(args, "tty", plan: plan))
    }

    /// A comma-separated list of the Procfile's types (`--tty=web,worker`, `-q redis`).
    static func typeList(_ args: Arguments, _ name: String, plan: FormationPlan) throws(UsageError) -> Set<String> {
        let types = (args[name] ?? "").split(separator: ",").map { String($0).split(separator: " ").joined() }.filter { !$0.isEmpty }
        for type in types where plan.procfile.index(of: type) == nil {
            throw UsageError(message: "\(args.source(name)): unknown process type \"\(type)\" (Procfile has: \(plan.procfile.typeNames))")
        }
        guard !types.isEmpty else { throw UsageError(message: "\(args.source(name)): no process type named") }
        return Set(types)
    }

    static func input(_ args: Arguments, plan: FormationPlan) throws(UsageError) -> String? {
        guard let target = args["input"] else { return nil }
        do throws(Diagnostic) {
            return try InputTarget.resolve(target, plan: plan, source: args.source("input"))
        } catch {
            throw UsageError(message: error.description)
        }
    }

    static func style(_ args: Arguments, environment: [String: String], plan: FormationPlan) throws(UsageError) -> OutputStyle {
        var format = OutputStyle.Format.text
        if let text = args["log-format"] {
            guard let f = OutputStyle.Format(rawValue: text) else {
                throw UsageError(message: "\(args.source("log-format")): expected text or json, got \"\(text)\"")
            }
            format = f
        }
        let color: Bool
        if args.flag("no-color") {
            color = false
        } else if args.flag("color") {
            color = true
        } else if environment["NO_COLOR"] != nil {
            color = false
        } else if let force = environment["FORCE_COLOR"], !["0", "false", "no"].contains(force.lowercased()) {
            color = true
        } else {
            color = FileDescriptor.standardOutput.isTerminal
        }
        var style = OutputStyle(color: color && format == .text, timestamps: args.flag("timestamp") || !args.flag("no-timestamp"), format: format)
        style.prefix = !args.flag("no-prefix")
        if args["quiet"] != nil { style.quiet = try typeList(args, "quiet", plan: plan) }
        return style
    }
}
