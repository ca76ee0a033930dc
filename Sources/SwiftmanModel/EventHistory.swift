/// The lifecycle events of a formation so far, newest last, at most `limit`
/// (the oldest go first): what `swiftman events` prints before following.
public final class EventHistory {
    public static let defaultLimit = 10_000
    public let limit: Int
    private var events: [(time: Int, event: LifecycleEvent)] = []
    private var head = 0

    public init(limit: Int = EventHistory.defaultLimit) {
        self.limit = max(1, limit)
    }

    /// Keeps `event`, which happened at `time` (ms since the epoch).
    public func append(_ event: LifecycleEvent, time: Int) {
        events.append((time, event))
        if events.count - head > limit { head += 1 }
        if head > 1024 && head * 2 > events.count {
            events.removeFirst(head)
            head = 0
        }
    }

    /// Every event kept, oldest first.
    public var all: [(time: Int, event: LifecycleEvent)] { Array(events[head...]) }
}
