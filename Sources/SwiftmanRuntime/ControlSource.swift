import SwiftmanModel
import SwiftmanPlatform
import Glibc

/// The control socket's listener and clients as one source; requests are
/// carried out by `execute`.
final class ControlSource: EventSource {
    let server: ControlServer
    private let execute: (ControlRequest) -> ControlReply
    private var scratch: [pollfd] = []

    init(server: ControlServer, execute: @escaping (ControlRequest) -> ControlReply) {
        self.server = server
        self.execute = execute
    }

    func register(in set: inout PollSet, now: Int64) {
        // Served even while output is backed up: control never waits on stdout.
        scratch.removeAll(keepingCapacity: true)
        server.appendPollEntries(to: &scratch)
        for entry in scratch { set.watch(entry.fd, events: entry.events) }
    }

    func handle(fd: Int32, events: Int16, now: Int64) {
        _ = server.handle(fd: fd, now: now, execute: execute)
    }

    var nextDeadline: Int64? { server.nextDeadline }

    func due(now: Int64) { server.expire(now: now) }
}
