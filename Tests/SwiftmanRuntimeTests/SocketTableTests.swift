// Reading the kernel's TCP tables: which rows listen, where, and on which inode.
import Testing
import Glibc
import SwiftmanPlatform

@Suite struct SocketTableTests {
    // Rows as a little-endian kernel prints them (the address words in host order).
    #if _endian(little)
    @Test func listenersOfBothFamiliesAreClassifiedForLocalhost() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0
               1: 00000000:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 112 1 0 100 0 0 10 0
               2: 0500000A:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 113 1 0 100 0 0 10 0
               3: 0100007F:1388 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 114 1 0 20 4 30 10 -1
            """
        let tcp6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000000000000000000001000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 211 1 0 100 0 0 10 0
               1: 00000000000000000000000000000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 212 1 0 100 0 0 10 0
               2: 0000000000000000FFFF00000100007F:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 213 1 0 100 0 0 10 0
               3: 000080FE00000000FF0FA8C0FE3A0812:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 214 1 0 100 0 0 10 0
            """
        let v4 = SocketTable.parse(Array(tcp.utf8), ipv6: false)
        #expect(v4 == [
            TCPListener(ipv6: false, address: .loopback, port: 5000, inode: SocketInode(111)),
            TCPListener(ipv6: false, address: .any, port: 5001, inode: SocketInode(112)),
            TCPListener(ipv6: false, address: .other, port: 5000, inode: SocketInode(113)),
        ])
        let v6 = SocketTable.parse(Array(tcp6.utf8), ipv6: true)
        #expect(v6.map(\.address) == [.loopback, .any, .loopback, .other])
        #expect(v6.map(\.inode.rawValue) == [211, 212, 213, 214])
        #expect(v6.allSatisfy { $0.port == 5000 && $0.ipv6 })
    }
    #endif

    @Test func aTableWithoutRowsHasNoListeners() {
        #expect(SocketTable.parse([], ipv6: false).isEmpty)
        #expect(SocketTable.parse(Array("  sl  local_address rem_address   st\n".utf8), ipv6: true).isEmpty)
    }

    /// The kernel's socket diagnostics (what `listeners(port:)` asks) list
    /// the same listeners as /proc/net/tcp and tcp6, with the same inodes and
    /// addresses: a loopback IPv4 listener and an any-address IPv6 one, each
    /// opened here on a port the kernel picks.
    @Test func socketDiagnosticsAgreeWithTheProcTables() throws {
        func listen(ipv6: Bool) -> (fd: Int32, port: Int) {
            let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(fd >= 0)
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                if ipv6 {
                    let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                    address.pointee.sin6_family = sa_family_t(AF_INET6)
                } else {
                    let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                    address.pointee.sin_family = sa_family_t(AF_INET)
                    address.pointee.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
                }
            }
            let size = socklen_t(ipv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
            let port: Int = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    #expect(bind(fd, address, size) == 0)
                    #expect(Glibc.listen(fd, 1) == 0)
                    #expect(getsockname(fd, address, &length) == 0)
                    return Int(UInt16(bigEndian: ipv6
                        ? UnsafeRawPointer(address).assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port
                        : UnsafeRawPointer(address).assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port))
                }
            }
            return (fd, port)
        }
        let v4 = listen(ipv6: false), v6 = listen(ipv6: true)
        defer { close(v4.fd); close(v6.fd) }
        guard let fromKernel4 = SocketTable.diagnosed(ipv6: false), let fromKernel6 = SocketTable.diagnosed(ipv6: true) else {
            print("SocketTableTests: no NETLINK_SOCK_DIAG here; /proc/net/tcp is used instead (skipped)")
            return
        }
        let proc4 = SocketTable.parse(try FileSystem.read("/proc/net/tcp"), ipv6: false)
        let proc6 = SocketTable.parse(try FileSystem.read("/proc/net/tcp6"), ipv6: true)
        let mine4 = fromKernel4.filter { $0.port == v4.port }
        let mine6 = fromKernel6.filter { $0.port == v6.port }
        #expect(mine4.count == 1 && mine4.first?.address == .loopback)
        #expect(mine6.count == 1 && mine6.first?.address == .any)
        #expect(mine4 == proc4.filter { $0.port == v4.port })
        #expect(mine6 == proc6.filter { $0.port == v6.port })
        #expect(SocketTable.diagnosed(ipv6: false, port: v4.port) == mine4)
        #expect(SocketTable.listeners(port: v6.port) == mine6)
    }
}
