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

    private let config: RunConfig
    private let loop = EventLoop()
    private let framer: LineFramer
    private let sink: OutputSink
    private let output: ChildOutput
    private let signals: SignalSource
    private let children: ChildTable
    private let probes: ReadinessProbes
    private var control: ControlSource?
    private var input: ChildInput!
    private var attached: AttachHub!
    private let held = HeldReplies()
    private let history: OutputHistory
    private let logDirectory: LogDirectory?
    private var logReaders: LogReaders!
    private let events = EventHistory()
    private var keyboard: InputSource?
    private var watcher: WatchSource?
    private var supervisor: Supervisor!
    /// Per instance slot: the labels of its stdout and stderr (one label
    /// unless the JSON format must tell the streams apart).
    private var labelsBySlot: [[Int]] = []
    private let baseEnvironment: CStringArray
    private var orphansSignalled: [Int32: Signal] = [:]
    /// Leaders found outside their own process group (said once each).
    private var leftTheirGroup: Set<Int32> = []
    private let selfPid = ProcessID.current.rawValue
    /// A second SIGINT/SIGTERM arrived during shutdown: exit without waiting
    /// for a stalled stdout reader.
    private var impatient = false
    private var outputFailed = false
    /// /proc is readable: orphans that left their group can be found.
    private let canSweep = ProcessTable.hasProc
    /// Busy-port warnings found while spawning, said just before the
    /// instance's own next line (its `started`), by instance name.
    private var portNotes: [String: LifecycleEvent] = [:]
    /// Instance and holders already warned about: a crash loop on a busy port
    /// is said once.
    private var portsNoted: Set<String> = []

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

    private func updateClock() {
        framer.clock.update(toMillisecond: WallTime.nowMilliseconds(), localOffset: WallTime.localOffset(atSecond:))
    }

    /// The loop itself failed (poll(2) error): no child may outlive us, so
    /// every group and orphan gets SIGKILL and is reaped before we exit 1.
    private func abandon(_ error: Errno) -> Int32 {
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
    private func isDone(now: Int64) -> Bool {
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
    private func handle(signal number: Int32, now: Int64) {
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
    private func outputFailed(_ error: Errno, now: Int64) {
        outputFailed = true
        output.discarding = true
        try? FileDescriptor.standardError.writeAll("swiftman: cannot write to standard output: \(error); stopping the formation\n")
        send(.outputFailed(exitCode: FormationRuntime.outputErrorExitCode), now: now)
    }

    // MARK: the supervisor

    /// One input to the supervisor, and its effects carried out in order.
    @discardableResult
    private func send(_ input: SupervisorInput, now: Int64) -> ControlReply? {
        var reply: ControlReply?
        for effect in supervisor.handle(input, now: now) {
            switch effect {
            case .signal(let group, let signal): deliver(signal, toGroup: group)
            case .signalOrphans(let signal): signalOrphans(signal)
            case .report(let event):
                if !portNotes.isEmpty, let name = event.instance, let note = portNotes.removeValue(forKey: name) { report(note) }
                report(event)
            case .watchReadiness(let spec, let pid, let check): watchReadiness(spec, pid: pid, check: check)
            case .cancelReadiness(let pid): cancelReadiness(pid: pid)
            case .checkHealth(let spec, let pid, let check):
                probes.checkHealth(pid: pid, check: check, port: spec.port, instance: spec.name,
                                   environment: ["PORT=\(spec.port)", "PS=\(spec.name)"], now: monotonicNow())
            case .cancelHealth(let pid): probes.cancel(pid: pid)
            case .reply(let answer): reply = answer
            }
        }
        if held.count > 0 { answerWaits() }
        if !portNotes.isEmpty {
            for (_, note) in portNotes.sorted(by: { $0.key < $1.key }) { report(note) }
            portNotes.removeAll()
        }
        return reply
    }

    // MARK: process groups

    /// The signal to an instance's process group. A leader that moved itself
    /// into another group leaves its own empty (kill fails with ESRCH): then
    /// the signal goes to the leader's pid and every process descended from
    /// it, and the first time it is said. No failure is silent.
    private func deliver(_ signal: Signal, toGroup group: Int32) {
        let error: Errno
        do throws(Errno) {
            try ProcessGroup(group).send(signal.rawValue)
            return
        } catch let failure {
            error = failure
        }
        let name = children[group]?.name ?? "pid \(group)"
        // Reaped already, with nothing left of its group: nothing to stop.
        guard error == .noSuchProcess, let child = children[group], child.stage == .running else {
            if error != .noSuchProcess {
                report(.notice("could not send \(Signals.name(signal)) to \(name)'s process group \(group): \(error)"))
            }
            return
        }
        let others = canSweep ? ProcessTable.descendants(of: group) : []
        var failed: Errno?
        do throws(Errno) { try ProcessID(group).send(signal.rawValue) } catch let failure { failed = failure }
        for pid in others { try? ProcessID(pid).send(signal.rawValue) }
        if let failed {
            report(.notice("could not send \(Signals.name(signal)) to \(name) (pid \(group), which left its process group): \(failed)"))
        } else if leftTheirGroup.insert(group).inserted {
            let extra = others.isEmpty ? "" : " and the \(others.count) process\(others.count == 1 ? "" : "es") it started"
            report(.notice("\(name) (pid \(group)) has left its process group: signals go to its pid\(extra)"))
        }
    }

    /// Reaps every exited child and settles the instances whose leader is
    /// gone. Returns whether any child is still alive.
    private func reapChildren(now: Int64) -> Bool {
        let (exits, childrenLeft) = children.reap()
        for (pid, status) in exits {
            if probes.reaped(pid: pid, status: status, now: now) { continue }
            if let child = children[pid] {
                children.leaderReaped(child, status: status)
            } else {
                orphansSignalled[pid] = nil
            }
        }
        // Each reap may have emptied a group that was draining: the group's
        // orphans re-parent to us (subreaper, or PID 1), so its last process
        // is reaped here too. No polling.
        for child in Array(children.all) {
            if case .leaderGone = child.stage { settle(child, now: now) }
        }
        return childrenLeft
    }

    /// An instance whose leader is reaped: while its group lives on, the rest
    /// is stopped (the supervisor decides); once empty, its output is relayed
    /// and its exit reported.
    private func settle(_ child: RunningChild, now: Int64) {
        guard case .leaderGone(let status, _) = child.stage else { return }
        if ProcessGroup(child.pid).isAlive {
            if supervisor.isRunning(pid: child.pid) && children.tellLeaderGone(child) {
                let remaining = ProcessTable.groupSizes([child.pid])[child.pid] ?? 1
                send(.leaderExited(pid: child.pid, status: status, remaining: remaining), now: now)
            }
            return
        }
        if children.groupEmptied(child) { finish(child, now: now) }
    }

    private func finish(_ child: RunningChild, now: Int64) {
        let status = children.end(child)
        attached.processEnded(pid: child.pid, reason: LifecycleEvent.exited(instance: child.name, pid: child.pid, status: status).text)
        send(.childExited(pid: child.pid, status: status), now: now)
    }

    /// A pipe reached EOF, or relayed the bytes its ended instance owed.
    private func pipeSettled(_ fd: FileDescriptor, closed: Bool) {
        guard let child = children.owner(of: fd) else { return }
        if children.pipeSettled(fd, of: child, closed: closed) {
            finish(child, now: monotonicNow())
        } else if closed, case .leaderGone = child.stage {
            settle(child, now: monotonicNow())
        }
    }

    // MARK: the supervisor's effects

    private func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError> {
        // Slots added by `scale` that have not run yet (waiting for a
        // dependency) get their labels first, so slot numbers stay indexes.
        while labelsBySlot.count < slot { addLabels(slot: labelsBySlot.count, supervisor.instances[labelsBySlot.count].spec) }
        addLabels(slot: slot, instance)
        notePortInUse(instance)
        return children.spawn(instance, slot: slot, labels: labelsBySlot[slot], tty: config.tty.includes(instance.type))
    }

    /// Whether something already listens on the instance's PORT: a warning
    /// (a worker may never bind it), from the kernel's socket tables.
    private func notePortInUse(_ instance: InstanceSpec) {
        guard let holders = BusyPorts.holders(of: instance.port) else { return }
        let key = instance.name + " " + holders.map { String($0.pid) }.joined(separator: ",")
        guard portsNoted.insert(key).inserted else { return }
        portNotes[instance.name] = .portInUse(instance: instance.name, port: instance.port, by: holders)
    }

    /// Signals our children that are not instance leaders (orphans handed to
    /// us, including ones that left their group), once per signal.
    private func signalOrphans(_ signal: Signal) {
        guard canSweep else { return }
        for pid in ProcessTable.children(of: selfPid) where children[pid] == nil && orphansSignalled[pid] != signal {
            orphansSignalled[pid] = signal
            try? ProcessID(pid).send(signal.rawValue)
            if ProcessID(pid).group == ProcessGroup(pid) { try? ProcessGroup(pid).send(signal.rawValue) }
        }
    }

    private func report(_ event: LifecycleEvent) {
        framer.event(event)
        events.append(event, time: framer.clock.millisecond)
        logReaders.reported(event, time: framer.clock.millisecond)
    }

    private func watchReadiness(_ instance: InstanceSpec, pid: Int32, check: ReadyCheck) {
        let now = monotonicNow()
        switch check {
        case .port: probes.watchPort(pid: pid, port: instance.port, instance: instance.name, now: now)
        case .http(let path, let status):
            probes.watchHTTP(pid: pid, port: instance.port, path: path, status: status, instance: instance.name, now: now)
        case .command(let command):
            probes.watchCommand(pid: pid, script: command, environment: ["PORT=\(instance.port)", "PS=\(instance.name)"], now: now)
        case .line(let text):
            if let child = children[pid] { output.watchLines(fds: Array(child.outputs), pid: pid, text: text) }
        case .exit: break
        }
    }

    private func cancelReadiness(pid: Int32) {
        probes.cancel(pid: pid)
        output.unwatchLines(pid: pid)
    }

    /// Output labels for an instance slot: one, or stdout and stderr apart in
    /// JSON. Slots added by `scale` get theirs when first spawned.
    private func addLabels(slot: Int, _ spec: InstanceSpec) {
        guard slot == labelsBySlot.count else { return }
        let out = framer.addLabel(name: spec.name, typeIndex: spec.typeIndex, stream: "stdout")
        if config.style.format == .json && !config.tty.includes(spec.type) {
            labelsBySlot.append([out, framer.addLabel(name: spec.name, typeIndex: spec.typeIndex, stream: "stderr")])
        } else {
            labelsBySlot.append([out])
        }
    }

    /// Our terminal changed size: so do the children's.
    private func resizeTerminals() {
        guard let size = FileDescriptor.standardOutput.windowSize else { return }
        for child in children.all { try? child.openPtyMaster?.setWindowSize(size) }
    }

    // MARK: control requests

    private func execute(_ request: ControlRequest) -> ControlReply {
        let now = monotonicNow()
        switch request {
        case .hello:
            return .ok(["pid=\(selfPid)", "root=\(config.root)", "protocol=\(ControlRequest.version)"])
        case .ps:
            var rows = supervisor.snapshot(now: now)
            let sizes = canSweep ? ProcessTable.groupSizes(Set(rows.compactMap(\.pid))) : [:]
            for i in rows.indices { rows[i].processes = rows[i].pid.flatMap { sizes[$0] } ?? 0 }
            return .ok(rows.map(\.encoded))
        case .attach:
            return .refused("attach needs a connection of its own")
        case .scale(let items) where items.allSatisfy({ config.plan.procfile.index(of: $0.type) != nil }):
            // The descriptors the new instances need, before anything changes.
            let added = items.reduce(0) { $0 + max(0, $1.count - supervisor.activeCount(of: $1.type)) }
            let total = children.count + added
            let needed = FormationRuntime.descriptorsNeeded(total, config)
            if let limit = DescriptorLimit.ensure(needed) {
                return .refused("\(total) instances need about \(needed) file descriptors, but the limit is \(limit) (raise it with ulimit -n)")
            }
            return send(.control(request), now: now) ?? .refused("no reply")
        default:
            return send(.control(request), now: now) ?? .refused("no reply")
        }
    }

    // MARK: held replies: wait, quit

    /// A request that holds its connection: `attach` becomes a session;
    /// `wait` and `quit` are answered now or held until they can be.
    private func hold(_ request: ControlRequest, fd: FileDescriptor, extra: [UInt8]) -> ControlReply? {
        switch request {
        case .attach:
            return attach(request, fd: fd, extra: extra)
        case .logs(let query):
            guard logReaders.count < LogReaders.maxReaders else { return .refused("busy: \(LogReaders.maxReaders) logs readers already") }
            for target in query.targets where target != "system" {
                do throws(ControlFailure) { _ = try supervisor.resolve(target) } catch {
                    // Scaled to zero still has history: only unknown names are refused.
                    if error.kind == .badTarget { return .error(error) }
                }
            }
            logReaders.adopt(fd: fd, query: query)
            return nil
        case .events(let follow, let json):
            guard logReaders.count < LogReaders.maxReaders else { return .refused("busy: \(LogReaders.maxReaders) logs readers already") }
            logReaders.adoptEvents(fd: fd, follow: follow, json: json, kept: events)
            return nil
        case .wait(let targets, let goal):
            let outcome: WaitOutcome
            do throws(ControlFailure) {
                outcome = try supervisor.waitOutcome(targets: targets, goal: goal)
            } catch {
                return .error(error)
            }
            if let reply = FormationRuntime.reply(outcome) { return reply }
            guard held.count < HeldReplies.maxHeld else { return .refused("busy: \(HeldReplies.maxHeld) requests are waiting already") }
            held.hold(fd, for: .wait(targets: targets, goal: goal))
            return nil
        case .quit:
            guard held.count < HeldReplies.maxHeld else { return .refused("busy: \(HeldReplies.maxHeld) requests are waiting already") }
            if let reply = send(.control(request), now: monotonicNow()), case .error = reply { return reply }
            held.hold(fd, for: .quit)
            return nil
        default:
            return .refused("\(request.encoded.dropLast()) does not hold its connection")
        }
    }

    private static func reply(_ outcome: WaitOutcome) -> ControlReply? {
        switch outcome {
        case .pending: return nil
        case .reached(let lines): return .ok(lines)
        case .failed(let message): return .refused(message)
        }
    }

    /// The held waits whose targets got there (or never will), answered.
    private func answerWaits() {
        held.answer { purpose in
            guard case .wait(let targets, let goal) = purpose else { return nil }
            return FormationRuntime.reply((try? supervisor.waitOutcome(targets: targets, goal: goal)) ?? .pending)
        }
    }

    /// The formation has stopped: every `quit` gets the exit code and the
    /// report; a wait still held can no longer get there (unless for `exited`).
    private func answerHeld(finalCode: Int32) {
        let report = supervisor.disposability().encoded
        held.answer { purpose in
            switch purpose {
            case .quit:
                return .ok(["exit=\(finalCode)"] + report)
            case .wait(let targets, let goal):
                let outcome = (try? supervisor.waitOutcome(targets: targets, goal: goal)) ?? .pending
                if case .reached = outcome { return FormationRuntime.reply(outcome) }
                return .refused("the formation has stopped before \(targets.joined(separator: ", ")) \(targets.count == 1 ? "was" : "were") \(goal.rawValue)")
            }
        }
    }

    // MARK: input and attached terminals

    /// Where a slot's input goes now: its pty master under --tty, else its
    /// stdin pipe; nil while no process runs it.
    private func inputDescriptor(slot: Int) -> FileDescriptor? {
        children.running(slot: slot)?.inputDescriptor
    }

    /// An `attach` request: the connection becomes a session on the target's
    /// running process, or gets an error reply.
    private func attach(_ request: ControlRequest, fd: FileDescriptor, extra: [UInt8]) -> ControlReply? {
        guard case .attach(let target, let rows, let cols) = request else { return .refused("not an attach request") }
        guard supervisor.phase == .running else { return .refused("the formation is stopping") }
        guard attached.count < AttachHub.maxSessions else {
            return .refused("busy: \(AttachHub.maxSessions) terminals are attached already")
        }
        let slot: Int
        do throws(ControlFailure) {
            // `web` → web's first instance; `web.2` → that one.
            slot = try supervisor.resolve(target)[0]
        } catch {
            return .error(error)
        }
        let name = supervisor.instances[slot].spec.name
        guard let child = children.running(slot: slot) else {
            return .refused("\(name) is not running (\(supervisor.snapshot(now: monotonicNow()).first { $0.name == name }?.state ?? .stopped))")
        }
        if rows > 0 && cols > 0, let master = child.openPtyMaster {
            try? master.setWindowSize(WindowSize(rows: UInt16(rows), cols: UInt16(cols)))
        }
        attached.adopt(fd: fd, slot: slot, pid: child.pid, outputs: child.outputs,
                       greeting: Array(ControlReply.ok(["\(name) \(child.pid) \(child.ptyMaster == nil ? "pipe" : "tty")"]).encoded.utf8),
                       extra: extra)
        return nil
    }
}
