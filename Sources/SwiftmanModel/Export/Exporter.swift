
/// What `swiftman export` was asked for beyond the formation itself.
public struct ExportOptions: Sendable {
    /// Prefix of every unit, program and resource name: letters, digits, "_" and "-".
    public var app: String
    /// Container image (compose and kubernetes; required there).
    public var image: String?
    /// Account the processes run as.
    public var user: String?
    /// Reference `envFiles` instead of inlining their values (`--env-ref`).
    public var referenceEnvFiles: Bool
    /// Absolute paths of the env files, in load order.
    public var envFiles: [String]
    /// Types that get a Kubernetes Service; nil means just `web` (if there is one).
    public var serviceTypes: [String]?
    /// Types given `--watch`: not carried (a development feature), and the
    /// headers say so.
    public var watched: [String] = []

    public init(app: String, image: String? = nil, user: String? = nil, referenceEnvFiles: Bool = false,
                envFiles: [String] = [], serviceTypes: [String]? = nil) {
        self.app = app
        self.image = image
        self.user = user
        self.referenceEnvFiles = referenceEnvFiles
        self.envFiles = envFiles
        self.serviceTypes = serviceTypes
    }

    /// The default `--app`: the root directory's name, with characters outside
    /// letters, digits, "_" and "-" turned into "-" ("app" if nothing is left).
    public static func defaultApp(root: String) -> String {
        let base = root.split(separator: "/").last { $0 != "." }.map(String.init) ?? ""
        let name = String(base.unicodeScalars.map { isNameScalar($0) ? Character($0) : "-" })
        let trimmed = name.drop { $0 == "-" || $0 == "_" }
        return trimmed.isEmpty ? "app" : String(trimmed)
    }

    static func isNameScalar(_ s: Unicode.Scalar) -> Bool {
        s.isASCIILetter || ("0"..."9").contains(s) || s == "_" || s == "-"
    }
}

/// Everything an exporter renders: the resolved formation and how it runs.
public struct ExportInput: Sendable {
    public var plan: FormationPlan
    /// Absolute working directory of the processes.
    public var root: String
    /// Values from the env files only, not the inherited environment.
    public var environment: [String: String]
    public var stopSignal: PerType<Signal>
    public var timeoutSeconds: Double
    public var restart: PerType<RestartPolicy>
    public var options: ExportOptions
    /// `--ready` and `--after`: carried as far as each format can.
    public var readiness: ReadinessConfig
    /// `--health`: a liveness probe where the format has one.
    public var health = HealthConfig()

    public init(plan: FormationPlan, root: String, environment: [String: String],
                stopSignal: PerType<Signal> = PerType(.terminate), timeoutSeconds: Double = 5,
                restart: PerType<RestartPolicy> = PerType(.onFailure), options: ExportOptions,
                readiness: ReadinessConfig = ReadinessConfig(), health: HealthConfig = HealthConfig()) {
        self.readiness = readiness
        self.health = health
        self.plan = plan
        self.root = root
        self.environment = environment
        self.stopSignal = stopSignal
        self.timeoutSeconds = timeoutSeconds
        self.restart = restart
        self.options = options
    }
}

/// One file to write, relative to the export directory.
public struct ExportedFile: Equatable, Sendable {
    public let path: String
    public let contents: String

    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

public enum ExportFormat: String, CaseIterable, Sendable {
    case systemd, compose, kubernetes, supervisord
}

public enum Exporter {
    /// The files for `format`. Throws a Diagnostic naming the option or value
    /// that cannot be exported (missing --image, a bad --app, …).
    public static func render(_ format: ExportFormat, _ input: ExportInput) throws(Diagnostic) -> [ExportedFile] {
        let export = try Export(input, format: format)
        switch format {
        case .systemd: return try SystemdExporter.render(export)
        case .compose: return try ComposeExporter.render(export)
        case .kubernetes: return try KubernetesExporter.render(export)
        case .supervisord: return try SupervisordExporter.render(export)
        }
    }

    /// What `export` says on stderr besides writing the files: the variables
    /// pointing at localhost, for the formats whose processes run apart
    /// (the files' headers say the same).
    public static func warnings(_ format: ExportFormat, _ input: ExportInput) -> [String] {
        guard format == .compose || format == .kubernetes, let export = try? Export(input, format: format) else { return [] }
        let place = format == .compose ? "container" : "pod"
        return export.localVariables.map { name in
            "\(name) points at localhost (127.0.0.1, ::1), which in a \(place) is the \(place) itself: use the name of the service it means"
        }
    }
}

// MARK: - Shared by the exporters

/// The input checked and resolved into what every format needs.
struct Export {
    struct ProcessTypeExport {
        let name: String
        let command: String
        let count: Int
        /// PORT of instance 1; instance N gets `port + N - 1`.
        let port: Int
        let stopSignal: Signal
        let restart: RestartPolicy
        let check: ReadyCheck?
        /// Its `--health` check.
        let health: ReadyCheck?
        /// Types it starts after (`--after`) that run (count > 0).
        let after: [String]
    }

    struct Instance {
        /// `APP-web-1`: the unit or program name.
        let unitName: String
        /// `web.1`: PS, as `swiftman start` sets it.
        let ps: String
        let port: Int
        let type: ProcessTypeExport
    }

    let app: String
    let root: String
    let options: ExportOptions
    let timeoutSeconds: Double
    let types: [ProcessTypeExport]
    /// Env file values minus PORT and PS, sorted by key; empty with --env-ref.
    let inlineEnvironment: [(key: String, value: String)]
    /// Env files to reference; empty unless --env-ref.
    let envFileReferences: [String]
    let format: ExportFormat
    let readyTimeoutSeconds: Double
    /// `--health-interval` in whole seconds (at least 1: what the formats take).
    let healthIntervalSeconds: Int
    let healthRetries: Int
    /// Type → its start stage: 0 waits for nothing, n for types of stages before it.
    let stages: [String: Int]
    /// Env file variables whose values point at this machine (localhost,
    /// 127.0.0.1, ::1), sorted: in a container or pod they mean that one.
    let localVariables: [String]

    init(_ input: ExportInput, format: ExportFormat) throws(Diagnostic) {
        let options = input.options
        guard let first = options.app.unicodeScalars.first, first != "-", first != "_",
              options.app.unicodeScalars.allSatisfy(ExportOptions.isNameScalar) else {
            throw Diagnostic("--app", "invalid name \"\(options.app)\" (use letters, digits, \"_\" and \"-\", starting with a letter or digit)")
        }
        guard input.timeoutSeconds >= 0, input.timeoutSeconds <= 86_400 * 365 else {
            throw Diagnostic("--timeout", "invalid timeout \(input.timeoutSeconds)")
        }
        // Names and paths end up in comments, unit lines and INI values.
        let plain: [(String, String?)] = [("--user", options.user), ("--image", options.image), ("root", input.root)]
            + options.envFiles.map { ("--env", $0) }
        for case let (source, value?) in plain where value.isEmpty || value.unicodeScalars.contains(where: YAML.needsEscape) {
            throw Diagnostic(source, "\"\(value)\" is empty or contains control characters")
        }
        if let user = options.user, user.contains(where: \.isWhitespace) {
            throw Diagnostic("--user", "invalid user \"\(user)\"")
        }
        app = options.app
        root = input.root
        self.options = options
        timeoutSeconds = input.timeoutSeconds
        self.format = format
        let plan = input.plan
        types = plan.procfile.types.enumerated().map { index, type in
            ProcessTypeExport(name: type.name, command: type.command, count: plan.count(for: type.name),
                              port: plan.ports.port(typeIndex: index, number: 1),
                              stopSignal: input.stopSignal[type.name], restart: input.restart[type.name],
                              check: input.readiness.checks[type.name], health: input.health.checks[type.name],
                              after: input.readiness.order.dependencies(of: type.name).filter { plan.count(for: $0) > 0 })
        }
        readyTimeoutSeconds = Double(input.readiness.timeout) / 1e9
        healthIntervalSeconds = max(1, Int((Double(input.health.interval) / 1e9).rounded(.up)))
        healthRetries = input.health.retries
        var stages: [String: Int] = [:]
        let after = Dictionary(uniqueKeysWithValues: types.map { ($0.name, $0.after) })
        func stage(_ name: String) -> Int {
            if let known = stages[name] { return known }
            // StartOrder has refused cycles already.
            let value = (after[name] ?? []).map { stage($0) + 1 }.max() ?? 0
            stages[name] = value
            return value
        }
        for type in types { _ = stage(type.name) }
        self.stages = stages
        localVariables = input.environment.filter { $0.key != "PORT" && $0.key != "PS" && ExportText.pointsAtThisMachine($0.value) }
            .map(\.key).sorted()
        let referencing = options.referenceEnvFiles && !options.envFiles.isEmpty
        envFileReferences = referencing ? options.envFiles : []
        inlineEnvironment = referencing ? [] : input.environment
            .filter { $0.key != "PORT" && $0.key != "PS" }
            .sorted { $0.key < $1.key }
            .map { (key: $0.key, value: $0.value) }
    }

    /// Every instance that runs, in Procfile order then by number.
    var instances: [Instance] {
        types.flatMap { type in
            (1..<type.count + 1).map { n in
                Instance(unitName: "\(app)-\(type.name)-\(n)", ps: "\(type.name).\(n)", port: type.port + n - 1, type: type)
            }
        }
    }

    func type(_ name: String) -> ProcessTypeExport? { types.first { $0.name == name } }

    /// The image, which compose and kubernetes cannot do without.
    func requiredImage() throws(Diagnostic) -> String {
        guard let image = options.image else {
            throw Diagnostic("--image", "required for the \(format.rawValue) format (the image that holds the app)")
        }
        return image
    }

    /// The types that run in stage order (Procfile order within a stage).
    var typesInStartOrder: [ProcessTypeExport] {
        types.enumerated().sorted { (stages[$0.element.name] ?? 0, $0.offset) < (stages[$1.element.name] ?? 0, $1.offset) }.map(\.element)
    }

    /// Whether any type waits for another.
    var hasStartOrder: Bool { types.contains { !$0.after.isEmpty } }

    /// The note about `localVariables` for formats whose processes run apart
    /// (containers, pods); nil when there are none.
    var localVariablesNote: String? {
        guard !localVariables.isEmpty else { return nil }
        return "Pointing at localhost (each container's own): \(localVariables.joined(separator: ", ")); use the service's name instead."
    }

    /// The lines of a generated-file banner, without comment markers.
    func banner(_ notes: [String]) -> [String] {
        var lines = ["Generated by `swiftman export \(format.rawValue)` for the Procfile in \(root);",
                     "exporting again overwrites this file."]
        if !options.watched.isEmpty {
            lines.append("--watch \(options.watched.joined(separator: ", ")) is not carried: restarting on change is a development feature of `swiftman start`.")
        }
        return lines + notes
    }

    /// `banner` as `#` comments.
    func hashBanner(_ notes: [String]) -> String {
        banner(notes).map { "# " + $0 + "\n" }.joined()
    }
}

extension Export {
    /// Types with a `--health` check, for the notes of formats that cannot run it.
    var healthChecked: [String] { types.filter { $0.health != nil }.map(\.name) }
}

enum ExportText {
    /// An `http:PATH[=STATUS]` check as a shell command (for compose, and for
    /// Kubernetes when an exact status is asked for): curl, as the image has it.
    static func httpProbe(path: String, status: Int?, port: Int) -> String {
        let url = "http://127.0.0.1:\(port)\(path)"
        guard let status else { return "curl -fsS -o /dev/null '\(url)'" }
        return "test \"$(curl -s -o /dev/null -w '%{http_code}' '\(url)')\" = \(status)"
    }

    /// `SIGTERM`, or the number for signals without a name.
    static func signal(_ signal: Signal) -> String {
        Signals.table.contains { $0.signal == signal } ? Signals.name(signal) : String(signal.rawValue)
    }

    /// `5s`, or `1500ms` for fractions (durations as compose and systemd read them).
    static func duration(_ seconds: Double) -> String {
        let ms = Int((seconds * 1000).rounded(.up))
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }

    /// Whole seconds, rounded up, for formats without fractions.
    static func wholeSeconds(_ seconds: Double) -> Int { Int(seconds.rounded(.up)) }

    /// `restart=` of systemd and compose.
    static func restart(_ policy: RestartPolicy) -> String {
        switch policy {
        case .onFailure: return "on-failure"
        case .always: return "always"
        case .never: return "no"
        }
    }

    /// `text` in single quotes for a POSIX shell.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }

    /// Whether `value` names this machine: `localhost`, `127.0.0.1` or `::1`
    /// (alone, in brackets, or as the host of a URL).
    static func pointsAtThisMachine(_ value: String) -> Bool {
        let text = value.lowercased()
        if text == "::1" || text.contains("[::1]") || text.contains("127.0.0.1") { return true }
        // `localhost` as a word: not `mylocalhostname`.
        var rest = text[...]
        while let range = rest.firstRange(of: "localhost") {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            func isNamePart(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } ?? false }
            if !isNamePart(before) && !isNamePart(after) { return true }
            rest = text[range.upperBound...]
        }
        return false
    }

    /// Every "$" doubled: compose and Kubernetes read "$$" as a literal "$", so
    /// `$PORT` reaches the shell instead of being substituted from the host.
    static func dollarsEscaped(_ text: String) -> String { text.replacing("$", with: "$$") }
}
