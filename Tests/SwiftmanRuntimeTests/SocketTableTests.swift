// Reading the kernel's TCP tables: which rows listen, where, and on which inode.
import Testing
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
}
