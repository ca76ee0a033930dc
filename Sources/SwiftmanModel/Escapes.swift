/// The escapes every C-like double-quoted string shares (systemd's, YAML's,
/// the quoted names in messages): `\"`, `\\`, `\n`, `\t`. Each format adds
/// its own rules for the rest.
enum CEscape {
    static func common(_ scalar: Unicode.Scalar) -> String? {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\t": return "\\t"
        default: return nil
        }
    }

    /// `text` in double quotes: the common escapes, then the format's own
    /// (`rest`; nil keeps the scalar as it is).
    static func quoted(_ text: String, _ rest: (Unicode.Scalar) -> String?) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if let escaped = common(scalar) ?? rest(scalar) { out += escaped } else { out.unicodeScalars.append(scalar) }
        }
        return out + "\""
    }
}
