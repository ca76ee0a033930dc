/// What swiftman reads as a project file (the Procfile, env files,
/// `.foreman`), and whose `.foreman` it trusts. The runtime's `ProjectFiles`
/// carries these out; they are decided here.
public enum ProjectFileRules {
    /// A project file larger than this is refused, naming it: 16 MiB is far
    /// above any real Procfile or env file (a 100,000-type Procfile is about
    /// 2 MiB), and a symlink to `/dev/zero` or an endless pipe stops here
    /// instead of filling the memory.
    public static let maxBytes = 16 << 20

    /// What a path turned out to be, once opened.
    public enum Kind: Equatable, Sendable {
        case regular, fifo, directory, other
    }

    /// Why a file of `kind` is not read, or nil when it is. A file found by
    /// convention (`./Procfile`, `ROOT/.env`, `.foreman`) or named by
    /// `.foreman` must be a regular file. One the user named (`-f`, `-e`, or
    /// their `SWIFTMAN_*` variables) may also be a pipe or a device
    /// (`-e <(vault read …)`, foreman's `-e /dev/null`): read up to
    /// `maxBytes` like any other, so `-e /dev/zero` is refused as too large.
    public static func refusal(kind: Kind, explicit: Bool) -> String? {
        switch kind {
        case .regular: return nil
        case .directory: return "cannot read: Is a directory"
        case _ where explicit: return nil
        case .fifo: return "not a regular file (a FIFO): only a file named with -f or -e may be a pipe"
        case .other: return "not a regular file (a device or a socket)"
        }
    }

    /// The message for a file over `maxBytes`.
    public static var tooLarge: String {
        "larger than \(maxBytes >> 20) MiB, the limit for a project file"
    }

    /// Why `.foreman` (or an env file it names) is not trusted, or nil: as
    /// git does for its config, it must belong to the user (or root) and not
    /// be writable by group or others, or another user of a shared directory
    /// could choose what runs (`env:` → their `PATH`). `ownerName` describes
    /// the owner (`uid 1001 (alice)`).
    public static func distrust(owner: UInt32, permissions: UInt32, user: UInt32, ownerName: String) -> String? {
        if owner != user && owner != 0 { return "owned by \(ownerName), not by you or root" }
        if permissions & 0o022 != 0 {
            return "writable by group or others (mode \(String(permissions & 0o7777, radix: 8)))"
        }
        return nil
    }
}
