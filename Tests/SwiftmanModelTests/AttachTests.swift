// The attach framing (`swiftman connect`), the bounded byte queue behind it,
// and how `start --input` routes what is typed to an instance.
import Glibc
import CSwiftman
import Testing
@testable import SwiftmanModel
@testable import SwiftmanRuntime
@testable import SwiftmanPlatform

@Suite struct AttachFrameTests {
    private func decodeAll(_ bytes: [UInt8], chunk: Int) throws -> [AttachFrame] {
        var decoder = AttachFrameDecoder()
        var frames: [AttachFrame] = []
        var i = 0
        while i < bytes.count {
            decoder.feed(bytes[i..<min(i + chunk, bytes.count)])
            i += chunk
            while let frame = try decoder.next() { frames.append(frame) }
        }
        #expect(decoder.buffered == 0)
        return frames
    }

    @Test func framesRoundTripHoweverTheStreamIsCut() throws {
        let frames: [AttachFrame] = [
            .data(Array("(Pdb) p x\r\n".utf8)), .data([]), .resize(rows: 40, cols: 120), .resize(rows: 65535, cols: 1),
            .detach, .end("web.1 exited with code 0"), .data((0..<70_000).map { UInt8($0 % 251) }.prefix(AttachFrame.maxPayload).map { $0 }),
        ]
        let wire = frames.flatMap(\.encoded)
        for chunk in [1, 2, 5, 7, 4096, wire.count] {
            #expect(try decodeAll(wire, chunk: chunk) == frames, "chunk \(chunk)")
        }
    }

    @Test func headerIsTypeThenBigEndianLength() {
        #expect(AttachFrame.data([7, 8, 9]).encoded == [1, 0, 0, 0, 3, 7, 8, 9])
        #expect(AttachFrame.resize(rows: 0x0102, cols: 0x0304).encoded == [2, 0, 0, 0, 4, 1, 2, 3, 4])
        #expect(AttachFrame.detach.encoded == [3, 0, 0, 0, 0])
        #expect(AttachFrame.end("ok").encoded == [4, 0, 0, 0, 2, 0x6F, 0x6B])
    }

    @Test func malformedStreamsAreRejected() throws {
        let bad: [[UInt8]] = [
            [9, 0, 0, 0, 0],                  // unknown type
            [1, 0, 1, 0, 1],                  // payload over 64 KiB
            [2, 0, 0, 0, 3, 1, 2, 3],         // resize of 3 bytes
            [3, 0, 0, 0, 1, 0],               // detach with a payload
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        ]
        for bytes in bad {
            var decoder = AttachFrameDecoder()
            decoder.feed(bytes)
            #expect(throws: AttachFrameError.self, "\(bytes)") { _ = try decoder.next() }
        }
        // An incomplete frame is not an error: it waits for the rest.
        var decoder = AttachFrameDecoder()
        decoder.feed([1, 0, 0, 0, 10, 1, 2])
        #expect(try decoder.next() == nil)
    }
}

@Suite struct ByteRingTests {
    @Test func keepsTheNewestBytesAcrossTheWrapAround() {
        let ring = ByteRing(capacity: 8)
        ring.append([1, 2, 3, 4, 5])
        #expect(ring.contents == [1, 2, 3, 4, 5])
        ring.consume(3)
        ring.append([6, 7, 8, 9, 10])  // wraps: 4 5 6 7 8 9 10
        #expect(ring.contents == [4, 5, 6, 7, 8, 9, 10])
        #expect(ring.dropped == 0)
        ring.append([11, 12, 13])      // one too many: 4 is dropped, then 5
        #expect(ring.contents == [6, 7, 8, 9, 10, 11, 12, 13])
        #expect(ring.dropped == 2)
        // Readable is contiguous: up to the end of storage, then the rest.
        var drained: [UInt8] = []
        while !ring.isEmpty {
            let chunk = ring.readable
            drained += chunk
            ring.consume(chunk.count)
        }
        #expect(drained == [6, 7, 8, 9, 10, 11, 12, 13])
    }

    @Test func anAppendLargerThanTheCapacityKeepsItsTail() {
        let ring = ByteRing(capacity: 4)
        ring.append([1, 2])
        ring.append(Array(10...20))
        #expect(ring.contents == [17, 18, 19, 20])
        #expect(ring.dropped == 2 + 7)
    }
}

@Suite struct InputRoutingTests {
    private func feed(_ lines: inout InputLines, _ text: String) -> String {
        let out = Array(text.utf8).withUnsafeBytes { lines.feed($0) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func wholeLinesGoOutAndAPartialLineWaits() {
        var lines = InputLines(maxLine: 16)
        #expect(feed(&lines, "p x\nc") == "p x\n")
        #expect(feed(&lines, "ont") == "")
        #expect(feed(&lines, "inue\nwhere\nup") == "continue\nwhere\n")
        #expect(String(decoding: lines.finish(), as: UTF8.self) == "up")
        #expect(lines.finish().isEmpty)
        // A line longer than the limit is passed on in pieces, never held without bound.
        #expect(feed(&lines, String(repeating: "a", count: 20)) == String(repeating: "a", count: 20))
    }

    @Test func targetIsAFirstInstanceOrANamedOne() throws {
        let procfile = try Procfile.parse(Array("web: a\nworker: b\nidle: c\n".utf8), path: "Procfile")
        let plan = try FormationPlan(procfile: procfile, formation: try Formation.parse("all=1,web=2,idle=0", source: "-m"),
                                     ports: PortPlan(base: 5000))
        #expect(try InputTarget.resolve("web", plan: plan, source: "--input") == "web.1")
        #expect(try InputTarget.resolve("web.2", plan: plan, source: "--input") == "web.2")
        #expect(try InputTarget.resolve("worker", plan: plan, source: "--input") == "worker.1")
        for bad in ["nope", "web.3", "idle", "web.0", "worker.x", ""] {
            #expect(throws: Diagnostic.self, "\(bad)") { try InputTarget.resolve(bad, plan: plan, source: "SWIFTMAN_INPUT") }
        }
        do {
            _ = try InputTarget.resolve("nope", plan: plan, source: "SWIFTMAN_INPUT")
        } catch {
            #expect(error.source == "SWIFTMAN_INPUT")
            #expect(error.message.contains("\"nope\""))
        }
    }

    @Test func attachRequestsAreParsedStrictly() throws {
        let request = ControlRequest.attach(target: "web.2", rows: 40, cols: 120)
        #expect(request.encoded == "swiftman/1 attach web.2 40 120\n")
        #expect(try ControlRequest.parse(Array("swiftman/1 attach web.2 40 120".utf8)) == request)
        #expect(try ControlRequest.parse(Array("swiftman/1 attach web 0 0".utf8)) == .attach(target: "web", rows: 0, cols: 0))
        for bad in ["attach", "attach web", "attach web 1", "attach web 1 2 3", "attach web -1 80", "attach web 24 65536",
                    "attach w/b 24 80", "attach web x 80"] {
            #expect(throws: ControlFailure.self, "\(bad)") { try ControlRequest.parse(Array("swiftman/1 \(bad)".utf8)) }
        }
    }

    /// Reads what a pipe holds now.
    private func drain(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func inputWaitsForTheProcessThenGoesToTheCurrentOne() {
        var fds: [Int32] = [-1, -1]
        #expect(sm_pipe(&fds, 1) == 0)
        defer { close(fds[0]); close(fds[1]) }
        _ = sm_set_nonblocking(fds[1])
        var current: FileDescriptor? = nil
        let input = ChildInput { slot in slot == 3 ? current : nil }
        input.send(slot: 3, Array("typed while restarting\n".utf8))
        #expect(input.queued(slot: 3) == 23)
        // The process is back: the next turn of the loop delivers.
        current = FileDescriptor(rawValue: fds[1])
        var set = PollSet()
        input.register(in: &set, now: 0)
        #expect(drain(fds[0]) == "typed while restarting\n")
        #expect(input.queued(slot: 3) == 0)
        input.send(slot: 3, Array("at once\n".utf8))
        #expect(drain(fds[0]) == "at once\n")
    }

    @Test func aChildThatDoesNotReadLosesTheOldestInputNeverBlocksUs() {
        var fds: [Int32] = [-1, -1]
        #expect(sm_pipe(&fds, 1) == 0)
        defer { close(fds[0]); close(fds[1]) }
        _ = sm_set_nonblocking(fds[1])
        let writer = FileDescriptor(rawValue: fds[1])
        let input = ChildInput { _ in writer }
        // Far more than the pipe and the queue hold: every send returns at once.
        let line = Array(String(repeating: "x", count: 1023).utf8) + [10]
        for _ in 0..<1024 { input.send(slot: 0, line) }
        #expect(input.queued(slot: 0) == ChildInput.capacity)
        var set = PollSet()
        input.register(in: &set, now: 0)
        #expect(set.watched.map(\.fd) == [writer])  // waits for the pipe to drain
        let first = drain(fds[0])
        #expect(first.count >= 4096)
        input.handle(fd: writer, events: .writable, now: 0)
        #expect(input.queued(slot: 0) == 0)
        #expect(drain(fds[0]).count == ChildInput.capacity)
    }
}

/// An attach session on the server side, driven by hand over a socketpair:
/// output framed to the terminal, keys routed to the instance, resize and
/// detach, and a terminal that never reads.
@Suite struct AttachHubTests {
    final class Rig {
        let queue = OutputQueue(highWater: 64 << 20)
        let output: ChildOutput
        let input: ChildInput
        let hub: AttachHub
        var childOut: [Int32] = [-1, -1]   // the instance's output pipe
        var childIn: [Int32] = [-1, -1]    // the instance's stdin pipe
        var pair: [Int32] = [-1, -1]       // [client end, server end]
        var resizes: [(Int32, UInt16, UInt16)] = []

        init() {
            output = ChildOutput(framer: LineFramer(queue: queue, style: OutputStyle(color: false, timestamps: false)))
            _ = sm_pipe(&childOut, 1)
            _ = sm_pipe(&childIn, 1)
            _ = sm_set_nonblocking(childIn[1])
            let writer = FileDescriptor(rawValue: childIn[1])
            input = ChildInput { _ in writer }
            hub = AttachHub(output: output, input: input)
            _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair)
            _ = sm_set_nonblocking(pair[0])
            _ = sm_set_nonblocking(pair[1])
            hub.onResize = { [unowned self] pid, rows, cols in self.resizes.append((pid, rows, cols)) }
            output.open(FileDescriptor(rawValue: childOut[0]), label: output.framer.addLabel(name: "web.1", typeIndex: 0))
            hub.adopt(fd: FileDescriptor(rawValue: pair[1]), slot: 0, pid: 4242, outputs: [FileDescriptor(rawValue: childOut[0])],
                      greeting: Array("ok\nweb.1 4242 pipe\n".utf8), extra: [])
        }

        deinit {
            for fd in [childOut[1], childIn[0], childIn[1], pair[0]] { close(fd) }
        }

        /// The instance prints `bytes`; the loop reads them.
        func childPrints(_ bytes: [UInt8]) {
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeBytes { write(childOut[1], $0.baseAddress! + off, $0.count - off) }
                if n <= 0 { break }
                off += n
                output.handle(fd: FileDescriptor(rawValue: childOut[0]), events: .readable, now: 0)
            }
        }

        /// One turn of the loop: register, then what poll would report as
        /// writable (the test calls this when the client has read).
        func turn() {
            var set = PollSet()
            hub.register(in: &set, now: 0)
            for entry in set.watched where entry.events.contains(.writable) {
                hub.handle(fd: entry.fd, events: .writable, now: 0)
            }
        }

        func clientReads() -> [UInt8] {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = read(pair[0], &buffer, buffer.count)
                guard n > 0 else { return out }
                out += buffer[0..<n]
            }
        }

        func clientSends(_ frames: [AttachFrame]) {
            let bytes = frames.flatMap(\.encoded)
            _ = bytes.withUnsafeBytes { write(pair[0], $0.baseAddress, $0.count) }
            hub.handle(fd: FileDescriptor(rawValue: pair[1]), events: .readable, now: 0)
        }
    }

    private func frames(after greeting: String, in bytes: [UInt8]) throws -> [AttachFrame] {
        #expect(bytes.starts(with: Array(greeting.utf8)))
        var decoder = AttachFrameDecoder()
        decoder.feed(bytes.dropFirst(greeting.utf8.count))
        var out: [AttachFrame] = []
        while let frame = try decoder.next() { out.append(frame) }
        return out
    }

    @Test func outputKeysResizeAndDetach() throws {
        let rig = Rig()
        rig.childPrints(Array("(Pdb) ".utf8))
        rig.turn()
        #expect(try frames(after: "ok\nweb.1 4242 pipe\n", in: rig.clientReads()) == [.data(Array("(Pdb) ".utf8))])
        rig.clientSends([.data(Array("p x\n".utf8)), .resize(rows: 40, cols: 120)])
        var typed = [UInt8](repeating: 0, count: 64)
        let n = read(rig.childIn[0], &typed, typed.count)
        #expect(String(decoding: typed[0..<max(0, n)], as: UTF8.self) == "p x\n")
        #expect(rig.resizes.count == 1 && rig.resizes[0] == (4242, 40, 120))
        // The formation's output got the line too.
        #expect(rig.hub.count == 1)
        rig.clientSends([.detach])
        #expect(rig.hub.count == 0)
        #expect(read(rig.pair[0], &typed, typed.count) == 0)  // closed by the server
    }

    @Test func aTerminalThatNeverReadsLosesTheOldestOutputOnly() throws {
        let rig = Rig()
        // 4.6 MB, numbered lines: far more than the socket and the session buffer hold.
        var printed = 0
        for chunk in 0..<512 {
            var bytes: [UInt8] = []
            for line in 0..<1000 { bytes += Array(String(format8(chunk * 1000 + line)).utf8) }
            rig.childPrints(bytes)
            printed += bytes.count
            rig.turn()
        }
        #expect(printed > 8 * AttachHub.bufferSize)
        // The terminal catches up: it gets its oldest bytes, then the newest
        // ones; what is missing was dropped, never waited for.
        var received: [UInt8] = []
        for _ in 0..<100 {
            let bytes = rig.clientReads()
            received += bytes
            rig.turn()
            if bytes.isEmpty { break }
        }
        let data = try frames(after: "ok\nweb.1 4242 pipe\n", in: received).flatMap { frame -> [UInt8] in
            guard case .data(let bytes) = frame else { return [] }
            return bytes
        }
        #expect(data.count < printed)
        #expect(data.count > AttachHub.bufferSize)
        #expect(Array(data.suffix(9)) == Array(format8(511_999).utf8))
        #expect(Array(data.prefix(9)) == Array(format8(0).utf8))
    }

    private func format8(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: 8 - digits.count) + digits + "\n"
    }
}
