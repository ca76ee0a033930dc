import SwiftmanModel
import SwiftmanPlatform
import SwiftmanRuntime

/// `start --detach`: everything is checked here in the foreground, then the
/// same `start` runs again in the background (its own session, stdin on
/// /dev/null, its output on a pipe to us), and we return once every instance
/// has started and every type with a ready check is ready, or print the last
/// lines and stop it when something fails first.
enum Detach {
    /// Set in the background run's environment (and taken out of its
    /// children's): it runs the formation instead of detaching again.
    static let marker = "SWIFTMAN_DETACHED_RUN"
    /// Lines of the background's output kept to show when it fails.
    static let tailLines = 20

    static func run(config: RunConfig, arguments: [String], environment: [String: String]) throws -> Int32 {
        guard let socket = config.controlSocket else { throw UsageError(message: "--detach needs the control socket") }
        // Refused here as in the background, with the same words: nothing starts.
        if case .swiftman(let pid, let root) = ControlSocketSafety.probe(socket) {
            throw Diagnostic(socket, "swiftman is already running for \(root) (pid \(pid)); stop it first (swiftman quit), or use --socket for a second formation")
        }
        let pipe: Pipe
        do throws(Errno) { pipe = try Pipe.make(nonBlockingRead: true) } catch {
            throw Diagnostic("start", "cannot make a pipe: \(error)")
        }
        var env = environment
        env[marker] = "1"
        let pid: ProcessID
        do throws(Errno) {
            pid = try Background.spawn(arguments: ["swiftman", "start"] + arguments, environment: env, output: pipe.writeEnd)
        } catch {
            pipe.readEnd.close()
            pipe.writeEnd.close()
            throw Diagnostic("start", "cannot start the background formation: \(error)")
        }
        pipe.writeEnd.close()
        defer { pipe.readEnd.close() }
        var tail = Tail(limit: tailLines)
        let types = Array(Set(config.plan.instances.map(\.type)))
            .sorted { config.plan.procfile.index(of: $0)! < config.plan.procfile.index(of: $1)! }

        while true {
            tail.read(pipe.readEnd)
            if case .exited(let child, let how) = Children.reapOne(), child == pid {
                tail.read(pipe.readEnd)
                let code: Int32
                switch how {
                case .exited(let c): code = c
                case .signaled(let s): code = 128 + s
                }
                tail.print()
                CLI.printError("start: the formation stopped before it was up (exit code \(code))")
                return code == 0 ? 1 : code
            }
            let reply: ControlReply
            do throws(ControlClient.Failure) {
                // Short waits, so its output keeps draining and its exit is seen.
                reply = try ControlClient.send(types.isEmpty ? .hello : .wait(targets: types, goal: .ready), to: socket, timeoutMs: 250)
            } catch {
                switch error {
                case .notRunning, .refused, .timedOut:
                    // Not listening yet, or not there yet.
                    if error != .timedOut { sleepBriefly() }
                    continue
                case .untrusted(let uid):
                    CLI.printError("start: \(socket): the server there runs as \(Platform.describeUser(uid)), not as you")
                    return stop(pid, socket: socket, tail: &tail, pipe: pipe.readEnd)
                case .failed(let reason):
                    CLI.printError("start: \(socket): \(reason)")
                    return stop(pid, socket: socket, tail: &tail, pipe: pipe.readEnd)
                }
            }
            switch reply {
            case .ok:
                print("swiftman: started in the background (pid \(pid), socket \(socket)): swiftman logs, swiftman ps, swiftman wait, swiftman quit")
                return 0
            case .error(let failure):
                tail.read(pipe.readEnd)
                tail.print()
                CLI.printError("start: \(failure.message); stopping the formation")
                return stop(pid, socket: socket, tail: &tail, pipe: pipe.readEnd)
            }
        }
    }

    /// Stops the background formation and waits until it has exited: exit 1
    /// (something failed before it was up), whatever its own code.
    private static func stop(_ pid: ProcessID, socket: String, tail: inout Tail, pipe: FileDescriptor) -> Int32 {
        _ = try? ControlClient.send(.quit, to: socket, timeoutMs: 0)
        // Should quit not get through, it stops as on Ctrl-C.
        try? pid.send(Signal.terminate.rawValue)
        // Read on while it stops: a full pipe must not hold it up.
        while true {
            tail.read(pipe)
            if case .exited(let child, _) = Children.reapOne(), child == pid { return 1 }
            sleepBriefly()
        }
    }

    private static func sleepBriefly() { Background.pause(milliseconds: 20) }

    /// The last lines of the background's output.
    struct Tail {
        let limit: Int
        var lines: [String] = []
        var partial: [UInt8] = []

        mutating func read(_ fd: FileDescriptor) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let result = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
                guard case .success(let n) = result, n > 0 else { return }
                for byte in buffer[0..<n] {
                    if byte == 10 {
                        lines.append(String(decoding: partial, as: UTF8.self))
                        partial.removeAll(keepingCapacity: true)
                        if lines.count > limit { lines.removeFirst(lines.count - limit) }
                    } else {
                        partial.append(byte)
                    }
                }
            }
        }

        func print() {
            for line in lines + (partial.isEmpty ? [] : [String(decoding: partial, as: UTF8.self)]) {
                try? FileDescriptor.standardError.writeAll(line + "\n")
            }
        }
    }
}
