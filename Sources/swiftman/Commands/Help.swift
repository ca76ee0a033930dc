/// `swiftman help [COMMAND]`: the overview, or a command's --help.
enum HelpCommand {
    static let command = Command(
        name: "help", aliases: ["--help", "-h"], usage: "help [COMMAND]", summary: "show help",
        help: nil, positionals: .commands, readsDefaults: false, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        if let topic = raw.first, let text = CommandTable.help(topic) {
            HelpText.print(text)
        } else {
            HelpText.print(CommandTable.overview)
        }
        return 0
    }
}
