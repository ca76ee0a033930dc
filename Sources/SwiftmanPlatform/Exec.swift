import Glibc

/// Replacing swiftman with a command (`swiftman run`): the command gets
/// swiftman's pid, stdin/tty, signals and exit code.
public enum Exec {
    /// Finds `name` the way a shell does: as a path when it contains `/`,
    /// else in each directory of `path` (the app's PATH, not swiftman's). A
    /// file that exists but is not executable is still returned (when nothing
    /// better is found), so that exec fails with EACCES: 126, not 127.
    public static func resolve(_ name: String, path: String?) -> String? {
        if name.contains("/") { return isFile(name) ? name : nil }
        guard !name.isEmpty else { return nil }
        var fallback: String?
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            guard isFile(candidate) else { continue }
            if access(candidate, X_OK) == 0 { return candidate }
            fallback = fallback ?? candidate
        }
        return fallback
    }

    public static func isFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// execve(2); returns only on failure, with errno.
    public static func replaceProcess(executable: String, arguments: [String],
                                      environment: [String: String]) -> Errno {
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment: environment)
        SignalSetup.restore()
        withExtendedLifetime((argv, envp)) { _ = execve(executable, argv.nullTerminated(), envp.nullTerminated()) }
        let error = errno
        SignalSetup.reinstall()
        return Errno(error)
    }
}
