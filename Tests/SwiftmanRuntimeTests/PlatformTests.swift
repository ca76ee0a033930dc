// The platform's typed calls: errors as values, descriptors, reaping.
import Testing
import Glibc
import SwiftmanModel
import SwiftmanPlatform

@Suite struct PlatformTests {
    @Test func aPipeCarriesBytesAndSaysWouldBlockWhenEmpty() throws {
        let pipe = try Pipe.make(nonBlockingRead: true)
        defer { pipe.readEnd.close() }
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(throws: Errno.wouldBlock) {
            try buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try pipe.readEnd.read(into: raw) } }.get()
        }
        try pipe.writeEnd.writeAll("hello")
        #expect(pipe.readEnd.bytesReadable == 5)
        let n = try buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try pipe.readEnd.read(into: raw) } }.get()
        #expect(String(decoding: buffer[0..<n], as: UTF8.self) == "hello")
        pipe.writeEnd.close()
        let end = try buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try pipe.readEnd.read(into: raw) } }.get()
        #expect(end == 0)
    }

    @Test func aMissingFileIsNoEntry() {
        #expect(throws: Errno.noEntry) { try FileSystem.read("/nonexistent/swiftman-test") }
        #expect(throws: Errno.noEntry) { try FileSystem.status("/nonexistent/swiftman-test") }
    }

    @Test func pollReportsAReadablePipe() throws {
        let pipe = try Pipe.make(nonBlockingRead: true)
        defer { pipe.readEnd.close(); pipe.writeEnd.close() }
        var list = PollList()
        list.append(pipe.readEnd, .readable)
        #expect(try list.wait(timeoutMilliseconds: 0) == 0)
        try pipe.writeEnd.writeAll("x")
        #expect(try list.wait(timeoutMilliseconds: 1000) == 1)
        #expect(list.descriptor(at: 0) == pipe.readEnd)
        #expect(list.returned(at: 0).contains(.readable))
    }

    /// A child's end, decoded: an exit code, or the signal that killed it.
    /// (Only these children are waited for: other tests run children too.)
    @Test func aChildsEndIsDecoded() throws {
        let spawner = Spawner(root: ".", environment: CStringArray(["PATH=/usr/bin:/bin"]))
        let exits = try spawner.spawn(script: "exit 3", extraEnvironment: [], output: .discard).get()
        #expect(Children.wait(for: exits.id) == .exited(code: 3))
        let killed = try spawner.spawn(script: "sleep 30", extraEnvironment: [], output: .discard).get()
        #expect(killed.group.isAlive)
        try killed.group.send(Signal.kill.rawValue)
        #expect(Children.wait(for: killed.id) == .signaled(Signal.kill.rawValue))
        #expect(Children.wait(for: killed.id) == nil, "reaped once")
    }

    /// Our children and a child's descendants are found (from the kernel's
    /// children lists where it keeps them): the orphan sweep at shutdown and
    /// the signals to a leader that left its group rely on both.
    @Test func childrenAndDescendantsAreListed() throws {
        let spawner = Spawner(root: ".", environment: CStringArray(["PATH=/usr/bin:/bin"]))
        let shell = try spawner.spawn(script: "sleep 30 & sleep 30 & wait", extraEnvironment: [], output: .discard).get()
        defer {
            try? shell.group.send(Signal.kill.rawValue)
            _ = Children.wait(for: shell.id)
        }
        #expect(ProcessTable.children(of: ProcessID.current.rawValue).contains(shell.id.rawValue))
        var descendants: [Int32] = []
        for _ in 0..<500 where descendants.count < 2 {
            descendants = ProcessTable.descendants(of: shell.id.rawValue)
            if descendants.count < 2 { usleep(10_000) }
        }
        #expect(descendants.count == 2, "the shell's two sleeps")
        for pid in descendants { #expect(ProcessID(pid).group == shell.group) }
        #expect(ProcessTable.children(of: shell.id.rawValue).sorted() == descendants.sorted())
    }

    /// A busy port's holder is named by its command line on one line: the
    /// program's file name, arguments joined by spaces, newlines as spaces.
    /// (No child is spawned: a fork in flight holds other tests' pipes open.)
    @Test func aCommandLineIsOneLine() {
        let cmdline = Array("/usr/bin/python3\0-c\0import time\ntime.sleep(9)\0".utf8)
        #expect(ProcessTable.commandLine(cmdline: cmdline) == "python3 -c import time time.sleep(9)")
        #expect(ProcessTable.commandLine(cmdline: cmdline, limit: 10) == "python3 -…")
        #expect(ProcessTable.commandLine(of: ProcessID.current)?.isEmpty == false)
    }
}
