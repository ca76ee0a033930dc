import Glibc
import CSwiftman

/// What swiftman checks about the process it runs in: its arguments and
/// standard descriptors as the caller gave them, and whether /proc is there.
public enum Platform {
    /// The command line, from the argv the kernel passed (saved by the C
    /// shim's constructor): `CommandLine.arguments` reads /proc/self/cmdline
    /// and is empty without /proc. Also puts back the caller's environment.
    public static func startUp() -> [String] {
        sm_restore_environment()
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let argc = sm_saved_arguments(&argv)
        guard argc >= 0, let argv else { return CommandLine.arguments }
        return (0..<Int(argc)).compactMap { argv[$0].map { String(cString: $0) } }
    }

    /// The standard descriptors (0, 1, 2) that were closed when swiftman
    /// started; they now hold /dev/null.
    public static var closedStandardDescriptors: [Int32] {
        let mask = sm_closed_std_fds()
        return (0..<3).filter { mask & (1 << $0) != 0 }
    }

    /// The user name for `uid` from /etc/passwd (no NSS: the binary is
    /// static), for messages; nil when unknown.
    public static func userName(_ uid: UserID) -> String? {
        guard let bytes = try? FileSystem.read("/etc/passwd") else { return nil }
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            if fields.count > 2, String(decoding: fields[2], as: UTF8.self) == String(uid.rawValue) {
                return String(decoding: fields[0], as: UTF8.self)
            }
        }
        return nil
    }

    /// `uid 1001 (mallory)`.
    public static func describeUser(_ uid: UserID) -> String {
        userName(uid).map { "uid \(uid) (\($0))" } ?? "uid \(uid)"
    }
}

/// A user id, as a value.
public struct UserID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Ours (the real uid).
    public static var current: UserID { UserID(rawValue: getuid()) }
    public static let root = UserID(rawValue: 0)

    /// `1001`.
    public var description: String { String(rawValue) }
}

extension Platform {
    /// Ends swiftman with `code` (exit(3): stdio flushed, atexit run).
    public static func exit(_ code: Int32) -> Never { Glibc.exit(code) }

    /// Makes `path` the working directory.
    public static func changeDirectory(_ path: String) throws(Errno) {
        if chdir(path) != 0 { throw Errno.current }
    }
}
