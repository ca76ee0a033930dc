import CSwiftman

/// A signalfd: blocked signals arrive as reads, never as a handler running at
/// an arbitrary point. Non-blocking and close-on-exec.
public struct SignalFD: Sendable {
    public let descriptor: FileDescriptor

    /// Delivers the signals of `mask` (which must be blocked: `mask.block()`).
    public static func open(_ mask: SignalMask) throws(Errno) -> SignalFD {
        var set = mask.set
        let fd = sm_signalfd(&set)
        if fd < 0 { throw Errno.current }
        return SignalFD(descriptor: FileDescriptor(rawValue: fd))
    }

    /// The next pending signal's number, or nil when none is pending.
    public func next() throws(Errno) -> Int32? {
        let signal = sm_signalfd_next(descriptor.rawValue)
        if signal < 0 { throw Errno.current }
        return signal > 0 ? signal : nil
    }

    public func close() { descriptor.close() }
}
