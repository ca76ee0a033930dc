import SwiftmanModel
import SwiftmanPlatform

/// Control requests, held replies (`wait`, `quit`), input and attached terminals.
extension FormationRuntime {
    // MARK: control requests

    func execute(_ request: ControlRequest) -> ControlReply {
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
    func hold(_ request: ControlRequest, fd: FileDescriptor, extra: [UInt8]) -> ControlReply? {
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

    static func reply(_ outcome: WaitOutcome) -> ControlReply? {
        switch outcome {
        case .pending: return nil
        case .reached(let lines): return .ok(lines)
        case .failed(let message): return .refused(message)
        }
    }

    /// The held waits whose targets got there (or never will), answered.
    func answerWaits() {
        held.answer { purpose in
            guard case .wait(let targets, let goal) = purpose else { return nil }
            return FormationRuntime.reply((try? supervisor.waitOutcome(targets: targets, goal: goal)) ?? .pending)
        }
    }

    /// The formation has stopped: every `quit` gets the exit code and the
    /// report; a wait still held can no longer get there (unless for `exited`).
    func answerHeld(finalCode: Int32) {
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
    func inputDescriptor(slot: Int) -> FileDescriptor? {
        children.running(slot: slot)?.inputDescriptor
    }

    /// An `attach` request: the connection becomes a session on the target's
    /// running process, or gets an error reply.
    func attach(_ request: ControlRequest, fd: FileDescriptor, extra: [UInt8]) -> ControlReply? {
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
