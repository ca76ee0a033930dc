import SwiftmanModel
import SwiftmanPlatform

/// Something the event loop watches: child pipes, signals, stdout, control
/// clients, timers. Each turn a source names the descriptors it wants polled
/// and when it next needs a turn without I/O; it then handles its ready
/// descriptors and whatever has come due.
protocol EventSource: AnyObject {
    /// Adds the descriptors to poll this turn (called before every poll).
    func register(in set: inout PollSet, now: Int64)
    /// One of its descriptors is ready for `events`.
    func handle(fd: FileDescriptor, events: PollEvents, now: Int64)
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
    fileprivate(set) var list = PollList()
    fileprivate var owners: [Int] = []
    fileprivate var owner = 0

    mutating func watch(_ fd: FileDescriptor, events: PollEvents) {
        list.append(fd, events)
        owners.append(owner)
    }

    /// What is watched this turn, in order.
    var watched: [(fd: FileDescriptor, events: PollEvents)] {
        (0..<list.count).map { (list.descriptor(at: $0), list.requested(at: $0)) }
    }
}

/// The one loop: a single thread around poll(2), no thread per child and no
/// periodic tick. It knows nothing of processes; its owner gives it sources.
final class EventLoop {
    private var sources: [EventSource] = []
    private var set = PollSet()

    func add(_ source: EventSource) { sources.append(source) }

    /// Turns until `finished` says so (asked before each poll). `wake` runs
    /// right after each poll returns, before any source handles anything.
    /// Returns nil when finished, or the error of a poll(2) that failed.
    func run(wake: (Int64) -> Void, until finished: (Int64) -> Bool) -> Errno? {
        var now = monotonicNow()
        while !finished(now) {
            set.list.removeAll()
            set.owners.removeAll(keepingCapacity: true)
            var next: Int64?
            for index in sources.indices {
                set.owner = index
                sources[index].register(in: &set, now: now)
                if let deadline = sources[index].nextDeadline, next.map({ deadline < $0 }) ?? true { next = deadline }
            }
            let timeout = next.map { Int32(clamping: max(0, ($0 - now + 999_999) / 1_000_000)) } ?? -1
            let ready: Int
            do throws(Errno) {
                ready = try set.list.wait(timeoutMilliseconds: timeout)
            } catch {
                return error
            }
            now = monotonicNow()
            wake(now)
            if ready > 0 {
                for i in 0..<set.list.count {
                    let events = set.list.returned(at: i)
                    if !events.isEmpty { sources[set.owners[i]].handle(fd: set.list.descriptor(at: i), events: events, now: now) }
                }
            }
            for source in sources { source.due(now: now) }
        }
        return nil
    }
}
