import SwiftmanModel
import SwiftmanPlatform

/// The `port`, `http:` and `cmd:` readiness checks, carried out by the event
/// loop: the kernel's socket tables (a listener on the port that belongs to the
/// instance's process group; a non-blocking connect polled for POLLOUT where
/// /proc cannot be read), a non-blocking `GET PATH` whose status line is read
/// (HTTPCheck), or `/bin/sh -c COMMAND` reaped by the runtime's waitpid loop; a failed attempt is retried after a short, growing delay. No thread and no sleep; at most `maxInFlight` attempts at
/// once, the rest wait their turn. (`line:` checks live in ChildOutput.)
final class ReadinessProbes: EventSource {
    static let maxInFlight = 16
    /// Port retries: 5 ms growing by half to 25 ms (a refused connect on
    /// loopback costs microseconds, and the step bounds the error of the
    /// measured time to ready); a connect that hangs is
    /// abandoned after 2 s.
    static let portFirstRetry: Int64 = 5_000_000
    static let portMaxRetry: Int64 = 25_000_000
    static let portAttemptLimit: Int64 = 2_000_000_000
    /// While another process holds the port: every 100 ms (each look walks /proc).
    static let portHeldRetry: Int64 = 100_000_000
    /// Command retries: 50 ms doubling to 1 s; a command still running after
    /// 10 s is killed and counts as a failure.
    static let commandFirstRetry: Int64 = 50_000_000
    static let commandMaxRetry: Int64 = 1_000_000_000
    static let commandAttemptLimit: Int64 = 10_000_000_000
    /// HTTP retries: 20 ms growing by half to 250 ms (a server answering 503
    /// while it boots gets a few requests a second); a try with no status
    /// line 2 s after it began fails.
    static let httpFirstRetry: Int64 = 20_000_000
    static let httpMaxRetry: Int64 = 250_000_000
    static let httpAttemptLimit: Int64 = 2_000_000_000

    private enum Kind {
        case port(Int, instance: String)
        case command(script: String, environment: [String])
        case http(port: Int, path: String, status: Int?, instance: String)
    }

    private final class Probe {
        /// The instance's leader.
        let pid: Int32
        let kind: Kind
        var nextAttempt: Int64
        var delay: Int64
        /// The connecting socket.
        var socket: FileDescriptor?
        /// The running command, or 0.
        var command: Int32 = 0
        var attemptDeadline: Int64 = 0
        var cancelled = false
        /// Port checks: listeners already looked up in every process (their
        /// holders, when found, were named once).
        var scanned: Set<SocketInode> = []
        /// HTTP tries: connected yet, the request and how much of it is
        /// sent, the reply's first bytes.
        var connecting = true
        var request: [UInt8] = []
        var sent = 0
        var received: [UInt8] = []
        /// A health check: one try, answered either way (no retries).
        var once = false
        /// The try in flight was abandoned at its deadline.
        var timedOut = false

        init(pid: Int32, kind: Kind, now: Int64) {
            self.pid = pid
            self.kind = kind
            nextAttempt = now
            switch kind {
            case .port: delay = ReadinessProbes.portFirstRetry
            case .command: delay = ReadinessProbes.commandFirstRetry
            case .http: delay = ReadinessProbes.httpFirstRetry
            }
        }

        var inFlight: Bool { socket != nil || command > 0 }
    }

    /// By instance leader.
    private var probes: [Int32: Probe] = [:]
    private var bySocket: [FileDescriptor: Probe] = [:]
    /// Running commands by pid, cancelled ones included until reaped.
    private var byCommand: [Int32: Probe] = [:]
    private var inFlight = 0
    private let spawner: Spawner
    /// The instance led by `pid` passed its check.
    var onReady: (_ pid: Int32, _ now: Int64) -> Void = { _, _ in }
    /// A health check of the instance led by `pid` passed or failed (why).
    var onHealth: (_ pid: Int32, _ passed: Bool, _ detail: String, _ now: Int64) -> Void = { _, _, _, _ in }
    /// Something the user should know while the check waits (who else holds the port).
    var onNote: (_ text: String) -> Void = { _ in }

    init(spawner: Spawner) { self.spawner = spawner }

    /// Runs `check` once for the instance led by `pid`: `onHealth` answers.
    func checkHealth(pid: Int32, check: ReadyCheck, port: Int, instance: String, environment: [String], now: Int64) {
        switch check {
        case .port: watchPort(pid: pid, port: port, instance: instance, now: now)
        case .http(let path, let status): watchHTTP(pid: pid, port: port, path: path, status: status, instance: instance, now: now)
        case .command(let script): watchCommand(pid: pid, script: script, environment: environment, now: now)
        case .line, .exit: return onHealth(pid, true, "", now)
        }
        probes[pid]?.once = true
    }

    func watchPort(pid: Int32, port: Int, instance: String, now: Int64) {
        cancel(pid: pid)
        probes[pid] = Probe(pid: pid, kind: .port(port, instance: instance), now: now)
    }

    func watchHTTP(pid: Int32, port: Int, path: String, status: Int?, instance: String, now: Int64) {
        cancel(pid: pid)
        probes[pid] = Probe(pid: pid, kind: .http(port: port, path: path, status: status, instance: instance), now: now)
    }

    func watchCommand(pid: Int32, script: String, environment: [String], now: Int64) {
        cancel(pid: pid)
        probes[pid] = Probe(pid: pid, kind: .command(script: script, environment: environment), now: now)
    }

    /// Stops checking the instance led by `pid`; a running command is killed
    /// (and reaped later, like any child).
    func cancel(pid: Int32) {
        guard let probe = probes.removeValue(forKey: pid) else { return }
        probe.cancelled = true
        endAttempt(probe)
    }

    private func endAttempt(_ probe: Probe) {
        if let socket = probe.socket {
            bySocket[socket] = nil
            socket.close()
            probe.socket = nil
            inFlight -= 1
        }
        probe.connecting = true
        probe.sent = 0
        probe.received.removeAll()
        if probe.command > 0 {
            // Stays in byCommand until reaped; the slot frees now.
            try? ProcessGroup(probe.command).send(Signal.kill.rawValue)
            probe.command = -probe.command
            inFlight -= 1
        }
    }

    func register(in set: inout PollSet, now: Int64) {
        for (fd, probe) in bySocket {
            set.watch(fd, events: probe.connecting || probe.sent < probe.request.count ? .writable : .readable)
        }
    }

    func handle(fd: FileDescriptor, events: PollEvents, now: Int64) {
        guard let probe = bySocket[fd] else { return }
        if case .http(let port, let path, let status, _) = probe.kind {
            exchange(probe, fd: fd, port: port, path: path, expected: status, now: now)
            return
        }
        let error = fd.pendingError
        endAttempt(probe)
        if let error { failed(probe, "\(error)", now: now) } else { ready(probe, now: now) }
    }

    var nextDeadline: Int64? {
        var next: Int64?
        for probe in probes.values {
            let deadline: Int64
            if probe.inFlight {
                deadline = probe.attemptDeadline
            } else if inFlight < ReadinessProbes.maxInFlight && probe.command >= 0 {
                deadline = probe.nextAttempt
            } else {
                continue
            }
            if next.map({ deadline < $0 }) ?? true { next = deadline }
        }
        return next
    }

    func due(now: Int64) {
        guard !probes.isEmpty else { return }
        for probe in probes.values where probe.inFlight && probe.attemptDeadline <= now {
            let command = probe.command
            probe.timedOut = true
            endAttempt(probe)
            // A hung connect is retried now; a killed command once reaped.
            if command == 0 { failed(probe, "timed out", now: now) }
        }
        let waiting = probes.values.filter { !$0.inFlight && $0.command == 0 && $0.nextAttempt <= now }
            .sorted { $0.nextAttempt < $1.nextAttempt }
        for probe in waiting where inFlight < ReadinessProbes.maxInFlight && !probe.cancelled {
            attempt(probe, now: now)
        }
    }

    /// A child was reaped: true when it was one of our commands.
    func reaped(pid: Int32, status: ExitStatus, now: Int64) -> Bool {
        guard let probe = byCommand.removeValue(forKey: pid) else { return false }
        if probe.command == pid { inFlight -= 1 }
        probe.command = 0
        guard !probe.cancelled else { return true }
        if status.isSuccess { ready(probe, now: now) } else { failed(probe, probe.timedOut ? "timed out" : "\(status)", now: now) }
        return true
    }

    private func attempt(_ probe: Probe, now: Int64) {
        switch probe.kind {
        case .port(let port, let instance):
            if let listeners = SocketTable.localListeners(port: port) {
                if listenerIsOwn(probe, listeners, port: port, instance: instance) {
                    ready(probe, now: now)
                } else {
                    failed(probe, "nothing of \(instance) listens on port \(port)", now: now)
                }
                return
            }
            guard let (fd, connected) = try? TCPSocket.connectLocal(port: port) else {
                failed(probe, "cannot connect to port \(port)", now: now)
                return
            }
            if connected {
                fd.close()
                ready(probe, now: now)
            } else {
                probe.socket = fd
                probe.attemptDeadline = now + ReadinessProbes.portAttemptLimit
                bySocket[fd] = probe
                inFlight += 1
            }
        case .http(let port, let path, _, let instance):
            // Only the instance's own listener is asked (a stale server's 200
            // is not this instance being ready); without /proc, whoever answers.
            // Health checks skip the look: it was its own when it became ready,
            // and the socket tables grow with every check's TIME_WAIT entry
            // (reading them at each check cost more than the check).
            if !probe.once, let listeners = SocketTable.localListeners(port: port),
               !listenerIsOwn(probe, listeners, port: port, instance: instance) {
                failed(probe, "nothing of \(instance) listens on port \(port)", now: now)
                return
            }
            guard let (fd, connected) = try? TCPSocket.connectLocal(port: port) else {
                failed(probe, "cannot connect to port \(port)", now: now)
                return
            }
            probe.socket = fd
            probe.connecting = !connected
            probe.request = HTTPCheck.request(path: path, port: port)
            probe.attemptDeadline = now + ReadinessProbes.httpAttemptLimit
            bySocket[fd] = probe
            inFlight += 1
        case .command(let script, let environment):
            switch spawner.spawn(script: script, extraEnvironment: environment, output: .discard) {
            case .success(let process):
                probe.command = process.id.rawValue
                probe.attemptDeadline = now + ReadinessProbes.commandAttemptLimit
                byCommand[process.id.rawValue] = probe
                inFlight += 1
            case .failure(let error):
                failed(probe, "cannot run the command: \(error)", now: now)
            }
        }
    }

    /// One step of an HTTP try on its socket: the connect's outcome, the
    /// request written, the status line read. Any failure (refused, reset,
    /// garbage, a status that does not pass) ends the try; the next comes
    /// after the retry delay.
    private func exchange(_ probe: Probe, fd: FileDescriptor, port: Int, path: String, expected: Int?, now: Int64) {
        if probe.connecting {
            if let error = fd.pendingError { return fail(probe, "\(error)", now: now) }
            probe.connecting = false
        }
        var failure: Errno?
        if probe.sent < probe.request.count {
            let sent = probe.request.withUnsafeBytes { bytes -> Int in
                do throws(Errno) { return try fd.write(UnsafeRawBufferPointer(rebasing: bytes[probe.sent...])) } catch {
                    failure = error
                    return 0
                }
            }
            if let failure, failure != .wouldBlock { return fail(probe, "\(failure)", now: now) }
            probe.sent += sent
            return
        }
        // Never more than a status line's worth: headers and body are not read.
        var chunk = [UInt8](repeating: 0, count: max(1, HTTPCheck.statusLineLimit + 1 - probe.received.count))
        let count = chunk.withUnsafeMutableBytes { buffer -> Int in
            do throws(Errno) { return try fd.read(into: buffer) } catch {
                failure = error
                return 0
            }
        }
        if let failure {
            if failure != .wouldBlock { fail(probe, "\(failure)", now: now) }
            return
        }
        probe.received += chunk[..<count]
        switch HTTPCheck.reply(probe.received, ended: count == 0) {
        case .incomplete: return
        case .status(let status) where HTTPCheck.passes(status, expected: expected):
            endAttempt(probe)
            ready(probe, now: now)
        case .status(let status):
            fail(probe, String(status), now: now)
        case .invalid(let reason):
            fail(probe, reason, now: now)
        }
    }

    private func fail(_ probe: Probe, _ detail: String, now: Int64) {
        endAttempt(probe)
        failed(probe, detail, now: now)
    }

    /// A try failed: a ready check is retried later; a health check answers.
    private func failed(_ probe: Probe, _ detail: String, now: Int64) {
        probe.timedOut = false
        guard probe.once else { return retry(probe, now: now) }
        guard probes[probe.pid] === probe else { return }
        probes[probe.pid] = nil
        onHealth(probe.pid, false, detail, now)
    }

    /// Whether one of `listeners` (on `port`, reached from localhost) belongs to
    /// the instance's process group. Listeners first seen are looked up in
    /// every process once, and their holders named: another process holding
    /// the port is not this instance being ready.
    private func listenerIsOwn(_ probe: Probe, _ listeners: [TCPListener], port: Int, instance: String) -> Bool {
        let inodes = Set(listeners.map(\.inode))
        guard !inodes.isEmpty else { return false }
        let group = ProcessGroup(probe.pid)
        if ProcessTable.group(group, holdsAnyOf: inodes) { return true }
        probe.delay = max(probe.delay, ReadinessProbes.portHeldRetry)
        let new = inodes.subtracting(probe.scanned)
        guard !new.isEmpty else { return false }
        probe.scanned.formUnion(new)
        let holders = ProcessTable.holders(of: new)
        // It may have started listening since the first look.
        if holders.values.contains(where: { $0.group == group }) { return true }
        var named: Set<ProcessID> = []
        for inode in new.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let holder = holders[inode] else {
                onNote("port \(port) is held by a process swiftman cannot look into (another user's?), not by \(instance)")
                continue
            }
            if named.insert(holder.pid).inserted {
                onNote("port \(port) is held by pid \(holder.pid) (\(holder.name)), not by \(instance)")
            }
        }
        return false
    }

    private func retry(_ probe: Probe, now: Int64) {
        probe.nextAttempt = now + probe.delay
        switch probe.kind {
        case .port: probe.delay = min(probe.delay * 3 / 2, ReadinessProbes.portMaxRetry)
        case .command: probe.delay = min(probe.delay * 2, ReadinessProbes.commandMaxRetry)
        case .http: probe.delay = min(probe.delay * 3 / 2, ReadinessProbes.httpMaxRetry)
        }
    }

    private func ready(_ probe: Probe, now: Int64) {
        guard probes[probe.pid] === probe else { return }
        probes[probe.pid] = nil
        if probe.once { return onHealth(probe.pid, true, "", now) }
        onReady(probe.pid, now)
    }
}
