// Reading the children's pipes while stdout is backed up.
import Testing
import SwiftmanModel
import SwiftmanPlatform
@testable import SwiftmanRuntime

@Suite struct ChildOutputTests {
    /// Once the output queue is full, a ready pipe is not read in the same
    /// wake (each would add a read's worth past the high water), and it is
    /// first in line at the next wake (else the first flooder in the poll
    /// order starves the others).
    @Test func aFullQueueLeavesTheOtherPipesForTheNextWakeFirstInLine() throws {
        let queue = OutputQueue(highWater: 1024)
        let framer = LineFramer(queue: queue, style: OutputStyle(color: false, timestamps: false))
        let output = ChildOutput(framer: framer)
        let a = try Pipe.make(nonBlockingRead: true), b = try Pipe.make(nonBlockingRead: true)
        defer { for end in [a.readEnd, a.writeEnd, b.readEnd, b.writeEnd] { end.close() } }
        output.open(a.readEnd, label: framer.addLabel(name: "a.1", typeIndex: 0))
        output.open(b.readEnd, label: framer.addLabel(name: "b.1", typeIndex: 1))
        let lines = String(repeating: "flood\n", count: 400)
        try a.writeEnd.writeAll(lines)
        try b.writeEnd.writeAll(lines)

        var set = PollSet()
        output.register(in: &set, now: 0)
        let order = set.watched.map(\.fd)
        #expect(order.count == 2)
        output.handle(fd: order[0], events: .readable, now: 0)
        #expect(queue.isFull, "one read fills it")
        let held = queue.count
        output.handle(fd: order[1], events: .readable, now: 0)
        #expect(queue.count == held, "the second pipe is not read while the queue is full")
        #expect(order[1].bytesReadable == lines.utf8.count)

        queue.discard()
        var next = PollSet()
        output.register(in: &next, now: 0)
        #expect(next.watched.map(\.fd) == [order[1], order[0]], "the pipe passed over comes first")
        output.handle(fd: order[1], events: .readable, now: 0)
        #expect(order[1].bytesReadable == 0)
        var after = PollSet()
        queue.discard()
        output.register(in: &after, now: 0)
        #expect(Set(after.watched.map(\.fd)) == Set(order), "served: no longer first by right")
    }
}
