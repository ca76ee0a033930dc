import SwiftmanModel
import SwiftmanPlatform

/// `swiftman start` at run time. It builds the loop's sources, turns what
/// happens into the supervisor's inputs and carries out the effects it
/// returns, and follows each instance's process group: an instance ends when
/// its leader is reaped, its group is empty and its output relayed, and only
/// then does the supervisor hear of it.
public final class FormationRuntime {
    /// Exit code when stdout fails for a reason other than a departed reader
    /// (a full disk, an I/O error): EX_IOERR from sysexits.h.
    public static let outputErrorExitCode: Int32 = 74

    let config: RunConfig
    let loop = EventLoop()
    let framer: LineFramer
    let sink: OutputSink
    let output: ChildOutput
    let signals: SignalSource
    let children: ChildTable
    let probes: ReadinessProbes
    var control: ControlSource?
    var input: ChildInput!
    var attached: AttachHub!
    let held = HeldReplies()
    let history: OutputHistory
    let logDirectory: LogDirectory?
    var logReaders: LogReaders!
    let events = EventHistory()
    var keyboard: InputSource?
    var watcher: WatchSource?
    var supervisor: Supervisor!
    /// Per instance slot: the labels of its stdout and stderr (one label
    /// unless the JSON format must tell the streams apart).
    var labelsBySlot: [[Int]] = []
    let baseEnvironment: CStringArray
    var orphansSignalled: [Int32: Signal] = [:]
    /// Leaders found outside their own process group (said once each).
    var leftTheirGroup: Set<Int32> = []
    let selfPid = ProcessID.current.rawValue
    /// A second SIGINT/SIGTERM arrived during shutdown: exit without waiting
    /// for a stalled stdout reader.
    var impatient = false
    var outputFailed = false
    /// /proc is readable: orphans that left their group can be found.
    let canSweep = ProcessTable.hasProc
    /// Busy-port warnings found while spawning, said just before the
    /// instance's own next line (its `started`), by instance name.
    var portNotes: [String: LifecycleEvent] = [:]
    /// Instance and holders already warned about: a crash loop on a busy port
    /// is said once.
    var portsNoted: Set<String> = []

    public init(config: RunConfig) throws(Diagnostic) {
        self.config = config
        if let limit = DescriptorLimit.ensure(FormationRuntime.descriptorsNeeded(config.plan.instances.count, config)) {
            throw Diagnostic("--formation", "\(config.plan.instances.count) instances need about \(FormationRuntime.descriptorsNeeded(config.plan.instances.count, config)) file descriptors, but the limit is \(limit) (raise it with ulimit -n)")
        }
        let queue = OutputQueue()
        framer = LineFramer(queue: queue, style: config.style, newlineFinder: ByteSearch.memchr)
        history = OutputHistory(budget: config.historyBudget)
        framer.history = history
        if let directory = config.logDirectory {
            let files = try LogDirectory(directory: directory, rotateBytes: config.logRotateBytes,
                                         source: config.logDirectorySource, names: config.plan.instances.map(\.name))
            framer.sink = files
            logDirectory = files
        } else {
            logDirectory = nil
        }
        var server: ControlServer?
        if let path = config.controlSocket {
            server = try ControlServer(path: path, defaultDirectory: config.controlDirectory)
        }
        signals = try SignalSource()
        sink = OutputSink(queue: queue)
        output = ChildOutput(framer: framer)
        // Sorted KEY=value strings, made once; PORT and PS are per instance.
        baseEnvironment = CStringArray(environment: config.environment.filter { $0.key != "PORT" && $0.key != "PS" })
        children = ChildTable(spawner: Spawner(root: config.root, environment: baseEnvironment), output: output)
        probes = ReadinessProbes(spawner: Spawner(root: config.root, environment: baseEnvironment))
        Children.becomeSubreaper()
        framer.reserveWidth(config.plan.instances.map { $0.name.utf8.count }.max() ?? 0)
        for (slot, spec) in config.plan.instances.enumerated() { addLabels(slot: slot, spec) }
        supervisor = Supervisor(plan: config.plan, config: config.supervisor) { [unowned self] spec, slot in
            self.spawn(spec, slot: slot)
        }

        signals.onSignal = { [unowned self] signal, now in self.handle(signal: signal, now: now) }
        sink.onReaderGone = { [unowned self] now in
            if self.config.detached { return }
            self.output.discarding = true
            self.send(.outputClosed, now: now)
        }
        sink.onWriteFailed = { [unowned self] error, now in self.outputFailed(error, now: now) }
        output.onPipeClosed = { [unowned self] fd in self.pipeSettled(fd, closed: true) }
        output.onPipePaid = { [unowned self] fd in self.pipeSettled(fd, closed: false) }
        output.onLineMatch = { [unowned self] pid, now in self.send(.ready(pid: pid), now: now) }
        probes.onReady = { [unowned self] pid, now in self.send(.ready(pid: pid), now: now) }
        probes.onHealth = { [unowned self] pid, passed, detail, now in
            self.send(.health(pid: pid, passed: passed, detail: detail), now: now)
        }
        probes.onNote = { [unowned self] text in self.report(.notice(text)) }
        loop.add(sink)
        if let logDirectory {
            logDirectory.onNote = { [unowned self] text in self.report(.notice(text)) }
            loop.add(logDirectory)
        }
        loop.add(signals)
        loop.add(output)
        loop.add(probes)
        if let server {
            let source = ControlSource(server: server) { [unowned self] in self.execute($0) }
            control = source
            loop.add(source)
        }
        if let matcher = config.watch {
            let source = try WatchSource(root: config.root, matcher: matcher, injectedLimit: config.injectedWatchLimit)
            source.onChange = { [unowned self] type, paths, now in self.send(.changed(type: type, paths: paths), now: now) }
            source.onNote = { [unowned self] text in self.report(.notice(text)) }
            watcher = source
            loop.add(source)
        }
        loop.add(SupervisorTimers(supervisor) { [unowned self] now in self.send(.timers, now: now) })

        input = ChildInput { [unowned self] slot in self.inputDescriptor(slot: slot) }
        attached = AttachHub(output: output, input: input)
        attached.onResize = { [unowned self] pid, rows, cols in
            try? self.children[pid]?.openPtyMaster?.setWindowSize(WindowSize(rows: rows, cols: cols))
        }
        loop.add(input)
        loop.add(attached)
        loop.add(held)
        let width = config.plan.instances.map { $0.name.utf8.count }.max() ?? 0
        logReaders = LogReaders(history: history) { [unowned self] in
            max(width, self.history.labels.map { $0.name.utf8.count }.max() ?? 0)
        }
        // Lines are copied out for followers only while there are any.
        logReaders.onFollowing = { [unowned self] following in
            self.history.onAppend = following ? { [unowned self] label, bytes, time in
                self.logReaders.relayed(label: label, bytes, time: time)
            } : nil
        }
        loop.add(logReaders)
        server?.onHeld = { [unowned self] request, fd, extra in self.hold(request, fd: fd, extra: extra) }
        if let name = config.input, let slot = config.plan.instances.firstIndex(where: { $0.name == name }) {
            let source = InputSource(slot: slot, input: input)
            source.onFinished = { [unowned self] error in
                if let error {
                    self.report(.notice("input: cannot read standard input (\(error)); \(name) gets no more input"))
                } else {
                    self.report(.notice("input: end of standard input; \(name)'s stdin stays open"))
                }
            }
            keyboard = source
            loop.add(source)
        }
    }

    /// Descriptors the formation needs: per instance its output pipe (two in
    /// JSON) and its stdin, plus control clients and our own.
    static func descriptorsNeeded(_ instances: Int, _ config: RunConfig) -> Int {
        instances * (config.style.format == .json ? 3 : 2) + ControlServer.maxClients + AttachHub.maxSessions + HeldReplies.maxHeld + LogReaders.maxReaders + 16
    }

    /// Runs the formation until it has stopped; returns the exit code.
    public func run() -> Int32 {
        updateClock()
        for notice in config.notices { report(.notice(notice)) }
        if !canSweep {
            report(.notice("/proc is not readable: processes that leave their group cannot be found or stopped at shutdown"))
        }
        if let watcher {
            let types = watcher.matcher.entries.map { "\($0.type) (\($0.patterns.isEmpty ? "everything" : $0.patterns.joined(separator: ", ")))" }
            report(.notice("watching \(types.joined(separator: ", ")): \(watcher.watchCount) director\(watcher.watchCount == 1 ? "y" : "ies")"))
        }
        send(.start, now: monotonicNow())
        if let error = loop.run(wake: { [unowned self] _ in self.updateClock() },
                                until: { [unowned self] now in self.isDone(now: now) }) {
            return abandon(error)
        }
        control?.server.close()
        keyboard?.stop()
        let giveUp = { [unowned self] () -> Bool in
            while let signal = self.signals.next() {
                if self.supervisor.escalates(Signal(signal), now: monotonicNow()) { self.impatient = true }
            }
            return self.impatient
        }
        output.drainAll {
            sink.flushBlocking(signalFD: signals.fd, giveUp: giveUp)
            return !sink.closed
        }
        if !supervisor.instances.isEmpty {
            let figures = supervisor.disposability()
            if config.fullReport || config.style.format == .json {
                report(.disposability(figures))
            } else if figures.summary != nil {
                report(.stoppedSummary(figures))
            }
        }
        sink.flushBlocking(signalFD: signals.fd, giveUp: giveUp)
        sink.close()
        attached.endAll(reason: "the formation has stopped")
        logReaders.endAll()
        answerHeld(finalCode: outputFailed && supervisor.exitCode == 0 ? FormationRuntime.outputErrorExitCode : supervisor.exitCode)
        if outputFailed && supervisor.exitCode == 0 { return FormationRuntime.outputErrorExitCode }
        return supervisor.exitCode
    }

    func updateClock() {
        framer.clock.update(toMillisecond: WallTime.nowMilliseconds(), localOffset: WallTime.localOffset(atSecond:))
    }

    /// The loop itself failed (poll(2) error): no child may outlive us, so
    /// every group and orphan gets SIGKILL and is reaped before we exit 1.
    func abandon(_ error: Errno) -> Int32 {
        try? FileDescriptor.standardError.writeAll("swiftman: the event loop failed: poll: \(error); killing every process\n")
        for child in children.all { try? ProcessGroup(child.pid).send(Signal.kill.rawValue) }
        signalOrphans(.kill)
        Children.reapAllBlocking()
        control?.server.close()
        answerHeld(finalCode: 1)
        return 1
    }

    /// Done once every instance has ended and no child is left; orphans
    /// still alive then get the stop signal (SIGKILL after the grace time).
    func isDone(now: Int64) -> Bool {
        guard supervisor.isFinished else { return false }
        guard reapChildren(now: now) else { return true }
        // Without /proc they cannot be found: they outlive us (said at start).
        guard canSweep else { return true }
        if case .stopping(_, let killed) = supervisor.phase {
            signalOrphans(killed ? .kill : config.supervisor.stopSignal.fallback)
        }
        return false
    }

    /// A signal from the signal fd, as `SignalTable` says.
    func handle(signal number: Int32, now: Int64) {
        let signal = Signal(number)
        switch SignalTable.start(signal) {
        case .reap: _ = reapChildren(now: now)
        case .resize: resizeTerminals()
        case .forward: send(.signal(signal), now: now)
        case .stop:
            // (A repeat of the signal that began shutdown, `timeout`'s second
            // SIGTERM, is not a second request.)
            if supervisor.escalates(signal, now: now) {
                impatient = true
                // A stalled reader no longer holds anything up: output is
                // dropped, so leftover child output (and exits) flow again.
                if sink.blocked {
                    sink.discard()
                    output.discarding = true
                }
            }
            send(.signal(signal), now: now)
        case .ignore, .default: break
        }
    }

    /// A write to stdout failed for a reason other than a departed reader:
    /// said on stderr (stdout cannot carry it), and the formation stops, since
    /// nothing its processes print could be delivered.
    func outputFailed(_ error: Errno, now: Int64) {
        outputFailed = true
        output.discarding = true
        try? FileDescriptor.standardError.writeAll("swiftman: cannot write to standard output: \(error); stopping the formation\n")
        send(.outputFailed(exitCode: FormationRuntime.outputErrorExitCode), now: now)
    }
}
