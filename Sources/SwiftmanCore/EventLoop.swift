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

    public init(plan: FormationPlan, root: String, environment: [String: String],
                supervisor: SupervisorConfig, style: OutputStyle) {
        self.plan = plan
        self.root = root
        self.environment = environment
        self.supervisor = supervisor
        self.style = style
    }
}

/// Signals the loop handles through its signalfd. They are blocked in every
/// thread before anything else starts, so none is lost and no handler runs.
public enum SignalSetup {
    public static let handled: [Int32] = [SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2]

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

    /// Open child pipes (read end) → label, and each instance's current pipe.
    private var pipes: [Int32: Int] = [:]
    private var pipeByPid: [Int32: Int32] = [:]
    private var labelBySlot: [Int] = []
    private let readBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: EventLoop.readSize)
    private static let readSize = 1 << 16

    private let baseEnvironment: [UnsafeMutablePointer<CChar>?]
    private let rootPath: String
    private var orphansSignalled: [Int32: Int32] = [:]
    private let selfPid = getpid()
    private var pollFDs: [pollfd] = []

    public init(config: RunConfig) throws(Diagnostic) {
        self.config = config
        framer = LineFramer(queue: queue, style: config.style)
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
        labelBySlot = specs.map { framer.addLabel(name: $0.name, typeIndex: $0.typeIndex) }
        supervisor = Supervisor(instances: specs, config: config.supervisor, host: self)
    }

    deinit {
        readBuffer.deallocate()
        for p in baseEnvironment { free(p) }
    }

    /// Runs the formation until it has stopped; returns the exit code.
    public func run() -> Int32 {
        var now = monotonicNow()
        framer.clock.update(to: time(nil))
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
            framer.clock.update(to: time(nil))
            if ready < 0 && errno != EINTR { break }
            if ready > 0 { handleReady(now: now) }
            framer.flushDuePartials(now: now)
            supervisor.tick(now: now)
        }
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
        let deadlines = [supervisor.nextDeadline, framer.nextPartialDeadline].compactMap { $0 }
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
            }
        }
    }

    private func handleSignals(now: Int64) {
        while true {
            let signo = sm_signalfd_next(signalFD)
            if signo <= 0 { return }
            switch signo {
            case SIGCHLD: _ = reapChildren(now: now)
            case SIGUSR1, SIGUSR2: supervisor.forward(signal: signo)
            default: supervisor.requestStop(signal: signo, now: now)
            }
        }
    }

    // MARK: child output

    /// Reads one chunk. Returns false at EOF or error (the pipe is closed then).
    @discardableResult
    private func readPipe(_ fd: Int32, now: Int64) -> Bool {
        let n = read(fd, readBuffer, EventLoop.readSize)
        if n > 0 {
            if outClosed { return true }
            framer.ingest(stream: Int(fd), readBuffer, n, now: now)
            return true
        }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return true }
        closePipe(fd)
        return false
    }

    private func closePipe(_ fd: Int32) {
        framer.close(stream: Int(fd))
        pipes[fd] = nil
        close(fd)
    }

    /// Reads what a pipe holds right now (until EAGAIN or EOF).
    private func drain(_ fd: Int32) {
        while pipes[fd] != nil {
            let n = read(fd, readBuffer, EventLoop.readSize)
            if n > 0 {
                if !outClosed { framer.ingest(stream: Int(fd), readBuffer, n, now: monotonicNow()) }
                if queue.isFull { flushOutputBlocking() }
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                return
            } else {
                closePipe(fd)
            }
        }
    }

    private func drainAllPipes() {
        for fd in pipes.keys { drain(fd) }
        for fd in Array(pipes.keys) { closePipe(fd) }
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

    /// Waits for stdout to take the queue; used when draining at exit and when
    /// a drain overfills the queue. Gives up on a second stop signal.
    private func flushOutputBlocking() {
        while !queue.isEmpty && !outClosed {
            outBlocked = false
            flushOutput()
            guard outBlocked else { continue }
            var fds = [pollfd(fd: outFD, events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, -1) < 0 && errno != EINTR { return }
            if fds[1].revents != 0 {
                let signo = sm_signalfd_next(signalFD)
                if signo == SIGINT || signo == SIGTERM { queue.discard(); return }
                if signo == SIGCHLD { _ = reapChildren(now: monotonicNow()) }
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
            // Print what the child wrote before saying it exited.
            if let fd = pipeByPid.removeValue(forKey: pid) { drain(fd) }
            if !supervisor.childExited(pid: pid, status: exit, now: now) {
                orphansSignalled[pid] = nil
            }
        }
    }

    // MARK: SupervisorHost

    public func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError> {
        var fds: [Int32] = [-1, -1]
        guard sm_pipe(&fds, 1) == 0 else { return .failure(SpawnError("pipe: \(errnoDescription())")) }
        let extra = [strdup("PORT=\(instance.port)"), strdup("PS=\(instance.name)")]
        let argv = [strdup("/bin/sh"), strdup("-c"), strdup(instance.command)]
        defer { for p in extra + argv { free(p) } }
        let envp = baseEnvironment + extra + [nil]
        var pid: pid_t = 0
        let rc = (argv + [nil]).withUnsafeBufferPointer { argvBuf in
            envp.withUnsafeBufferPointer { envBuf in
                sm_spawn(&pid, "/bin/sh", argvBuf.baseAddress, envBuf.baseAddress, rootPath,
                         devNull, fds[1], fds[1], 0)
            }
        }
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            return .failure(SpawnError(errnoDescription(rc)))
        }
        pipes[fds[0]] = labelBySlot[slot]
        pipeByPid[pid] = fds[0]
        framer.open(stream: Int(fds[0]), label: labelBySlot[slot])
        return .success(pid)
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
