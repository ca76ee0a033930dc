import SwiftmanModel
import SwiftmanPlatform
import Glibc
import CSwiftman

/// The rules that keep the control socket ours: a private directory checked
/// every time, a lock that makes "one formation per socket" atomic, and a
/// probe that only calls a socket stale when the kernel refuses connections.
public enum ControlSocketSafety {
    /// Rejects `--socket` values that cannot be a safe filesystem socket.
    public static func validateExplicit(_ path: String, source: String = "--socket") throws(Diagnostic) {
        if path.isEmpty {
            throw Diagnostic(source, "empty path (an abstract socket would be shared by every user and project on the machine; give a file path)")
        }
        if path.utf8.contains(0) { throw Diagnostic(source, "the path contains a NUL byte") }
        if path.utf8.count > ControlSocketPath.limit {
            throw Diagnostic(source, "\"\(path)\" is \(path.utf8.count) bytes, longer than a Unix socket path may be (\(ControlSocketPath.limit))")
        }
    }

    /// mkdir -m 0700, or check that an existing directory is a real directory
    /// (not a symlink), ours, and private. Done for the directory actually
    /// used, every time.
    public static func preparePrivateDirectory(_ dir: String) throws(Diagnostic) {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw Diagnostic(dir, "cannot create the control directory: \(errnoDescription())")
        }
        var st = stat()
        guard lstat(dir, &st) == 0 else {
            throw Diagnostic(dir, "cannot inspect the control directory: \(errnoDescription())")
        }
        let hint = "remove it, set XDG_RUNTIME_DIR to a private directory, or choose a socket with --socket PATH"
        if (st.st_mode & S_IFMT) == S_IFLNK {
            throw Diagnostic(dir, "the control directory is a symbolic link; refusing to put the control socket where it points (\(hint))")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw Diagnostic(dir, "the control directory is not a directory (\(hint))")
        }
        guard st.st_uid == getuid() else {
            throw Diagnostic(dir, "the control directory belongs to \(Platform.describeUser(st.st_uid)), not to you: "
                + "another user may be trying to intercept swiftman's control socket (\(hint))")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw Diagnostic(dir, "the control directory has mode 0\(String(st.st_mode & 0o777, radix: 8)); it must be private (chmod 700 it, or use --socket PATH)")
        }
    }

    /// What is at a socket path, as far as a server that wants it is concerned.
    public enum Probe: Equatable {
        case absent
        /// A socket nobody listens on (ECONNREFUSED): left by a killed run.
        case stale
        case symlink
        case notASocket
        /// A swiftman answered hello.
        case swiftman(pid: String, root: String)
        /// Something accepted the connection but did not answer as swiftman
        /// (a stopped formation, another program); `detail` says what.
        case live(String)
    }

    public static func probe(_ path: String, timeoutMs: Int32 = 1_000) -> Probe {
        var st = stat()
        if lstat(path, &st) != 0 { return errno == ENOENT ? .absent : .live("cannot inspect it: \(errnoDescription())") }
        if (st.st_mode & S_IFMT) == S_IFLNK { return .symlink }
        if (st.st_mode & S_IFMT) != S_IFSOCK { return .notASocket }
        do throws(ControlClient.Failure) {
            let reply = try ControlClient.send(.hello, to: path, timeoutMs: timeoutMs)
            if case .ok(let lines) = reply {
                let pid = lines.first { $0.hasPrefix("pid=") }.map { String($0.dropFirst(4)) } ?? "?"
                let root = lines.first { $0.hasPrefix("root=") }.map { String($0.dropFirst(5)) } ?? "?"
                return .swiftman(pid: pid, root: root)
            }
            return .live("it answered with an error")
        } catch {
            switch error {
            case .refused: return .stale
            case .notRunning: return .absent
            case .untrusted(let uid): return .live("it is served by \(Platform.describeUser(uid))")
            case .failed(let reason): return .live(reason)
            }
        }
    }
}

/// `SOCKET.lock`: held (flock) by the formation that owns the socket, from
/// before it looks at the socket until after it has removed it. Whoever
/// cannot take it is not the owner and never touches the socket. The file is
/// removed by its holder; a taker checks it still locked the file at the path.
final class SocketLock {
    let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// The lock, or nil when another process holds it.
    static func acquire(_ path: String) throws(Diagnostic) -> SocketLock? {
        for _ in 0..<100 {
            let fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw Diagnostic(path, "cannot open the control socket's lock file: \(errnoDescription())") }
            if sm_flock_nb(fd) != 0 {
                let error = errno
                close(fd)
                if error == EWOULDBLOCK || error == EAGAIN { return nil }
                throw Diagnostic(path, "cannot lock: \(errnoDescription(error))")
            }
            var held = stat(), named = stat()
            guard fstat(fd, &held) == 0, lstat(path, &named) == 0,
                  held.st_dev == named.st_dev, held.st_ino == named.st_ino else {
                close(fd)  // its holder removed it meanwhile: take the new one
                continue
            }
            guard held.st_uid == getuid() else {
                close(fd)
                throw Diagnostic(path, "the lock file belongs to \(Platform.describeUser(held.st_uid)), not to you; choose another --socket")
            }
            return SocketLock(path: path, fd: fd)
        }
        throw Diagnostic(path, "cannot take the lock file: it keeps being replaced")
    }

    /// Removes the lock file, then lets go of the lock.
    func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
