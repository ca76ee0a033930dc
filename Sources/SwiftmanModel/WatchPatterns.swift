/// `--watch` patterns and the ignore rules (built-in, the top `.gitignore`,
/// `--watch-ignore`): which changed paths restart which type, and which
/// directories are worth a watch at all. Paths are relative to the
/// Procfile's directory, `/`-separated, without a leading `./`.

/// A glob on a relative path: `*` and `?` within one path segment, `[a-z]`,
/// `[!…]`, `\` escapes, and `**` as a whole segment for zero or more
/// segments (a trailing `**` for one or more: what is inside).
public struct Glob: Equatable, Sendable, CustomStringConvertible {
    public let description: String
    /// One entry per segment; nil is `**`.
    let segments: [[UInt8]?]

    public init(_ text: String) {
        description = text
        segments = Glob.split(text).map { $0 == Array("**".utf8) ? nil : $0 }
    }

    static func split(_ path: String) -> [[UInt8]] {
        path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
    }

    /// The whole of `path` (segments) matches.
    func matches(_ path: ArraySlice<[UInt8]>) -> Bool { match(0, path) }

    private func match(_ index: Int, _ path: ArraySlice<[UInt8]>) -> Bool {
        guard index < segments.count else { return path.isEmpty }
        guard let segment = segments[index] else {
            // `**`: zero or more segments; the last one, at least one.
            let least = index == segments.count - 1 ? 1 : 0
            guard path.count >= least else { return false }
            for skip in least...path.count where match(index + 1, path.dropFirst(skip)) { return true }
            return false
        }
        guard let first = path.first else { return false }
        return Glob.matchSegment(segment[...], first[...]) && match(index + 1, path.dropFirst())
    }

    /// Whether some path inside directory `directory` (or it itself) could
    /// match: the walk skips directories that cannot.
    func couldMatch(inside directory: ArraySlice<[UInt8]>) -> Bool {
        var index = 0
        var rest = directory
        while let name = rest.first {
            guard index < segments.count else { return true }
            guard let segment = segments[index] else { return true }
            guard Glob.matchSegment(segment[...], name[...]) else { return false }
            index += 1
            rest = rest.dropFirst()
        }
        return true
    }

    /// fnmatch(3) without FNM_PATHNAME subtleties: one segment, no `/`.
    static func matchSegment(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex, n = name.startIndex
        // Where the last `*` was, and the name position it stands for now.
        var star: (p: Int, n: Int)?
        while n < name.endIndex {
            if p < pattern.endIndex {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    star = (p, n)
                    p += 1
                    continue
                case UInt8(ascii: "?"):
                    p += 1; n += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, next) = matchClass(pattern, from: p, name[n]) {
                        if matched { p = next; n += 1; continue }
                    } else if name[n] == UInt8(ascii: "[") {
                        p += 1; n += 1
                        continue
                    }
                case UInt8(ascii: "\\") where p + 1 < pattern.endIndex:
                    if pattern[p + 1] == name[n] { p += 2; n += 1; continue }
                case let byte:
                    if byte == name[n] { p += 1; n += 1; continue }
                }
            }
            // No match here: let the last `*` take one more byte.
            guard let last = star else { return false }
            star = (last.p, last.n + 1)
            p = last.p + 1
            n = last.n + 1
        }
        while p < pattern.endIndex && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    /// `[…]` at `start`: whether `byte` is in it and the index after it, or
    /// nil when the bracket is not closed (then it is a plain `[`).
    private static func matchClass(_ pattern: ArraySlice<UInt8>, from start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negated = false
        if i < pattern.endIndex && (pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^")) {
            negated = true
            i += 1
        }
        var found = false
        var first = true
        while i < pattern.endIndex {
            var low = pattern[i]
            if low == UInt8(ascii: "]") && !first { return (found != negated, i + 1) }
            first = false
            if low == UInt8(ascii: "\\") && i + 1 < pattern.endIndex { i += 1; low = pattern[i] }
            var high = low
            if i + 2 < pattern.endIndex && pattern[i + 1] == UInt8(ascii: "-") && pattern[i + 2] != UInt8(ascii: "]") {
                high = pattern[i + 2]
                i += 2
            }
            if low <= byte && byte <= high { found = true }
            i += 1
        }
        return nil
    }
}

/// One line of a `.gitignore` (or a `--watch-ignore` pattern), as git reads it.
public struct IgnoreRule: Equatable, Sendable {
    public let glob: Glob
    /// `!pattern`: re-includes what an earlier rule ignored.
    public let negated: Bool
    /// `pattern/`: directories only.
    public let directoryOnly: Bool
    /// A `/` at the start or in the middle: matched against the whole path
    /// from the top; otherwise against the name at any depth.
    public let anchored: Bool

    /// Nil for blank lines and comments.
    public init?(line raw: String) {
        var line = Substring(raw)
        if line.hasSuffix("\r") { line = line.dropLast() }
        // Trailing blanks go, unless escaped with a backslash.
        while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line = line.dropLast() }
        guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
        negated = line.hasPrefix("!")
        if negated { line = line.dropFirst() }
        if line.hasPrefix("\\!") || line.hasPrefix("\\#") { line = line.dropFirst() }
        directoryOnly = line.hasSuffix("/")
        while line.hasSuffix("/") { line = line.dropLast() }
        guard !line.isEmpty else { return nil }
        anchored = line.contains("/")
        while line.hasPrefix("/") { line = line.dropFirst() }
        glob = Glob(String(line))
    }

    /// Whether the rule speaks of `path` (segments from the top).
    func matches(_ path: ArraySlice<[UInt8]>, isDirectory: Bool) -> Bool {
        guard !directoryOnly || isDirectory, let name = path.last else { return false }
        return anchored ? glob.matches(path) : glob.matches([name][...])
    }
}

/// An ordered list of ignore rules: the last rule that matches decides, and
/// nothing inside an ignored directory can be re-included (git's rules).
public struct IgnoreRules: Equatable, Sendable {
    public private(set) var rules: [IgnoreRule]

    public init(_ rules: [IgnoreRule] = []) { self.rules = rules }

    /// The rules of a `.gitignore` file's text.
    public init(gitignore text: String) {
        rules = text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { IgnoreRule(line: String($0)) }
    }

    /// Patterns given one by one (`--watch-ignore`), in gitignore syntax.
    public init(patterns: [String]) { rules = patterns.compactMap(IgnoreRule.init(line:)) }

    public mutating func append(_ other: IgnoreRules) { rules += other.rules }

    /// What is always ignored: git's own directory and editors' temporary
    /// files (vim's swap files and `4913` probe, emacs's `~` and `.#` locks).
    public static let builtIn = IgnoreRules(patterns: [".git/", "*.swp", "*.swx", "*~", ".#*", "4913", "\\#*#"])

    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        isIgnored(Glob.split(path)[...], isDirectory: isDirectory)
    }

    func isIgnored(_ path: ArraySlice<[UInt8]>, isDirectory: Bool) -> Bool {
        guard !path.isEmpty, !rules.isEmpty else { return false }
        // An ignored directory keeps everything in it ignored.
        for end in path.startIndex + 1..<path.endIndex where decides(path[path.startIndex..<end], isDirectory: true) == true {
            return true
        }
        return decides(path, isDirectory: isDirectory) ?? false
    }

    /// The last matching rule's say: ignored (true), re-included (false), or nil.
    private func decides(_ path: ArraySlice<[UInt8]>, isDirectory: Bool) -> Bool? {
        for rule in rules.reversed() where rule.matches(path, isDirectory: isDirectory) { return !rule.negated }
        return nil
    }
}

/// Which types a changed path restarts: `--watch TYPE[=PATTERN,…]` against
/// the ignore rules, which win over every watch pattern.
public struct WatchMatcher: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public let type: String
        /// As given (`*.py`, `lib`, `**/*.html`); empty: the whole directory.
        public let patterns: [String]
        let globs: [Glob]
    }

    public let entries: [Entry]
    /// Built-in rules: always win.
    public let builtIn: IgnoreRules
    /// The top `.gitignore`'s rules, then `--watch-ignore`'s.
    public let ignores: IgnoreRules

    /// `watches`: per type its patterns (none: everything under the top).
    public init(watches: [(type: String, patterns: [String])], ignores: IgnoreRules, builtIn: IgnoreRules = .builtIn) {
        entries = watches.map { watch in
            Entry(type: watch.type, patterns: watch.patterns,
                  globs: watch.patterns.isEmpty ? [Glob("**")] : watch.patterns.map { Glob(WatchMatcher.normalize($0)) })
        }
        self.ignores = ignores
        self.builtIn = builtIn
    }

    /// `./lib/` → `lib`; `.` → `**` (everything).
    public static func normalize(_ pattern: String) -> String {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        return parts.isEmpty ? "**" : parts.joined(separator: "/")
    }

    /// Why a pattern cannot be used (absolute, or leaving the directory), or nil.
    public static func problem(with pattern: String) -> String? {
        if pattern.hasPrefix("/") { return "\(pattern) is absolute: patterns are relative to the Procfile's directory" }
        if pattern.split(separator: "/").contains("..") { return "\(pattern) leaves the Procfile's directory" }
        return nil
    }

    public var types: [String] { entries.map(\.type) }

    public func isIgnored(_ path: ArraySlice<[UInt8]>, isDirectory: Bool) -> Bool {
        builtIn.isIgnored(path, isDirectory: isDirectory) || ignores.isIgnored(path, isDirectory: isDirectory)
    }

    /// The types a change to `path` restarts, in the order they were given.
    public func types(changed path: String, isDirectory: Bool = false) -> [String] {
        let segments = Glob.split(path)[...]
        guard !segments.isEmpty, !isIgnored(segments, isDirectory: isDirectory) else { return [] }
        return entries.filter { matches($0, segments) }.map(\.type)
    }

    /// Whether the entry's patterns match `path` or a directory it is in.
    func matches(_ entry: Entry, _ path: ArraySlice<[UInt8]>) -> Bool {
        for glob in entry.globs {
            for end in path.startIndex + 1...path.endIndex where glob.matches(path[path.startIndex..<end]) { return true }
        }
        return false
    }

    /// Whether `directory` needs a watch: not ignored, and some pattern could
    /// match something in it. The top (`""`) always does.
    public func shouldWatch(directory: String) -> Bool {
        let segments = Glob.split(directory)[...]
        guard !segments.isEmpty else { return true }
        guard !isIgnored(segments, isDirectory: true) else { return false }
        return entries.contains { $0.globs.contains { $0.couldMatch(inside: segments) } }
    }

    /// `web: 2 files changed (app.py, lib/db.py)`-style summary paths: at
    /// most three, in the order first seen.
    public static let namedPaths = 3
}
