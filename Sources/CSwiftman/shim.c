#define _GNU_SOURCE
#include "cswiftman.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

/// `flags` plus an empty signal mask and every disposition default (each
/// call returns 0 or an errno value: the first failure is returned).
static int set_flags_and_clean_signals(posix_spawnattr_t *attr, short flags) {
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    int rc = posix_spawnattr_setflags(attr, flags | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!rc) rc = posix_spawnattr_setsigmask(attr, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(attr, &all);
    return rc;
}

int sm_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
             const char *dir, int in_fd, int out_fd, int err_fd, const char *tty_path) {
    int new_session = tty_path != NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc) return rc;
    rc = posix_spawnattr_init(&attr);
    if (rc) { posix_spawn_file_actions_destroy(&fa); return rc; }

    // dup2 onto 0/1/2 clears FD_CLOEXEC on the copies; closefrom(3) then drops
    // everything else, including descriptors swiftman inherited from its caller.
    if (new_session) {
        // File actions run after setsid, so opening the terminal without
        // O_NOCTTY makes it the new session's controlling terminal.
        if (!rc) rc = posix_spawn_file_actions_addopen(&fa, 0, tty_path, O_RDWR, 0);
        if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, 0, 1);
        if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, 0, 2);
    } else {
        if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
        if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    }
    if (!rc && dir) rc = posix_spawn_file_actions_addchdir_np(&fa, dir);
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);

    // SETSID and SETPGROUP together fail with EPERM: a new session is a new group.
    if (!rc) rc = set_flags_and_clean_signals(&attr, new_session ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP);
    if (!rc && !new_session) rc = posix_spawnattr_setpgroup(&attr, 0);
    if (!rc) rc = posix_spawn(pid, path, &fa, &attr, argv, envp);

    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int sm_spawn_session(pid_t *pid, const char *path, char *const argv[], char *const envp[], int out_fd) {
    // stdin /dev/null, stdout and stderr on out_fd, in a session of its own:
    // sm_spawn's terminal case, with a file instead of the terminal.
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc) return rc;
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (!rc) rc = posix_spawnattr_init(&attr);
    if (rc) { posix_spawn_file_actions_destroy(&fa); return rc; }
    rc = set_flags_and_clean_signals(&attr, POSIX_SPAWN_SETSID);
    if (!rc) rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int sm_pipe(int fds[2], int nonblock_read) {
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    if (nonblock_read) {
        int fl = fcntl(fds[0], F_GETFL);
        if (fl == -1 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) == -1) {
            int e = errno;
            close(fds[0]);
            close(fds[1]);
            errno = e;
            return -1;
        }
    }
    return 0;
}

int sm_bytes_readable(int fd) {
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

int sm_signalfd(const sigset_t *mask) { return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC); }

int sm_signalfd_next(int fd) {
    struct signalfd_siginfo info;
    for (;;) {
        ssize_t n = read(fd, &info, sizeof info);
        if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n >= 0) errno = EIO;
        return -1;
    }
}

int sm_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int sm_wifexited(int status) { return WIFEXITED(status); }
int sm_wexitstatus(int status) { return WEXITSTATUS(status); }
int sm_wifsignaled(int status) { return WIFSIGNALED(status); }
int sm_wtermsig(int status) { return WTERMSIG(status); }

int sm_reopen_stdout_nonblocking(void) {
    struct stat st;
    if (fstat(1, &st) != 0) return -1;
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) return -1;
    // Opening /proc/self/fd/1 creates a new open file description for pipes
    // and character devices, so O_NONBLOCK stays ours.
    return open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

int sm_reopen_stdin_nonblocking(void) {
    struct stat st;
    if (fstat(0, &st) != 0) return -1;
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) return -1;
    return open("/proc/self/fd/0", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

int sm_set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1) return -1;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static struct termios saved_termios;
static int saved_tty_fd = -1;
static int restore_registered = 0;

void sm_tty_restore(void) {
    if (saved_tty_fd < 0) return;
    tcsetattr(saved_tty_fd, TCSADRAIN, &saved_termios);
    saved_tty_fd = -1;
}

int sm_tty_attach(int fd, int raw, unsigned char detach_key) {
    struct termios t;
    if (tcgetattr(fd, &saved_termios) != 0) return -1;
    t = saved_termios;
    if (raw) {
        cfmakeraw(&t);
        // The instance's own terminal does not turn \n into \r\n (its lines
        // are framed): this one does, so plain output does not staircase.
        t.c_oflag |= OPOST | ONLCR;
    } else {
        // Lines edited here; the detach key also ends a line, so it is read
        // at once.
        t.c_cc[VEOL] = detach_key;
    }
    if (!restore_registered) {
        atexit(sm_tty_restore);
        restore_registered = 1;
    }
    saved_tty_fd = fd;
    if (tcsetattr(fd, TCSADRAIN, &t) != 0) {
        saved_tty_fd = -1;
        return -1;
    }
    return 0;
}

int sm_openpty(int *master, int *slave, char *name, size_t name_len,
               unsigned short rows, unsigned short cols) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (m < 0) return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, name_len) != 0) {
        int e = errno;
        close(m);
        errno = e;
        return -1;
    }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        int e = errno;
        close(m);
        errno = e;
        return -1;
    }
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        t.c_oflag &= ~(tcflag_t)ONLCR;
        tcsetattr(s, TCSANOW, &t);
    }
    sm_set_winsize(s, rows, cols);
    *master = m;
    *slave = s;
    return 0;
}

int sm_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

int sm_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = {0};
    ws.ws_row = rows;
    ws.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}

static int fill_address(struct sockaddr_un *addr, const char *path) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr->sun_path, path);
    return 0;
}

int sm_unix_listen(const char *path, int backlog) {
    struct sockaddr_un addr;
    if (fill_address(&addr, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    // Created 0600 from the start: no window in which others could connect.
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    umask(old);
    if (rc != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int sm_unix_connect(const char *path, int timeout_ms) {
    struct sockaddr_un addr;
    if (fill_address(&addr, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int sm_accept(int fd, uid_t *uid) {
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return -1;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        int e = errno;
        close(c);
        errno = e;
        return -1;
    }
    *uid = cred.uid;
    return c;
}

// MARK: - Start-up hardening (runs before the Swift runtime's own initialisers)

static int sm_saved_argc;
static char **sm_saved_argv;
static int sm_closed_std;
static int sm_backtrace_overridden;
static char *sm_backtrace_original;

// Priority constructors run before unprioritised ones (the Swift runtime's
// C++ initialisers in a static build), and glibc passes them argc and argv.
__attribute__((constructor(101)))
static void sm_early_init(int argc, char **argv, char **envp) {
    (void)envp;
    sm_saved_argc = argc;
    sm_saved_argv = argv;
    // A descriptor 0-2 that the caller closed is reopened on /dev/null, so no
    // file of ours (the control socket, a pipe) can land there and be taken
    // for stdin, stdout or stderr. Lowest free fd first: open() fills them in order.
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        sm_closed_std |= 1 << fd;
        int n = open("/dev/null", (fd == 0 ? O_RDONLY : O_WRONLY) | O_NOCTTY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
    // Without /proc, the static Swift runtime cannot find its own path and
    // aborts ("Unable to obtain Swift runtime path") while setting up the
    // backtracer. Naming the backtracer (and disabling it: it needs /proc
    // too) skips that lookup. The caller's value is put back by
    // sm_restore_environment(), so children never see ours.
    char exe[16];
    if (readlink("/proc/self/exe", exe, sizeof exe) < 0) {
        const char *old = getenv("SWIFT_BACKTRACE");
        sm_backtrace_original = old ? strdup(old) : NULL;
        sm_backtrace_overridden = 1;
        setenv("SWIFT_BACKTRACE", "enable=no,swift-backtrace=/dev/null", 1);
    }
}

int sm_saved_arguments(char ***argv) {
    *argv = sm_saved_argv;
    return sm_saved_argv ? sm_saved_argc : -1;
}

int sm_closed_std_fds(void) { return sm_closed_std; }

void sm_restore_environment(void) {
    if (!sm_backtrace_overridden) return;
    sm_backtrace_overridden = 0;
    if (sm_backtrace_original) {
        setenv("SWIFT_BACKTRACE", sm_backtrace_original, 1);
        free(sm_backtrace_original);
        sm_backtrace_original = NULL;
    } else {
        unsetenv("SWIFT_BACKTRACE");
    }
}

int sm_peer_uid(int fd, uid_t *uid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *uid = cred.uid;
    return 0;
}

int sm_flock_nb(int fd) { return flock(fd, LOCK_EX | LOCK_NB); }
int sm_tcp_connect_local(int port, int *connected) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *connected = 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
        *connected = 1;
        return fd;
    }
    if (errno == EINPROGRESS) return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int sm_socket_error(int fd) {
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
    return error;
}

int sm_contains(const void *haystack, size_t length, const void *needle, size_t needle_length) {
    return memmem(haystack, length, needle, needle_length) != NULL;
}

int sm_is_socket(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

ssize_t sm_send_nonblocking(int fd, const void *bytes, size_t n) {
    return send(fd, bytes, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

sm_byte_finder sm_memchr(void) { return memchr; }

int sm_tcp_listeners(int family, int port, sm_tcp_listener *out, int max) {
    enum { tcp_listen = 10 };   /* TCP_LISTEN in the kernel's tcp_states.h */
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -errno;
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = (unsigned char)family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = 1u << tcp_listen;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(fd, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    long buffer[8192 / sizeof(long)];
    int count = 0;
    for (;;) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            return -e;
        }
        int left = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                close(fd);
                return count;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *failure = NLMSG_DATA(h);
                close(fd);
                return failure->error < 0 ? failure->error : -EIO;
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
            struct inet_diag_msg *socket_info = NLMSG_DATA(h);
            if (socket_info->idiag_state != tcp_listen) continue;
            int local_port = ntohs(socket_info->id.idiag_sport);
            if (port != 0 && local_port != port) continue;
            if (count < max) {
                memcpy(out[count].address, socket_info->id.idiag_src, 16);
                out[count].port = local_port;
                out[count].inode = socket_info->idiag_inode;
            }
            count++;
        }
    }
}
