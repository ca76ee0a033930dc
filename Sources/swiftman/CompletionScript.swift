import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// The completion scripts of `swiftman completion bash|zsh|fish`, made from the
/// command table (names, summaries, options, what the positionals are), so
/// they never drift from `help`. Process types are looked up when completing,
/// by `swiftman completion types` (the Procfile in the current directory, or
/// the one named by -f/-d on the line).
enum CompletionScript {
    // MARK: what the scripts know

    static let shells = ["bash", "zsh", "fish"]
    static var commands: [String] { CommandTable.names }
    static var formats: [String] { ExportFormat.allCases.map(\.rawValue) }

    /// The commands whose positionals are of this kind.
    static func commands(_ kind: Positionals) -> [String] {
        CommandTable.all.filter { $0.positionals == kind }.map(\.name)
    }

    /// Commands whose positional arguments are process types; the command
    /// line ones (`run`) last, since their branch tells them apart.
    static var typeCommands: [String] { commands(.types) + commands(.commandLine) }
    /// `[[ $cmd == run ]]`: a test for the command line ones.
    static var commandLineTest: String { commands(.commandLine).map { "$cmd == \($0)" }.joined(separator: " || ") }
    /// The commands whose first positional is a type and the second a word of a list.
    static var typeThenWords: [(name: String, words: [String])] {
        CommandTable.all.compactMap { command in
            if case .typeThen(let words) = command.positionals { return (command.name, words) }
            return nil
        }
    }

    /// Every spelling of an option: `-f`, `--procfile`, aliases.
    static func spellings(_ option: Option) -> [String] {
        (option.short.map { ["-\($0)"] } ?? []) + ["--" + option.long] + option.aliases
    }

    static func takesValue(_ option: Option) -> Bool { option.valueName != nil && !option.optionalValue }

    static var allOptions: [Option] { CommandTable.all.flatMap(\.options) }

    /// Spellings of options whose value is the next word, by kind of value.
    static func valueSpellings(_ kind: (Option) -> Bool) -> [String] {
        var seen = Set<String>()
        return allOptions.filter { takesValue($0) && kind($0) }.flatMap(spellings).filter { seen.insert($0).inserted }
    }

    static let fileOptions: Set<String> = ["procfile", "env", "socket"]
    static var files: [String] { valueSpellings { fileOptions.contains($0.long) } }
    static var directories: [String] { valueSpellings { $0.long == "root" } }
    static var typeValues: [String] { valueSpellings { $0.long == "quiet" } }
    static var otherValues: [String] {
        valueSpellings { !fileOptions.contains($0.long) && $0.long != "root" && $0.long != "quiet" }
    }

    static func optionWords(_ command: Command) -> [String] {
        command.options.flatMap { option in
            spellings(option).map { $0.hasPrefix("--") && option.optionalValue ? [$0, $0 + "="] : [$0] }.flatMap { $0 }
        } + ["--help"]
    }

    // MARK: bash and zsh

    /// What bash and zsh write differently in the arms on positionals.
    struct Dialect {
        /// Of an arm of `case $cmd`, and one level more.
        let indent: String
        let step: String
        let types: String
        let files: String
        let directories: String
        let words: @Sendable (String) -> String

        static let bash = Dialect(indent: "        ", step: "    ", types: #"COMPREPLY=($(compgen -W "$(_swiftman_types)" -- "$cur"))"#,
                                  files: #"COMPREPLY=($(compgen -f -- "$cur"))"#, directories: #"COMPREPLY=($(compgen -d -- "$cur"))"#,
                                  words: { #"COMPREPLY=($(compgen -W "\#($0)" -- "$cur"))"# })
        static let zsh = Dialect(indent: "    ", step: "  ", types: #"compadd -- ${(f)"$(_swiftman_types)"}"#,
                                 files: "_files", directories: "_files -/", words: { "compadd -- \($0)" })
    }

    /// The arms of `case $prev`: what the value of the option before the cursor is.
    static func valueArms(_ dialect: Dialect) -> String {
        [(files, dialect.files + "; return"), (directories, dialect.directories + "; return"),
         (typeValues, dialect.types + "; return"), (otherValues, "return")]
            .map { dialect.indent + words($0.0, separator: "|") + ") " + $0.1 + " ;;" }.joined(separator: "\n")
    }

    /// `NAMES)` and a `case` on how many positionals come before the cursor.
    static func positionalArm(_ dialect: Dialect, _ names: [String], _ cases: [(count: String, action: String)]) -> String {
        let (i, s) = (dialect.indent, dialect.step)
        return ([i + words(names, separator: "|") + ")", i + s + "case $(_swiftman_positionals) in"]
            + cases.map { i + s + s + "\($0.count)) \($0.action) ;;" } + [i + s + "esac ;;"]).joined(separator: "\n")
    }

    /// `export`: a format, a directory, then types.
    static func exportArm(_ dialect: Dialect) -> String {
        positionalArm(dialect, commands(.exportTarget),
                      [("0", dialect.words(words(formats))), ("1", dialect.directories), ("*", dialect.types)])
    }

    /// `signal`: a type, then a word of its list; each arm after a newline.
    static func typeThenArms(_ dialect: Dialect) -> String {
        typeThenWords.map { "\n" + positionalArm(dialect, [$0.name], [("0", dialect.types), ("1", dialect.words(words($0.words)))]) }
            .joined()
    }

    static func bash() -> String {
        let perCommand = CommandTable.all.map { "        \($0.name)) opts=\"\(optionWords($0).joined(separator: " "))\" ;;" }
            .joined(separator: "\n")
        let typeThen = typeThenArms(.bash)
        return """
            # bash completion for swiftman: source <(swiftman completion bash)
            _swiftman_project() {
                local i w
                for ((i = 2; i < COMP_CWORD; i++)); do
                    w=${COMP_WORDS[i]}
                    case $w in
                        -f|--procfile|-d|--root) printf '%s\\n' "$w" "${COMP_WORDS[i+1]}" ;;
                        --procfile=*|--root=*) printf '%s\\n' "$w" ;;
                    esac
                done
            }
            _swiftman_types() {
                local IFS=$'\\n'
                command swiftman completion types $(_swiftman_project) 2>/dev/null
            }
            _swiftman_positionals() {
                local i n=0 w
                for ((i = 2; i < COMP_CWORD; i++)); do
                    w=${COMP_WORDS[i]}
                    case $w in
                        \(words(files + directories + typeValues + otherValues, separator: "|"))) ((i++)) ;;
                        -*) ;;
                        *) ((n++)) ;;
                    esac
                done
                echo "$n"
            }
            _swiftman() {
                local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]} opts
                COMPREPLY=()
                if ((COMP_CWORD == 1)); then
                    COMPREPLY=($(compgen -W "\(words(commands))" -- "$cur"))
                    return
                fi
                case $prev in
            \(valueArms(.bash))
                esac
                case $cmd in
            \(perCommand)
                    *) opts="--help" ;;
                esac
                if [[ $cur == -* ]]; then
                    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
                    return
                fi
                case $cmd in
                    \(words(typeCommands, separator: "|")))
                        if [[ \(commandLineTest) && $(_swiftman_positionals) -gt 0 ]]; then
                            COMPREPLY=($(compgen -f -- "$cur"))
                        else
                            COMPREPLY=($(compgen -W "$(_swiftman_types)" -- "$cur"))
                            [[ \(commandLineTest) ]] && COMPREPLY+=($(compgen -c -- "$cur"))
                        fi ;;
            \(exportArm(.bash))
                    \(words(commands(.typeCounts), separator: "|")))
                        # `web=`: no space after it, nothing once the `=` is typed.
                        if [[ $cur != *=* ]]; then
                            COMPREPLY=($(compgen -S = -W "$(_swiftman_types)" -- "$cur"))
                            compopt -o nospace 2>/dev/null
                        fi ;;
                    \(words(commands(.commands), separator: "|"))) COMPREPLY=($(compgen -W "\(words(commands))" -- "$cur")) ;;
                    \(words(commands(.shells), separator: "|"))) COMPREPLY=($(compgen -W "\(words(shells))" -- "$cur")) ;;\(typeThen)
                esac
            }
            complete -F _swiftman swiftman

            """
    }

    // MARK: zsh

    static func zsh() -> String {
        let perCommand = CommandTable.all.map { "    \($0.name)) opts=(\(optionWords($0).joined(separator: " "))) ;;" }
            .joined(separator: "\n")
        let typeThen = typeThenArms(.zsh)
        return """
            #compdef swiftman
            # zsh completion for swiftman: swiftman completion zsh > "${fpath[1]}/_swiftman"
            # (or: source <(swiftman completion zsh) after compinit)
            _swiftman_types() {
              local -a project
              local i
              for ((i = 3; i < CURRENT; i++)); do
                case ${words[i]} in
                  -f|--procfile|-d|--root) project+=(${words[i]} ${words[i+1]}) ;;
                  --procfile=*|--root=*) project+=(${words[i]}) ;;
                esac
              done
              command swiftman completion types $project 2>/dev/null
            }
            _swiftman_positionals() {
              local i n=0
              for ((i = 3; i < CURRENT; i++)); do
                case ${words[i]} in
                  \(words(files + directories + typeValues + otherValues, separator: "|"))) ((i++)) ;;
                  -*) ;;
                  *) ((n++)) ;;
                esac
              done
              print -r -- $n
            }
            _swiftman() {
              local cmd=${words[2]} cur=${words[CURRENT]} prev=${words[CURRENT-1]}
              local -a opts
              if ((CURRENT == 2)); then
                compadd -- \(words(commands))
                return
              fi
              case $prev in
            \(valueArms(.zsh))
              esac
              case $cmd in
            \(perCommand)
                *) opts=(--help) ;;
              esac
              if [[ $cur == -* ]]; then
                compadd -- $opts
                return
              fi
              case $cmd in
                \(words(typeCommands, separator: "|")))
                  if [[ \(commandLineTest) && $(_swiftman_positionals) -gt 0 ]]; then
                    _files
                  else
                    compadd -- ${(f)"$(_swiftman_types)"}
                    [[ \(commandLineTest) ]] && compadd -- ${(k)commands}
                  fi ;;
            \(exportArm(.zsh))
                \(words(commands(.typeCounts), separator: "|"))) [[ $cur == *=* ]] || compadd -S = -- ${(f)"$(_swiftman_types)"} ;;
                \(words(commands(.commands), separator: "|"))) compadd -- \(words(commands)) ;;
                \(words(commands(.shells), separator: "|"))) compadd -- \(words(shells)) ;;\(typeThen)
              esac
            }
            if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
              _swiftman "$@"
            else
              compdef _swiftman swiftman
            fi

            """
    }

    // MARK: fish

    static func fish() -> String {
        var lines = [
            "# fish completion for swiftman: swiftman completion fish > ~/.config/fish/completions/swiftman.fish",
            "function __swiftman_types",
            "    set -l words (commandline -opc)",
            "    set -l project",
            "    for i in (seq 2 (count $words))",
            "        switch $words[$i]",
            "            case -f --procfile -d --root",
            "                set -a project $words[$i] $words[(math $i + 1)]",
            "            case '--procfile=*' '--root=*'",
            "                set -a project $words[$i]",
            "        end",
            "    end",
            "    command swiftman completion types $project 2>/dev/null",
            "end",
            "function __swiftman_positionals",
            "    set -l words (commandline -opc)",
            "    set -l n 0",
            "    set -l skip 0",
            "    for w in $words[3..-1]",
            "        if test $skip = 1",
            "            set skip 0",
            "            continue",
            "        end",
            "        switch $w",
            "            case \(words(files + directories + typeValues + otherValues))",
            "                set skip 1",
            "            case '-*'",
            "            case '*'",
            "                set n (math $n + 1)",
            "        end",
            "    end",
            "    test $n -eq $argv[1]",
            "end",
            "complete -c swiftman -f",
        ]
        for command in CommandTable.all {
            lines.append("complete -c swiftman -n __fish_use_subcommand -a \(command.name) -d \(fishQuote(command.summary))")
        }
        for command in CommandTable.all {
            let condition = fishQuote("__fish_seen_subcommand_from \(command.name)")
            for option in command.options {
                var line = "complete -c swiftman -n \(condition)"
                if let short = option.short { line += " -s \(short)" }
                line += " -l \(option.long)"
                if takesValue(option) {
                    line += " -r"
                    if fileOptions.contains(option.long) || option.long == "root" { line += " -F" }
                    if option.long == "quiet" { line += " -a '(__swiftman_types)'" }
                }
                lines.append(line + " -d \(fishQuote(option.help))")
            }
        }
        let typeCondition = fishQuote("__fish_seen_subcommand_from \(typeCommands.joined(separator: " "))")
        lines.append("complete -c swiftman -n \(typeCondition) -a '(__swiftman_types)' -d 'process type'")
        let counts = fishQuote("__fish_seen_subcommand_from \(commands(.typeCounts).joined(separator: " "))")
        lines.append("complete -c swiftman -n \(counts) -a '(__swiftman_types)=' -d 'TYPE=N'")
        let run = "__fish_seen_subcommand_from " + words(commands(.commandLine))
        lines.append("complete -c swiftman -n '\(run); and __swiftman_positionals 0' -a '(__fish_complete_command)'")
        lines.append("complete -c swiftman -n '\(run); and not __swiftman_positionals 0' -F")
        let export = "__fish_seen_subcommand_from " + words(commands(.exportTarget))
        lines.append("complete -c swiftman -n '\(export); and __swiftman_positionals 0' -a \(fishQuote(words(formats)))")
        lines.append("complete -c swiftman -n '\(export); and __swiftman_positionals 1' -a '(__fish_complete_directories)'")
        lines.append("complete -c swiftman -n '\(export); and not __swiftman_positionals 0; and not __swiftman_positionals 1' -a '(__swiftman_types)'")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from \(words(commands(.commands)))' -a \(fishQuote(words(commands)))")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from \(words(commands(.shells)))' -a \(fishQuote(words(shells)))")
        for command in typeThenWords {
            let seen = "__fish_seen_subcommand_from " + command.name
            lines.append("complete -c swiftman -n '\(seen); and __swiftman_positionals 0' -a '(__swiftman_types)'")
            lines.append("complete -c swiftman -n '\(seen); and __swiftman_positionals 1' -a \(fishQuote(words(command.words)))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func words(_ list: [String], separator: String = " ") -> String { list.joined(separator: separator) }

    /// A fish single-quoted string: only `\` and `'` are special.
    static func fishQuote(_ text: String) -> String {
        "'" + text.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'") + "'"
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
