/// How many instances of each process type run (`-m all=1,web=2,worker=0`).
public struct Formation: Equatable, Sendable {
    /// Counts named explicitly, by type.
    public var counts: [String: Int]
    /// The `all=` count, if given.
    public var all: Int?

    public init(counts: [String: Int] = [:], all: Int? = nil) {
        self.counts = counts
        self.all = all
    }

    /// Parses `all=1,web=2,worker=0`. `source` names the flag or variable in errors.
    public static func parse(_ text: String, source: String) throws(Diagnostic) -> Formation {
        var formation = Formation()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingSpaces
            guard parts.count == 2, !name.isEmpty else {
                throw Diagnostic(source, "expected TYPE=COUNT, got \"\(item)\"")
            }
            let countText = parts[1].trimmingSpaces
            guard let count = Int(countText), count >= 0, count <= 10_000 else {
                throw Diagnostic(source, "invalid count \"\(countText)\" for \(name) (expected 0…10000)")
            }
            if name == "all" {
                formation.all = count
            } else {
                guard formation.counts.updateValue(count, forKey: name) == nil else {
                    throw Diagnostic(source, "\(name) is given twice")
                }
            }
        }
        return formation
    }

    /// Instances of `type`: its own count, else `all=`, else 1 when the formation
    /// names nothing (as in foreman: naming types without `all` runs 0 of the rest).
    public func count(for type: String) -> Int {
        counts[type] ?? all ?? (counts.isEmpty ? 1 : 0)
    }
}

/// One instance to run: `web.2` with its port and command.
public struct InstanceSpec: Equatable, Sendable {
    public let type: String
    /// Position of the type in the Procfile: picks its port slot and colour.
    public let typeIndex: Int
    /// 1-based instance number.
    public let number: Int
    public let port: Int
    public let command: String

    public var name: String { "\(type).\(number)" }
}

/// foreman's port scheme: base + 100 × type index (Procfile order, started or
/// not) + (instance number − 1).
public struct PortPlan: Equatable, Sendable {
    public let base: Int
    public init(base: Int) { self.base = base }

    public func port(typeIndex: Int, number: Int) -> Int { base + 100 * typeIndex + number - 1 }

    public static let highest = 65535

    /// Why `count` instances of a type cannot all get a port (the first one
    /// above 65535), or nil when they can.
    public func problem(type: String, typeIndex: Int, count: Int) -> String? {
        guard count > 0 else { return nil }
        let limit = maxInstances(typeIndex: typeIndex)
        guard count > limit else { return nil }
        let number = max(limit, 0) + 1
        return "\(type).\(number) would get port \(port(typeIndex: typeIndex, number: number)), above \(PortPlan.highest)"
    }

    /// How many instances of the type at `typeIndex` get a valid port.
    public func maxInstances(typeIndex: Int) -> Int { max(0, PortPlan.highest - port(typeIndex: typeIndex, number: 1) + 1) }

    /// The base port: `-p`, else PORT from the env files, else the inherited
    /// PORT, else 5000. Each source is validated and named in errors; `flagSource`
    /// is where the flag's value came from, as the user wrote it (`-p`, `SWIFTMAN_PORT`).
    public static func basePort(flag: String?, flagSource: String = "--port", envFiles: [String: String],
                                inherited: [String: String]) throws(Diagnostic) -> Int {
        let candidates: [(String?, String)] = [
            (flag, flagSource), (envFiles["PORT"], "PORT in env file"), (inherited["PORT"], "PORT"),
        ]
        for case let (text?, source) in candidates {
            guard let port = Int(text.trimmingSpaces), port > 0, port <= 65535 else {
                throw Diagnostic(source, "invalid port \"\(text)\" (expected 1…65535)")
            }
            return port
        }
        return 5000
    }
}

/// The resolved formation: which types run, how many of each, on which ports.
public struct FormationPlan: Equatable, Sendable {
    public let procfile: Procfile
    public let formation: Formation
    public let ports: PortPlan
    /// Types named on the command line (`start web worker`); empty means all.
    public let selected: [String]
    /// Types left out (`-x worker`): no instances, and a type that comes
    /// after one does not wait for it (it runs elsewhere).
    public let excluded: [String]

    /// Validates that every type named in the formation or the selection exists
    /// and that every port fits in 1…65535.
    public init(procfile: Procfile, formation: Formation, ports: PortPlan,
                selected: [String] = [], excluded: [String] = [], source: String = "--formation",
                excludeSource: String = "--exclude") throws(Diagnostic) {
        for name in formation.counts.keys.sorted() where procfile.index(of: name) == nil {
            throw Diagnostic(source, "unknown process type \"\(name)\" (Procfile has: \(procfile.typeNames))")
        }
        for name in selected where procfile.index(of: name) == nil {
            throw Diagnostic(name, "unknown process type (Procfile has: \(procfile.typeNames))")
        }
        for name in excluded where procfile.index(of: name) == nil {
            throw Diagnostic(excludeSource, "unknown process type \"\(name)\" (Procfile has: \(procfile.typeNames))")
        }
        self.procfile = procfile
        self.formation = formation
        self.ports = ports
        self.selected = selected
        self.excluded = excluded
        for (index, type) in procfile.types.enumerated() {
            let count = self.count(for: type.name)
            if let problem = ports.problem(type: type.name, typeIndex: index, count: count) {
                throw Diagnostic(source, problem)
            }
        }
    }

    /// The types of every `--exclude` value (`TYPE[,TYPE…]`), in order.
    public static func parseExclude(_ values: [String], source: String) throws(Diagnostic) -> [String] {
        var types: [String] = []
        for value in values {
            let names = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
            if names.contains("") { throw Diagnostic(source, "expected TYPE[,TYPE…], got \"\(value)\"") }
            types += names
        }
        return types
    }

    /// Instances of a type: 0 for types left out by a positional selection or `--exclude`.
    public func count(for type: String) -> Int {
        if excluded.contains(type) { return 0 }
        if !selected.isEmpty {
            guard selected.contains(type) else { return 0 }
            return formation.counts[type] ?? formation.all ?? 1
        }
        return formation.count(for: type)
    }

    /// Every instance, in Procfile order then by number.
    public var instances: [InstanceSpec] {
        procfile.types.enumerated().flatMap { index, type in
            (0..<count(for: type.name)).map { n in
                instance(type: type, typeIndex: index, number: n + 1)
            }
        }
    }

    public func instance(type: ProcessType, typeIndex: Int, number: Int) -> InstanceSpec {
        InstanceSpec(type: type.name, typeIndex: typeIndex, number: number,
                     port: ports.port(typeIndex: typeIndex, number: number), command: type.command)
    }
}

extension Procfile {
    public var typeNames: String { types.map(\.name).joined(separator: ", ") }
}
