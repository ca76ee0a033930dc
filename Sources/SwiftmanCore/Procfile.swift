// TEMPORARY stand-in until the real parser lands.
public struct ProcessType: Equatable, Sendable { public let name: String; public let command: String; public let line: Int }
public struct Procfile: Equatable, Sendable {
    public let path: String
    public let types: [ProcessType]
    public static func parse(_ bytes: [UInt8], path: String) throws(Diagnostics) -> Procfile {
        var types: [ProcessType] = []
        for (i, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingSpaces
            if t.isEmpty || t.hasPrefix("#") { continue }
            guard let c = t.firstIndex(of: ":") else { throw Diagnostics([Diagnostic(path, line: i + 1, "expected name: command")]) }
            types.append(ProcessType(name: String(t[..<c]).trimmingSpaces, command: String(t[t.index(after: c)...]).trimmingSpaces, line: i + 1))
        }
        return Procfile(path: path, types: types)
    }
    public static func load(_ path: String) throws(Diagnostics) -> Procfile {
        let b: [UInt8]; do throws(Diagnostic) { b = try FileSystem.read(path) } catch { throw Diagnostics([error]) }; return try parse(b, path: path)
    }
    public func index(of name: String) -> Int? { types.firstIndex { $0.name == name } }
    public subscript(name: String) -> ProcessType? { types.first { $0.name == name } }
}
