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

    /// Why a file of `kind` is not read, or nil when it is. A FIFO or pipe is
    /// read only when the user named the file (`-f`, `-e`, or their
    /// `SWIFTMAN_*` variables: `-e <(vault read …)` is a pipe); a file found
    /// by convention (`./Procfile`, `ROOT/.env`, `.foreman`) or named by
    /// `.foreman` must be a regular file. Devices and sockets never are.
    public static func refusal(kind: Kind, explicit: Bool) -> String? {
        switch kind {
        case .regular: return nil
        case .fifo:
            return explicit ? nil : "not a regular file (a FIFO): only a file named with -f or -e may be a pipe"
        case .directory: return "cannot read: Is a directory"
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
