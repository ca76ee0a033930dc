/// `swiftman man`: the manual page, made from the command table.
enum ManCommand {
    static let command = Command(
        name: "man", usage: "man", summary: "print the manual page",
        help: """
            Usage: swiftman man

            Prints swiftman's manual page (roff), made from the same text as --help:
            swiftman man > swiftman.1; man -l swiftman.1
            """,
        readsDefaults: false, run: run)

    static func run(_ raw: [String], environment: [String: String]) throws -> Int32 {
        guard try Command.takesNothing(raw, help: command.help ?? "") else { return 0 }
        print(ManPage.render(), terminator: "")
        return 0
    }
}
