import SwiftmanModel
import SwiftmanPlatform
import Glibc
import CSwiftman

/// `start --input TARGET`: swiftman's stdin (a terminal in canonical mode, or
/// a pipe for scripted sessions), read without blocking the loop and passed on
/// line by line to one instance. Pipes and terminals get a private
/// non-blocking re-open of fd 0 (the shared description is never touched);
/// anything else is read only when poll says it is readable.
///
/// At end of input swiftman stops reading, and the instance's stdin stays open:
/// end of input means "nothing more to type", not "stop" (a child that exits at
/// EOF on stdin, as `esbuild --watch` does, keeps running).
final class InputSource: EventSource {
    private var fd: Int32
    private let reopened: Bool
    private let slot: Int
    private let input: ChildInput
    private var lines = InputLines()
    private(set) var open = true
    /// Input ended (`nil`) or failed (errno).
    var onEnd: (_ error: Int32?) -> Void = { _ in }
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)

    init(slot: Int, input: ChildInput) {
        self.slot = slot
        self.input = input
        let fd = sm_reopen_stdin_nonblocking()
        reopened = fd >= 0
        self.fd = reopened ? fd : 0
    }

    deinit {
        buffer.deallocate()
        stop()
    }

    func register(in set: inout PollSet, now: Int64) {
        if open { set.watch(fd, events: Int16(POLLIN)) }
    }

    func handle(fd: Int32, events: Int16, now: Int64) {
        guard open else { return }
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n > 0 {
            let out = lines.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            input.send(slot: slot, out)
        } else if n == 0 {
            input.send(slot: slot, lines.finish())
            stop()
            onEnd(nil)
        } else if errno != EAGAIN && errno != EINTR {
            // EIO: a terminal we no longer may read (swiftman in the background
            // of a shell's job control, or the terminal hung up).
            let code = errno
            stop()
            onEnd(code)
        }
    }

    func stop() {
        guard open else { return }
        open = false
        if reopened { close(fd) }
        fd = -1
    }
}
