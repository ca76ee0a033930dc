import SwiftmanModel
import SwiftmanPlatform

/// Control connections whose reply comes later: `wait` (once its targets
/// get there) and `quit` (once the formation has stopped). The loop watches
/// each for its client going away; a reply is one short non-blocking send
/// on a connection that has carried nothing else, then the connection closes.
final class HeldReplies: EventSource {
    static let maxHeld = 32

    enum Purpose: Equatable {
        case wait(targets: [String], goal: WaitGoal)
        case quit
    }

    private var held: [(fd: FileDescriptor, purpose: Purpose)] = []

    var count: Int { held.count }

    func hold(_ fd: FileDescriptor, for purpose: Purpose) {
        held.append((fd, purpose))
    }

    /// Replies to every held connection `answer` has a reply for.
    func answer(_ answer: (Purpose) -> ControlReply?) {
        held.removeAll { entry in
            guard let reply = answer(entry.purpose) else { return false }
            HeldReplies.send(reply, to: entry.fd)
            return true
        }
    }

    static func send(_ reply: ControlReply, to fd: FileDescriptor) {
        var text = reply.encoded
        text.withUTF8 { _ = try? fd.send(UnsafeRawBufferPointer($0), nonBlocking: true) }
        fd.close()
    }

    func register(in set: inout PollSet, now: Int64) {
        for entry in held { set.watch(entry.fd, events: .readable) }
    }

    /// Readable: the client went away (EOF, error) or sent bytes it should
    /// not have, which are ignored.
    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        var scratch = [UInt8](repeating: 0, count: 256)
        let received = scratch.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.receive(into: raw, nonBlocking: true) } }
        switch received {
        case .success(let n) where n > 0: return
        case .failure(.wouldBlock): return
        default:
            held.removeAll { $0.fd == fd }
            fd.close()
        }
    }
}
