import SwiftmanModel
import SwiftmanPlatform
import Glibc

/// Input on its way to instances: what `start --input` reads and what attached
/// terminals type. One bounded queue per instance slot (the instance, not the
/// process: bytes not yet written when a process ends go to the one that
/// replaces it), written without ever blocking: when the child does not read,
/// the oldest bytes are dropped.
final class ChildInput: EventSource {
    static let capacity = 1 << 16

    private var queues: [Int: ByteRing] = [:]
    /// Slots whose descriptor was full at the last write (watched for POLLOUT).
    private var waiting: [Int: Int32] = [:]
    /// The descriptor that takes a slot's input now (its stdin pipe, or its
    /// pty master), nil while no process runs it.
    private let target: (_ slot: Int) -> Int32?

    init(target: @escaping (_ slot: Int) -> Int32?) {
        self.target = target
    }

    func send(slot: Int, _ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        let queue = queues[slot] ?? {
            let ring = ByteRing(capacity: ChildInput.capacity)
            queues[slot] = ring
            return ring
        }()
        queue.append(bytes)
        if waiting[slot] == nil { flush(slot, queue) }
    }

    func send(slot: Int, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { send(slot: slot, $0) }
    }

    /// Bytes queued for a slot (for tests and `ps` one day).
    func queued(slot: Int) -> Int { queues[slot]?.count ?? 0 }

    func register(in set: inout PollSet, now: Int64) {
        guard !queues.isEmpty else { return }
        for (slot, queue) in queues {
            // Still the same process's descriptor: wait for it to drain.
            if let fd = waiting[slot], fd == target(slot) {
                set.watch(fd, events: Int16(POLLOUT))
                continue
            }
            // A slot whose process has just (re)started gets what waited for it.
            waiting[slot] = nil
            flush(slot, queue)
            if let fd = waiting[slot] { set.watch(fd, events: Int16(POLLOUT)) }
        }
    }

    func handle(fd: Int32, events: Int16, now: Int64) {
        for (slot, waitedFD) in waiting where waitedFD == fd {
            waiting[slot] = nil
            if let queue = queues[slot] { flush(slot, queue) }
        }
    }

    private func flush(_ slot: Int, _ queue: ByteRing) {
        while !queue.isEmpty {
            guard let fd = target(slot) else { return }
            let chunk = queue.readable
            let n = Glibc.write(fd, chunk.baseAddress, chunk.count)
            if n > 0 {
                queue.consume(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                waiting[slot] = fd
                return
            } else {
                // The child closed its stdin (EPIPE) or its terminal is gone
                // (EIO): nobody will read this.
                queue.removeAll()
            }
        }
        queues[slot] = nil
    }
}
