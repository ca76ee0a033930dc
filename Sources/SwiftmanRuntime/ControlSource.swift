import SwiftmanModel
import SwiftmanPlatform

/// The control socket's listener and clients as one source; requests are
/// carried out by `execute`.
final class ControlSource: EventSource {
    let server: ControlServer
    private let execute: (ControlRequest) -> ControlReply

    init(server: ControlServer, execute: @escaping (ControlRequest) -> ControlReply) {
        self.server = server
        self.execute = execute
    }

    func register(in set: inout PollSet, now: Int64) {
        // Served even while output is backed up: control never waits on stdout.
        server.register(in: &set)
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        _ = server.handle(fd: fd, now: now, execute: execute)
    }

    var nextDeadline: Int64? { server.nextDeadline }

    func due(now: Int64) { server.expire(now: now) }
}
