import SwiftmanModel
import SwiftmanPlatform

/// Project files (the Procfile, env files, `.foreman`) read through the
/// platform for the model's parsers: an error names the file and the reason.
/// `ProjectFileRules` decides what is read: regular files (a pipe too when
/// the user named it), at most `ProjectFileRules.maxBytes`.
public enum ProjectFiles {
    /// Reads a file found by convention or named by `.foreman`: a regular
    /// file only (a FIFO is opened without blocking, so it cannot hang us).
    public static func read(_ path: String) throws(Diagnostic) -> [UInt8] {
        try read(path, explicit: false)
    }

    /// Reads a project file. `explicit`: the user named it (`-f`, `-e`), so
    /// it may be a pipe (`-e <(cmd)`), read until its writer closes it.
    public static func read(_ path: String, explicit: Bool) throws(Diagnostic) -> [UInt8] {
        let (fd, _) = try open(path, explicit: explicit)
        defer { fd.close() }
        return try read(fd, path: path)
    }

    /// The file opened and checked against the rules (the caller closes it).
    static func open(_ path: String, explicit: Bool) throws(Diagnostic) -> (FileDescriptor, FileStatus) {
        let opened: (FileDescriptor, FileStatus)
        do throws(Errno) {
            opened = try FileSystem.openForReading(path, nonBlocking: !explicit)
        } catch {
            throw Diagnostic(path, "cannot read: \(error)")
        }
        if let refusal = ProjectFileRules.refusal(kind: kind(opened.1), explicit: explicit) {
            opened.0.close()
            throw Diagnostic(path, refusal)
        }
        return opened
    }

    static func read(_ fd: FileDescriptor, path: String) throws(Diagnostic) -> [UInt8] {
        let bytes: [UInt8]?
        do throws(Errno) {
            bytes = try FileSystem.readAll(fd, limit: ProjectFileRules.maxBytes)
        } catch {
            throw Diagnostic(path, "cannot read: \(error)")
        }
        guard let bytes else { throw Diagnostic(path, ProjectFileRules.tooLarge) }
        return bytes
    }

    static func kind(_ status: FileStatus) -> ProjectFileRules.Kind {
        switch status.kind {
        case .regular: return .regular
        case .fifo: return .fifo
        case .directory: return .directory
        case .symbolicLink, .socket, .other: return .other
        }
    }

    /// Why the opened file is not trusted to set defaults (`.foreman`, an
    /// env file it names), or nil.
    static func distrust(_ status: FileStatus) -> String? {
        ProjectFileRules.distrust(owner: status.owner.rawValue, permissions: status.permissions,
                                  user: UserID.current.rawValue, ownerName: Platform.describeUser(status.owner))
    }

    /// Reads a file that sets defaults (`.foreman`, or an env file `.foreman`
    /// names). One the user cannot trust is not read: nil, and `warn` is told
    /// why, naming the file and its owner.
    public static func readTrusted(_ path: String, warn: (String) -> Void) throws(Diagnostic) -> [UInt8]? {
        let (fd, status) = try open(path, explicit: false)
        defer { fd.close() }
        if let reason = distrust(status) {
            warn("\(path): warning: ignored: \(reason)")
            return nil
        }
        return try read(fd, path: path)
    }
}

extension Procfile {
    /// Reads and parses the Procfile at `path` (`explicit`: named by the user).
    public static func load(_ path: String, explicit: Bool = false) throws(Diagnostics) -> Procfile {
        try load(path, read: { (path: String) throws(Diagnostic) -> [UInt8] in try ProjectFiles.read(path, explicit: explicit) })
    }
}

extension DotEnv {
    /// Several env files in order (see `load(_:environment:read:)`), each a
    /// regular file (as when found by convention).
    public static func load(_ paths: [String], environment: [String: String]) -> Loaded {
        load(paths, environment: environment, read: ProjectFiles.read)
    }
}

extension ForemanDefaults {
    /// Reads `.foreman` in the current directory; nil when there is none, or
    /// when it is not the user's to trust (then `warn` says so).
    public static func load(_ path: String = fileName, warn: (String) -> Void) throws(Diagnostics) -> ForemanDefaults? {
        guard FileSystem.exists(path) else { return nil }
        let bytes: [UInt8]?
        do throws(Diagnostic) {
            bytes = try ProjectFiles.readTrusted(path, warn: warn)
        } catch {
            throw Diagnostics([error])
        }
        guard let bytes else { return nil }
        return try load(path, exists: { _ in true }, read: { (_: String) throws(Diagnostic) -> [UInt8] in bytes })
    }
}
