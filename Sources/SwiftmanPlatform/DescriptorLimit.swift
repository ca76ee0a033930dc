import Glibc

/// The soft RLIMIT_NOFILE, raised on demand toward the hard limit.
public enum DescriptorLimit {
    /// Raises the soft limit to at least `needed` if the hard limit allows;
    /// returns the limit now in force when it is still lower, else nil.
    public static func ensure(_ needed: Int) -> Int? {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < rlim_t(needed) else { return nil }
        let raised = min(rlim_t(needed), limit.rlim_max)
        limit.rlim_cur = raised
        _ = setrlimit(resource, &limit)
        return raised < rlim_t(needed) ? Int(raised) : nil
    }
}
