/// A user-facing error that names where it comes from: a file and line, a
/// command-line argument, or an environment variable.
public struct Diagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    /// File path as the user gave it, or the argument/variable name.
    public var source: String
    /// 1-based line number within `source`, when it is a file.
    public var line: Int?
    public var message: String

    public init(_ source: String, line: Int? = nil, _ message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}

/// Every problem found in one pass, so `check` can report them all at once.
public struct Diagnostics: Error, Equatable, Sendable, CustomStringConvertible {
    public var all: [Diagnostic]
    public init(_ all: [Diagnostic]) { self.all = all }
    public var description: String { all.map(\.description).joined(separator: "\n") }
}

/// Reads a whole project file (the Procfile, an env file, `.foreman`); the
/// runtime gives the model one that goes through the platform. Its error names
/// the file and the reason.
public typealias FileReader = (_ path: String) throws(Diagnostic) -> [UInt8]
