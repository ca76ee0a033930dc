import Glibc

/// poll(2) event bits, requested and returned.
public struct PollEvents: OptionSet, Hashable, Sendable {
    public let rawValue: Int16
    @inlinable public init(rawValue: Int16) { self.rawValue = rawValue }

    @inlinable public static var readable: PollEvents { PollEvents(rawValue: Int16(POLLIN)) }
    @inlinable public static var writable: PollEvents { PollEvents(rawValue: Int16(POLLOUT)) }
    /// Returned only: an error on the descriptor (for a pipe's write end:
    /// its reader is gone).
    @inlinable public static var error: PollEvents { PollEvents(rawValue: Int16(POLLERR)) }
    /// Returned only: the other end hung up.
    @inlinable public static var hangUp: PollEvents { PollEvents(rawValue: Int16(POLLHUP)) }
}

/// The descriptors of one poll(2) call, in the order they were added; after
/// `wait`, what each is ready for. Reused from turn to turn without
/// allocating (`removeAll` keeps the storage).
public struct PollList {
    @usableFromInline var entries: [pollfd] = []

    public init() {}

    @inlinable public var count: Int { entries.count }
    @inlinable public var isEmpty: Bool { entries.isEmpty }

    @inlinable
    public mutating func append(_ fd: FileDescriptor, _ events: PollEvents) {
        entries.append(pollfd(fd: fd.rawValue, events: events.rawValue, revents: 0))
    }

    @inlinable
    public mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    @inlinable public func descriptor(at index: Int) -> FileDescriptor { FileDescriptor(rawValue: entries[index].fd) }
    @inlinable public func requested(at index: Int) -> PollEvents { PollEvents(rawValue: entries[index].events) }
    /// What the last `wait` found (empty before it).
    @inlinable public func returned(at index: Int) -> PollEvents { PollEvents(rawValue: entries[index].revents) }

    /// poll(2): waits until a descriptor is ready or `timeoutMilliseconds`
    /// have passed (-1: no limit). Returns how many are ready; 0 on timeout
    /// or when a signal interrupted the wait.
    @discardableResult
    public mutating func wait(timeoutMilliseconds: Int32) throws(Errno) -> Int {
        let ready = poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        if ready >= 0 { return Int(ready) }
        let code = errno
        if code == EINTR { return 0 }
        throw Errno(code)
    }
}
