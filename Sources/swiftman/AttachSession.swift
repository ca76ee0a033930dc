import Glibc
import CSwiftman
import SwiftmanModel
import SwiftmanPlatform

/// `connect`'s side of an attach session: this terminal on a running
/// instance, over a control connection (see `AttachFrame` for the wire format).
enum Attach {
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    enum Outcome {
        case detached
        case ended(String)
        case lost(String?)
        case signal(Int32)
    }

    /// The attached terminal: raw mode while attached (restored on every way
    /// out, signals included), keys and window size to the formation, output
    /// to the terminal. A terminal that does not take output never stops it
    /// from handling a signal: stdout is written through a private
    /// non-blocking re-open.
    struct Session {
        let socket: Int32
        let detachKey: UInt8
        /// The instance has a terminal: keys go to it raw (Ctrl-C included).
        /// Otherwise lines are edited here, and Ctrl-C detaches.
        let raw: Bool
        var decoder: AttachFrameDecoder
        private var signalFD: Int32 = -1
        private var out: Int32 = 1

        init(socket: Int32, detachKey: UInt8, raw: Bool, decoder: AttachFrameDecoder) {
            self.socket = socket
            self.detachKey = detachKey
            self.raw = raw
            self.decoder = decoder
        }

        mutating func run(leftover: [UInt8], banner: String) -> Outcome {
            let signals: [Int32] = [SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT]
            var set = sigset_t()
            sigemptyset(&set)
            for s in signals { sigaddset(&set, s) }
            sigprocmask(SIG_BLOCK, &set, nil)
            signal(SIGPIPE, SIG_IGN)
            signalFD = sm_signalfd(&set)
            let reopened = sm_reopen_stdout_nonblocking()
            out = reopened >= 0 ? reopened : 1
            defer {
                if signalFD >= 0 { close(signalFD) }
                if reopened >= 0 { close(reopened) }
            }
            let terminal = isatty(0) == 1 && sm_tty_attach(0, raw ? 1 : 0, detachKey) == 0
            defer { if terminal { sm_tty_restore() } }
            CLI.printError(banner)

            decoder.feed(leftover)
            if let outcome = deliver() { return outcome }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
                if poll(&fds, nfds_t(fds.count), -1) < 0 {
                    if errno == EINTR { continue }
                    return .lost(errnoDescription())
                }
                if fds[2].revents != 0, let outcome = handleSignals() { return outcome }
                if fds[1].revents != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, 4096) }
                    if n > 0 {
                        let typed = buffer[0..<n]
                        if let at = typed.firstIndex(of: detachKey) {
                            // Keys typed before it in raw mode; in line mode an unfinished line, dropped.
                            if at > 0 && raw { _ = Attach.sendAll(socket, AttachFrame.data(Array(typed[..<at])).encoded) }
                            _ = Attach.sendAll(socket, AttachFrame.detach.encoded)
                            return .detached
                        }
                        guard Attach.sendAll(socket, AttachFrame.data(Array(typed)).encoded) else { return .lost(nil) }
                    } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                        // End of what there is to type (a pipe): detach.
                        _ = Attach.sendAll(socket, AttachFrame.detach.encoded)
                        return .detached
                    }
                }
                if fds[0].revents != 0 {
                    let n = buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
                    if n > 0 {
                        decoder.feed(buffer[0..<n])
                        if let outcome = deliver() { return outcome }
                    } else if n == 0 {
                        return .lost(nil)
                    } else if errno != EAGAIN && errno != EINTR {
                        return .lost(errnoDescription())
                    }
                }
            }
        }

        /// Pending signals: a resize is passed on; an outcome when one ends the session.
        private func handleSignals() -> Outcome? {
            while true {
                let s = sm_signalfd_next(signalFD)
                guard s > 0 else { return nil }
                if s == SIGWINCH {
                    var rows: UInt16 = 0, cols: UInt16 = 0
                    if sm_get_winsize(0, &rows, &cols) == 0 || sm_get_winsize(1, &rows, &cols) == 0 {
                        guard Attach.sendAll(socket, AttachFrame.resize(rows: rows, cols: cols).encoded) else { return .lost(nil) }
                    }
                } else if s == SIGINT && !raw {
                    _ = Attach.sendAll(socket, AttachFrame.detach.encoded)
                    return .detached
                } else {
                    return .signal(s)
                }
            }
        }

        /// Writes the decoded output; an outcome when the session is over.
        private mutating func deliver() -> Outcome? {
            do throws(AttachFrameError) {
                while let frame = try decoder.next() {
                    switch frame {
                    case .data(let bytes): if let outcome = write(bytes[...]) { return outcome }
                    case .end(let reason): return .ended(reason)
                    case .resize, .detach: return .lost("unexpected frame from the formation")
                    }
                }
            } catch {
                return .lost(error.description)
            }
            return nil
        }

        /// Writes to the terminal, waiting for it as long as it takes, but
        /// still answering signals meanwhile.
        private func write(_ bytes: ArraySlice<UInt8>) -> Outcome? {
            var rest = bytes
            while !rest.isEmpty {
                let n = rest.withUnsafeBytes { Glibc.write(out, $0.baseAddress, $0.count) }
                if n > 0 {
                    rest = rest.dropFirst(n)
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && errno == EAGAIN {
                    var fds = [pollfd(fd: out, events: Int16(POLLOUT), revents: 0),
                               pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
                    _ = poll(&fds, 2, -1)
                    if fds[1].revents != 0, let outcome = handleSignals() { return outcome }
                } else {
                    return .lost("cannot write to the terminal: \(errnoDescription())")
                }
            }
            return nil
        }
    }
}
