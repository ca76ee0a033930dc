import SwiftmanModel
import SwiftmanPlatform

/// The supervisor's side: one input in, its effects carried out.
extension FormationRuntime {
    // MARK: the supervisor

    /// One input to the supervisor, and its effects carried out in order.
    @discardableResult
    func send(_ input: SupervisorInput, now: Int64) -> ControlReply? {
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

    // MARK: the supervisor's effects

    func spawn(_ instance: InstanceSpec, slot: Int) -> Result<Int32, SpawnError> {
        // Slots added by `scale` that have not run yet (waiting for a
        // dependency) get their labels first, so slot numbers stay indexes.
        while labelsBySlot.count < slot { addLabels(slot: labelsBySlot.count, supervisor.instances[labelsBySlot.count].spec) }
        addLabels(slot: slot, instance)
        notePortInUse(instance)
        return children.spawn(instance, slot: slot, labels: labelsBySlot[slot], tty: config.tty.includes(instance.type))
    }

    /// Whether something already listens on the instance's PORT: a warning
    /// (a worker may never bind it), from the kernel's socket tables.
    func notePortInUse(_ instance: InstanceSpec) {
        guard let holders = BusyPorts.holders(of: instance.port) else { return }
        let key = instance.name + " " + holders.map { String($0.pid) }.joined(separator: ",")
        guard portsNoted.insert(key).inserted else { return }
        portNotes[instance.name] = .portInUse(instance: instance.name, port: instance.port, by: holders)
    }

    /// Signals our children that are not instance leaders (orphans handed to
    /// us, including ones that left their group), once per signal.
    func signalOrphans(_ signal: Signal) {
        guard canSweep else { return }
        for pid in ProcessTable.children(of: selfPid) where children[pid] == nil && orphansSignalled[pid] != signal {
            orphansSignalled[pid] = signal
            try? ProcessID(pid).send(signal.rawValue)
            if ProcessID(pid).group == ProcessGroup(pid) { try? ProcessGroup(pid).send(signal.rawValue) }
        }
    }

    func report(_ event: LifecycleEvent) {
        framer.event(event)
        events.append(event, time: framer.clock.millisecond)
        logReaders.reported(event, time: framer.clock.millisecond)
    }

    func watchReadiness(_ instance: InstanceSpec, pid: Int32, check: ReadyCheck) {
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

    func cancelReadiness(pid: Int32) {
        probes.cancel(pid: pid)
        output.unwatchLines(pid: pid)
    }

    /// Output labels for an instance slot: one, or stdout and stderr apart in
    /// JSON. Slots added by `scale` get theirs when first spawned.
    func addLabels(slot: Int, _ spec: InstanceSpec) {
        guard slot == labelsBySlot.count else { return }
        let out = framer.addLabel(name: spec.name, typeIndex: spec.typeIndex, stream: "stdout")
        if config.style.format == .json && !config.tty.includes(spec.type) {
            labelsBySlot.append([out, framer.addLabel(name: spec.name, typeIndex: spec.typeIndex, stream: "stderr")])
        } else {
            labelsBySlot.append([out])
        }
    }

    /// Our terminal changed size: so do the children's.
    func resizeTerminals() {
        guard let size = FileDescriptor.standardOutput.windowSize else { return }
        for child in children.all { try? child.openPtyMaster?.setWindowSize(size) }
    }
}
