import Glibc
import CSwiftman

/// A process just started by `Spawner`: the leader of a new process group.
public struct SpawnedProcess: Sendable {
    public let pid: Int32
    /// Read ends of its output: one pipe (both streams), two (JSON keeps
    /// stdout and stderr apart), or a pty master.
    public let outputs: [(fd: Int32, stream: Int)]
    /// The write end of its stdin pipe: kept open (and silent) while swiftman
    /// runs, so the child sees end-of-file only when swiftman is gone. -1
    /// under --tty, where stdin is the terminal.
    public let stdin: Int32
    /// The pty master under --tty (the same fd as its only output).
    public let ptyMaster: Int32?
}

/// posix_spawn of `/bin/sh -c SCRIPT` in a new process group (or session,
/// with a pty), with only descriptors 0–2, a reset signal mask and default
/// dispositions, in the project's root.
public struct Spawner {
    public let root: String
    /// `KEY=value` strings of the base environment (without PORT and PS).
    public let environment: [UnsafeMutablePointer<CChar>?]

    public init(root: String, environment: [UnsafeMutablePointer<CChar>?]) {
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
        let extra = extraEnvironment.map { strdup($0) }
        let argv = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        defer { for p in extra + argv { free(p) } }
        let envp = environment + extra + [nil]

        var opened: [Int32] = []
        func fail(_ what: String, _ code: Int32 = errno) -> Result<SpawnedProcess, Failure> {
            for fd in opened { close(fd) }
            return .failure(Failure(what: what, errno: Errno(code)))
        }
        var outputs: [(fd: Int32, stream: Int)] = []
        var childOut: Int32 = -1, childErr: Int32 = -1, childIn: Int32 = -1
        var stdinWriter: Int32 = -1
        var ttyPath: [CChar]?
        switch output {
        case .pty:
            var master: Int32 = -1, slave: Int32 = -1
            var name = [CChar](repeating: 0, count: 128)
            var rows: UInt16 = 24, cols: UInt16 = 80
            _ = sm_get_winsize(1, &rows, &cols)
            guard sm_openpty(&master, &slave, &name, name.count, rows, cols) == 0 else { return fail("pty") }
            opened += [master, slave]
            outputs = [(master, 0)]
            childOut = slave
            ttyPath = name
        case .discard:
            let null = open("/dev/null", O_RDWR | O_CLOEXEC)
            guard null >= 0 else { return fail("/dev/null") }
            opened.append(null)
            childIn = null
            childOut = null
        case .pipe, .pipes:
            for stream in output == .pipe ? [0] : [0, 1] {
                var fds: [Int32] = [-1, -1]
                guard sm_pipe(&fds, 1) == 0 else { return fail("pipe") }
                opened += fds
                outputs.append((fds[0], stream))
                if stream == 0 { childOut = fds[1] } else { childErr = fds[1] }
            }
            var fds: [Int32] = [-1, -1]
            guard sm_pipe(&fds, 0) == 0 else { return fail("pipe") }
            opened += fds
            childIn = fds[0]
            stdinWriter = fds[1]
            // Our end only (the child's read end is its own description):
            // input is written without ever blocking the loop.
            _ = sm_set_nonblocking(stdinWriter)
        }
        if childErr < 0 { childErr = childOut }

        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { argvBuf in
            envp.withUnsafeBufferPointer { envBuf in
                sm_spawn(&pid, "/bin/sh", argvBuf.baseAddress, envBuf.baseAddress, root,
                         childIn, childOut, childErr, ttyPath)
            }
        }
        guard rc == 0 else { return fail("", rc) }
        // The child's ends are the child's alone now.
        for fd in Set([childIn, childOut, childErr]) where fd >= 0 { close(fd) }
        if output == .discard { return .success(SpawnedProcess(pid: pid, outputs: [], stdin: -1, ptyMaster: nil)) }
        return .success(SpawnedProcess(pid: pid, outputs: outputs, stdin: stdinWriter,
                                       ptyMaster: ttyPath == nil ? nil : outputs[0].fd))
    }
}
