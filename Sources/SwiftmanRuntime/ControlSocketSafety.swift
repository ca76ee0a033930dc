import SwiftmanModel
import SwiftmanPlatform

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
        do throws(Errno) {
            try FileSystem.makeDirectory(dir, permissions: 0o700)
        } catch where error != .exists {
            throw Diagnostic(dir, "cannot create the control directory: \(error)")
        } catch {}
        let st: FileStatus
        do throws(Errno) {
            st = try FileSystem.status(dir, followingLinks: false)
        } catch {
            throw Diagnostic(dir, "cannot inspect the control directory: \(error)")
        }
        let hint = "remove it, set XDG_RUNTIME_DIR to a private directory, or choose a socket with --socket PATH"
        if st.kind == .symbolicLink {
            throw Diagnostic(dir, "the control directory is a symbolic link; refusing to put the control socket where it points (\(hint))")
        }
        guard st.kind == .directory else {
            throw Diagnostic(dir, "the control directory is not a directory (\(hint))")
        }
        guard st.owner == .current else {
            throw Diagnostic(dir, "the control directory belongs to \(Platform.describeUser(st.owner)), not to you: "
                + "another user may be trying to intercept swiftman's control socket (\(hint))")
        }
        guard st.permissions & 0o077 == 0 else {
            throw Diagnostic(dir, "the control directory has mode 0\(String(st.permissions & 0o777, radix: 8)); it must be private (chmod 700 it, or use --socket PATH)")
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
        let st: FileStatus
        do throws(Errno) {
            st = try FileSystem.status(path, followingLinks: false)
        } catch {
            return error == .noEntry ? .absent : .live("cannot inspect it: \(error)")
        }
        if st.kind == .symbolicLink { return .symlink }
        if st.kind != .socket { return .notASocket }
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
            case .timedOut: return .live("no reply within 10 s")
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
    private var fd: FileDescriptor?

    private init(path: String, fd: FileDescriptor) {
        self.path = path
        self.fd = fd
    }

    /// The lock, or nil when another process holds it.
    static func acquire(_ path: String) throws(Diagnostic) -> SocketLock? {
        for _ in 0..<100 {
            let fd: FileDescriptor
            do throws(Errno) {
                // Never follows a link, never waits (a FIFO put at the path).
                fd = try FileDescriptor.open(path, .readOnly, options: [.create, .noFollow, .nonBlocking], permissions: 0o600)
            } catch {
                throw Diagnostic(path, "cannot open the control socket's lock file: \(error)")
            }
            // A regular file owned by the user, before anything else is done with it.
            if let opened = try? fd.status() {
                guard opened.kind == .regular else {
                    fd.close()
                    throw Diagnostic(path, "the lock file is not a regular file (a FIFO, a device or a socket): remove it, or choose another --socket")
                }
                guard opened.owner == .current else {
                    fd.close()
                    throw Diagnostic(path, "the lock file belongs to \(Platform.describeUser(opened.owner)), not to you; choose another --socket")
                }
            }
            do throws(Errno) {
                guard try fd.tryLock() else {
                    fd.close()
                    return nil
                }
            } catch {
                fd.close()
                throw Diagnostic(path, "cannot lock: \(error)")
            }
            guard let held = try? fd.status(), let named = try? FileSystem.status(path, followingLinks: false),
                  held.isSameFile(as: named) else {
                fd.close()  // its holder removed it meanwhile: take the new one
                continue
            }
            guard held.owner == .current else {
                fd.close()
                throw Diagnostic(path, "the lock file belongs to \(Platform.describeUser(held.owner)), not to you; choose another --socket")
            }
            return SocketLock(path: path, fd: fd)
        }
        throw Diagnostic(path, "cannot take the lock file: it keeps being replaced")
    }

    /// Removes the lock file, then lets go of the lock.
    func release() {
        guard let fd else { return }
        try? FileSystem.remove(path)
        fd.close()
        self.fd = nil
    }

    deinit { release() }
}
