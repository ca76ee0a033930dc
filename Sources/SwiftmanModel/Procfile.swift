/// One `name: command` line of a Procfile.
public struct ProcessType: Equatable, Sendable {
    public let name: String
    /// Run verbatim under `/bin/sh -c`.
    public let command: String
    /// 1-based line in the Procfile, for diagnostics.
    public let line: Int
}

/// The process types a Procfile declares, in file order.
public struct Procfile: Equatable, Sendable {
    /// As given by the user, so diagnostics name the file the way they typed it.
    public let path: String
    public let types: [ProcessType]

    /// Parses a whole Procfile, reporting every bad line at once.
    public static func parse(_ bytes: [UInt8], path: String) throws(Diagnostics) -> Procfile {
        var types: [ProcessType] = []
        var firstLine: [String: Int] = [:]
        var problems: [Diagnostic] = []
        var sawDefinition = false

        let lines = ConfigText.normalized(bytes).split(separator: ConfigText.newline, omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            let text = ConfigText.trimmed(rawLine)
            if text.isEmpty || text.first == UInt8(ascii: "#") { continue }
            sawDefinition = true
            func fail(_ message: String) { problems.append(Diagnostic(path, line: number, message)) }

            // Split at the first colon: commands may contain colons of their own.
            guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else {
                fail("expected \"name: command\", got \(ConfigText.quoted(text))")
                continue
            }
            let nameBytes = ConfigText.trimmed(text[..<colon])
            let commandBytes = ConfigText.trimmed(text[(colon + 1)...])
            if nameBytes.isEmpty {
                fail("missing process type name before \":\"")
                continue
            }
            guard nameBytes.allSatisfy(isNameByte) else {
                fail("invalid process type name \(ConfigText.quoted(nameBytes)) (use letters, digits, \"_\" and \"-\")")
                continue
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let shownName = ConfigText.quoted(nameBytes)  // names can be arbitrarily long
            if commandBytes.isEmpty {
                fail("missing command for process type \(shownName)")
                continue
            }
            // sh -c would silently cut the command at a NUL.
            if commandBytes.contains(0) {
                fail("command for process type \(shownName) contains a NUL byte")
                continue
            }
            if let first = firstLine[name] {
                fail("duplicate process type \(shownName) (first defined on line \(first))")
                continue
            }
            firstLine[name] = number
            types.append(ProcessType(name: name, command: String(decoding: commandBytes, as: UTF8.self), line: number))
        }

        // Only when nothing was even attempted: bad lines already explain an empty result.
        if !sawDefinition {
            problems.append(Diagnostic(path, line: 1, "no process types defined (expected lines like \"web: command\")"))
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return Procfile(path: path, types: types)
    }

    /// Reads and parses the Procfile at `path`.
    public static func load(_ path: String, read: FileReader) throws(Diagnostics) -> Procfile {
        let bytes: [UInt8]
        do throws(Diagnostic) {
            bytes = try read(path)
        } catch {
            throw Diagnostics([error])
        }
        return try parse(bytes, path: path)
    }

    public func index(of name: String) -> Int? { types.firstIndex { $0.name == name } }

    public subscript(name: String) -> ProcessType? { types.first { $0.name == name } }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        ConfigText.isLetter(byte) || ConfigText.isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}

// MARK: - Byte helpers shared with DotEnv.swift

/// Byte-level text handling for the config-file parsers. They work on byte
/// arrays with integer indices so hostile input (huge lines, invalid UTF-8)
/// stays linear and never traps.
enum ConfigText {
    static let newline = UInt8(ascii: "\n")
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Drops a leading UTF-8 BOM and turns CRLF into LF (a CR at the very end
    /// too), so parsers only ever see "\n" line ends.
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.starts(with: bom) ? bom.count : 0
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if byte == UInt8(ascii: "\r"), i == bytes.count || bytes[i] == newline { continue }
            out.append(byte)
        }
        return out
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// ASCII only: names in both formats are ASCII.
    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = text.startIndex, end = text.endIndex
        while start < end, isBlank(text[start]) { start += 1 }
        while end > start, isBlank(text[end - 1]) { end -= 1 }
        return text[start..<end]
    }

    /// `text` in double quotes for a message: at most `limit` characters, with
    /// control and invisible characters escaped so they cannot garble a terminal.
    static func quoted(_ text: ArraySlice<UInt8>, limit: Int = 40) -> String {
        // A scalar is at most 4 bytes, so this prefix holds `limit` + 1 of them.
        let head = text.prefix(4 * (limit + 1))
        var result = "\""
        var count = 0
        for scalar in String(decoding: head, as: UTF8.self).unicodeScalars {
            if count == limit { return result + "…\"" }
            count += 1
            if let escaped = CEscape.common(scalar) {
                result += escaped
                continue
            }
            switch scalar {
            case "\r": result += "\\r"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator:
                    result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                default:
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + (head.count < text.count ? "…\"" : "\"")
    }

    static func quoted(_ text: String, limit: Int = 40) -> String { quoted(ArraySlice(text.utf8), limit: limit) }
}
