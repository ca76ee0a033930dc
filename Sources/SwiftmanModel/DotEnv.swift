/// `.env` files: dotenv-compatible `KEY=value` lines with quoting and
/// `${VAR}` interpolation. README documents the grammar.
public enum DotEnv {
    public struct Entry: Equatable, Sendable {
        public let key: String
        public let value: String
        public let line: Int
    }

    /// How deeply `${A:-${B:-…}}` defaults may nest before it is an error.
    static let maxNesting = 32
    /// How many bytes interpolation may copy in one file, so that `B=$A$A`,
    /// `C=$B$B`, … cannot grow values exponentially and exhaust memory.
    static let maxInterpolatedBytes = 16 << 20

    /// A line every mainstream dotenv library ignores: skipped, and reported
    /// (`check` lists it, `start` prints it once) instead of stopping the run.
    public struct Warning: Equatable, Sendable, CustomStringConvertible {
        public let path: String
        public let line: Int
        public let message: String

        public init(path: String, line: Int, _ message: String) {
            self.path = path
            self.line = line
            self.message = message
        }

        public var description: String { "\(path):\(line): warning: \(message)" }
    }

    /// One file's entries (each key once, its last definition) and the lines it skipped.
    public struct File: Equatable, Sendable {
        public var entries: [Entry]
        public var warnings: [Warning]
    }

    /// Several files read together: the values, the skipped lines and the errors of every file.
    public struct Loaded: Equatable, Sendable {
        public var values: [String: String] = [:]
        public var warnings: [Warning] = []
        public var problems: [Diagnostic] = []
    }

    /// One file. `lookup` resolves names not defined earlier in this file (earlier files, then the inherited environment); unknown -> "".
    /// Returns one entry per key, in file order; when a key repeats, the last definition wins.
    public static func parseFile(_ bytes: [UInt8], path: String, lookup: (String) -> String?) throws(Diagnostics) -> File {
        let (file, problems) = scan(bytes, path: path, lookup: lookup)
        if !problems.isEmpty { throw Diagnostics(problems) }
        return file
    }

    /// One file's entries and warnings, and its errors (the entries are only
    /// meaningful when there are none; the warnings always are).
    static func scan(_ bytes: [UInt8], path: String, lookup: (String) -> String?) -> (File, [Diagnostic]) {
        let (entries, warnings, problems) = withoutActuallyEscaping(lookup) { lookup in
            var parser = DotEnvParser(text: normalized(bytes), path: path, lookup: lookup)
            parser.run()
            return (parser.entries, parser.warnings, parser.problems)
        }
        // Keep only each key's last definition.
        var last: [String: Int] = [:]
        for (index, entry) in entries.enumerated() { last[entry.key] = index }
        return (File(entries: entries.indices.filter { last[entries[$0].key] == $0 }.map { entries[$0] }, warnings: warnings), problems)
    }

    /// `parseFile` without the warnings.
    public static func parse(_ bytes: [UInt8], path: String, lookup: (String) -> String?) throws(Diagnostics) -> [Entry] {
        try parseFile(bytes, path: path, lookup: lookup).entries
    }

    /// Several files in order: later files override earlier ones; interpolation sees this file's earlier keys, then earlier files' values, then `environment`.
    /// Collects the warnings and problems of every file.
    public static func load(_ paths: [String], environment: [String: String], read: FileReader) -> Loaded {
        var loaded = Loaded()
        for path in paths {
            let bytes: [UInt8]
            do throws(Diagnostic) {
                bytes = try read(path)
            } catch {
                loaded.problems.append(error)
                continue
            }
            let (file, problems) = scan(bytes, path: path, lookup: { [values = loaded.values] in values[$0] ?? environment[$0] })
            loaded.warnings += file.warnings
            if problems.isEmpty {
                for entry in file.entries { loaded.values[entry.key] = entry.value }
            } else {
                loaded.problems += problems
            }
        }
        return loaded
    }

    /// The shared normalisation (BOM dropped, CRLF -> LF), then a lone CR ends a
    /// line too, as in every dotenv library (inside quoted values it becomes LF).
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var text = ConfigText.normalized(bytes)
        for i in text.indices where text[i] == .carriageReturn { text[i] = .newline }
        return text
    }
}

/// A single pass over one normalised file. Errors are collected; after one,
/// parsing resumes at the next line.
private struct DotEnvParser {
    let text: [UInt8]
    let path: String
    let lookup: (String) -> String?

    /// Always at the start of `line` between entries.
    var pos = 0
    var line = 1
    /// Values defined so far in this file, for interpolation.
    var defined: [String: String] = [:]
    var entries: [DotEnv.Entry] = []
    var warnings: [DotEnv.Warning] = []
    var problems: [Diagnostic] = []
    /// Bytes copied from variables so far, against `DotEnv.maxInterpolatedBytes`.
    var interpolated = 0
    var gaveUp = false
    /// The source text of the value just parsed (inside the quotes, if any).
    var rawValue = 0..<0

    mutating func run() {
        while pos < text.count, !gaveUp { parseLine() }
    }

    // MARK: Lines

    private mutating func parseLine() {
        let entryLine = line
        skipBlanks()
        if pos == text.count || text[pos] == .newline || text[pos] == .hash { return nextLine() }
        let start = pos
        skipExport()

        let end = lineEnd(from: pos)
        let shown = ConfigText.quoted(trimmed(text[start..<end]))
        guard let equals = text[pos..<end].firstIndex(of: .equals) else {
            // godotenv rejects such a line, the others skip it or (Ruby, for a bare
            // `NAME`) set it to "": an error, as the libraries disagree.
            let rest = trimmed(text[pos..<end])
            if !rest.isEmpty, rest.allSatisfy(\.isKeyByte) {
                fail(line, "expected KEY=value, got \(shown) (for an empty value write \(ConfigText.quoted(rest + [.equals])))")
            } else {
                fail(line, "expected KEY=value, got \(shown)")
            }
            return nextLine()
        }
        let keyBytes = trimmed(text[pos..<equals])
        if keyBytes.isEmpty {
            // `=value`: python-dotenv warns and skips it, Ruby and Node dotenv skip
            // it, godotenv reads an empty name that its `Load` cannot set and drops.
            warn(line, "skipped \(shown): no key before \"=\" (the dotenv libraries ignore this line)")
            return nextLine()
        }
        let key = keyBytes.allSatisfy(\.isKeyByte) ? String(decoding: keyBytes, as: UTF8.self) : nil
        if key == nil {
            fail(line, "invalid key \(ConfigText.quoted(keyBytes)) (use letters, digits, \"_\", \".\" and \"-\")")
        }

        // Parse the value even after a bad key, so a multi-line quote is skipped whole.
        pos = equals + 1
        guard let value = parseValue(key: keyBytes), let key else { return }
        // The environment is made of C strings: a NUL would silently cut the value.
        // The source is checked too, so a NUL in an unused default is an error
        // whatever the environment holds.
        if value.contains(0) || text[rawValue].contains(0) { return fail(entryLine, "value of \(ConfigText.quoted(keyBytes)) contains a NUL byte") }
        let string = String(decoding: value, as: UTF8.self)
        defined[key] = string
        entries.append(DotEnv.Entry(key: key, value: string, line: entryLine))
    }

    /// `export KEY=…` is accepted for shell compatibility; `export=…` is a key.
    private mutating func skipExport() {
        let word = Array("export".utf8)
        guard text[pos...].starts(with: word), pos + word.count < text.count, isBlank(text[pos + word.count]) else { return }
        var after = pos + word.count
        while after < text.count, isBlank(text[after]) { after += 1 }
        if after < text.count, text[after] != .equals { pos = after }
    }

    /// The value after `=`, leaving `pos` at the start of the next line.
    /// nil after an error (already reported).
    private mutating func parseValue(key: ArraySlice<UInt8>) -> [UInt8]? {
        skipBlanks()
        rawValue = pos..<pos
        guard pos < text.count else { return [] }
        switch text[pos] {
        case .singleQuote, .doubleQuote:
            return parseQuoted(key: key)
        default:
            // Unquoted: runs to the end of the line or to a "#" that follows a blank
            // (`KEY=#x` keeps its "#": the byte before it is the "=").
            let end = lineEnd(from: pos)
            var stop = pos
            while stop < end, !(text[stop] == .hash && isBlank(text[stop - 1])) { stop += 1 }
            rawValue = pos..<trimmed(text[pos..<stop]).endIndex
            let value = expand(rawValue, quoted: false)
            nextLine()
            return value
        }
    }

    private mutating func parseQuoted(key: ArraySlice<UInt8>) -> [UInt8]? {
        let quote = text[pos]
        let open = pos
        var close = open + 1
        if quote == .singleQuote {
            let (found, fallback) = singleQuoteEnd(from: open + 1)
            // `\'` does not end the value (python-dotenv, Ruby, Node and Go dotenv
            // agree), unless the value could not end otherwise: `'C:\dir\'`.
            close = found < text.count && lineEndFollows(found + 1) ? found : (fallback ?? found)
        } else {
            // A backslash hides the next byte, so \" does not close the value.
            while close < text.count, text[close] != .doubleQuote { close += text[close] == .backslash ? 2 : 1 }
        }
        guard close < text.count else {
            let kind = quote == .singleQuote ? "single" : "double"
            fail(line, "unterminated \(kind) quote in the value of \(ConfigText.quoted(key))")
            nextLine()  // resume right after the line the quote opened on
            return nil
        }

        // Single quotes are literal; double quotes take escapes and interpolation.
        rawValue = (open + 1)..<close
        let value = quote == .singleQuote ? Array(text[(open + 1)..<close]) : expand((open + 1)..<close, quoted: true)
        move(to: close + 1)
        skipBlanks()
        if pos < text.count, text[pos] != .newline, text[pos] != .hash {
            fail(line, "unexpected text after closing quote: \(ConfigText.quoted(text[pos..<lineEnd(from: pos)]))")
            nextLine()
            return nil
        }
        nextLine()
        return value
    }

    /// The first `'` from `start` that no backslash precedes (or the end of the
    /// text), and the last `\'` before it that only blanks and a comment follow
    /// on its line: where a regex such as `'((?:\\'|[^'])*)'` (python-dotenv,
    /// Ruby and Node dotenv) ends the value when the first choice is followed by
    /// other text or missing. Linear overall: no value opens before the `'`
    /// found, as an opening quote never follows a backslash.
    private func singleQuoteEnd(from start: Int) -> (Int, Int?) {
        var fallback: Int?
        var i = start
        while i < text.count, !(text[i] == .singleQuote && (i == start || text[i - 1] != .backslash)) {
            if text[i] == .singleQuote, lineEndFollows(i + 1) { fallback = i }
            i += 1
        }
        return (i, fallback)
    }

    /// Whether only blanks, then a comment or the end of the line, follow `index`.
    private func lineEndFollows(_ index: Int) -> Bool {
        var i = index
        while i < text.count, isBlank(text[i]) { i += 1 }
        return i == text.count || text[i] == .newline || text[i] == .hash
    }

    // MARK: Interpolation

    /// The value of `range` with escapes and `$` references expanded; nil after
    /// an error (reported on the line where it occurs).
    private mutating func expand(_ range: Range<Int>, quoted: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        return expand(range, quoted: quoted, depth: 0, into: &out) ? out : nil
    }

    private mutating func expand(_ range: Range<Int>, quoted: Bool, depth: Int, into out: inout [UInt8]) -> Bool {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let byte = text[i]
            if byte == .backslash, i + 1 < end, let escaped = escape(text[i + 1], quoted: quoted) {
                out.append(escaped)
                i += 2
                continue
            }
            if byte == .dollar, i + 1 < end {
                if text[i + 1] == .openBrace {
                    guard let next = expandBraced(at: i, end: end, quoted: quoted, depth: depth, into: &out) else { return false }
                    i = next
                    continue
                }
                if text[i + 1].isNameStart {
                    var nameEnd = i + 2
                    while nameEnd < end, text[nameEnd].isNameByte { nameEnd += 1 }
                    guard append(value(of: text[(i + 1)..<nameEnd]) ?? "", at: i, to: &out) else { return false }
                    i = nameEnd
                    continue
                }
            }
            out.append(byte)  // includes a "$" that starts no reference
            i += 1
        }
        return true
    }

    /// `${NAME}`, `${NAME-default}` or `${NAME:-default}` starting at `dollar`.
    /// Returns the index after the closing brace.
    private mutating func expandBraced(at dollar: Int, end: Int, quoted: Bool, depth: Int, into out: inout [UInt8]) -> Int? {
        let nameStart = dollar + 2
        var i = nameStart
        while i < end, text[i].isNameByte { i += 1 }
        guard i > nameStart, text[nameStart].isNameStart, i < end else { return badReference(at: dollar, end: end) }
        let current = value(of: text[nameStart..<i])
        if text[i] == .closeBrace {
            return append(current ?? "", at: dollar, to: &out) ? i + 1 : nil
        }

        let defaultWhenEmpty = text[i] == .colon
        if defaultWhenEmpty { i += 1 }
        guard i < end, text[i] == .minus else { return badReference(at: dollar, end: end) }
        i += 1
        guard let close = matchingBrace(from: i, end: end, quoted: quoted) else {
            fail(line(of: dollar), "unterminated \(ConfigText.quoted(text[dollar..<end])) (missing \"}\")")
            return nil
        }
        // Bounded recursion: hostile input cannot exhaust the stack.
        guard depth < DotEnv.maxNesting else {
            fail(line(of: dollar), "variable defaults nested more than \(DotEnv.maxNesting) levels deep")
            return nil
        }
        // Expanded even when unused, so errors do not depend on the environment.
        var fallback: [UInt8] = []
        guard expand(i..<close, quoted: quoted, depth: depth + 1, into: &fallback) else { return nil }
        if let current, !(defaultWhenEmpty && current.isEmpty) {
            guard append(current, at: dollar, to: &out) else { return nil }
        } else {
            out.append(contentsOf: fallback)
        }
        return close + 1
    }

    /// Appends a variable's value, within the file's interpolation budget.
    private mutating func append(_ value: String, at index: Int, to out: inout [UInt8]) -> Bool {
        interpolated += value.utf8.count
        guard interpolated <= DotEnv.maxInterpolatedBytes else {
            fail(line(of: index), "interpolation copies more than \(DotEnv.maxInterpolatedBytes >> 20) MiB in this file; giving up")
            gaveUp = true
            return false
        }
        out.append(contentsOf: value.utf8)
        return true
    }

    /// The "}" closing a default that starts at `start`, skipping nested `${…}`
    /// and escaped characters exactly as `expand` would.
    private func matchingBrace(from start: Int, end: Int, quoted: Bool) -> Int? {
        var nesting = 0
        var i = start
        while i < end {
            switch text[i] {
            case .backslash where i + 1 < end && escape(text[i + 1], quoted: quoted) != nil:
                i += 1
            case .dollar where i + 1 < end && text[i + 1] == .openBrace:
                nesting += 1
                i += 1
            case .closeBrace:
                if nesting == 0 { return i }
                nesting -= 1
            default:
                break
            }
            i += 1
        }
        return nil
    }

    private mutating func badReference(at dollar: Int, end: Int) -> Int? {
        if let close = text[dollar..<end].firstIndex(of: .closeBrace) {
            fail(line(of: dollar), "invalid variable reference \(ConfigText.quoted(text[dollar...close])) (expected ${NAME}, ${NAME-default} or ${NAME:-default})")
        } else {
            fail(line(of: dollar), "unterminated \(ConfigText.quoted(text[dollar..<end])) (missing \"}\")")
        }
        return nil
    }

    /// Earlier keys of this file win over `lookup`; nil means unset.
    private func value(of name: ArraySlice<UInt8>) -> String? {
        let name = String(decoding: name, as: UTF8.self)
        return defined[name] ?? lookup(name)
    }

    /// The byte a backslash sequence stands for, or nil to keep the backslash.
    /// Unquoted values only know `\$`, so a literal "$" needs no quotes.
    private func escape(_ byte: UInt8, quoted: Bool) -> UInt8? {
        switch byte {
        case .dollar: return .dollar
        case _ where !quoted: return nil
        case UInt8(ascii: "n"): return .newline
        case UInt8(ascii: "t"): return UInt8(ascii: "\t")
        case UInt8(ascii: "r"): return UInt8(ascii: "\r")
        case .doubleQuote, .backslash: return byte
        default: return nil
        }
    }

    // MARK: Positions

    private mutating func skipBlanks() {
        while pos < text.count, isBlank(text[pos]) { pos += 1 }
    }

    /// Space, tab, vertical tab and form feed: whitespace to every dotenv library.
    private func isBlank(_ byte: UInt8) -> Bool {
        byte == .space || byte == .tab || byte == .verticalTab || byte == .formFeed
    }

    /// `text` without leading and trailing blanks.
    private func trimmed(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = text.startIndex, end = text.endIndex
        while start < end, isBlank(text[start]) { start += 1 }
        while end > start, isBlank(text[end - 1]) { end -= 1 }
        return text[start..<end]
    }

    private func lineEnd(from start: Int) -> Int {
        text[start...].firstIndex(of: .newline) ?? text.count
    }

    /// Moves to the start of the next line.
    private mutating func nextLine() {
        let end = lineEnd(from: pos)
        move(to: end == text.count ? end : end + 1)
    }

    /// Moves forward, keeping `line` in step.
    private mutating func move(to target: Int) {
        line += text[pos..<target].count { $0 == .newline }
        pos = target
    }

    /// The line of `index`, which lies at or after `pos`.
    private func line(of index: Int) -> Int {
        line + text[pos..<index].count { $0 == .newline }
    }

    private mutating func fail(_ line: Int, _ message: String) {
        problems.append(Diagnostic(path, line: line, message))
    }

    private mutating func warn(_ line: Int, _ message: String) {
        warnings.append(DotEnv.Warning(path: path, line: line, message))
    }
}

private extension UInt8 {
    /// Variable names in references: `[A-Za-z_][A-Za-z0-9_]*`.
    var isNameStart: Bool { self == .underscore || ConfigText.isLetter(self) }
    var isNameByte: Bool { isNameStart || ConfigText.isDigit(self) }
    /// Keys: `[A-Za-z0-9_.-]+`, the characters all four dotenv libraries accept
    /// (Ruby dotenv alone skips a key with "-").
    var isKeyByte: Bool { isNameByte || self == .dot || self == .minus }

    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let verticalTab: UInt8 = 0x0B
    static let formFeed: UInt8 = 0x0C
    static let dot = UInt8(ascii: ".")
    static let hash = UInt8(ascii: "#")
    static let equals = UInt8(ascii: "=")
    static let singleQuote = UInt8(ascii: "'")
    static let doubleQuote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let dollar = UInt8(ascii: "$")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-")
    static let underscore = UInt8(ascii: "_")
}
