import SwiftmanModel
import SwiftmanPlatform
/// Everything `swiftman start` needs, resolved and validated by the CLI.
public struct RunConfig: Sendable {
    public var plan: FormationPlan
    /// Working directory of every child.
    public var root: String
    /// The children's base environment: inherited, overridden by env files.
    public var environment: [String: String]
    public var supervisor: SupervisorConfig
    public var style: OutputStyle
    /// Types whose children run on their own pseudo-terminal (--tty).
    public var tty: TTYSelection
    /// The control socket, and the private directory to create for it (nil
    /// when the user chose the path); no socket when `controlSocket` is nil.
    public var controlSocket: String?
    public var controlDirectory: String?
    /// Warnings found while loading (skipped .env lines…), printed once as
    /// `system` lines when the formation starts.
    public var notices: [String] = []
    /// `--input`: the instance (`web.1`) that gets what is typed on swiftman's
    /// stdin; nil: stdin is not read.
    public var input: String?
    /// `--report`: the disposability table at the end of a text log, not
    /// just its one line (a JSON log always has the whole event).
    public var fullReport = false
    /// The background run of `start --detach`: its stdout is a pipe to the
    /// foreground, which goes away once the formation is up; that stops
    /// nothing (its output is dropped from then on).
    public var detached = false
    /// `--history`: bytes of recent output kept per instance for `logs`.
    public var historyBudget = OutputHistory.defaultBudget
    /// `--log-dir`: each instance's lines also go to DIR/TYPE.N.log (an
    /// absolute path; nil: no files). `logDirectorySource` names the flag or
    /// variable in errors.
    public var logDirectory: String?
    public var logDirectorySource = "--log-dir"
    /// Size at which a log file is rotated (tests set it smaller through
    /// `SWIFTMAN_TEST_LOG_ROTATE_BYTES`).
    public var logRotateBytes = 10 << 20
    /// `--watch`: which changed files restart which type (nil: no watching).
    public var watch: WatchMatcher?
    /// Tests only (`SWIFTMAN_TEST_INOTIFY_WATCHES`): inotify refuses watches
    /// past this many, as if `fs.inotify.max_user_watches` were reached.
    public var injectedWatchLimit: Int?

    public init(plan: FormationPlan, root: String, environment: [String: String],
                supervisor: SupervisorConfig, style: OutputStyle, tty: TTYSelection = .none,
                controlSocket: String? = nil, controlDirectory: String? = nil, notices: [String] = [],
                input: String? = nil) {
        self.plan = plan
        self.root = root
        self.environment = environment
        self.supervisor = supervisor
        self.style = style
        self.tty = tty
        self.controlSocket = controlSocket
        self.controlDirectory = controlDirectory
        self.notices = notices
        self.input = input
    }
}

/// `--tty` (every type) or `--tty web,worker`.
public enum TTYSelection: Equatable, Sendable {
    case none
    case all
    case types(Set<String>)

    public func includes(_ type: String) -> Bool {
        switch self {
        case .none: return false
        case .all: return true
        case .types(let set): return set.contains(type)
        }
    }
}

/// `--input TARGET`: a type (its first instance) or one instance (`web.2`).
public enum InputTarget {
    /// The instance name the target means in `plan`; `source` names the flag
    /// or variable in errors.
    public static func resolve(_ target: String, plan: FormationPlan, source: String) throws(Diagnostic) -> String {
        let names = plan.instances.map(\.name)
        if plan.procfile.index(of: target) != nil {
            guard let first = plan.instances.first(where: { $0.type == target }) else {
                throw Diagnostic(source, "\(target) has no instance in this formation")
            }
            return first.name
        }
        if names.contains(target) { return target }
        if let dot = target.lastIndex(of: "."), plan.procfile.index(of: String(target[..<dot])) != nil {
            throw Diagnostic(source, "no instance \(target) in this formation (running: \(names.joined(separator: ", ")))")
        }
        throw Diagnostic(source, "unknown process type or instance \"\(target)\" (Procfile has: \(plan.procfile.typeNames))")
    }
}
