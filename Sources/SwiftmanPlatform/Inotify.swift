import Glibc

/// An inotify instance (inotify(7)) as typed values: watches on directories,
/// events read in batches. Non-blocking and close-on-exec: the event loop
/// polls it, and no child inherits it.
public final class Inotify {
    public let fd: FileDescriptor

    /// A watch descriptor.
    public struct Watch: Hashable, Sendable {
        public let rawValue: Int32
    }

    public struct Mask: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let create = Mask(rawValue: UInt32(IN_CREATE))
        public static let closeWrite = Mask(rawValue: UInt32(IN_CLOSE_WRITE))
        public static let movedFrom = Mask(rawValue: UInt32(IN_MOVED_FROM))
        public static let movedTo = Mask(rawValue: UInt32(IN_MOVED_TO))
        public static let delete = Mask(rawValue: UInt32(IN_DELETE))
        public static let deleteSelf = Mask(rawValue: UInt32(IN_DELETE_SELF))
        public static let moveSelf = Mask(rawValue: UInt32(IN_MOVE_SELF))
        /// In events only: the name is a directory.
        public static let isDirectory = Mask(rawValue: UInt32(IN_ISDIR))
        /// In events only: the queue overflowed, events were lost.
        public static let overflow = Mask(rawValue: UInt32(IN_Q_OVERFLOW))
        /// In events only: the watch is gone (its directory deleted or unmounted).
        public static let ignored = Mask(rawValue: UInt32(IN_IGNORED))
        /// What `--watch` asks for: a file created, written and closed, moved
        /// in or out, deleted.
        public static let changes: Mask = [.create, .closeWrite, .movedFrom, .movedTo, .delete, .deleteSelf, .moveSelf]
    }

    public struct Event: Equatable, Sendable {
        public let watch: Watch
        public let mask: Mask
        /// The name in the watched directory; empty for events on the directory itself.
        public let name: String
    }

    public init() throws(Errno) {
        let raw = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard raw >= 0 else { throw Errno.current }
        fd = FileDescriptor(rawValue: raw)
    }

    deinit { fd.close() }

    /// Watches the directory at `path` (not followed when a symbolic link).
    /// ENOSPC: the user's `fs.inotify.max_user_watches` is reached.
    public func add(directory path: String, mask: Mask = .changes) throws(Errno) -> Watch {
        let flags = mask.rawValue | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW) | UInt32(IN_EXCL_UNLINK)
        let wd = inotify_add_watch(fd.rawValue, path, flags)
        guard wd >= 0 else { throw Errno.current }
        return Watch(rawValue: wd)
    }

    /// Ends a watch (one whose directory is gone has ended already: ignored).
    public func remove(_ watch: Watch) {
        _ = inotify_rm_watch(fd.rawValue, watch.rawValue)
    }

    /// Every event queued now (none when nothing is: it does not block).
    public func read() throws(Errno) -> [Event] {
        var events: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd.rawValue, $0.baseAddress, $0.count) }
            if count < 0 {
                let error = Errno.current
                if error == .interrupted { continue }
                if error == .wouldBlock { return events }
                throw error
            }
            if count == 0 { return events }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + header)..<min(count, offset + header + length)].prefix { $0 != 0 }
                events.append(Event(watch: Watch(rawValue: wd), mask: Mask(rawValue: mask),
                                    name: String(decoding: nameBytes, as: UTF8.self)))
                offset += header + length
            }
        }
    }

    /// `fs.inotify.max_user_watches`, when readable.
    public static var maxUserWatches: Int? {
        guard let bytes = try? FileSystem.read("/proc/sys/fs/inotify/max_user_watches") else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self).filter { $0.isNumber })
    }
}

extension Errno {
    /// ENOSPC: no space left (for inotify: the watch limit).
    @inlinable public static var noSpace: Errno { Errno(ENOSPC) }
}

extension FileSystem {
    /// One entry of a directory listing.
    public struct Entry: Equatable, Sendable {
        public let name: String
        /// A directory itself (symbolic links are not followed).
        public let isDirectory: Bool
    }

    /// The entries of the directory at `path`, without `.` and `..`.
    public static func entries(of path: String) throws(Errno) -> [Entry] {
        guard let dir = opendir(path) else { throw Errno.current }
        defer { closedir(dir) }
        var entries: [Entry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                isDirectory = (try? status(join(path, name), followingLinks: false))?.kind == .directory
            }
            entries.append(Entry(name: name, isDirectory: isDirectory))
        }
        return entries
    }
}
