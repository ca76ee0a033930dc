// The harness for the integration tests: the real swiftman binary, run against
// real Procfiles in a temp directory, with its stdout and stderr captured.
//
// Every Project has its own directory and a unique tag exported to swiftman as
// SWIFTMAN_TEST_TAG (children inherit it), so a test can find every process it
// caused through /proc/PID/environ, assert that none is left, and kill them all
// when it ends, whatever happened.
import Glibc
import CSwiftman
import Foundation
import Testing

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The swiftman executable built next to the test bundle (.build/<triple>/debug/).
enum Binary {
    static let path: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/"
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("swiftman").path
    }()
}

/// The repository root (for Procfile.example).
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Seconds on the monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = now() + timeout
    while !condition() {
        if now() > deadline { return false }
        usleep(20_000)
    }
    return true
}

/// The whole content of a file, read to EOF (works for /proc files, whose size is 0).
func readAll(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { return result }
        result += buffer[0..<n]
    }
}

/// The messages printed under `name` (`web.1`, `system`) in swiftman's output,
/// in order: the text after `NAME | `, with or without a timestamp before it.
func messages(from name: String, in output: String) -> [String] {
    output.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
        guard let bar = line.range(of: " | ") else { return nil }
        guard line[..<bar.lowerBound].split(separator: " ").last.map(String.init) == name else { return nil }
        return String(line[bar.upperBound...])
    }
}

/// A program the tests run, kept in Tests/IntegrationTests/Resources.
func resource(_ name: String) -> String {
    repositoryRoot + "/Tests/IntegrationTests/Resources/" + name
}

/// Whether `name` is on the PATH; tests that need a Debian tool skip without it
/// (`.ci/run` installs them).
func commandExists(_ name: String) -> Bool {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
}

/// The command line of a live process, words joined by spaces.
func commandLine(_ pid: pid_t) -> String? {
    readAll("/proc/\(pid)/cmdline").map { bytes in String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) }
}

/// A temp directory with a Procfile and friends, and the tag of every process
/// started from it. Deinit kills whatever is left and removes the directory.
final class Project {
    let dir: String
    let tag = UUID().uuidString

    init(procfile: String? = nil) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftman-it-\(tag)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if let procfile { try write("Procfile", procfile) }
    }

    deinit {
        for _ in 0..<100 {
            let pids = liveProcesses()
            if pids.isEmpty { break }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(20_000)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    func path(_ name: String) -> String { dir + "/" + name }

    func write(_ name: String, _ text: String) throws { try write(name, bytes: Array(text.utf8)) }

    func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
    }

    /// Runs `swiftman ARGUMENTS` in the project directory.
    func swiftman(_ arguments: [String], environment: [String: String] = [:],
                  executable: String = Binary.path, tty: Bool = false, stdin: Swiftman.Stdin = .devNull) throws -> Swiftman {
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("SWIFTMAN_") && !["NO_COLOR", "FORCE_COLOR", "PORT", "PS"].contains($0.key)
        }
        env["SWIFTMAN_TEST_TAG"] = tag
        env.merge(environment) { $1 }
        return try Swiftman(project: self, executable: executable, arguments: arguments, environment: env, tty: tty,
                            stdin: stdin)
    }

    /// `swiftman start -f PROCFILE --no-color --no-timestamp ARGUMENTS`: plain lines for easy parsing.
    func start(_ arguments: [String] = [], environment: [String: String] = [:],
               stdin: Swiftman.Stdin = .devNull) throws -> Swiftman {
        try swiftman(["start", "-f", path("Procfile"), "--no-color", "--no-timestamp"] + arguments,
                     environment: environment, stdin: stdin)
    }

    /// Runs a command that is expected to finish (check, version, a rejected start).
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (code: Int32, stdout: String, stderr: String) {
        let process = try swiftman(arguments, environment: environment)
        let code = try process.wait()
        return (code, process.stdout, process.stderr)
    }

    /// Live (not zombie) processes that carry this project's tag, swiftman included.
    func liveProcesses() -> [pid_t] {
        let marker = Array("SWIFTMAN_TEST_TAG=\(tag)\0".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            readAll("/proc/\(pid)/environ")?.contains(marker) ?? false
        }
    }

    /// Records an issue when a tagged process is still alive a few seconds from now
    /// (a leftover of a 300 s sleep would still be there).
    func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) {
        let gone = eventually(timeout: 5) { liveProcesses().isEmpty }
        #expect(gone, "processes left behind: \(liveProcesses().map { describeProcess($0) })",
                sourceLocation: sourceLocation)
    }

    private func describeProcess(_ pid: pid_t) -> String {
        "\(pid): \(commandLine(pid) ?? "?")"
    }

    /// Live tagged processes running `script` (an interpreter with the script
    /// as an argument), not counting the `sh -c` that started it.
    func processes(running script: String) -> [pid_t] {
        liveProcesses().filter { pid in
            guard let words = readAll("/proc/\(pid)/cmdline")?.split(separator: 0).map({ String(decoding: $0, as: UTF8.self) }),
                  let program = words.first else { return false }
            return !program.hasSuffix("sh") && words.dropFirst().contains(script)
        }
    }
}

/// One swiftman process with captured stdout and stderr. Output is read in the
/// calling thread, with poll, whenever the test waits for something.
final class Swiftman {
    let pid: pid_t
    /// Kept alive as long as this process, so its cleanup cannot run mid-test.
    let project: Project
    private(set) var stdoutBytes: [UInt8] = []
    private(set) var stderrBytes: [UInt8] = []
    private var outFD: Int32
    private var errFD: Int32
    /// Our end of its stdin (a pipe's write end, or the terminal's master), or -1.
    private var inFD: Int32 = -1
    private var status: Int32?

    /// What swiftman gets as stdin.
    enum Stdin {
        /// /dev/null.
        case devNull
        /// A pipe the test writes with `type` and ends with `closeInput`.
        case pipe
        /// A terminal of its own, 24×80, controlling terminal of a new session:
        /// stdin, stdout and stderr (both read as `stdout`); `type` writes
        /// what the user types, `resizeTerminal` changes its size.
        case terminal
    }

    var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }

    /// Messages printed so far under `name` (`web.1`, `system`).
    func messages(from name: String) -> [String] { IntegrationTests.messages(from: name, in: stdout) }

    /// The pid in the last "NAME started with pid N" system line.
    func startedPid(_ name: String) -> Int32? {
        messages(from: "system").last { $0.hasPrefix("\(name) started with pid ") }
            .flatMap { Int32($0.split(separator: " ").last!) }
    }

    init(project: Project, executable: String, arguments: [String], environment: [String: String],
         tty: Bool, stdin: Stdin = .devNull) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("no executable at \(executable): run `swift build` first")
        }
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        var input: [Int32] = [-1, -1]
        var terminalName: [CChar]?
        if stdin == .terminal {
            var master: Int32 = -1, slave: Int32 = -1
            var name = [CChar](repeating: 0, count: 128)
            guard sm_openpty(&master, &slave, &name, name.count, 24, 80) == 0 else { throw HarnessError("openpty: \(errno)") }
            out = [master, slave]
            terminalName = name
            input[1] = dup(master)
        } else if tty {
            var master: Int32 = -1, slave: Int32 = -1
            var name = [CChar](repeating: 0, count: 128)
            guard sm_openpty(&master, &slave, &name, name.count, 24, 80) == 0 else { throw HarnessError("openpty: \(errno)") }
            out = [master, slave]
        } else {
            guard sm_pipe(&out, 1) == 0 else { throw HarnessError("pipe: \(errno)") }
        }
        guard sm_pipe(&err, 1) == 0 else { throw HarnessError("pipe: \(errno)") }
        if stdin == .pipe {
            guard sm_pipe(&input, 0) == 0 else { throw HarnessError("pipe: \(errno)") }
        }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(devNull)
            close(out[1])
            close(err[1])
            if input[0] >= 0 { close(input[0]) }
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = sm_spawn(&pid, executable, argv, envp, project.dir, input[0] >= 0 ? input[0] : devNull,
                          out[1], err[1], terminalName)
        guard rc == 0 else {
            close(out[0])
            close(err[0])
            if input[1] >= 0 { close(input[1]) }
            throw HarnessError("spawning \(executable): error \(rc)")
        }
        self.pid = pid
        self.project = project
        outFD = out[0]
        errFD = err[0]
        inFD = input[1]
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
        }
        if outFD >= 0 { close(outFD) }
        if errFD >= 0 { close(errFD) }
        if inFD >= 0 { close(inFD) }
    }

    /// Writes `text` to swiftman's stdin (`.pipe` or `.terminal`).
    func type(_ text: String) {
        type(bytes: Array(text.utf8))
    }

    func type(bytes: [UInt8]) {
        precondition(inFD >= 0, "swiftman was not given a stdin to type into")
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(inFD, $0.baseAddress! + sent, $0.count - sent) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// Closes our end of swiftman's stdin pipe: it reads end-of-file.
    func closeInput() {
        if inFD >= 0 { close(inFD) }
        inFD = -1
    }

    /// Changes the size of swiftman's terminal (`.terminal`): its foreground
    /// process group gets SIGWINCH.
    func resizeTerminal(rows: UInt16, cols: UInt16) {
        precondition(inFD >= 0, "swiftman has no terminal")
        _ = sm_set_winsize(inFD, rows, cols)
    }

    func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Closes our end of swiftman's stdout, like `swiftman start | head` when head exits.
    func closeStdout() {
        if outFD >= 0 { close(outFD) }
        outFD = -1
    }

    /// Waits until stdout contains `text`; returns stdout.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 20) throws -> String {
        try waitFor("\"\(text)\"", timeout: timeout) { $0.contains(text) }
    }

    /// Waits until `name` has printed the line `message`.
    @discardableResult
    func waitFor(line message: String, from name: String, timeout: Double = 20) throws -> String {
        try waitFor("\(name) | \(message)", timeout: timeout) {
            IntegrationTests.messages(from: name, in: $0).contains(message)
        }
    }

    /// Waits for a line from `name` that starts with `prefix`; returns that line's message.
    @discardableResult
    func waitFor(linePrefix prefix: String, from name: String, timeout: Double = 20) throws -> String {
        var found = ""
        try waitFor("\(name) | \(prefix)…", timeout: timeout) {
            guard let line = IntegrationTests.messages(from: name, in: $0).first(where: { $0.hasPrefix(prefix) }) else { return false }
            found = line
            return true
        }
        return found
    }

    /// Waits until `predicate(stdout)` holds; returns stdout.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 20, _ predicate: (String) -> Bool) throws -> String {
        let deadline = now() + timeout
        while true {
            let text = stdout
            if predicate(text) { return text }
            if reap() != nil && outFD < 0 && errFD < 0 {
                throw failure("swiftman exited (\(status!)) before printing \(what)")
            }
            if now() > deadline { throw failure("timed out after \(timeout) s waiting for \(what)") }
            pump(seconds: min(0.1, deadline - now()))
        }
    }

    /// Reads swiftman's output for `seconds`, expecting nothing in particular.
    func keepReading(for seconds: Double) {
        let deadline = now() + seconds
        while now() < deadline {
            _ = reap()
            pump(seconds: min(0.1, deadline - now()))
        }
    }

    /// The one way to assert that something does not happen: reads swiftman's
    /// output for the whole window of `seconds` and records an issue as soon
    /// as `predicate(stdout)` holds. (Sleeping and then looking at `stdout`
    /// would only look at what was read before the sleep.)
    func expectAbsent(_ what: String, for seconds: Double, sourceLocation: SourceLocation = #_sourceLocation,
                      _ predicate: (String) -> Bool) {
        let deadline = now() + seconds
        while true {
            if predicate(stdout) {
                Issue.record("\(what) appeared within \(seconds) s\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)",
                             sourceLocation: sourceLocation)
                return
            }
            let left = deadline - now()
            if left <= 0 { return }
            _ = reap()
            pump(seconds: min(0.1, left))
        }
    }

    /// Nothing containing `text` in stdout during the next `seconds`.
    func expectAbsent(_ text: String, for seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        expectAbsent("\"\(text)\"", for: seconds, sourceLocation: sourceLocation) { $0.contains(text) }
    }

    /// No line from `name` (`web.1`, `system`) matching `predicate` during the next `seconds`.
    func expectNoLine(from name: String, for seconds: Double, sourceLocation: SourceLocation = #_sourceLocation,
                      where predicate: @escaping (String) -> Bool) {
        expectAbsent("a matching line from \(name)", for: seconds, sourceLocation: sourceLocation) {
            IntegrationTests.messages(from: name, in: $0).contains(where: predicate)
        }
    }

    /// Bytes written to swiftman's stdin (`.pipe`) that nobody has read yet
    /// (FIONREAD on our end: a pipe's ends share one buffer).
    var unreadInput: Int {
        precondition(inFD >= 0, "swiftman was not given a stdin pipe")
        return Int(sm_bytes_readable(inFD))
    }

    /// Waits for swiftman to exit and returns its exit code (128 + n when killed by
    /// signal n); then reads what is left of its output.
    @discardableResult
    func wait(timeout: Double = 20) throws -> Int32 {
        let deadline = now() + timeout
        while reap() == nil {
            if now() > deadline { throw failure("swiftman still running after \(timeout) s") }
            pump(seconds: 0.05)
        }
        let drainDeadline = now() + 5
        while (outFD >= 0 || errFD >= 0) && now() < drainDeadline { pump(seconds: 0.1) }
        return status!
    }

    /// The exit code once swiftman has exited, without blocking.
    private func reap() -> Int32? {
        if status == nil {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                status = sm_wifexited(raw) != 0 ? sm_wexitstatus(raw) : 128 + sm_wtermsig(raw)
            }
        }
        return status
    }

    /// Waits up to `seconds` for output and reads everything available.
    private func pump(seconds: Double) {
        var fds = [pollfd(fd: outFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)]
        guard outFD >= 0 || errFD >= 0 else {
            usleep(useconds_t(max(0, seconds) * 1e6))
            return
        }
        guard poll(&fds, 2, Int32(max(0, seconds) * 1000)) > 0 else { return }
        if fds[0].revents != 0 { drain(&outFD, into: &stdoutBytes) }
        if fds[1].revents != 0 { drain(&errFD, into: &stderrBytes) }
    }

    /// Reads until EAGAIN; closes the descriptor at EOF (EIO for a pty).
    private func drain(_ fd: inout Int32, into buffer: inout [UInt8]) {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while fd >= 0 {
            let n = read(fd, &chunk, chunk.count)
            if n > 0 {
                buffer += chunk[0..<n]
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                return
            } else {
                close(fd)
                fd = -1
            }
        }
    }

    private func failure(_ message: String) -> HarnessError {
        HarnessError("\(message)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)")
    }
}

/// Whether nothing listens on (or holds) TCP `port` on 127.0.0.1 right now.
func tcpPortIsFree(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A base port for `-p` whose scheme ports (base + 100 × type index, for
/// `types` types and `instances` each) are all free now.
func freeBasePort(types: Int, instances: Int = 1) -> Int {
    for _ in 0..<200 {
        let base = Int.random(in: 20_000...(60_000 - 100 * types))
        let ports = (0..<types).flatMap { t in (0..<instances).map { base + 100 * t + $0 } }
        if ports.allSatisfy(tcpPortIsFree) { return base }
    }
    return 45_000
}
