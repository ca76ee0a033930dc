import SwiftmanModel
import SwiftmanPlatform

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
    private var fd: FileDescriptor?
    private let reopened: Bool
    private let slot: Int
    private let input: ChildInput
    private var lines = InputLines()
    private(set) var open = true
    /// Input ended (`nil`) or failed.
    var onFinished: (_ error: Errno?) -> Void = { _ in }
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)

    init(slot: Int, input: ChildInput) {
        self.slot = slot
        self.input = input
        let own = FileDescriptor.reopenStandardInputNonBlocking()
        reopened = own != nil
        fd = own ?? .standardInput
    }

    deinit {
        buffer.deallocate()
        stop()
    }

    func register(in set: inout PollSet, now: Int64) {
        if open, let fd { set.watch(fd, events: .readable) }
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        guard open else { return }
        do throws(Errno) {
            let n = try fd.read(into: buffer)
            if n > 0 {
                let out = lines.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                input.send(slot: slot, out)
            } else {
                input.send(slot: slot, lines.finish())
                stop()
                onFinished(nil)
            }
        } catch {
            guard error != .wouldBlock else { return }
            // EIO: a terminal we no longer may read (swiftman in the background
            // of a shell's job control, or the terminal hung up).
            stop()
            onFinished(error)
        }
    }

    func stop() {
        guard open else { return }
        open = false
        if reopened { fd?.close() }
        fd = nil
    }
}
