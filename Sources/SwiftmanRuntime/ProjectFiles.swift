import SwiftmanModel
import SwiftmanPlatform

/// Project files (the Procfile, env files, `.foreman`) read through the
/// platform for the model's parsers: an error names the file and the reason.
public enum ProjectFiles {
    public static func read(_ path: String) throws(Diagnostic) -> [UInt8] {
        do throws(Errno) {
            return try FileSystem.read(path)
        } catch {
            throw Diagnostic(path, "cannot read: \(error)")
        }
    }
}

extension Procfile {
    /// Reads and parses the Procfile at `path`.
    public static func load(_ path: String) throws(Diagnostics) -> Procfile {
        try load(path, read: ProjectFiles.read)
    }
}

extension DotEnv {
    /// Several env files in order (see `load(_:environment:read:)`).
    public static func load(_ paths: [String], environment: [String: String]) -> Loaded {
        load(paths, environment: environment, read: ProjectFiles.read)
    }
}

extension ForemanDefaults {
    /// Reads `.foreman` in the current directory; nil when there is none.
    public static func load(_ path: String = fileName) throws(Diagnostics) -> ForemanDefaults? {
        try load(path, exists: FileSystem.exists, read: ProjectFiles.read)
    }
}
