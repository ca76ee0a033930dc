// TEMPORARY stand-in until the real parser lands.
public enum DotEnv {
    public struct Entry: Equatable, Sendable { public let key: String; public let value: String; public let line: Int }
    public static func parse(_ bytes: [UInt8], path: String, lookup: (String) -> String?) throws(Diagnostics) -> [Entry] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated().compactMap { i, l in
            guard let eq = l.firstIndex(of: "=") else { return nil }
            return Entry(key: String(l[..<eq]), value: String(l[l.index(after: eq)...]), line: i + 1)
        }
    }
    public static func load(_ paths: [String], environment: [String: String]) throws(Diagnostics) -> [String: String] {
        var r: [String: String] = [:]
        for p in paths {
            let b: [UInt8]; do throws(Diagnostic) { b = try FileSystem.read(p) } catch { throw Diagnostics([error]) }; for e in try parse(b, path: p, lookup: { _ in nil }) { r[e.key] = e.value }
        }
        return r
    }
}
