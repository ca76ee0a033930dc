import Glibc

/// What /proc tells us about processes: every process's parent and group,
/// to find the orphans of our instances and count a group's members.
public enum ProcessTable {
    /// Whether /proc can be read: without it the orphan sweep cannot find
    /// processes that left their group.
    public static var hasProc: Bool { access("/proc/self/stat", R_OK) == 0 }

    /// One pass over /proc/*/stat: the parent and group of every process.
    public static func forEachProcess(_ body: (_ pid: Int32, _ parent: Int32, _ group: Int32) -> Void) {
        guard let dir = opendir("/proc") else { return }
        defer { closedir(dir) }
        var buffer = [UInt8](repeating: 0, count: 512)
        while let entry = readdir(dir) {
            guard let pid = decimal(entry) else { continue }
            let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            close(fd)
            guard n > 0 else { continue }
            // The fields after the command name (which may hold spaces and ')'):
            // state, ppid, pgrp, …
            let text = buffer[0..<n]
            guard let close = text.lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { continue }
            let fields = text[(close + 2)...].split(separator: UInt8(ascii: " "), maxSplits: 3)
            guard fields.count > 2,
                  let parent = Int32(String(decoding: fields[1], as: UTF8.self)),
                  let group = Int32(String(decoding: fields[2], as: UTF8.self)) else { continue }
            body(pid, parent, group)
        }
    }

    /// Pids whose parent is `parent`: from the kernel's own list
    /// (/proc/PID/task/TID/children, one small read per thread) when it has
    /// one, else one pass over every process. At shutdown this is asked once
    /// per signal; the pass over /proc costs about 10 µs per process on the
    /// machine, the list a few µs in all.
    public static func children(of parent: Int32) -> [Int32] {
        if let listed = listedChildren(of: parent) { return listed }
        var result: [Int32] = []
        forEachProcess { pid, ppid, _ in if ppid == parent { result.append(pid) } }
        return result
    }

    /// Every process descended from `ancestor` (children, their children…):
    /// by the kernel's children lists, else from one pass over /proc.
    public static func descendants(of ancestor: Int32) -> [Int32] {
        let childrenOf: (Int32) -> [Int32]
        if kernelListsChildren {
            childrenOf = { listedChildren(of: $0) ?? [] }
        } else {
            var table: [Int32: [Int32]] = [:]
            forEachProcess { pid, parent, _ in table[parent, default: []].append(pid) }
            childrenOf = { table[$0] ?? [] }
        }
        var result: [Int32] = []
        var next = childrenOf(ancestor)
        while let pid = next.popLast() {
            result.append(pid)
            next += childrenOf(pid)
        }
        return result
    }

    /// The children the kernel lists for each thread of `parent`
    /// (CONFIG_PROC_CHILDREN); nil when it keeps no such list. A process that
    /// is gone has none ([]).
    static func listedChildren(of parent: Int32) -> [Int32]? {
        guard kernelListsChildren else { return nil }
        guard let dir = opendir("/proc/\(parent)/task") else { return [] }
        defer { closedir(dir) }
        var result: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while let entry = readdir(dir) {
            guard let tid = decimal(entry) else { continue }
            let fd = open("/proc/\(parent)/task/\(tid)/children", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var value: Int32 = 0
            var digits = false
            while true {
                let n = read(fd, &buffer, buffer.count)
                guard n > 0 else { break }
                for byte in buffer[0..<n] {
                    if byte >= 48 && byte <= 57 {
                        value = value &* 10 &+ Int32(byte - 48)
                        digits = true
                    } else if digits {
                        result.append(value)
                        value = 0
                        digits = false
                    }
                }
            }
            if digits { result.append(value) }
        }
        return result
    }

    /// How many processes each of `groups` has, in one pass.
    public static func groupSizes(_ groups: Set<Int32>) -> [Int32: Int] {
        var sizes: [Int32: Int] = [:]
        guard !groups.isEmpty else { return sizes }
        forEachProcess { _, _, group in if groups.contains(group) { sizes[group, default: 0] += 1 } }
        return sizes
    }

    /// Whether this kernel keeps /proc/PID/task/TID/children.
    private static let kernelListsChildren = access("/proc/thread-self/children", R_OK) == 0

    /// A directory entry named by a positive decimal number (a pid or tid).
    private static func decimal(_ entry: UnsafeMutablePointer<dirent>) -> Int32? {
        withUnsafeBytes(of: entry.pointee.d_name) { raw in
            var value: Int32 = 0
            for byte in raw {
                if byte == 0 { break }
                guard byte >= 48 && byte <= 57, value < 100_000_000 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value > 0 ? value : nil
        }
    }
}
