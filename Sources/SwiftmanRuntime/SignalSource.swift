import SwiftmanModel
import SwiftmanPlatform

/// A signalfd as a source: every signal it covers arrives as an event, never
/// as a handler running at an arbitrary point. Signals are raw numbers (the
/// platform's), `Signal(number)` in the model's terms.
public final class SignalSource: EventSource {
    let fd: SignalFD
    var onSignal: (_ signal: Int32, _ now: Int64) -> Void = { _, _ in }

    /// Takes over the signals `SignalTable` says `swiftman start` handles or
    /// ignores: call before anything else starts.
    public static func installForStart() {
        SignalSetup.install(blocking: SignalTable.startHandles.map(\.rawValue),
                            ignoring: SignalTable.startIgnores.map(\.rawValue))
    }

    /// The signals `swiftman start` handles (see `installForStart`).
    convenience init() throws(Diagnostic) {
        let fd: SignalFD
        do throws(Errno) {
            fd = try SignalSetup.openSignalFD()
        } catch {
            throw Diagnostic("signalfd", error.description)
        }
        self.init(fd)
    }

    /// Takes over `fd` (closed with the source).
    init(_ fd: SignalFD) { self.fd = fd }

    deinit { fd.close() }

    /// The next pending signal, or nil.
    func next() -> Int32? {
        (try? fd.next()) ?? nil
    }

    func register(in set: inout PollSet, now: Int64) {
        set.watch(fd.descriptor, events: .readable)
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        while let signal = next() { onSignal(signal, now) }
    }
}
