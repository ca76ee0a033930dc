import SwiftmanModel
import SwiftmanPlatform
import Glibc
import CSwiftman

/// The signalfd: every handled signal arrives here as an event, never as a
/// handler running at an arbitrary point.
final class SignalSource: EventSource {
    let fd: Int32
    var onSignal: (_ signal: Int32, _ now: Int64) -> Void = { _, _ in }

    init() throws(Diagnostic) {
        fd = SignalSetup.openSignalFD()
        guard fd >= 0 else { throw Diagnostic("signalfd", errnoDescription()) }
    }

    deinit { close(fd) }

    /// The next pending signal, or nil.
    func next() -> Int32? {
        let signal = sm_signalfd_next(fd)
        return signal > 0 ? signal : nil
    }

    func register(in set: inout PollSet, now: Int64) {
        set.watch(fd, events: Int16(POLLIN))
    }

    func handle(fd: Int32, events: Int16, now: Int64) {
        while let signal = next() { onSignal(signal, now) }
    }
}
