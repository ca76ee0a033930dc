/// What Linux lets `execve` pass: one argument or environment string
/// ("KEY=value" plus its NUL) may be at most MAX_ARG_STRLEN, 32 pages.
public enum ExecLimits {
    public static let maxArgStrlen = 131_072

    /// A problem for every variable whose "KEY=value" string is too long to be
    /// passed to a child: no process could ever be started with it.
    public static func environmentProblems(_ environment: [String: String], source: String) -> [Diagnostic] {
        environment.keys.sorted().compactMap { key in
            let size = key.utf8.count + 1 + environment[key]!.utf8.count
            guard size + 1 > maxArgStrlen else { return nil }
            return Diagnostic(source, "\(key): \"\(key)=…\" is \(size) bytes, over the limit of \(maxArgStrlen - 1) "
                + "that Linux puts on one environment string (MAX_ARG_STRLEN, 128 KiB with its NUL): no process could start with it")
        }
    }
}
