"""What scripts/bench, scripts/soak and scripts/abuse share (python3 stdlib only).

Each script puts this directory on its path first, so it runs from any cwd:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "lib"))
    from swiftman_scripts import ...

Here: the binary under test (find_swiftman), C helpers compiled at run time
(compile_c), the environment of a tagged run and what is left of it
(tagged_env, tagged_pids, kill_tagged: every process a run starts carries
VAR=<uuid> in its environment, found again through /proc/*/environ whoever
its parent is), /proc readers, Run (a process in its own session, reaped with
wait4, cleaned up whatever happened), and the command-line and report bits
the three scripts have in common.
"""

import argparse
import json
import os
import re
import resource  # noqa: F401  (os.wait4 needs it; import it before any run)
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
F_SETPIPE_SZ = 1031   # fcntl.F_SETPIPE_SZ from Python 3.10 on


def note(msg):
    """Progress and notes go to stderr; the report goes to stdout."""
    print(msg, file=sys.stderr, flush=True)


def read_file(path, mode="r"):
    """The whole file, or None if it cannot be read (a /proc entry of a process that is gone)."""
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return None


# --------------------------------------------------------------------------
# /proc
# --------------------------------------------------------------------------

def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


@dataclass
class ProcStat:
    pid: int
    comm: str
    state: str
    ppid: int
    pgrp: int
    session: int
    utime: int  # clock ticks
    stime: int


def proc_stat(pid):
    raw = read_file(f"/proc/{pid}/stat")
    if raw is None:
        return None
    # comm may contain spaces and parentheses: split at the last ')'.
    lp, rp = raw.index("("), raw.rindex(")")
    rest = raw[rp + 2:].split()
    return ProcStat(pid=pid, comm=raw[lp + 1:rp], state=rest[0],
                    ppid=int(rest[1]), pgrp=int(rest[2]), session=int(rest[3]),
                    utime=int(rest[11]), stime=int(rest[12]))


def alive(pid):
    """The process exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st.state != "Z"


def cpu_seconds(pid):
    """user + system CPU of the process so far (clock-tick resolution)."""
    st = proc_stat(pid)
    return (st.utime + st.stime) / os.sysconf("SC_CLK_TCK") if st else None


def comm(pid):
    return (read_file(f"/proc/{pid}/comm") or "?").strip()


def proc_exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _kib(path, key):
    m = re.search(rf"^{key}:\s+(\d+) kB", read_file(path) or "", re.M)
    return int(m.group(1)) if m else None


def proc_status_kb(pid, key):
    """A `kB` line of /proc/PID/status (VmRSS, VmHWM …), or None."""
    return _kib(f"/proc/{pid}/status", key)


def proc_pss_kb(pid):
    return _kib(f"/proc/{pid}/smaps_rollup", "Pss")


def descendants(root):
    """All live descendants of `root` (not root itself), by ppid links."""
    children = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            children.setdefault(st.ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def describe(pid):
    st = proc_stat(pid)
    cmd = (read_file(f"/proc/{pid}/cmdline", "rb") or b"").replace(b"\0", b" ").decode(errors="replace").strip()
    return {"pid": pid, "comm": st.comm if st else "?", "ppid": st.ppid if st else None, "cmdline": cmd[:120]}


# --------------------------------------------------------------------------
# Tagged runs: find and kill what a run left, whoever its parent is
# --------------------------------------------------------------------------

def tagged_env(var, tag, drop=(), **extra):
    """os.environ without SWIFTMAN_* (a developer's own settings would change
    what is measured) and the names in `drop`, with VAR=tag and `extra` added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWIFTMAN_") and k not in drop}
    env[var] = tag
    env.update(extra)
    return env


def tagged_pids(var, tag):
    """Live (non-zombie) processes, other than this one, whose environment carries VAR=tag."""
    needle = f"{var}={tag}".encode() + b"\0"
    me = os.getpid()
    found = []
    for pid in all_pids():
        if pid == me:
            continue
        env = read_file(f"/proc/{pid}/environ", "rb")
        if env and needle in env + b"\0" and alive(pid):
            found.append(pid)
    return found


def kill_tagged(var, tag, tries=100):
    """SIGKILLs every process carrying VAR=tag until none is left (at most `tries` × 20 ms)."""
    for _ in range(tries):
        pids = tagged_pids(var, tag)
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


class Run:
    """A process started in a new session (so its whole tree can be killed),
    tagged with tag_var=tag in `env`, reaped with wait4 (rusage of the whole
    reaped tree), and cleaned up on exit whatever happened."""

    def __init__(self, argv, cwd, env, tag, stdout, stderr, tag_var, stdin=subprocess.DEVNULL):
        self.argv, self.tag, self.tag_var = argv, tag, tag_var
        self.t0 = time.perf_counter()
        self.popen = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin,
                                      stdout=stdout, stderr=stderr, start_new_session=True)
        self.pid = self.popen.pid
        self.pidfd = os.pidfd_open(self.pid) if hasattr(os, "pidfd_open") else None
        self.exit_time = None   # perf_counter() when the exit was seen
        self.returncode = None
        self.rusage = None

    def wait(self, timeout):
        """Waits until the process exits (True) or `timeout` s pass (False)."""
        if self.returncode is not None:
            return True
        deadline = time.perf_counter() + timeout
        if self.pidfd is not None:
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)
            while not poller.poll(max(0, deadline - time.perf_counter()) * 1000):
                if time.perf_counter() >= deadline:
                    return False
            self.exit_time = time.perf_counter()
            self._reap(0)
            return True
        while time.perf_counter() < deadline:
            if self._reap(os.WNOHANG):
                return True
            time.sleep(0.001)
        return False

    def _reap(self, flags):
        try:
            pid, status, rusage = os.wait4(self.pid, flags)
        except ChildProcessError:   # reaped elsewhere: nothing more to learn
            self.returncode = self.popen.returncode if self.popen.returncode is not None else -1
            self.exit_time = self.exit_time or time.perf_counter()
            return True
        if pid == 0:
            return False
        if self.exit_time is None:
            self.exit_time = time.perf_counter()
        self.returncode = os.waitstatus_to_exitcode(status)
        self.popen.returncode = self.returncode  # keep subprocess from waiting again
        self.rusage = rusage
        return True

    def alive(self):
        """Not reaped yet (call wait(0) first to know whether it has exited)."""
        return self.returncode is None

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def tree_cpu_s(self):
        """user+sys of the process and every descendant it (transitively) reaped."""
        return (self.rusage.ru_utime + self.rusage.ru_stime) if self.rusage else None

    def leftovers(self):
        pids = set(tagged_pids(self.tag_var, self.tag))
        if self.alive():
            pids |= set(descendants(self.pid)) | {self.pid}
        return sorted(pids)

    def cleanup(self):
        """Kills the process group and anything still tagged; returns the
        leftovers found (excluding the process itself if it was still alive)."""
        found = [p for p in self.leftovers() if p != self.pid]
        found_desc = [describe(p) for p in found]
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.signal(signal.SIGKILL)
            self.wait(5)
        kill_tagged(self.tag_var, self.tag)
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        for f in (self.popen.stdout, self.popen.stderr):
            if f:
                f.close()
        return found_desc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


# --------------------------------------------------------------------------
# Binaries: swiftman, C helpers
# --------------------------------------------------------------------------

def executable(path, prog, option):
    """The absolute path of `path` (given as `option`), or exit with `prog: …`."""
    if not os.access(path, os.X_OK):
        sys.exit(f"{prog}: {option} {path} is not an executable")
    return os.path.abspath(path)


def find_swiftman(path, prog, build=False, required=True, stale_hint="scripts/build-release rebuilds it"):
    """The binary under test: `path` (--swiftman) if given; else
    .build/release/swiftman (with a note when Sources/ is newer); else, or
    with build=True, what scripts/build-release prints. A failed build exits
    with `prog: …`, or returns None when required=False."""
    if path:
        return executable(path, prog, "--swiftman")
    prebuilt = os.path.join(REPO, ".build", "release", "swiftman")
    if not build and os.access(prebuilt, os.X_OK):
        newest_src = max((os.path.getmtime(os.path.join(d, f))
                          for d, _, fs in os.walk(os.path.join(REPO, "Sources")) for f in fs), default=0)
        if newest_src > os.path.getmtime(prebuilt):
            note(f"note: {prebuilt} is older than Sources/ ({stale_hint})")
        return prebuilt
    note("building swiftman with scripts/build-release …")
    r = subprocess.run([os.path.join(REPO, "scripts", "build-release")], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        if required:
            sys.exit(f"{prog}: scripts/build-release failed")
        note("note: scripts/build-release failed: swiftman skipped")
        return None
    return r.stdout.strip().splitlines()[-1]


def compile_c(src, exe):
    """Compiles the C file `src` into `exe` with -O2 (cc, gcc or clang);
    raises RuntimeError saying why it could not."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise RuntimeError("needs a C compiler (cc, gcc or clang)")
    r = subprocess.run([cc, "-O2", "-o", exe, src], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"compiling {src} failed:\n{r.stderr}")
    return exe


# --------------------------------------------------------------------------
# Command line, signals, report
# --------------------------------------------------------------------------

def script_parser(doc, swiftman_help="binary (default .build/release/swiftman, else build it)"):
    """An argument parser whose description is the first line of the script's
    docstring and whose epilog is the rest; it has --swiftman PATH."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(doc.split("\n")[1:]))
    p.add_argument("--swiftman", metavar="PATH", help=swiftman_help)
    return p


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")   # unwinds through every run's clean-up


def interrupt_on_signals():
    """SIGTERM and SIGHUP act as Ctrl-C: the script cleans up and reports what it measured."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)


def timestamp():
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def loadavg():
    """The 1, 5 and 15 minute load averages, as strings."""
    return (read_file("/proc/loadavg") or "").split()[:3]


def fmt_num(v, f="{:,.0f}"):
    return "–" if v is None else f.format(v)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, default=str)
