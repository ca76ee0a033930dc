// Shims for what Swift's Glibc module hides: GNU-only calls (posix_spawn
// extensions, pipe2, signalfd, prctl) and the wait-status macros.
// Keep this header free of feature macros: defining _GNU_SOURCE here clashes
// with XCTest's view of <sys/select.h>. The .c file defines it for itself.
#ifndef CSWIFTMAN_H
#define CSWIFTMAN_H

#include <sys/types.h>
#include <signal.h>

/// Spawns `path` with `argv`/`envp` in a new process group (or a new session
/// when `new_session` is set, for --tty), cwd `dir` (NULL: inherit), fds 0/1/2
/// from `in_fd`/`out_fd`/`err_fd`, every other descriptor closed, signal mask
/// empty and every disposition default. When `ctty` is set the child makes fd 0
/// its controlling terminal. Returns 0 or an errno value.
int sm_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
             const char *dir, int in_fd, int out_fd, int err_fd, int new_session);

/// pipe2(O_CLOEXEC); the read end (fds[0]) also gets O_NONBLOCK when asked.
int sm_pipe(int fds[2], int nonblock_read);
/// Grows a pipe's buffer (F_SETPIPE_SZ); returns the new size or -1.
int sm_set_pipe_size(int fd, int size);

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

/// Opens a pseudo-terminal pair: master (non-blocking, cloexec) and slave.
int sm_openpty(int *master, int *slave);

#endif
