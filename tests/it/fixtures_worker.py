"""Fixtures for assistant-worker's master: a worker.conf written into the
test's directory and the daemon started on it.

    def test_x(worker_factory):
        w = worker_factory(Workers=3)          # started with -F, waits for its children
        w.wait_for(lambda: len(w.agents()) == 3)
        w.signal(signal.SIGHUP)

Directives are keyword arguments (value None leaves a default out); the
defaults put LogFile and PidFile in the test directory and leave Database
and Redis at values nothing connects to yet.  Every worker is stopped after
the test (TERM, then KILL of the master and of any child left), and its log
is checked for crashes and sanitizer reports.

The binary: $ASST_WORKER, else the newest build*/worker/assistant-worker
under the repository (or beside it), else /tmp/build-master/worker/...
"""

import errno
import glob
import os
import re
import signal
import subprocess

import pytest

import stack

# conftest.py does `from fixtures_worker import *`: export the fixtures only;
# tests import the helpers from this module by name.
__all__ = ["worker_binary", "worker_factory", "worker"]

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(error|warn|info|debug)\] "
                      r"\[pid (\d+)\] (ASST\d{5}): ")
_BAD_LOG = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|core dumped")


def find_worker():
    """Path of assistant-worker, or None.  $ASST_WORKER wins when set."""
    env = os.environ.get("ASST_WORKER")
    if env:
        return os.path.abspath(env)
    hits = []
    for root in (stack.REPO_ROOT, os.path.dirname(stack.REPO_ROOT)):
        hits += glob.glob(os.path.join(root, "build*", "worker", "assistant-worker"))
    hits.append("/tmp/build-master/worker/assistant-worker")
    hits = [h for h in hits if os.access(h, os.X_OK)]
    return max(hits, key=os.path.getmtime) if hits else None


WORKER = find_worker()


def proc_stat(pid):
    """(state, ppid, comm) of pid from /proc, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), comm


def alive(pid):
    """True while pid exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def children_of(pid):
    """{child pid: comm} of the live (non-zombie) children of pid."""
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = proc_stat(int(entry))
        if st and st[1] == pid and st[0] != "Z":
            kids[int(entry)] = st[2]
    return kids


def wait_for(pred, timeout=10, interval=0.05):
    return stack.wait_for(pred, timeout, interval)


def conf_text(directives):
    """worker.conf text from a dict (None values left out) or a string."""
    if isinstance(directives, str):
        return directives
    return "".join("%s %s\n" % (k, v) for k, v in directives.items() if v is not None)


class Worker:
    """One assistant-worker on its own worker.conf under dir."""

    def __init__(self, dir, binary=None, name="worker", **directives):
        self.binary = binary or WORKER
        self.dir = stack.make_dir(os.path.join(dir, name), 0o755)
        self.conf = os.path.join(self.dir, "worker.conf")
        self.log = os.path.join(self.dir, "worker.log")
        self.pid_file = os.path.join(self.dir, "worker.pid")
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self.directives = {"Workers": 2, "LogFile": self.log, "LogLevel": "debug",
                           "PidFile": self.pid_file, "ShutdownTimeout": 5,
                           "Database": '"dbname=assistant host=/nonexistent"',
                           "Redis": "127.0.0.1:1"}
        self.directives.update(directives)
        self.proc = None          # the master, when started with -F
        self.pid = None           # the master's pid
        self.write_conf()

    # ---- configuration -------------------------------------------------
    def write_conf(self, directives=None, text=None, **more):
        """Rewrites worker.conf: from text, or the current directives
        updated with directives / keyword arguments."""
        if text is None:
            if directives:
                self.directives.update(directives)
            self.directives.update(more)
            text = conf_text(self.directives)
        stack.write_file(self.conf, text, 0o644)
        return self.conf

    def run(self, *args, timeout=30):
        """Runs the binary with args; (returncode, stdout + stderr)."""
        r = subprocess.run([self.binary] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def check(self):
        return self.run("-t", "-f", self.conf)

    # ---- life cycle ----------------------------------------------------
    # A command the master runs under (e.g. valgrind), foreground only.
    wrapper = ()

    def start(self, foreground=True, wait=True, timeout=10):
        """Starts the master; with wait, until all its children are up."""
        if foreground:
            self.stderr = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen(list(self.wrapper) + [self.binary, "-F", "-f", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=self.stderr,
                                         stderr=self.stderr)
            self.pid = self.proc.pid
        else:
            rc, out = self.run("-f", self.conf)
            if rc != 0:
                raise RuntimeError("assistant-worker exited %d: %s" % (rc, out))
            self.pid = self.read_pid()
        if wait:
            want = int(self.directives.get("Workers") or 2) + 1
            if not wait_for(lambda: len(self.children()) == want or not self.running, timeout):
                raise RuntimeError("%d children of %d, not %d; log:\n%s"
                                   % (len(self.children()), self.pid, want, self.log_text()))
            if not self.running:
                raise RuntimeError("master exited; log:\n%s" % self.log_text())
        return self

    def read_pid(self):
        with open(self.pid_file) as f:
            return int(f.read().strip())

    @property
    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and alive(self.pid)

    def wait_exit(self, timeout=15):
        """The master's exit status (None if it was not our child); raises on timeout."""
        if self.proc is not None:
            return self.proc.wait(timeout)
        if not wait_for(lambda: not alive(self.pid), timeout):
            raise TimeoutError("master %d still running" % self.pid)
        return None

    def stop(self, timeout=20):
        """TERM, then KILL for the master and whatever children are left."""
        kids = list(self.children()) if self.pid and self.running else []
        if self.pid and self.running:
            self.signal(signal.SIGTERM)
            try:
                self.wait_exit(timeout)
            except (TimeoutError, subprocess.TimeoutExpired):
                os.kill(self.pid, signal.SIGKILL)
                self.wait_exit(5)
        for pid in kids:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if self.proc is not None:
            self.stderr.close()

    # ---- looking at it ---------------------------------------------------
    def signal(self, sig):
        os.kill(self.pid, sig)

    def children(self):
        """{pid: comm} of the master's live children."""
        return children_of(self.pid) if self.pid else {}

    def agents(self):
        return sorted(p for p, c in self.children().items() if c == "asst-agent")

    def schedulers(self):
        return sorted(p for p, c in self.children().items() if c == "asst-scheduler")

    def wait_for(self, pred, timeout=10):
        return wait_for(pred, timeout)

    def wait_children(self, agents, timeout=10):
        """Waits until there are agents agent children and one scheduler."""
        return wait_for(lambda: len(self.agents()) == agents and len(self.schedulers()) == 1,
                        timeout)

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_lines(self, msg_id=None):
        lines = self.log_text().splitlines()
        return [ln for ln in lines if msg_id is None or " %s: " % msg_id in ln]

    def wait_log(self, pattern, timeout=10):
        """The first log line matching the regex pattern (waits for it)."""
        rx = re.compile(pattern)

        def find():
            for ln in self.log_lines():
                if rx.search(ln):
                    return ln
            return None
        return wait_for(find, timeout)

    def stderr_text(self):
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def bad_log_lines(self):
        text = self.log_text() + self.stderr_text()
        return [ln for ln in text.splitlines() if _BAD_LOG.search(ln)]


@pytest.fixture
def worker_binary():
    if not WORKER or not os.access(WORKER, os.X_OK):
        pytest.skip("assistant-worker not found: set ASST_WORKER or build into build*/")
    return WORKER


@pytest.fixture
def worker_factory(test_dir, worker_binary):
    """make(name=None, start=True, foreground=True, **directives) -> Worker.

    Every worker made is stopped after the test and its log checked."""
    made = []

    def make(name=None, start=True, foreground=True, **directives):
        w = Worker(test_dir, worker_binary, name=name or "worker%d" % len(made), **directives)
        made.append(w)
        if start:
            w.start(foreground=foreground)
        return w

    yield make

    errors = stack.stop_all_and_scan_logs(made, lambda w: w.log)
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def worker(worker_factory):
    """A started worker with the default directives (Workers 2)."""
    return worker_factory()


def pid_gone(pid):
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.ESRCH
    return not alive(pid)


def dead_pid():
    """A pid that names no process: a child that was reaped."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def wait_gone(pids, timeout=10):
    return wait_for(lambda: all(pid_gone(p) for p in pids), timeout)
