import SwiftmanModel
import SwiftmanPlatform

/// swiftman's stdout: the output queue written without ever blocking the loop.
/// Pipes and terminals get a private non-blocking re-open of fd 1 (the shared
/// file description is never touched); a socket is written with
/// send(MSG_DONTWAIT); regular files never block.
final class OutputSink: EventSource {
    let queue: OutputQueue
    private let fd: FileDescriptor
    /// `fd` is our own re-open of fd 1 (closed at the end), not fd 1 itself.
    private let reopened: Bool
    private let nonBlocking: Bool
    /// stdout is a socket (systemd's journal stream): it cannot be re-opened
    /// through /proc, so fd 1 itself is written with send(MSG_DONTWAIT).
    private let socket: Bool
    private(set) var blocked = false
    /// Nothing more is written (the reader went away, a write failed, or a
    /// second Ctrl-C gave up on a stalled reader): output is discarded.
    private(set) var closed = false
    /// The reader of our stdout went away (EPIPE, POLLERR).
    var onReaderGone: (_ now: Int64) -> Void = { _ in }
    /// A write failed for another reason (ENOSPC, EIO, EFBIG…).
    var onWriteFailed: (_ error: Errno, _ now: Int64) -> Void = { _, _ in }

    init(queue: OutputQueue) {
        self.queue = queue
        let own = FileDescriptor.reopenStandardOutputNonBlocking()
        fd = own ?? .standardOutput
        reopened = own != nil
        socket = own == nil && FileDescriptor.standardOutput.isSocket
        nonBlocking = reopened || socket
    }

    func register(in set: inout PollSet, now: Int64) {
        flush(now: now)
        guard !closed else { return }
        // Always watched: POLLERR tells us the reader of our stdout pipe is gone.
        let wantOut = nonBlocking && blocked && !queue.isEmpty
        set.watch(fd, events: wantOut ? .writable : [])
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        if events.contains(.writable) { blocked = false }
        if !events.isDisjoint(with: [.error, .hangUp]) { readerGone(now: now) }
    }

    func flush(now: Int64) {
        guard !queue.isEmpty, !blocked else { return }
        if closed { queue.discard(); return }
        switch OutputSink.write(queue, to: fd, socket: socket) {
        case .drained: break
        case .blocked: blocked = true
        case .closed: readerGone(now: now)
        case .failed(let error):
            guard !closed else { return }
            closed = true
            queue.discard()
            onWriteFailed(error, now)
        }
    }

    enum WriteResult: Equatable { case drained, blocked, closed, failed(Errno) }

    /// Writes as much of the queue as stdout takes without blocking: a
    /// non-blocking fd, or a socket written with send(MSG_DONTWAIT).
    static func write(_ queue: OutputQueue, to fd: FileDescriptor, socket: Bool = false) -> WriteResult {
        while !queue.isEmpty {
            let bytes = queue.pending
            do throws(Errno) {
                let n = socket ? try fd.send(bytes, nonBlocking: true) : try fd.write(bytes)
                guard n > 0 else { return .failed(.ioError) }
                queue.consume(n)
            } catch {
                if error == .wouldBlock { return .blocked }
                if error == .brokenPipe || error == .connectionReset { return .closed }
                return .failed(error)
            }
        }
        return .drained
    }

    /// Stops writing: what is queued now or later is dropped.
    func discard() {
        queue.discard()
        closed = true
    }

    private func readerGone(now: Int64) {
        guard !closed else { return }
        discard()
        onReaderGone(now)
    }

    /// Waits for stdout to take the queue, at exit. `giveUp` is asked while
    /// waiting (it reads the signals: a second SIGINT or SIGTERM) and, when
    /// true, what is still queued is dropped.
    func flushBlocking(signalFD: SignalFD, giveUp: () -> Bool) {
        var list = PollList()
        while !queue.isEmpty && !closed {
            blocked = false
            flush(now: monotonicNow())
            guard blocked else { continue }
            list.removeAll()
            list.append(fd, .writable)
            list.append(signalFD.descriptor, .readable)
            if !giveUp() {
                do throws(Errno) { try list.wait(timeoutMilliseconds: -1) } catch { return }
            }
            if giveUp() {
                discard()
                return
            }
        }
    }

    func close() {
        if reopened { fd.close() }
    }
}
