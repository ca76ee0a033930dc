import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman check`: the project validated, its types listed with their ports.
enum CheckCommand {
    static let command = Command(
        name: "check", usage: "check", summary: "validate the Procfile and env files, list types and ports",
        help: """
            Usage: swiftman check [OPTIONS]

            Validates the Procfile and env files, reporting every problem with its file
            and line, then lists each process type with its instances and ports.
            Exits 1 when anything is wrong.
            """,
        options: ProjectOptions.options + FormationOptions.readiness + FormationOptions.watch, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard let args = try command.arguments(raw, environment: environment) else { return 0 }
        let project = try ProjectOptions.load(args, environment: environment)
        for warning in project.envWarnings { CLI.printError(warning.description) }
        guard project.problems.isEmpty, let plan = project.plan else { throw Diagnostics(project.problems) }
        // --ready/--after are checked before anything is called valid.
        let readiness = try FormationOptions.readinessConfig(args, plan: plan)
        let types = plan.procfile.types
        print("\(plan.procfile.path): valid, \(types.count) process type\(types.count == 1 ? "" : "s")")
        print(TextTable.render(rows(plan), indent: "  ", padded: 3), terminator: "")
        // What was read goes to stderr: stdout stays the header and one line
        // per type, which scripts (and the dotenv-compat runner) parse.
        var notes = ["env files: " + (project.envNames.isEmpty ? "none (no \(FileSystem.join(project.root, ".env")))"
                                      : project.envNames.joined(separator: ", "))]
        if let foreman = CLI.foremanFile {
            var line = "defaults: \(foreman.path)"
            if !foreman.usedKeys.isEmpty { line += " (" + foreman.usedKeys.joined(separator: ", ") + ")" }
            if !foreman.ignoredKeys.isEmpty { line += "; ignored: " + foreman.ignoredKeys.joined(separator: ", ") }
            notes.append(line)
        }
        if !readiness.order.isEmpty { notes.append("start order: \(readiness.order.describe())") }
        let checks = types.enumerated().compactMap { index, type in
            readiness.checks[type.name].map { "\(type.name): \($0.awaited(port: plan.ports.port(typeIndex: index, number: 1)))" }
        }
        if !checks.isEmpty { notes.append("ready when: \(checks.joined(separator: "; "))") }
        let root = FileSystem.canonical(project.root) ?? project.root
        let gitignore = (try? FileSystem.read(FileSystem.join(root, ".gitignore"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if let matcher = try FormationOptions.watchMatcher(args, plan: plan, gitignore: gitignore) {
            let tree = WatchTree.scan(root: root, matcher: matcher)
            for entry in matcher.entries {
                let files = tree.files[entry.type] ?? 0
                notes.append("watch \(entry.type): \(entry.patterns.isEmpty ? "everything" : entry.patterns.joined(separator: ", ")) "
                             + "(\(files) file\(files == 1 ? "" : "s") now)")
            }
            notes.append("watch: \(tree.directories) director\(tree.directories == 1 ? "y" : "ies") to watch; ignored: .git/, editor files"
                         + (gitignore.isEmpty ? "" : ", .gitignore") + (args.all("watch-ignore").isEmpty ? "" : ", --watch-ignore"))
        }
        // Ports something already listens on, as `start` would warn.
        for instance in plan.instances {
            guard let holders = BusyPorts.holders(of: instance.port) else { continue }
            notes.append(LifecycleEvent.portInUse(instance: instance.name, port: instance.port, by: holders).text)
        }
        let text = notes.joined(separator: "\n") + "\n"
        try? FileDescriptor.standardError.writeAll(text)
        return 0
    }

    /// One row per type: name, count, ports, command.
    static func rows(_ plan: FormationPlan) -> [[String]] {
        plan.procfile.types.enumerated().map { index, type in
            let count = plan.count(for: type.name)
            let first = plan.ports.port(typeIndex: index, number: 1)
            let ports = count > 1 ? "\(first)-\(plan.ports.port(typeIndex: index, number: count))" : "\(first)"
            // A type that does not run keeps its port slot, shown only while it is a port.
            let idle = first <= 65535 ? "(port \(ports), not started)" : "(not started; port \(first) out of range)"
            return [type.name, "×\(count)", count == 0 ? idle : "port \(ports)", type.command]
        }
    }
}
