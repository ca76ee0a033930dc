import CSwiftman

/// A terminal's size in characters.
public struct WindowSize: Equatable, Sendable {
    public var rows: UInt16
    public var cols: UInt16

    public init(rows: UInt16, cols: UInt16) {
        self.rows = rows
        self.cols = cols
    }
}

extension FileDescriptor {
    /// The window size of this terminal; nil when it is not one (or has no size).
    public var windowSize: WindowSize? {
        var size = WindowSize(rows: 0, cols: 0)
        guard sm_get_winsize(rawValue, &size.rows, &size.cols) == 0 else { return nil }
        return size
    }

    /// Sets the window size of this terminal (its foreground group gets SIGWINCH).
    public func setWindowSize(_ size: WindowSize) throws(Errno) {
        try check(sm_set_winsize(rawValue, size.rows, size.cols))
    }
}

/// The terminal `swiftman connect` runs in, set up for an attach session.
public enum Terminal {
    /// Saves the settings of terminal `fd` and changes them for the session:
    /// raw (output still maps \n to \r\n) for an instance on a pty; otherwise
    /// line editing stays local and `detachKey` also ends a line. Restored
    /// by `restore()` and, failing that, at exit.
    public static func attach(_ fd: FileDescriptor, raw: Bool, detachKey: UInt8) throws(Errno) {
        try check(sm_tty_attach(fd.rawValue, raw ? 1 : 0, detachKey))
    }

    /// Puts back what `attach` changed (once; later calls do nothing).
    public static func restore() { sm_tty_restore() }
}

/// A pseudo-terminal for an instance under --tty.
public struct Pseudoterminal {
    /// Ours: non-blocking, close-on-exec.
    public let master: FileDescriptor
    /// The instance's (close-on-exec): it opens `path` again as its
    /// controlling terminal; ours is closed once it has started.
    public let slave: FileDescriptor
    /// The slave's path, as a C string.
    public let path: [CChar]

    /// Opens one of `size`, with output post-processing off so that lines
    /// end in "\n", not "\r\n".
    public static func open(size: WindowSize) throws(Errno) -> Pseudoterminal {
        var master: Int32 = -1, slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        try check(sm_openpty(&master, &slave, &name, name.count, size.rows, size.cols))
        return Pseudoterminal(master: FileDescriptor(rawValue: master), slave: FileDescriptor(rawValue: slave), path: name)
    }
}
