import Glibc

/// The inherited environment as a dictionary (first occurrence wins, as getenv).
public func inheritedEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let text = String(cString: entry)
        if let eq = text.firstIndex(of: "=") {
            let key = String(text[..<eq])
            if result[key] == nil { result[key] = String(text[text.index(after: eq)...]) }
        }
        p += 1
    }
    return result
}
