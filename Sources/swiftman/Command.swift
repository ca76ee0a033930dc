/// One command of the CLI: all that dispatch, `help`, the manual page and the
/// completions know of it. Each is defined in `Commands/NAME.swift` and listed
/// once, in `CommandTable.all`.
struct Command: Sendable {
    /// The word after `swiftman`.
    let name: String
    /// Other words that run it (`--version`, `-h`).
    let aliases: [String]
    /// `restart TARGET`: what `help` lists.
    let usage: String
    /// The line `help` shows beside the usage.
    let summary: String
    /// The --help text, with its options; nil for a command that has none of
    /// its own (`help NAME` shows the overview; no section in the manual page).
    /// Put together when asked for, not at every start.
    var help: String? {
        helpIntro.map { listsOptions && !options.isEmpty ? $0 + "\n\nOptions:\n" + describe(options) : $0 }
    }
    private let helpIntro: String?
    private let listsOptions: Bool
    /// Its options, for parsing, --help, the manual page and the completions.
    let options: [Option]
    /// What its positional arguments are, for the completions.
    let positionals: Positionals
    /// Whether `.foreman` is read before it runs (not for the commands about swiftman itself).
    let readsDefaults: Bool
    /// Runs it with the arguments after its name; returns the exit code.
    let run: @Sendable (_ arguments: [String], _ environment: [String: String]) throws -> Int32

    /// `help` is the text before the option list; `listsOptions: false` leaves
    /// the list out of --help (the manual page still shows it).
    init(name: String, aliases: [String] = [], usage: String, summary: String, help: String?,
         options: [Option] = [], listsOptions: Bool = true, positionals: Positionals = .none, readsDefaults: Bool = true,
         run: @escaping @Sendable (_ arguments: [String], _ environment: [String: String]) throws -> Int32) {
        self.name = name
        self.aliases = aliases
        self.usage = usage
        self.summary = summary
        self.helpIntro = help
        self.listsOptions = listsOptions
        self.options = options
        self.positionals = positionals
        self.readsDefaults = readsDefaults
        self.run = run
    }

    /// Parses the arguments against the options; nil after printing --help.
    func arguments(_ raw: [String], environment: [String: String],
                   stopAtFirstPositional: Bool = false) throws(UsageError) -> Arguments? {
        try Arguments.parse(raw, options: options, help: self.help ?? "", environment: environment,
                            stopAtFirstPositional: stopAtFirstPositional)
    }

    /// For a command that takes nothing: false after printing `help` for
    /// --help or -h, a usage error for any other argument, else true.
    static func takesNothing(_ raw: [String], help: String) throws(UsageError) -> Bool {
        if raw == ["--help"] || raw == ["-h"] {
            HelpText.print(help)
            return false
        }
        if let extra = raw.first { throw UsageError(message: "unexpected argument \"\(extra)\"") }
        return true
    }
}

/// What a command's positional arguments are, as the completions offer them.
enum Positionals: Equatable, Sendable {
    case none
    /// Process types.
    case types
    /// `TYPE=N` words: process types completed with `=` (`scale`).
    case typeCounts
    /// A process type or a command on the PATH, then files.
    case commandLine
    /// An export format, a directory, then process types.
    case exportTarget
    /// Command names.
    case commands
    /// Shell names.
    case shells
    /// A process type, then one of these words.
    case typeThen([String])
}
