import SwiftmanModel

/// The commands, in the order `help` lists them: what dispatch, `help`, the
/// manual page and the completions read. A new command is a file in
/// Commands/ and one row here.
enum CommandTable {
    static let all: [Command] = [
        StartCommand.command,
        CheckCommand.command,
        RunCommand.command,
        ScaleCommand.command,
        PSCommand.command,
        RestartCommand.command,
        StopCommand.command,
        SignalCommand.command,
        ConnectCommand.command,
        LogsCommand.command,
        EventsCommand.command,
        WaitCommand.command,
        QuitCommand.command,
        ExportCommand.command,
        CompletionCommand.command,
        ManCommand.command,
        VersionCommand.command,
        HelpCommand.command,
    ]

    /// The command a word runs: its name or an alias.
    static func command(_ word: String) -> Command? {
        all.first { $0.name == word || $0.aliases.contains(word) }
    }

    /// The --help text of the command so named (not an alias), if it has one.
    static func help(_ name: String) -> String? {
        all.first { $0.name == name }?.help
    }

    static var names: [String] { all.map(\.name) }

    static let intro = "swiftman \(VersionCommand.number): run a Procfile's processes, foreman-compatible."
    static let closing = """
        Every command accepts --help. Options can also be set as SWIFTMAN_<OPTION>
        environment variables (e.g. SWIFTMAN_TIMEOUT=10); flags win. A .foreman file
        in the current directory sets defaults, as under foreman; flags and variables win.
        """

    /// `swiftman help`: every command's usage and summary.
    static var overview: String {
        intro + "\n\nUsage: swiftman COMMAND [OPTIONS]\n\nCommands:\n"
            + TextTable.lines(all.map { [$0.usage, $0.summary] }, indent: "  ").joined(separator: "\n")
            + "\n\n" + closing
    }
}
