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

/// C strings for argv and envp: copies (strdup) owned by this array and freed
/// with it.
public final class CStringArray {
    /// Without the terminating NULL.
    let pointers: [UnsafeMutablePointer<CChar>?]
    private let owned: Bool

    public init(_ strings: [String]) {
        pointers = strings.map { strdup($0) }
        owned = true
    }

    /// `KEY=value` for each entry, sorted by key.
    public convenience init(environment: [String: String]) {
        self.init(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
    }

    /// Strings the caller owns (and frees after this array is gone).
    public init(borrowing pointers: [UnsafeMutablePointer<CChar>?]) {
        self.pointers = pointers
        owned = false
    }

    deinit {
        if owned { for p in pointers { free(p) } }
    }

    /// These strings, then `more`'s, then NULL.
    func nullTerminated(appending more: CStringArray? = nil) -> [UnsafeMutablePointer<CChar>?] {
        pointers + (more?.pointers ?? []) + [nil]
    }
}
