import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `swiftman completion bash|zsh|fish`: a completion script made from the same
/// command and option tables as `help`, so the two never drift. Process types
/// are looked up when completing, by `swiftman completion types` (the Procfile
/// in the current directory, or the one named by -f/-d on the line).
enum Completion {
    static let options = ProjectOptions.options.filter { ["procfile", "root"].contains($0.long) }
    static let shells = ["bash", "zsh", "fish"]

    static let help = """
        Usage: swiftman completion bash|zsh|fish

        Prints a completion script for the shell: commands, options, the process
        types of the Procfile in the current directory (for start, restart, stop and
        run) and the formats of export. Load it with
        source <(swiftman completion bash) in ~/.bashrc, or
        swiftman completion zsh > "${fpath[1]}/_swiftman", or
        swiftman completion fish > ~/.config/fish/completions/swiftman.fish.
        `swiftman completion types [-f PROCFILE]` prints the type names, one a line.
        """

    static func run(_ rawArgs: [String], environment: [String: String]) throws -> Int32 {
        guard let shell = rawArgs.first, !["-h", "--help"].contains(shell) else {
            if rawArgs.isEmpty { throw UsageError(message: "expected bash, zsh or fish") }
            print(help)
            return 0
        }
        if shell == "types" {
            try? CLI.loadForemanDefaults()
            guard let args = try Arguments.parse(Array(rawArgs.dropFirst()), options: options, help: help,
                                                 environment: environment) else { return 0 }
            // Completion must stay quiet: a broken or missing Procfile lists nothing.
            let procfile = try? ProjectOptions.load(args, environment: environment, formation: false).procfile
            for type in procfile?.types ?? [] { print(type.name) }
            return 0
        }
        guard rawArgs.count == 1 else { throw UsageError(message: "unexpected argument \"\(rawArgs[1])\"") }
        switch shell {
        case "bash": print(bash(), terminator: "")
        case "zsh": print(zsh(), terminator: "")
        case "fish": print(fish(), terminator: "")
        default: throw UsageError(message: "unknown shell \"\(shell)\" (expected bash, zsh or fish)")
        }
        return 0
    }

    // MARK: what the scripts know

    /// Commands whose positional arguments are process types.
    static let typeCommands = ["start", "restart", "stop", "connect", "run"]
    static var commands: [String] { CLI.commandNames }
    static var formats: [String] { ExportFormat.allCases.map(\.rawValue) }

    /// Every spelling of an option: `-f`, `--procfile`, aliases.
    static func spellings(_ option: Option) -> [String] {
        (option.short.map { ["-\($0)"] } ?? []) + ["--" + option.long] + option.aliases
    }

    static func takesValue(_ option: Option) -> Bool { option.valueName != nil && !option.optionalValue }

    static var allOptions: [Option] { commands.flatMap { CLI.options($0) } }

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

    static func optionWords(_ command: String) -> [String] {
        CLI.options(command).flatMap { option in
            spellings(option).map { $0.hasPrefix("--") && option.optionalValue ? [$0, $0 + "="] : [$0] }.flatMap { $0 }
        } + ["--help"]
    }

    // MARK: bash

    static func bash() -> String {
        let perCommand = commands.map { "        \($0)) opts=\"\(optionWords($0).joined(separator: " "))\" ;;" }
            .joined(separator: "\n")
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
                    \(words(files, separator: "|"))) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                    \(words(directories, separator: "|"))) COMPREPLY=($(compgen -d -- "$cur")); return ;;
                    \(words(typeValues, separator: "|"))) COMPREPLY=($(compgen -W "$(_swiftman_types)" -- "$cur")); return ;;
                    \(words(otherValues, separator: "|"))) return ;;
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
                        if [[ $cmd == run && $(_swiftman_positionals) -gt 0 ]]; then
                            COMPREPLY=($(compgen -f -- "$cur"))
                        else
                            COMPREPLY=($(compgen -W "$(_swiftman_types)" -- "$cur"))
                            [[ $cmd == run ]] && COMPREPLY+=($(compgen -c -- "$cur"))
                        fi ;;
                    export)
                        case $(_swiftman_positionals) in
                            0) COMPREPLY=($(compgen -W "\(words(formats))" -- "$cur")) ;;
                            1) COMPREPLY=($(compgen -d -- "$cur")) ;;
                            *) COMPREPLY=($(compgen -W "$(_swiftman_types)" -- "$cur")) ;;
                        esac ;;
                    help) COMPREPLY=($(compgen -W "\(words(commands))" -- "$cur")) ;;
                    completion) COMPREPLY=($(compgen -W "\(words(shells))" -- "$cur")) ;;
                esac
            }
            complete -F _swiftman swiftman

            """
    }

    // MARK: zsh

    static func zsh() -> String {
        let perCommand = commands.map { "    \($0)) opts=(\(optionWords($0).joined(separator: " "))) ;;" }
            .joined(separator: "\n")
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
                \(words(files, separator: "|"))) _files; return ;;
                \(words(directories, separator: "|"))) _files -/; return ;;
                \(words(typeValues, separator: "|"))) compadd -- ${(f)"$(_swiftman_types)"}; return ;;
                \(words(otherValues, separator: "|"))) return ;;
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
                  if [[ $cmd == run && $(_swiftman_positionals) -gt 0 ]]; then
                    _files
                  else
                    compadd -- ${(f)"$(_swiftman_types)"}
                    [[ $cmd == run ]] && compadd -- ${(k)commands}
                  fi ;;
                export)
                  case $(_swiftman_positionals) in
                    0) compadd -- \(words(formats)) ;;
                    1) _files -/ ;;
                    *) compadd -- ${(f)"$(_swiftman_types)"} ;;
                  esac ;;
                help) compadd -- \(words(commands)) ;;
                completion) compadd -- \(words(shells)) ;;
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
        for (usage, summary) in CLI.commands {
            let name = String(usage.split(separator: " ")[0])
            lines.append("complete -c swiftman -n __fish_use_subcommand -a \(name) -d \(fishQuote(summary))")
        }
        for command in commands {
            let condition = fishQuote("__fish_seen_subcommand_from \(command)")
            for option in CLI.options(command) {
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
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from run; and __swiftman_positionals 0' -a '(__fish_complete_command)'")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from run; and not __swiftman_positionals 0' -F")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from export; and __swiftman_positionals 0' -a \(fishQuote(words(formats)))")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from export; and __swiftman_positionals 1' -a '(__fish_complete_directories)'")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from export; and not __swiftman_positionals 0; and not __swiftman_positionals 1' -a '(__swiftman_types)'")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from help' -a \(fishQuote(words(commands)))")
        lines.append("complete -c swiftman -n '__fish_seen_subcommand_from completion' -a \(fishQuote(words(shells)))")
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
