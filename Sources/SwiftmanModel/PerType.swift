/// An option that is either global (`on-failure`) or set per process type
/// (`web=always,worker=never`, with `all=` as the default for the rest).
/// One syntax for --restart, --stop-signal and --restart-limit.
public struct PerType<Value: Equatable & Sendable>: Equatable, Sendable {
    public var fallback: Value
    public var overrides: [String: Value]

    public init(_ fallback: Value, overrides: [String: Value] = [:]) {
        self.fallback = fallback
        self.overrides = overrides
    }

    public subscript(type: String) -> Value { overrides[type] ?? fallback }

    /// Parses `VALUE` or `type=VALUE,…` (`all=VALUE` sets the fallback).
    /// `source` names the flag or variable in errors.
    public static func parse(_ text: String, default fallback: Value, source: String,
                             value parseValue: (String) -> Value?) throws(Diagnostic) -> PerType {
        var result = PerType(fallback)
        let trimmed = text.trimmingSpaces
        if !trimmed.contains("=") {
            guard let v = parseValue(trimmed) else {
                throw Diagnostic(source, "invalid value \"\(trimmed)\"")
            }
            result.fallback = v
            return result
        }
        for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let type = parts[0].trimmingSpaces
            guard parts.count == 2, !type.isEmpty else {
                throw Diagnostic(source, "expected TYPE=VALUE, got \"\(item)\"")
            }
            guard let v = parseValue(parts[1].trimmingSpaces) else {
                throw Diagnostic(source, "invalid value \"\(parts[1])\" for \(type)")
            }
            if type == "all" { result.fallback = v } else { result.overrides[type] = v }
        }
        return result
    }
}

/// What to do when an instance exits while the formation is running.
public enum RestartPolicy: String, Equatable, Sendable, CaseIterable {
    /// Restart after a non-zero exit or death by signal; a clean exit stays done.
    case onFailure = "on-failure"
    /// Restart after any exit.
    case always
    /// foreman's behaviour: the exit stops the whole formation.
    case never
}

extension StringProtocol {
    /// The text without leading and trailing blanks (space, tab, CR, LF).
    var trimmingSpaces: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = lastIndex(where: { !isBlank($0) })!
        return String(self[first...last])
    }
}
