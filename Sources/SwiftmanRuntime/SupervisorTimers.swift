import SwiftmanModel
import SwiftmanPlatform

/// The supervisor's timers (restart backoff, grace deadlines, ready timeouts)
/// as a source: when one is due, the supervisor gets `.timers`.
final class SupervisorTimers: EventSource {
    private unowned let supervisor: Supervisor
    private let due: (_ now: Int64) -> Void

    init(_ supervisor: Supervisor, due: @escaping (_ now: Int64) -> Void) {
        self.supervisor = supervisor
        self.due = due
    }

    func register(in set: inout PollSet, now: Int64) {}
    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {}
    var nextDeadline: Int64? { supervisor.nextDeadline }

    func due(now: Int64) {
        if let deadline = supervisor.nextDeadline, deadline <= now { due(now) }
    }
}
