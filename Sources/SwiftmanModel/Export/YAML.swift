/// A YAML value for the compose and Kubernetes exporters. Maps keep their keys
/// in the order given, so the output reads like hand-written YAML.
public enum YAMLValue: Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLValue])
    case map([(String, YAMLValue)])

    /// One block-style document, ending in a newline.
    public var document: String {
        lines(indent: 0).map { $0 + "\n" }.joined()
    }

    /// The value as indented block lines; scalars and empty collections are one line.
    private func lines(indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .list(let items) where !items.isEmpty:
            return items.flatMap { item in
                // "- " takes the place of the item's own indentation on its first line.
                var itemLines = item.lines(indent: indent + 2)
                itemLines[0] = pad + "- " + itemLines[0].dropFirst(indent + 2)
                return itemLines
            }
        case .map(let entries) where !entries.isEmpty:
            return entries.flatMap { key, value in
                let head = pad + YAML.scalar(key) + ":"
                if let inline = value.inline { return [head + " " + inline] }
                return [head] + value.lines(indent: indent + 2)
            }
        default:
            return [pad + inline!]
        }
    }

    /// The one-line form of scalars and empty collections; nil for the rest.
    private var inline: String? {
        switch self {
        case .string(let s): return YAML.scalar(s)
        case .int(let n): return String(n)
        case .bool(let b): return b ? "true" : "false"
        case .list(let items): return items.isEmpty ? "[]" : nil
        case .map(let entries): return entries.isEmpty ? "{}" : nil
        }
    }
}

extension YAMLValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

/// Scalar quoting that reads back as the same string under YAML 1.1 and 1.2
/// parsers alike (PyYAML, Go's yaml.v2/v3, compose, kubectl).
public enum YAML {
    /// `text` plain when that is unambiguous, else double-quoted with escapes.
    public static func scalar(_ text: String) -> String {
        isPlainSafe(text) ? text : doubleQuoted(text)
    }

    /// Plain only when it is clearly a string: starts with a letter, "/" or "_"
    /// (so no number, date, `.inf`, `-`, `~` or indicator), uses no character
    /// YAML gives a meaning to, has no edge spaces, and is no YAML 1.1 boolean or null.
    static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
              first.isASCIILetter || first == "/" || first == "_", last != " "
        else { return false }
        let plainSafe = text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCIILetter || ("0"..."9").contains(scalar) || " _-./+=()^".unicodeScalars.contains(scalar)
                || (scalar.value > 0x9F && !needsEscape(scalar))
        }
        return plainSafe && !reservedWords.contains(text.lowercased())
    }

    /// Words YAML 1.1 reads as booleans or null (in any case: `Yes`, `OFF`).
    static let reservedWords: Set<String> = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]

    /// Double-quoted, with every control, line-break or invisible character escaped.
    static func doubleQuoted(_ text: String) -> String {
        CEscape.quoted(text) { scalar in
            switch scalar {
            case "\r": return "\\r"
            case _ where needsEscape(scalar): return "\\u" + hex(scalar.value, width: 4)
            default: return nil
            }
        }
    }

    /// C0 and C1 controls, DEL, YAML 1.1 line breaks (NEL, U+2028, U+2029), the
    /// BOM, and the non-characters YAML forbids.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF: return true
        default: return false
        }
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
