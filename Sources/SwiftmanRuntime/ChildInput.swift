import SwiftmanModel
import SwiftmanPlatform

/// Input on its way to instances: what `start --input` reads and what attached
/// terminals type. One bounded queue per instance slot (the instance, not the
/// process: bytes not yet written when a process ends go to the one that
/// replaces it), written without ever blocking: when the child does not read,
/// the oldest bytes are dropped.
final class ChildInput: EventSource {
    static let capacity = 1 << 16

    private var queues: [Int: ByteRing] = [:]
    /// Slots whose descriptor was full at the last write (watched for POLLOUT).
    private var waiting: [Int: FileDescriptor] = [:]
    /// The descriptor that takes a slot's input now (its stdin pipe, or its
    /// pty master), nil while no process runs it.
    private let target: (_ slot: Int) -> FileDescriptor?

    init(target: @escaping (_ slot: Int) -> FileDescriptor?) {
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
                set.watch(fd, events: .writable)
                continue
            }
            // A slot whose process has just (re)started gets what waited for it.
            waiting[slot] = nil
            flush(slot, queue)
            if let fd = waiting[slot] { set.watch(fd, events: .writable) }
        }
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        for (slot, waitedFD) in waiting where waitedFD == fd {
            waiting[slot] = nil
            if let queue = queues[slot] { flush(slot, queue) }
        }
    }

    private func flush(_ slot: Int, _ queue: ByteRing) {
        while !queue.isEmpty {
            guard let fd = target(slot) else { return }
            let n: Int
            do throws(Errno) {
                n = try fd.write(queue.readable)
            } catch {
                if error == .wouldBlock {
                    waiting[slot] = fd
                    return
                }
                n = 0
            }
            if n > 0 {
                queue.consume(n)
            } else {
                // The child closed its stdin (EPIPE) or its terminal is gone
                // (EIO): nobody will read this.
                queue.removeAll()
            }
        }
        queues[slot] = nil
    }
}
