import SwiftmanModel
import SwiftmanPlatform
import Glibc

/// Something the event loop watches: child pipes, signals, stdout, control
/// clients, timers. Each turn a source names the descriptors it wants polled
/// and when it next needs a turn without I/O; it then handles its ready
/// descriptors and whatever has come due.
protocol EventSource: AnyObject {
    /// Adds the descriptors to poll this turn (called before every poll).
    func register(in set: inout PollSet, now: Int64)
    /// One of its descriptors is ready (`events` are poll revents).
    func handle(fd: Int32, events: Int16, now: Int64)
    /// The earliest moment it needs a turn even without I/O.
    var nextDeadline: Int64? { get }
    /// Called after every poll: do what has come due.
    func due(now: Int64)
}

extension EventSource {
    var nextDeadline: Int64? { nil }
    func due(now: Int64) {}
}

/// The descriptors of one poll(2) call and the source each belongs to.
struct PollSet {
    fileprivate(set) var entries: [pollfd] = []
    fileprivate var owners: [Int] = []
    fileprivate var owner = 0

    mutating func watch(_ fd: Int32, events: Int16) {
        entries.append(pollfd(fd: fd, events: events, revents: 0))
        owners.append(owner)
    }
}

/// The one loop: a single thread around poll(2), no thread per child and no
/// periodic tick. It knows nothing of processes; the runtime gives it sources.
final class EventLoop {
    private var sources: [EventSource] = []
    private var set = PollSet()

    func add(_ source: EventSource) { sources.append(source) }

    /// Turns until `finished` says so (asked before each poll). `wake` runs
    /// right after each poll returns, before any source handles anything.
    /// Returns nil when finished, or the errno of a poll(2) that failed.
    func run(wake: (Int64) -> Void, finished: (Int64) -> Bool) -> Int32? {
        var now = monotonicNow()
        while !finished(now) {
            set.entries.removeAll(keepingCapacity: true)
            set.owners.removeAll(keepingCapacity: true)
            var next: Int64?
            for index in sources.indices {
                set.owner = index
                sources[index].register(in: &set, now: now)
                if let deadline = sources[index].nextDeadline, next.map({ deadline < $0 }) ?? true { next = deadline }
            }
            let timeout = next.map { Int32(clamping: max(0, ($0 - now + 999_999) / 1_000_000)) } ?? -1
            let ready = poll(&set.entries, nfds_t(set.entries.count), timeout)
            let error = errno
            if ready < 0 && error != EINTR { return error }
            now = monotonicNow()
            wake(now)
            if ready > 0 {
                for i in set.entries.indices where set.entries[i].revents != 0 {
                    sources[set.owners[i]].handle(fd: set.entries[i].fd, events: set.entries[i].revents, now: now)
                }
            }
            for source in sources { source.due(now: now) }
        }
        return nil
    }
}
