import Glibc
import CSwiftman

/// `start --detach`: swiftman itself again, in the background. A Swift
/// process does not fork and go on running Swift code; it re-executes its
/// own binary (/proc/self/exe) in a new session instead.
public enum Background {
    /// The running binary, for re-executing it.
    public static let executable = "/proc/self/exe"

    /// Starts `executable` with `arguments` (argv[0] first) and `environment`
    /// in a new session: stdin on /dev/null, stdout and stderr on `output`,
    /// no other descriptor of ours, an empty signal mask.
    public static func spawn(arguments: [String], environment: [String: String],
                             output: FileDescriptor) throws(Errno) -> ProcessID {
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment: environment)
        var pid: pid_t = 0
        let rc = withExtendedLifetime((argv, envp)) {
            let args = argv.nullTerminated()
            let env = envp.nullTerminated()
            return args.withUnsafeBufferPointer { a in
                env.withUnsafeBufferPointer { e in
                    sm_spawn_session(&pid, executable, a.baseAddress, e.baseAddress, output.rawValue)
                }
            }
        }
        guard rc == 0 else { throw Errno(rc) }
        return ProcessID(pid)
    }
}

extension Background {
    /// Sleeps `milliseconds` (the foreground of `start --detach` between looks).
    public static func pause(milliseconds: Int32) {
        var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
