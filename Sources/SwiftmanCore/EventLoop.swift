#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSwiftman

/// Monotonic time in nanoseconds.
public func monotonicNow() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Everything `swiftman start` needs, resolved and validated by the CLI.
public struct RunConfig: Sendable {
    public var plan: FormationPlan
    /// Working directory of every child.
    public var root: String
    /// The children's base environment: inherited, overridden by env files.
    public var environment: [String: String]
    public var supervisor: SupervisorConfig
    public var style: OutputStyle
    /// Types whose children run on their own pseudo-terminal (--tty).
    public var tty: TTYSelection
    /// The control socket, and the private directory to create for it (nil
    /// when the user chose the path); no socket when `controlSocket` is nil.
    public var controlSocket: String?
    public var controlDirectory: String?

    public init(plan: FormationPlan, root: String, environment: [String: String],
                supervisor: SupervisorConfig, style: OutputStyle, tty: TTYSelection = .none,
                controlSocket: String? = nil, controlDirectory: String? = nil) {
        self.plan = plan
        self.root = root
        self.environment = environment
        self.supervisor = supervisor
        self.style = style
        self.tty = tty
        self.controlSocket = controlSocket
        self.controlDirectory = controlDirectory
    }
}

/// `--tty` (every type) or `--tty web,worker`.
public enum TTYSelection: Equatable, Sendable {
    case none
    case all
    case types(Set<String>)

    public func includes(_ type: String) -> Bool {
        switch self {
        case .none: return false
        case .all: return true
        case .types(let set): return set.contains(type)
        }
    }
}

/// Signals the loop handles through its signalfd. They are blocked in every
/// thread before anything else starts, so none is lost and no handler runs.
public enum SignalSetup {
    public static let handled: [Int32] = [SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH]

    /// Blocks the handled signals and ignores SIGPIPE (writes to a closed
    /// stdout then fail with EPIPE) and SIGTTIN/SIGTTOU. Call first thing.
    public static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        sigprocmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
        signal(SIGTTIN, SIG_IGN)
        signal(SIGTTOU, SIG_IGN)
    }

    static func openSignalFD() -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for s in handled { sigaddset(&set, s) }
        return sm_signalfd(&set)
    }
}

/// The one event loop: child pipes, stdout, signals, child exits and timers,
/// all in a single thread around poll(2). It is also the supervisor's host.
public final class EventLoop: SupervisorHost {
    private let config: RunConfig
    private let queue = OutputQueue()
    private let framer: LineFramer
    private var supervisor: Supervisor!
    private let signalFD: Int32
    private let devNull: Int32
    /// Where output goes: a private non-blocking fd for pipes and terminals,
    /// else fd 1 itself (regular files never block).
    private let outFD: Int32
    private let outNonBlocking: Bool
    private var outBlocked = false
    private var outClosed = false
    /// A second SIGINT/SIGTERM arrived during shutdown: exit without waiting
    /// for a stalled stdout reader.
    private var impatient = false

    /// Open child pipes and pty masters (read ends) → label, and the ones each
    /// live child writes to.
    private var pipes: [Int32: Int] = [:]
    private var pipesByPid: [Int32: [Int32]] = [:]
    /// Per instance slot: the labels of its stdout and stderr (the same one
    /// unless the JSON format must tell the streams apart).
    private var labelsBySlot: [(out: Int, err: Int)] = []
    /// Exits not yet reported because the child's last output is still being
    /// relayed: per pid, the bytes each of its pipes held when it was reaped.
    private var pendingExits: [Int32: (status: ExitStatus, unread: [Int32: Int])] = [:]
    /// Pty masters, to pass on window size changes.
    private var ttyMasters: Set<Int32> = []
    private let readBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: EventLoop.readSize)
    private static let readSize = 1 << 16

    private let baseEnvironment: [UnsafeMutablePointer<CChar>?]
    private let rootPath: String
    private var orphansSignalled: [Int32: Int32] = [:]
    private let selfPid = getpid()
    private var pollFDs: [pollfd] = []
    private var control: ControlServer?

    public init(config: RunConfig) throws(Diagnostic) {
        self.config = config
        try EventLoop.ensureDescriptors(for: config)
        framer = LineFramer(queue: queue, style: config.style)
        if let path = config.controlSocket {
            control = try ControlServer(path: path, defaultDirectory: config.controlDirectory)
        }
        signalFD = SignalSetup.openSignalFD()
        guard signalFD >= 0 else { throw Diagnostic("signalfd", errnoDescription()) }
        devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { throw Diagnostic("/dev/null", errnoDescription()) }
        let reopened = sm_reopen_stdout_nonblocking()
        outFD = reopened >= 0 ? reopened : 1
        outNonBlocking = reopened >= 0
        rootPath = config.root
        baseEnvironment = config.environment
            .filter { $0.key != "PORT" && $0.key != "PS" }
            .sorted { $0.key < $1.key }
            .map { strdup("\($0.key)=\($0.value)") }
        // Orphans re-parent to us, so we can reap them and stop them at shutdown.
        _ = sm_set_child_subreaper()
        let specs = config.plan.instances
        framer.reserveWidth(specs.map { $0.name.utf8.count }.max() ?? 0)
        for (slot, spec) in specs.enumerated() { addLabels(slot: slot, spec) }
        supervisor = Supervisor(plan: config.plan, config: config.supervisor, host: self)
    }

    /// Raises the soft descriptor limit as far as the formation needs (one fd
    /// per child, two in JSON format, plus control clients and our own), never
    /// past the hard limit; refuses to start when even that is too low.
    static func ensureDescriptors(for config: RunConfig) throws(Diagnostic) {
        let perChild = config.style.format == .json ? 2 : 1
        let needed = config.plan.instances.count * perChild + ControlServer.maxClients + 16
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(needed) else { return }
        let raised = min(rlim_t(needed), limit.rlim_max)
        limit.rlim_cur = raised
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        if raised < rlim_t(needed) {
            throw Diagnostic("--formation", "\(config.plan.instances.count) instances need about \(needed) file descriptors, but the limit is \(raised) (raise it with ulimit -n)")
        }
    }

    /// Output labels for an instance slot: one, or stdout and stderr apart in
    /// JSON. Slots added by `scale` get theirs when first spawned.
    private func addLabels(slot: Int, _ spec: InstanceSpec) {
        guard slot == labelsBySlot.count else { return }
        let out = framer.addLabel(name: spec.name, typeIndex: spec.typeIndex, stream: "stdout")
        if config.style.format == .json && !config.tty.includes(spec.type) {
            labelsBySlot.append((out, framer.addLabel(name: spec.name, typeIndex: spec.typeIndex, stream: "stderr")))
        } else {
            labelsBySlot.append((out, out))
        }
    }

    deinit {
        readBuffer.deallocate()
        for p in baseEnvironment { free(p) }
    }

    /// Runs the formation until it has stopped; returns the exit code.
    public func run() -> Int32 {
        var now = monotonicNow()
        framer.clock.update()
        supervisor.start(now: now)
        while true {
            flushOutput()
            if supervisor.isFinished {
                guard reapChildren(now: now) else { break }
                // Every instance is gone but children remain: orphans that were
                // re-parented to us while their parents died. They get the signal
                // too (once per signal; SIGKILL after the grace timeout).
                if case .stopping(_, let killed) = supervisor.phase {
                    signalOrphans(killed ? SIGKILL : config.supervisor.stopSignal.fallback)
                }
            }
            let timeout = pollTimeout(now: now)
            let ready = poll(&pollFDs, nfds_t(pollFDs.count), timeout)
            now = monotonicNow()
            framer.clock.update()
            if ready < 0 && errno != EINTR { break }
            if ready > 0 { handleReady(now: now) }
            // While stdout is backed up the pipes are not read, so a "quiet"
            // child may just be unread: its partial line waits.
            if !queue.isFull { framer.flushDuePartials(now: now) }
            control?.expire(now: now)
            supervisor.tick(now: now)
        }
        control?.close()
        drainAllPipes()
        finalFlush()
        return supervisor.exitCode
    }

    // MARK: poll set

    private func pollTimeout(now: Int64) -> Int32 {
        pollFDs.removeAll(keepingCapacity: true)
        pollFDs.append(pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0))
        // Always watched: POLLERR tells us the reader of our stdout pipe is gone.
        let wantOut = outNonBlocking && outBlocked && !queue.isEmpty
        pollFDs.append(pollfd(fd: outClosed ? -1 : outFD, events: wantOut ? Int16(POLLOUT) : 0, revents: 0))
        if !queue.isFull {
            for fd in pipes.keys { pollFDs.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        }
        // Served even while output is backed up: control never waits on stdout.
        control?.appendPollEntries(to: &pollFDs)
        let partial = queue.isFull ? nil : framer.nextPartialDeadline
        let deadlines = [supervisor.nextDeadline, partial, control?.nextDeadline].compactMap { $0 }
        guard let next = deadlines.min() else { return -1 }
        let ms = (next - now + 999_999) / 1_000_000
        return Int32(clamping: max(0, ms))
    }

    private func handleReady(now: Int64) {
        for entry in pollFDs where entry.revents != 0 {
            if entry.fd == signalFD {
                handleSignals(now: now)
            } else if entry.fd == outFD {
                if entry.revents & Int16(POLLOUT) != 0 { outBlocked = false }
                if entry.revents & Int16(POLLERR | POLLHUP) != 0 { outputClosed(now: now) }
            } else if pipes[entry.fd] != nil {
                readPipe(entry.fd, now: now)
            } else {
                _ = control?.handle(fd: entry.fd, now: now, execute: execute)
            }
        }
    }

    /// Carries out a control request.
    private func execute(_ request: ControlRequest) -> ControlReply {
        let now = monotonicNow()
        do throws(ControlFailure) {
            switch request {
            case .hello:
                return .ok(["pid=\(selfPid)", "root=\(config.root)", "protocol=\(ControlRequest.version)"])
            case .ps:
                return .ok(supervisor.snapshot(now: now).map(\.encoded))
            case .scale(let items):
                // All or nothing: every type is checked before anything changes.
                for item in items where config.plan.procfile.index(of: item.type) == nil {
                    throw ControlFailure("unknown process type \"\(item.type)\" (Procfile has: \(config.plan.procfile.typeNames))")
                }
                var lines: [String] = []
                for item in items { lines.append(try supervisor.scale(item.type, to: item.count, now: now)) }
                system("scaled \(lines.joined(separator: ", ")) on request")
                return .ok(lines)
            case .restart(let target):
                let names = try supervisor.restart(target, now: now)
                system("restarting \(names.joined(separator: ", ")) on request")
                return .ok(names)
            case .stop(let target):
                let names = try supervisor.stop(target, now: now)
                system("stopping \(names.joined(separator: ", ")) on request")
                return .ok(names)
            }
        } catch {
            return .error(error.description)
        }
    }

    private func handleSignals(now: Int64) {
        while true {
            let signo = sm_signalfd_next(signalFD)
            if signo <= 0 { return }
            switch signo {
            case SIGCHLD: _ = reapChildren(now: now)
            case SIGUSR1, SIGUSR2: supervisor.forward(signal: signo)
            case SIGWINCH: resizeTerminals()
            default:
                if supervisor.phase != .running && signo != SIGHUP {
                    impatient = true
                    // A stalled reader no longer holds anything up: output is
                    // dropped, so leftover child output (and exits) flow again.
                    if outBlocked {
                        queue.discard()
                        outClosed = true
                    }
                }
                supervisor.requestStop(signal: signo, now: now)
            }
        }
    }

    // MARK: child output

    /// Reads one chunk. Returns false at EOF or error (the pipe is closed then).
    @discardableResult
    private func readPipe(_ fd: Int32, now: Int64) -> Bool {
        let n = read(fd, readBuffer, EventLoop.readSize)
        if n > 0 {
            if !outClosed { framer.ingest(stream: Int(fd), readBuffer, n, now: now) }
            consumed(n, from: fd)
            return true
        }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return true }
        closePipe(fd)
        return false
    }

    private func closePipe(_ fd: Int32) {
        framer.close(stream: Int(fd))
        pipes[fd] = nil
        ttyMasters.remove(fd)
        close(fd)
        consumed(0, from: fd, closed: true)
    }

    /// Reads what a pipe holds right now, until EAGAIN, EOF or a full output
    /// queue (the loop reads the rest once stdout has caught up). Never blocks.
    private func drain(_ fd: Int32) {
        while pipes[fd] != nil && !queue.isFull {
            let n = read(fd, readBuffer, EventLoop.readSize)
            if n > 0 {
                if !outClosed { framer.ingest(stream: Int(fd), readBuffer, n, now: monotonicNow()) }
                consumed(n, from: fd)
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                return
            } else {
                closePipe(fd)
            }
        }
    }

    /// At exit: everything still in the pipes goes out, waiting for stdout as
    /// needed. Writers that outlived us (escaped the group) are not waited for.
    private func drainAllPipes() {
        for fd in Array(pipes.keys) {
            while pipes[fd] != nil {
                drain(fd)
                guard queue.isFull else { break }
                flushOutputBlocking()
                if outClosed { break }
            }
            if pipes[fd] != nil { closePipe(fd) }
        }
    }

    // MARK: stdout

    private func flushOutput() {
        guard !queue.isEmpty, !outBlocked else { return }
        if outClosed { queue.discard(); return }
        switch queue.write(to: outFD) {
        case .drained: break
        case .blocked: outBlocked = true
        case .closed, .failed: outputClosed(now: monotonicNow())
        }
    }

    /// Waits for stdout to take the queue, at exit. A second SIGINT or SIGTERM
    /// (before or while waiting) gives up on a consumer that stopped reading.
    private func flushOutputBlocking() {
        while !queue.isEmpty && !outClosed {
            outBlocked = false
            flushOutput()
            guard outBlocked else { continue }
            var fds = [pollfd(fd: outFD, events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
            if !impatient && poll(&fds, 2, -1) < 0 && errno != EINTR { return }
            if fds[1].revents != 0 {
                let signo = sm_signalfd_next(signalFD)
                if signo == SIGINT || signo == SIGTERM { impatient = true }
            }
            if impatient {
                // Stop waiting: what is still queued or piped is dropped.
                queue.discard()
                outClosed = true
                return
            }
        }
    }

    private func finalFlush() {
        flushOutputBlocking()
        if outNonBlocking { close(outFD) }
    }

    /// The reader of our stdout went away: stop everything and discard output.
    private func outputClosed(now: Int64) {
        guard !outClosed else { return }
        outClosed = true
        queue.discard()
        supervisor.requestStop(signal: nil, now: now)
    }

    // MARK: children

    /// Reaps every exited child. Returns whether any child is still alive.
    private func reapChildren(now: Int64) -> Bool {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid == 0 { return true }
            if pid < 0 {
                if errno == EINTR { continue }
                return false
            }
            let exit: ExitStatus = sm_wifsignaled(status) != 0
                ? .signaled(sm_wtermsig(status)) : .exited(sm_wexitstatus(status))
            // Print what the child wrote before saying it exited. With stdout
            // backed up that waits until the bytes it left have been relayed.
            var unread: [Int32: Int] = [:]
            for fd in pipesByPid.removeValue(forKey: pid) ?? [] {
                drain(fd)
                guard pipes[fd] != nil else { continue }
                let n = sm_bytes_readable(fd)
                if n > 0 {
                    unread[fd] = Int(n)
                } else {
                    // Still open (a grandchild holds it), nothing left from the
                    // child: its last line without a newline is final.
                    framer.flushPartial(stream: Int(fd))
                }
            }
            if unread.isEmpty {
                reportExit(pid, exit, now: now)
            } else {
                pendingExits[pid] = (exit, unread)
            }
        }
    }

    private func reportExit(_ pid: Int32, _ status: ExitStatus, now: Int64) {
        if !supervisor.childExited(pid: pid, status: status, now: now) {
            orphansSignalled[pid] = nil
        }
    }

    /// Counts relayed bytes against a pending exit; reports it once the
    /// child's leftover output is through (or its pipe is closed).
    private func consumed(_ n: Int, from fd: Int32, closed: Bool = false) {
        guard !pendingExits.isEmpty else { return }
        for (pid, entry) in pendingExits {
            guard let left = entry.unread[fd] else { continue }
            var unread = entry.unread
            unread[fd] = closed || left - n <= 0 ? nil : left - n
            if unread[fd] == nil && !closed { framer.flushPartial(stream: Int(fd)) }
            if unread.isEmpty {
                pendingExits[pid] = nil
                reportExit(pid, entry.status, now: monotonicNow())
            } else {
                pendingExits[pid] = (entry.status, unread)
            }
        }
    }

    // MARK: SupervisorHost

    public func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError> {
        let extra = [strdup("PORT=\(instance.port)"), strdup("PS=\(instance.name)")]
        let argv = [strdup("/bin/sh"), strdup("-c"), strdup(instance.command), nil]
        defer { for p in extra + argv { free(p) } }
        let envp = baseEnvironment + extra + [nil]
        addLabels(slot: slot, instance)
        let labels = labelsBySlot[slot]

        // Where the child writes: one pty, one pipe, or (JSON) a pipe per stream.
        var readEnds: [(fd: Int32, label: Int)] = []
        var writeEnds: [Int32] = []
        var ttyPath: [CChar]?
        func cleanUp() {
            for fd in writeEnds { close(fd) }
            for end in readEnds { close(end.fd) }
        }
        if config.tty.includes(instance.type) {
            var master: Int32 = -1, slave: Int32 = -1
            var name = [CChar](repeating: 0, count: 128)
            var rows: UInt16 = 24, cols: UInt16 = 80
            _ = sm_get_winsize(1, &rows, &cols)
            guard sm_openpty(&master, &slave, &name, name.count, rows, cols) == 0 else {
                return .failure(SpawnError("pty: \(errnoDescription())"))
            }
            readEnds = [(master, labels.out)]
            writeEnds = [slave]
            ttyPath = name
        } else {
            for label in labels.out == labels.err ? [labels.out] : [labels.out, labels.err] {
                var fds: [Int32] = [-1, -1]
                guard sm_pipe(&fds, 1) == 0 else {
                    let reason = errnoDescription()
                    cleanUp()
                    return .failure(SpawnError("pipe: \(reason)"))
                }
                readEnds.append((fds[0], label))
                writeEnds.append(fds[1])
            }
        }
        var pid: pid_t = 0
        let out = writeEnds[0], err = writeEnds.count > 1 ? writeEnds[1] : writeEnds[0]
        let rc = argv.withUnsafeBufferPointer { argvBuf in
            envp.withUnsafeBufferPointer { envBuf in
                sm_spawn(&pid, "/bin/sh", argvBuf.baseAddress, envBuf.baseAddress, rootPath,
                         devNull, out, err, ttyPath)
            }
        }
        for fd in writeEnds { close(fd) }
        writeEnds = []
        guard rc == 0 else {
            cleanUp()
            return .failure(SpawnError(errnoDescription(rc)))
        }
        for end in readEnds {
            pipes[end.fd] = end.label
            framer.open(stream: Int(end.fd), label: end.label)
            if ttyPath != nil { ttyMasters.insert(end.fd) }
        }
        pipesByPid[pid] = readEnds.map(\.fd)
        return .success(pid)
    }

    /// Our terminal changed size: so do the children's.
    private func resizeTerminals() {
        var rows: UInt16 = 0, cols: UInt16 = 0
        guard !ttyMasters.isEmpty, sm_get_winsize(1, &rows, &cols) == 0 else { return }
        for fd in ttyMasters { _ = sm_set_winsize(fd, rows, cols) }
    }

    public func signal(group: Int32, _ signal: Int32) {
        kill(-group, signal)
    }

    /// Finds our children that are not instances (orphans re-parented to us)
    /// through /proc and signals each once per signal.
    public func signalOrphans(_ signal: Int32) {
        let known = Set(supervisor.instances.compactMap(\.pid))
        for pid in childPids() where !known.contains(pid) && orphansSignalled[pid] != signal {
            orphansSignalled[pid] = signal
            kill(pid, signal)
            if getpgid(pid) == pid { kill(-pid, signal) }
        }
    }

    public func system(_ message: String) {
        framer.system(message)
    }

    /// Pids whose parent is swiftman, read from /proc/*/stat.
    private func childPids() -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var result: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name), pid != selfPid else { continue }
            let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            close(fd)
            guard n > 0 else { continue }
            // The fields after the command name (which may hold spaces and ')').
            let text = buffer[0..<n]
            guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { continue }
            let fields = text[(close + 2)...].split(separator: UInt8(ascii: " "))
            if fields.count > 1, Int32(String(decoding: fields[1], as: UTF8.self)) == selfPid {
                result.append(pid)
            }
        }
        return result
    }
}
