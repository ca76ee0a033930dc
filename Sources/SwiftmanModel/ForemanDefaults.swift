/// foreman's `.foreman` defaults file: YAML `key: value` lines in the current
/// directory, read before any command runs. Flags and SWIFTMAN_* variables win
/// over it. Only the subset foreman users write is read: one `key: value` per
/// line, plain, 'single' or "double" quoted scalars, `#` comments, an optional
/// `---` document start. Anything else (nesting, lists, anchors, block scalars,
/// an unknown key, a key given twice) is an error naming the file and line.
public struct ForemanDefaults: Equatable, Sendable {
    public static let fileName = ".foreman"

    /// One key as written, with its value (nil for an empty value, `~` or `null`).
    public struct Entry: Equatable, Sendable {
        public let key: String
        public let value: String?
        public let line: Int
    }

    /// The file as the user would name it (`.foreman`).
    public let path: String
    public let entries: [Entry]

    /// foreman's option names (Thor class, `start` and `export` options) and the
    /// swiftman option each sets; nil for foreman options swiftman has no use for.
    static let keys: [String: String?] = [
        "procfile": "procfile", "root": "root", "env": "env", "formation": "formation",
        "concurrency": "formation", "port": "port", "timeout": "timeout",
        "color": nil, "timestamp": nil,   // booleans, mapped in `options`
        "app": "app", "user": "user",
        "log": nil, "run": nil, "template": nil,
    ]

    /// Reads `path`; nil when there is no such file.
    public static func load(_ path: String = fileName, exists: (String) -> Bool, read: FileReader) throws(Diagnostics) -> ForemanDefaults? {
        guard exists(path) else { return nil }
        let bytes: [UInt8]
        do throws(Diagnostic) {
            bytes = try read(path)
        } catch {
            throw Diagnostics([error])
        }
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String = fileName) throws(Diagnostics) -> ForemanDefaults {
        var entries: [Entry] = []
        var problems: [Diagnostic] = []
        var seen: [String: Int] = [:]
        var ended = false
        // LF, CRLF (one Character in Swift) and a lone CR all end a line.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = Substring(raw)
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if ended {
                problems.append(Diagnostic(path, line: number, "text after the document end (`...`)"))
                continue
            }
            if trimmed == "---" || trimmed.hasPrefix("--- ") {
                if !entries.isEmpty || seen.count > 0 {
                    problems.append(Diagnostic(path, line: number, "a second YAML document is not supported"))
                }
                continue
            }
            if trimmed == "..." {
                ended = true
                continue
            }
            do throws(Diagnostic) {
                let entry = try parseLine(line, number: number, path: path)
                if let first = seen[entry.key] {
                    throw Diagnostic(path, line: number, "\(entry.key) is given twice (first on line \(first))")
                }
                seen[entry.key] = number
                entries.append(entry)
            } catch {
                problems.append(error)
            }
        }
        if seen["formation"] != nil, let line = seen["concurrency"] {
            problems.append(Diagnostic(path, line: line, "concurrency and formation are the same option: give one"))
        }
        guard problems.isEmpty else { throw Diagnostics(problems) }
        return ForemanDefaults(path: path, entries: entries)
    }

    static func parseLine(_ line: Substring, number: Int, path: String) throws(Diagnostic) -> Entry {
        func fail(_ message: String) -> Diagnostic { Diagnostic(path, line: number, message) }
        guard let first = line.first, first != " " && first != "\t" else {
            throw fail("indented line: only top-level `key: value` lines are read")
        }
        if first == "-" { throw fail("a YAML list is not supported: write `key: value`") }
        // Ruby symbol keys (`:port: 5000`) name the same option.
        var keyStart = line.startIndex
        var search = line[...]
        if first == ":" {
            keyStart = line.index(after: line.startIndex)
            search = line[keyStart...]
        }
        guard let sep = search.firstIndex(of: ":") else { throw fail("expected `key: value`") }
        let key = String(line[keyStart..<sep])
        let afterColon = line[line.index(after: sep)...]
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw fail("expected `key: value`, got \"\(shown(String(line)))\"")
        }
        if let next = afterColon.first, next != " " && next != "\t" {
            throw fail("expected a space after \"\(key):\"")
        }
        guard keys[key] != nil else {
            let known = keys.keys.sorted().joined(separator: ", ")
            throw fail("unknown key \"\(shown(key))\" (foreman's keys: \(known))")
        }
        let value = try parseValue(afterColon.trimmingSpaces, fail: fail)
        // A C string ends at NUL: a path would be cut short without a word.
        if let value, value.unicodeScalars.contains("\u{0}") {
            throw fail("\(key): the value contains a NUL byte, which no path or option can hold")
        }
        return Entry(key: key, value: value, line: number)
    }

    /// A YAML scalar: plain (ends at ` #`), 'single' ('' is a quote) or
    /// "double" (backslash escapes); nil for empty, `~` and `null`.
    static func parseValue(_ text: String, fail: (String) -> Diagnostic) throws(Diagnostic) -> String? {
        guard let first = text.first else { return nil }
        func rest(after index: String.Index) throws(Diagnostic) {
            let tail = text[index...].trimmingSpaces
            if !tail.isEmpty && !tail.hasPrefix("#") {
                throw fail("unexpected text after the closing quote: \"\(shown(tail))\"")
            }
        }
        switch first {
        case "'":
            var value = ""
            var i = text.index(after: text.startIndex)
            while i < text.endIndex {
                let c = text[i]
                i = text.index(after: i)
                if c == "'" {
                    if i < text.endIndex && text[i] == "'" {
                        value.append("'")
                        i = text.index(after: i)
                        continue
                    }
                    try rest(after: i)
                    return value
                }
                value.append(c)
            }
            throw fail("unterminated single quote")
        case "\"":
            var value = ""
            var i = text.index(after: text.startIndex)
            while i < text.endIndex {
                let c = text[i]
                i = text.index(after: i)
                if c == "\"" {
                    try rest(after: i)
                    return value
                }
                if c == "\\" {
                    guard i < text.endIndex else { break }
                    let e = text[i]
                    i = text.index(after: i)
                    switch e {
                    case "\\": value.append("\\")
                    case "\"": value.append("\"")
                    case "/": value.append("/")
                    case "n": value.append("\n")
                    case "t": value.append("\t")
                    case "r": value.append("\r")
                    case "0": value.append("\0")
                    case " ": value.append(" ")
                    default: throw fail("unsupported escape \\\(e) in a double-quoted value")
                    }
                    continue
                }
                value.append(c)
            }
            throw fail("unterminated double quote")
        case "[", "{", "&", "*", "!", "|", ">", "@", "`", "%":
            throw fail("unsupported YAML value \"\(shown(text))\": write a plain or quoted string")
        default:
            var value = Substring(text)
            // A comment starts at a `#` after a blank.
            var previous: Character = "x"
            for i in text.indices {
                if text[i] == "#" && (previous == " " || previous == "\t") {
                    value = text[..<i]
                    break
                }
                previous = text[i]
            }
            let plain = value.trimmingSpaces
            if plain == "~" || plain == "null" || plain == "Null" || plain == "NULL" || plain.isEmpty { return nil }
            return plain
        }
    }

    /// YAML 1.1 booleans, as Ruby's Psych reads them.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "y": return true
        case "false", "no", "off", "n": return false
        default: return nil
        }
    }

    /// What the file sets, as swiftman option names (`procfile`, `no-timestamp`)
    /// with the value and where it came from (`.foreman:3`). A boolean that is
    /// not one is an error naming its line.
    public func options() throws(Diagnostic) -> [String: (value: String, source: String)] {
        var result: [String: (value: String, source: String)] = [:]
        for entry in entries {
            guard let value = entry.value else { continue }
            let source = "\(path):\(entry.line)"
            switch entry.key {
            case "color", "timestamp":
                guard let on = ForemanDefaults.boolean(value) else {
                    throw Diagnostic(path, line: entry.line, "\(entry.key): expected true or false, got \"\(shown(value))\"")
                }
                if entry.key == "color" {
                    result[on ? "color" : "no-color"] = ("true", source)
                } else if !on {
                    result["no-timestamp"] = ("true", source)
                }
            default:
                if let option = ForemanDefaults.keys[entry.key] ?? nil { result[option] = (value, source) }
            }
        }
        return result
    }

    /// The keys read, in file order, and those foreman has but swiftman ignores.
    public var usedKeys: [String] {
        entries.filter { $0.value != nil && ForemanDefaults.keys[$0.key] != nil
            && (ForemanDefaults.keys[$0.key]! != nil || ["color", "timestamp"].contains($0.key)) }.map(\.key)
    }

    public var ignoredKeys: [String] {
        entries.filter { $0.value != nil && ["log", "run", "template"].contains($0.key) }.map(\.key)
    }
}

/// Quoted text for a message: at most 40 characters, control characters escaped.
private func shown(_ text: String) -> String {
    var out = ""
    for scalar in text.prefix(40).unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
