import CSwiftman

/// A process just started by `Spawner`: the leader of a new process group.
public struct SpawnedProcess: Sendable {
    /// The leader; its group has the same number.
    public let id: ProcessID
    /// Read ends of its output: one pipe (both streams), two (JSON keeps
    /// stdout and stderr apart), or a pty master.
    public let output: [(fd: FileDescriptor, stream: Int)]
    /// The write end of its stdin pipe (non-blocking): kept open (and silent)
    /// while swiftman runs, so the child sees end-of-file only when swiftman
    /// is gone. Nil under --tty, where stdin is the terminal.
    public let input: FileDescriptor?
    /// The pty master under --tty (the same fd as its only output).
    public let terminal: FileDescriptor?

    public var group: ProcessGroup { ProcessGroup(leader: id) }
}

/// posix_spawn of `/bin/sh -c SCRIPT` in a new process group (or session,
/// with a pty), with only descriptors 0–2, a reset signal mask and default
/// dispositions, in the project's root.
public struct Spawner {
    public let root: String
    /// `KEY=value` strings of the base environment (without PORT and PS).
    public let environment: CStringArray

    public init(root: String, environment: CStringArray) {
        self.root = root
        self.environment = environment
    }

    /// `discard`: stdin, stdout and stderr on /dev/null (readiness commands).
    public enum Output: Sendable { case pipe, pipes, pty, discard }

    /// Why a spawn failed: what was being made, and the error.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public let what: String
        public let errno: Errno
        public var description: String { what.isEmpty ? errno.description : "\(what): \(errno)" }
        /// No retry can succeed: the arguments and environment are too large.
        public var permanent: Bool { errno == .argumentListTooLong }
    }

    public func spawn(script: String, extraEnvironment: [String], output: Output) -> Result<SpawnedProcess, Failure> {
        let extra = CStringArray(extraEnvironment)
        let argv = CStringArray(["/bin/sh", "-c", script])

        var opened: [FileDescriptor] = []
        func fail(_ what: String, _ error: Errno) -> Result<SpawnedProcess, Failure> {
            for fd in opened { fd.close() }
            return .failure(Failure(what: what, errno: error))
        }
        var outputs: [(fd: FileDescriptor, stream: Int)] = []
        var childOut: FileDescriptor?, childErr: FileDescriptor?, childIn: FileDescriptor?
        var stdinWriter: FileDescriptor?
        var ttyPath: [CChar]?
        switch output {
        case .pty:
            let size = FileDescriptor.standardOutput.windowSize ?? WindowSize(rows: 24, cols: 80)
            let pty: Pseudoterminal
            do throws(Errno) { pty = try Pseudoterminal.open(size: size) } catch { return fail("pty", error) }
            opened += [pty.master, pty.slave]
            outputs = [(pty.master, 0)]
            childOut = pty.slave
            ttyPath = pty.path
        case .discard:
            let null: FileDescriptor
            do throws(Errno) { null = try FileDescriptor.open("/dev/null", .readWrite) } catch { return fail("/dev/null", error) }
            opened.append(null)
            childIn = null
            childOut = null
        case .pipe, .pipes:
            for stream in output == .pipe ? [0] : [0, 1] {
                let pipe: Pipe
                do throws(Errno) { pipe = try Pipe.make(nonBlockingRead: true) } catch { return fail("pipe", error) }
                opened += [pipe.readEnd, pipe.writeEnd]
                outputs.append((pipe.readEnd, stream))
                if stream == 0 { childOut = pipe.writeEnd } else { childErr = pipe.writeEnd }
            }
            let pipe: Pipe
            do throws(Errno) { pipe = try Pipe.make(nonBlockingRead: false) } catch { return fail("pipe", error) }
            opened += [pipe.readEnd, pipe.writeEnd]
            childIn = pipe.readEnd
            stdinWriter = pipe.writeEnd
            // Our end only (the child's read end is its own description):
            // input is written without ever blocking the loop.
            try? pipe.writeEnd.setNonBlocking()
        }
        if childErr == nil { childErr = childOut }

        var pid: pid_t = 0
        let rc = withExtendedLifetime((argv, extra, environment)) {
            let args = argv.nullTerminated()
            let envp = environment.nullTerminated(appending: extra)
            return args.withUnsafeBufferPointer { argvBuf in
                envp.withUnsafeBufferPointer { envBuf in
                    sm_spawn(&pid, "/bin/sh", argvBuf.baseAddress, envBuf.baseAddress, root,
                             childIn?.rawValue ?? -1, childOut?.rawValue ?? -1, childErr?.rawValue ?? -1, ttyPath)
                }
            }
        }
        guard rc == 0 else { return fail("", Errno(rc)) }
        // The child's ends are the child's alone now.
        for fd in Set([childIn, childOut, childErr].compactMap { $0 }) { fd.close() }
        if output == .discard { return .success(SpawnedProcess(id: ProcessID(pid), output: [], input: nil, terminal: nil)) }
        return .success(SpawnedProcess(id: ProcessID(pid), output: outputs, input: stdinWriter,
                                       terminal: ttyPath == nil ? nil : outputs[0].fd))
    }
}
