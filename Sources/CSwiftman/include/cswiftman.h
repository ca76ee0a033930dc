// Shims for what Swift's Glibc module hides: GNU-only calls (posix_spawn
// extensions, pipe2, signalfd, prctl) and the wait-status macros.
// Keep this header free of feature macros: defining _GNU_SOURCE here clashes
// with XCTest's view of <sys/select.h>. The .c file defines it for itself.
#ifndef CSWIFTMAN_H
#define CSWIFTMAN_H

#include <sys/types.h>
#include <signal.h>

/// Spawns `path` with `argv`/`envp` in a new process group, cwd `dir` (NULL:
/// inherit), fds 0/1/2 from `in_fd`/`out_fd`/`err_fd`, every other descriptor
/// closed, signal mask empty and every disposition default. With `tty_path`
/// (for --tty) the child instead starts a new session and opens that terminal
/// as 0/1/2, which makes it its controlling terminal; the fds are ignored.
/// Returns 0 or an errno value.
int sm_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
             const char *dir, int in_fd, int out_fd, int err_fd, const char *tty_path);

/// Spawns `path` in a new session (setsid: no controlling terminal, its
/// own process group), stdin on /dev/null, stdout and stderr on `out_fd`,
/// every other descriptor closed, signal mask empty and dispositions
/// default (`start --detach`). Returns 0 or an errno value.
int sm_spawn_session(pid_t *pid, const char *path, char *const argv[], char *const envp[], int out_fd);

/// pipe2(O_CLOEXEC); the read end (fds[0]) also gets O_NONBLOCK when asked.
int sm_pipe(int fds[2], int nonblock_read);
/// Bytes waiting to be read from `fd` (FIONREAD), or 0.
int sm_bytes_readable(int fd);

/// signalfd over `mask`, non-blocking and close-on-exec.
int sm_signalfd(const sigset_t *mask);
/// Reads one signal from a signalfd: returns its number, 0 when none is
/// pending, -1 on error (errno set).
int sm_signalfd_next(int fd);

/// prctl(PR_SET_CHILD_SUBREAPER, 1). Returns 0 or -1.
int sm_set_child_subreaper(void);

int sm_wifexited(int status);
int sm_wexitstatus(int status);
int sm_wifsignaled(int status);
int sm_wtermsig(int status);

/// A private non-blocking write descriptor for fd 1 when it is a pipe or a
/// terminal (re-opened through /proc so O_NONBLOCK does not leak into the
/// shared open file description). Returns -1 when that is not possible.
int sm_reopen_stdout_nonblocking(void);

/// The same for fd 0 (read side), for `start --input`.
int sm_reopen_stdin_nonblocking(void);
/// Sets O_NONBLOCK on `fd`'s open file description. Returns 0 or -1.
int sm_set_nonblocking(int fd);
/// Sets up terminal `fd` for `connect`, saving its settings (restored by
/// `sm_tty_restore` and, failing that, at exit): raw (output still maps \n to
/// \r\n) for an instance on a pty; otherwise line editing stays local and
/// `detach_key` also ends a line. Returns 0 or -1.
int sm_tty_attach(int fd, int raw, unsigned char detach_key);
/// Restores what `sm_tty_attach` changed (once; later calls do nothing).
void sm_tty_restore(void);

/// Opens a pseudo-terminal: master (non-blocking, cloexec) and slave (cloexec),
/// the slave's path in `name`, size `rows`×`cols`, and output post-processing
/// off so lines end in "\n", not "\r\n". Returns 0 or -1 (errno set).
int sm_openpty(int *master, int *slave, char *name, size_t name_len,
               unsigned short rows, unsigned short cols);
/// The window size of terminal `fd`; returns -1 when it is not a terminal.
int sm_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
/// Sets the window size of terminal `fd` (its foreground group gets SIGWINCH).
int sm_set_winsize(int fd, unsigned short rows, unsigned short cols);

/// A listening Unix stream socket at `path` (non-blocking, cloexec, mode 0600).
/// Returns the fd or -1 (errno set; ENAMETOOLONG past sun_path).
int sm_unix_listen(const char *path, int backlog);
/// A blocking connection to the Unix socket at `path`, or -1 (errno set).
int sm_unix_connect(const char *path, int timeout_ms);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; the peer's uid via SO_PEERCRED
/// in `uid`. Returns the fd or -1 (errno set).
int sm_accept(int fd, uid_t *uid);

/// Start-up hardening, done by a constructor before the Swift runtime starts:
/// the process's argc/argv as the kernel gave them (CommandLine.arguments
/// reads /proc/self/cmdline, which may be missing): returns argc, or -1.
int sm_saved_arguments(char ***argv);
/// Bit n set when descriptor n (0-2) was closed at start (it now holds /dev/null).
int sm_closed_std_fds(void);
/// Puts back the caller's SWIFT_BACKTRACE, overridden at start when /proc is
/// missing (see shim.c). Call first thing in main.
void sm_restore_environment(void);
/// The uid of the process at the other end of a Unix socket (SO_PEERCRED).
int sm_peer_uid(int fd, uid_t *uid);
/// flock(LOCK_EX | LOCK_NB). Returns 0 or -1 (errno EWOULDBLOCK when held).
int sm_flock_nb(int fd);
/// A non-blocking TCP connection to 127.0.0.1:`port` (readiness checks).
/// Returns the fd with `*connected` = 1 when it connected at once, 0 when in
/// progress (poll for POLLOUT, then sm_socket_error); -1 on error (errno set).
int sm_tcp_connect_local(int port, int *connected);
/// The socket's pending error (SO_ERROR): 0 once connected.
int sm_socket_error(int fd);
/// Whether `needle` occurs in `haystack` (memmem).
int sm_contains(const void *haystack, size_t length, const void *needle, size_t needle_length);

/// Whether `fd` is a socket (stdout under systemd's journal, a socketpair).
int sm_is_socket(int fd);
/// send(2) with MSG_DONTWAIT | MSG_NOSIGNAL: a non-blocking write to a socket
/// whose open file description we must not make non-blocking (it is shared).
ssize_t sm_send_nonblocking(int fd, const void *bytes, size_t n);

/// memchr's address, for code that takes a byte finder as a C function
/// pointer (the framer's newline search): a plain indirect call, as fast as
/// calling memchr itself.
typedef void *(*sm_byte_finder)(const void *start, int byte, size_t count);
sm_byte_finder sm_memchr(void);

/// A TCP socket in the LISTEN state, as the kernel's socket diagnostics
/// (NETLINK_SOCK_DIAG) report it.
typedef struct {
    /// The local address in network byte order (IPv4: the first 4 bytes).
    unsigned char address[16];
    int port;
    unsigned long long inode;
} sm_tcp_listener;

/// The listening TCP sockets of `family` (AF_INET or AF_INET6) on `port`
/// (0: every port) in our network namespace, asked of the kernel over
/// NETLINK_SOCK_DIAG: it walks only its table of listeners, where reading
/// /proc/net/tcp walks every bucket of the connection table (milliseconds on
/// a machine with much memory). Fills up to `max` entries; returns how many
/// there are (more than `max`: call again with room), or -errno (no
/// sock_diag: the caller falls back to /proc/net/tcp).
int sm_tcp_listeners(int family, int port, sm_tcp_listener *out, int max);

#endif
