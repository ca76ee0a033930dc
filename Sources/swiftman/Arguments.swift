import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// One command-line option. Every option can also come from the environment
/// as SWIFTMAN_<LONG_NAME> (`--no-timestamp` → SWIFTMAN_NO_TIMESTAMP); flags win.
struct Option {
    let long: String
    let short: Character?
    /// nil for a flag (no value).
    let valueName: String?
    let help: String
    var aliases: [String] = []
    /// A flag that may carry a value inline only (`--tty` or `--tty=web`), so
    /// it never swallows the next argument.
    var optionalValue = false
    /// May be given several times (`--ready a=port --ready 'b=line:x, y'`):
    /// every value is kept, in order (`all(_:)`).
    var repeatable = false
    // A spelling two options share, one a flag and one taking a value (`-c`:
    // foreman's colour flag, honcho's `-c web=2`), means the option with the
    // value when the word after it (or its inline rest) has a `=`, else the flag.

    var environmentName: String {
        "SWIFTMAN_" + long.uppercased().map { $0 == "-" ? "_" : $0 }.map(String.init).joined()
    }
}

/// A usage error: exit code 2 and a pointer to --help.
struct UsageError: Error {
    let message: String
}

/// Parsed options and positional arguments of one command.
struct Arguments {
    private(set) var values: [String: String] = [:]
    /// Every value of a repeatable option, in order.
    private(set) var repeated: [String: [String]] = [:]
    /// Where each value came from, for error messages (`--timeout`, `SWIFTMAN_TIMEOUT`).
    private(set) var sources: [String: String] = [:]
    private(set) var positionals: [String] = []
    private(set) var help = false
    /// The word after an option whose value can only be inline (`--tty web`:
    /// "web"), which was read as a positional: the command may refuse it.
    private(set) var followedBy: [String: String] = [:]

    /// Parses `args` against `options`. With `stopAtFirstPositional` everything
    /// from the first positional on is left untouched (for `run CMD ARGS…`).
    /// `defaults` are the values from `.foreman`, by option name, with their source.
    init(_ args: [String], options: [Option], environment: [String: String],
         defaults: [String: (value: String, source: String)] = Arguments.fileDefaults,
         stopAtFirstPositional: Bool = false) throws(UsageError) {
        var i = 0
        func find(_ name: String) throws(UsageError) -> Option {
            let match = options.first { opt in
                name == "--" + opt.long || opt.aliases.contains(name)
                    || (opt.short.map { name == "-" + String($0) } ?? false)
            }
            if name == "-h" || name == "--help" { return Option(long: "help", short: "h", valueName: nil, help: "") }
            guard let match else { throw UsageError(message: "unknown option \(name)") }
            return match
        }
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" {
                positionals += args[i...]
                break
            }
            guard arg.hasPrefix("-"), arg.count > 1 else {
                positionals.append(arg)
                if stopAtFirstPositional {
                    positionals += args[i...]
                    break
                }
                continue
            }
            var name = arg
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            } else if !arg.hasPrefix("--") && arg.count > 2 {
                // -p6000 style
                name = String(arg.prefix(2))
                inline = String(arg.dropFirst(2))
            }
            var option = try find(name)
            if option.valueName != nil, !option.optionalValue,
               let flag = options.first(where: { $0.valueName == nil && $0.aliases.contains(name) }) {
                let value = inline ?? (i < args.count ? args[i] : nil)
                if !(value?.contains("=") ?? false) { option = flag }
            }
            if option.optionalValue, inline == nil, i < args.count,
               let bare = args[i].first, bare != "-" {
                followedBy[option.long] = args[i]
            }
            if option.long == "help" {
                help = true
                continue
            }
            if option.valueName == nil || option.optionalValue {
                if let inline, !option.optionalValue {
                    throw UsageError(message: "\(name) takes no value (got \"\(inline)\")")
                }
                values[option.long] = inline ?? "true"
            } else if let inline {
                values[option.long] = inline
            } else {
                guard i < args.count else { throw UsageError(message: "\(name) needs a value (\(option.valueName!))") }
                values[option.long] = args[i]
                i += 1
            }
            if option.repeatable, let value = values[option.long] { repeated[option.long, default: []].append(value) }
            sources[option.long] = name
        }
        /// `--color` and `--no-color` (and any `X`/`no-X` pair) are one setting:
        /// a value from a stronger source hides the weaker source's opposite.
        func decided(_ long: String, in values: [String: String]) -> Bool {
            let opposite = long.hasPrefix("no-") ? String(long.dropFirst(3)) : "no-" + long
            return values[long] != nil || values[opposite] != nil
        }
        let fromCommandLine = values
        // Most runs set no SWIFTMAN_ variable: then no option's name is built.
        let anySet = environment.keys.contains { $0.hasPrefix("SWIFTMAN_") }
        for option in options where anySet && !decided(option.long, in: fromCommandLine) {
            guard let value = environment[option.environmentName] else { continue }
            if option.optionalValue && !["", "0", "false", "no", "off"].contains(value.lowercased()) {
                values[option.long] = ["1", "yes", "on"].contains(value.lowercased()) ? "true" : value
            } else if option.valueName == nil || option.optionalValue {
                switch value.lowercased() {
                case "1", "true", "yes", "on": values[option.long] = "true"
                case "", "0", "false", "no", "off": continue
                default: throw UsageError(message: "\(option.environmentName): expected true or false, got \"\(value)\"")
                }
            } else {
                values[option.long] = value
                if option.repeatable { repeated[option.long] = [value] }
            }
            sources[option.long] = option.environmentName
        }
        // Then foreman's `.foreman` file, weakest of all.
        let fromFlagsAndEnvironment = values
        for option in options where !decided(option.long, in: fromFlagsAndEnvironment) {
            guard let entry = defaults[option.long] else { continue }
            values[option.long] = entry.value
            sources[option.long] = entry.source
        }
    }

    /// Parses a command's arguments; with --help prints `help` and returns nil.
    static func parse(_ args: [String], options: [Option], help: @autoclosure () -> String, environment: [String: String],
                      stopAtFirstPositional: Bool = false) throws(UsageError) -> Arguments? {
        let parsed = try Arguments(args, options: options, environment: environment,
                                   stopAtFirstPositional: stopAtFirstPositional)
        guard !parsed.help else {
            HelpText.print(help())
            return nil
        }
        return parsed
    }

    /// The options set by `.foreman` in the current directory, read once by
    /// `CLI.main` before any command parses its arguments.
    nonisolated(unsafe) static var fileDefaults: [String: (value: String, source: String)] = [:]

    subscript(_ long: String) -> String? { values[long] }
    /// Every value given for a repeatable option (the variable's when no flag).
    func all(_ long: String) -> [String] { repeated[long] ?? values[long].map { [$0] } ?? [] }
    func flag(_ long: String) -> Bool { values[long] == "true" }
    func source(_ long: String) -> String { sources[long] ?? "--" + long }
}

/// Option lines for --help.
func describe(_ options: [Option]) -> String {
    options.map { opt in
        var names = opt.short.map { "-\($0), " } ?? "    "
        names += "--\(opt.long)"
        if let v = opt.valueName { names += opt.optionalValue ? "[=\(v)]" : " \(v)" }
        let pad = String(repeating: " ", count: max(1, 30 - names.count))
        return "  \(names)\(pad)\(opt.help)  [\(opt.environmentName)]"
    }.joined(separator: "\n")
}

/// Help as printed: every line wrapped to the terminal's width (80 when stdout
/// is not a terminal), an option's description continuing under itself.
enum HelpText {
    static func print(_ text: String) {
        Swift.print(wrap(text, width: width))
    }

    static var width: Int {
        let cols = FileDescriptor.standardOutput.windowSize.map { Int($0.cols) } ?? 0
        return cols > 0 ? cols : 80
    }

    static func wrap(_ text: String, width requested: Int) -> String {
        let width = max(40, requested)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.count > width else { return String(line) }
            let leading = line.prefix { $0 == " " }.count
            // A row of an indented two-column list (`  -f, --procfile PATH   Procfile
            // to read…`, `  start [TYPE…]   run the…`) continues under its second column.
            var hang = leading
            let chars = Array(line)
            if leading >= 2, var i = chars.indices.dropFirst(leading).first(where: { chars[$0] == " " && $0 + 1 < chars.count && chars[$0 + 1] == " " }) {
                while i < chars.count && chars[i] == " " { i += 1 }
                if i < width - 20 { hang = i }
            }
            var lines: [String] = []
            var current = ""
            var indent = String(line.prefix(leading))
            for word in line.dropFirst(leading).split(separator: " ", omittingEmptySubsequences: false) {
                let candidate = current.isEmpty ? indent + word : current + " " + word
                if candidate.count > width && !current.isEmpty {
                    lines.append(current)
                    indent = String(repeating: " ", count: hang)
                    current = indent + word
                } else {
                    current = candidate
                }
            }
            lines.append(current)
            // Spaces that padded a column are not words: trim the line ends.
            return lines.map { line in String(line.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
