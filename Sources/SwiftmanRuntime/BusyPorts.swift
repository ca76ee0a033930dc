import SwiftmanModel
import SwiftmanPlatform

/// Who already listens on a port, before an instance that is given it starts
/// (`start` warns, `check` notes): looked up in the kernel's socket tables and
/// /proc, never by binding the port.
public enum BusyPorts {
    /// The processes listening on `port` on any address (IPv4 or IPv6): nil
    /// when nothing does (or /proc cannot be read), empty when the listeners'
    /// holders cannot be looked into (another user's processes).
    public static func holders(of port: Int) -> [PortHolder]? {
        guard let listeners = SocketTable.listeners(port: port), !listeners.isEmpty else { return nil }
        let inodes = listeners.map(\.inode)
        let found = ProcessTable.holders(of: Set(inodes))
        var seen: Set<ProcessID> = []
        var holders: [PortHolder] = []
        for inode in inodes {
            guard let holder = found[inode], seen.insert(holder.pid).inserted else { continue }
            holders.append(PortHolder(pid: holder.pid.rawValue, command: ProcessTable.commandLine(of: holder.pid) ?? holder.name))
        }
        return holders
    }
}
