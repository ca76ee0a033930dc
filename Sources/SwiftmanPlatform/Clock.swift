import Glibc

/// Monotonic time in nanoseconds.
public func monotonicNow() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// The real-time clock, and the local time zone, for timestamps.
public enum WallTime {
    /// Milliseconds since the epoch.
    public static func nowMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int(ts.tv_sec) * 1000 + Int(ts.tv_nsec) / 1_000_000
    }

    /// The local time zone's offset from UTC at `second`, in seconds.
    public static func localOffset(atSecond second: Int) -> Int {
        var t = time_t(second)
        var local = tm()
        guard localtime_r(&t, &local) != nil else { return 0 }
        return Int(local.tm_gmtoff)
    }
}
