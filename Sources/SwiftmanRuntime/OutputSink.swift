import SwiftmanModel
import SwiftmanPlatform
import Glibc
import CSwiftman

/// swiftman's stdout: the output queue written without ever blocking the loop.
/// Pipes and terminals get a private non-blocking re-open of fd 1 (the shared
/// file description is never touched); a socket is written with
/// send(MSG_DONTWAIT); regular files never block.
final class OutputSink: EventSource {
    let queue: OutputQueue
    private let fd: Int32
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
    /// A write failed for another reason (ENOSPC, EIO, EFBIG…): errno.
    var onWriteError: (_ code: Int32, _ now: Int64) -> Void = { _, _ in }

    init(queue: OutputQueue) {
        self.queue = queue
        let reopened = sm_reopen_stdout_nonblocking()
        fd = reopened >= 0 ? reopened : 1
        socket = reopened < 0 && sm_is_socket(1) != 0
        nonBlocking = reopened >= 0 || socket
    }

    func register(in set: inout PollSet, now: Int64) {
        flush(now: now)
        guard !closed else { return }
        // Always watched: POLLERR tells us the reader of our stdout pipe is gone.
        let wantOut = nonBlocking && blocked && !queue.isEmpty
        set.watch(fd, events: wantOut ? Int16(POLLOUT) : 0)
    }

    func handle(fd: Int32, events: Int16, now: Int64) {
        if events & Int16(POLLOUT) != 0 { blocked = false }
        if events & Int16(POLLERR | POLLHUP) != 0 { readerGone(now: now) }
    }

    func flush(now: Int64) {
        guard !queue.isEmpty, !blocked else { return }
        if closed { queue.discard(); return }
        switch OutputSink.write(queue, to: fd, socket: socket) {
        case .drained: break
        case .blocked: blocked = true
        case .closed: readerGone(now: now)
        case .failed(let code):
            guard !closed else { return }
            closed = true
            queue.discard()
            onWriteError(code, now)
        }
    }

    enum WriteResult: Equatable { case drained, blocked, closed, failed(Int32) }

    /// Writes as much of the queue as stdout takes without blocking: a
    /// non-blocking fd, or a socket written with send(MSG_DONTWAIT).
    static func write(_ queue: OutputQueue, to fd: Int32, socket: Bool = false) -> WriteResult {
        while !queue.isEmpty {
            let bytes = queue.pending
            let n = socket ? sm_send_nonblocking(fd, bytes.baseAddress, bytes.count) : Glibc.write(fd, bytes.baseAddress, bytes.count)
            if n > 0 {
                queue.consume(n)
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .blocked }
            if n < 0 && (errno == EPIPE || errno == ECONNRESET) { return .closed }
            return .failed(n < 0 ? errno : EIO)
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
    func flushBlocking(signalFD: Int32, giveUp: () -> Bool) {
        while !queue.isEmpty && !closed {
            blocked = false
            flush(now: monotonicNow())
            guard blocked else { continue }
            var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
            if !giveUp() && poll(&fds, 2, -1) < 0 && errno != EINTR { return }
            if giveUp() {
                discard()
                return
            }
        }
    }

    func close() {
        if fd != 1 { Glibc.close(fd) }
    }
}
