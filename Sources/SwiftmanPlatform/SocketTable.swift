import CSwiftman
import Glibc

/// A socket's inode number: what the kernel's socket tables (/proc/net/tcp)
/// list and what /proc/PID/fd/N links to (`socket:[INODE]`).
public struct SocketInode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
}

/// A TCP socket in the LISTEN state, as the kernel's tables list it.
public struct TCPListener: Equatable, Sendable {
    /// Where it listens, as far as a connection to "localhost" is concerned.
    public enum Address: Equatable, Sendable {
        /// 127.0.0.1, ::1 or ::ffff:127.0.0.1.
        case loopback
        /// 0.0.0.0 or :: (every address, loopback included).
        case any
        /// Some other address: not reached by a connection to localhost.
        case other
    }

    public let ipv6: Bool
    public let address: Address
    public let port: Int
    public let inode: SocketInode

    public init(ipv6: Bool, address: Address, port: Int, inode: SocketInode) {
        self.ipv6 = ipv6
        self.address = address
        self.port = port
        self.inode = inode
    }

    /// Whether a client connecting to localhost (either loopback) reaches it.
    public var acceptsLocalConnections: Bool { address != .other }
}

/// The kernel's TCP listeners (of our network namespace, which the instances
/// share): asked over NETLINK_SOCK_DIAG, which walks only the kernel's table
/// of listening sockets; /proc/net/tcp and /proc/net/tcp6 when that is not
/// available. (Reading /proc/net/tcp walks every bucket of the connection
/// table: about 4 ms a read on the 2-vCPU, 23 GiB machine of
/// docs/benchmarks.md, once per instance started and per port check.)
public enum SocketTable {
    /// The sockets listening on `port` that a connection to 127.0.0.1 or ::1
    /// reaches (loopback and any-address listeners of both families); nil when
    /// neither table can be read (no /proc).
    public static func localListeners(port: Int) -> [TCPListener]? {
        listeners(port: port)?.filter(\.acceptsLocalConnections)
    }

    /// Every socket listening on `port`, on any address of either family;
    /// nil when neither table can be read (no /proc).
    public static func listeners(port: Int) -> [TCPListener]? {
        let v4 = diagnosed(ipv6: false, port: port) ?? (try? FileSystem.read("/proc/net/tcp")).map { parse($0, ipv6: false) }
        let v6 = diagnosed(ipv6: true, port: port) ?? (try? FileSystem.read("/proc/net/tcp6")).map { parse($0, ipv6: true) }
        guard v4 != nil || v6 != nil else { return nil }
        return ((v4 ?? []) + (v6 ?? [])).filter { $0.port == port }
    }

    /// The listeners of one family on `port` (0: all) from the kernel's socket
    /// diagnostics; nil when it cannot be asked (no sock_diag in the kernel,
    /// or a sandbox refuses netlink).
    public static func diagnosed(ipv6: Bool, port: Int = 0) -> [TCPListener]? {
        var room = 16
        while true {
            var found = [sm_tcp_listener](repeating: sm_tcp_listener(), count: room)
            let count = Int(sm_tcp_listeners(ipv6 ? AF_INET6 : AF_INET, Int32(port), &found, Int32(room)))
            guard count >= 0 else { return nil }
            guard count <= room else {
                room = count + 16
                continue
            }
            return found[0..<count].map { listener in
                let bytes = withUnsafeBytes(of: listener.address) { Array($0) }
                let words = (0..<(ipv6 ? 4 : 1)).map { i in
                    bytes[4 * i..<4 * i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                }
                return TCPListener(ipv6: ipv6, address: classify(words), port: Int(listener.port),
                                   inode: SocketInode(UInt64(listener.inode)))
            }
        }
    }

    /// The LISTEN rows of one table's text. A row:
    /// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …`,
    /// addresses as hex words in host byte order, `:PORT` in hex; LISTEN is 0A.
    public static func parse(_ text: [UInt8], ipv6: Bool) -> [TCPListener] {
        var result: [TCPListener] = []
        for line in text.split(separator: UInt8(ascii: "\n")).dropFirst() {
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count > 9, fields[3].elementsEqual("0A".utf8) else { continue }
            let local = fields[1].split(separator: UInt8(ascii: ":"))
            guard local.count == 2, let port = Int(String(decoding: local[1], as: UTF8.self), radix: 16),
                  let inode = UInt64(String(decoding: fields[9], as: UTF8.self)),
                  let words = hexWords(local[0]), words.count == (ipv6 ? 4 : 1) else { continue }
            result.append(TCPListener(ipv6: ipv6, address: classify(words), port: port, inode: SocketInode(inode)))
        }
        return result
    }

    /// The address's 32-bit words in network order (the kernel prints each in
    /// host order).
    private static func hexWords(_ hex: ArraySlice<UInt8>) -> [UInt32]? {
        guard hex.count % 8 == 0 else { return nil }
        var words: [UInt32] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            guard let word = UInt32(String(decoding: hex[index..<index + 8], as: UTF8.self), radix: 16) else { return nil }
            words.append(UInt32(bigEndian: word))
            index += 8
        }
        return words
    }

    private static func classify(_ words: [UInt32]) -> TCPListener.Address {
        let loopback4: UInt32 = 0x7F00_0001
        if words.count == 1 {
            return words[0] == 0 ? .any : words[0] == loopback4 ? .loopback : .other
        }
        if words.allSatisfy({ $0 == 0 }) { return .any }
        if words[0] == 0 && words[1] == 0 {
            if words[2] == 0 && words[3] == 1 { return .loopback }                 // ::1
            if words[2] == 0x0000_FFFF && words[3] == loopback4 { return .loopback } // ::ffff:127.0.0.1
            if words[2] == 0x0000_FFFF && words[3] == 0 { return .any }              // ::ffff:0.0.0.0
        }
        return .other
    }
}

/// A process holding a socket open.
public struct SocketHolder: Equatable, Sendable {
    public let pid: ProcessID
    public let group: ProcessGroup
    /// Its command name (/proc/PID/comm), or "?" when it cannot be read.
    public let name: String
}

extension ProcessTable {
    /// The socket inodes among `pid`'s open descriptors (empty when /proc/PID/fd
    /// cannot be read: another user's process, or gone).
    public static func socketInodes(of pid: ProcessID) -> Set<SocketInode> {
        var inodes: Set<SocketInode> = []
        guard let dir = opendir("/proc/\(pid.rawValue)/fd") else { return inodes }
        defer { closedir(dir) }
        let dirFD = dirfd(dir)
        var buffer = [CChar](repeating: 0, count: 64)
        let prefix = Array("socket:[".utf8)
        while let entry = readdir(dir) {
            let n = withUnsafeBytes(of: entry.pointee.d_name) { name in
                readlinkat(dirFD, name.baseAddress!.assumingMemoryBound(to: CChar.self), &buffer, buffer.count)
            }
            guard n > prefix.count + 1 else { continue }
            let link = buffer[0..<n].map { UInt8(bitPattern: $0) }
            guard link.starts(with: prefix), link.last == UInt8(ascii: "]"),
                  let inode = UInt64(String(decoding: link[prefix.count..<(n - 1)], as: UTF8.self)) else { continue }
            inodes.insert(SocketInode(inode))
        }
        return inodes
    }

    /// The command name of `pid` (/proc/PID/comm), or nil.
    public static func name(of pid: ProcessID) -> String? {
        guard let bytes = try? FileSystem.read("/proc/\(pid.rawValue)/comm"), !bytes.isEmpty else { return nil }
        return String(decoding: bytes.last == UInt8(ascii: "\n") ? bytes.dropLast() : bytes[...], as: UTF8.self)
    }

    /// The command line of `pid` (/proc/PID/cmdline, as `commandLine(cmdline:)`
    /// puts it), else its name, else nil.
    public static func commandLine(of pid: ProcessID, limit: Int = 160) -> String? {
        guard let bytes = try? FileSystem.read("/proc/\(pid.rawValue)/cmdline"), !bytes.isEmpty else { return name(of: pid) }
        return commandLine(cmdline: bytes, limit: limit)
    }

    /// A /proc/PID/cmdline (arguments ended by NUL) on one line: the
    /// program's file name and its arguments joined by spaces, control
    /// characters as spaces (`python3 -c '…'`), at most `limit` characters.
    public static func commandLine(cmdline bytes: [UInt8], limit: Int = 160) -> String {
        var words = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if let program = words.first, let slash = program.lastIndex(of: "/") { words[0] = String(program[program.index(after: slash)...]) }
        let line = String(decoding: Array(words.joined(separator: " ").utf8).map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 },
                          as: UTF8.self)
        return line.count > limit ? String(line.prefix(limit - 1)) + "…" : line
    }

    /// The live members of `group`.
    public static func members(of group: ProcessGroup) -> [ProcessID] {
        var result: [ProcessID] = []
        forEachProcess { pid, _, pgrp in if pgrp == group.rawValue { result.append(ProcessID(pid)) } }
        return result
    }

    /// Whether a member of `group` holds one of `inodes`: its leader is looked
    /// at first (the usual listener), then every member.
    public static func group(_ group: ProcessGroup, holdsAnyOf inodes: Set<SocketInode>) -> Bool {
        let leader = ProcessID(group.rawValue)
        if !socketInodes(of: leader).isDisjoint(with: inodes) { return true }
        return members(of: group).contains { $0 != leader && !socketInodes(of: $0).isDisjoint(with: inodes) }
    }

    /// Who holds each of `inodes`, from a walk over every process's
    /// descriptors (the first holder found of each). Inodes held only by
    /// processes we may not look at (another user's) are missing.
    public static func holders(of inodes: Set<SocketInode>) -> [SocketInode: SocketHolder] {
        var found: [SocketInode: SocketHolder] = [:]
        guard !inodes.isEmpty else { return found }
        var processes: [(pid: Int32, group: Int32)] = []
        forEachProcess { pid, _, group in processes.append((pid, group)) }
        for process in processes where found.count < inodes.count {
            let pid = ProcessID(process.pid)
            for inode in socketInodes(of: pid).intersection(inodes) where found[inode] == nil {
                found[inode] = SocketHolder(pid: pid, group: ProcessGroup(process.group), name: name(of: pid) ?? "?")
            }
        }
        return found
    }
}
