"""assistant-worker on its own worker.conf under base_dir/name.

    w = Worker(base_dir, Workers=3).start()     # -F, waits for its children
    w.wait_for(lambda: len(w.agents()) == 3)
    w.signal(signal.SIGHUP)

Directives are keyword arguments (value None leaves a default out); the
defaults put LogFile and PidFile in its directory and leave Database and
Redis at values nothing connects to yet.  stop() is TERM, then KILL for the
master and any child left.  bad_log_lines(): crashes and sanitizer reports
in its LogFile and stderr.
"""

import os
import re
import signal
import subprocess

from .server import Server, ServerError
from .util import alive, children_of, find_worker, wait_for, write_file

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(error|warn|info|debug)\] "
                      r"\[pid (\d+)\] (ASST\d{5}): ")


def conf_text(directives):
    """worker.conf text from a dict (None values left out) or a string."""
    if isinstance(directives, str):
        return directives
    return "".join("%s %s\n" % (k, v) for k, v in directives.items() if v is not None)


class Worker(Server):
    name, log_name = "worker", "worker.log"
    stop_timeout = 20
    poll = 0.05
    fatal_patterns = (r"AddressSanitizer|LeakSanitizer|runtime error:|core dumped",)
    wrapper = ()              # a command the master runs under (e.g. valgrind), -F only

    def __init__(self, base_dir, binary=None, name=None, **directives):
        super().__init__(base_dir, name)
        self.binary = binary or find_worker()
        self.conf = os.path.join(self.dir, "worker.conf")
        self.pid_file = os.path.join(self.dir, "worker.pid")
        self.out_path = self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self.directives = {"Workers": 2, "LogFile": self.log_path, "LogLevel": "debug",
                           "PidFile": self.pid_file, "ShutdownTimeout": 5,
                           "Database": '"dbname=assistant host=/nonexistent"',
                           "Redis": "127.0.0.1:1"}
        self.directives.update(directives)
        self.foreground, self.wait = True, True
        self.write_conf()

    @property
    def log(self):
        return self.log_path

    # ---- configuration -------------------------------------------------
    def write_conf(self, directives=None, text=None, **more):
        """Rewrites worker.conf: from text, or the current directives
        updated with directives / keyword arguments."""
        if text is None:
            self.directives.update(directives or {}, **more)
            text = conf_text(self.directives)
        write_file(self.conf, text, 0o644)
        return self.conf

    def run(self, *args, timeout=30):
        """Runs the binary with args; (returncode, stdout + stderr)."""
        r = subprocess.run([self.binary] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def check(self):
        return self.run("-t", "-f", self.conf)

    # ---- life cycle ----------------------------------------------------
    def start(self, foreground=True, wait=True, timeout=None):
        """Starts the master (-F as our child, else as a daemon); with wait,
        until all its children are up."""
        self.foreground, self.wait = foreground, wait
        return super().start(timeout)

    def argv(self):
        return list(self.wrapper) + [self.binary, "-F", "-f", self.conf]

    def launch(self):
        if self.foreground:
            return super().launch()
        rc, out = self.run("-f", self.conf)
        if rc != 0:
            raise ServerError("assistant-worker exited %d: %s" % (rc, out))
        self.proc, self.pid = None, self.read_pid()

    def ready(self):
        want = int(self.directives.get("Workers") or 2) + 1
        return not self.wait or len(self.children()) == want

    def read_pid(self):
        with open(self.pid_file) as f:
            return int(f.read().strip())

    def stop(self, timeout=None, kill=False):
        """TERM (kill=True: KILL), then KILL for the master and whatever children are left."""
        kids = list(self.children()) if self.running else []
        forced = super().stop(timeout, kill)
        for pid in kids:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return forced

    # ---- looking at it ---------------------------------------------------
    def children(self):
        """{pid: comm} of the master's live children."""
        return children_of(self.pid) if self.pid else {}

    def agents(self):
        return sorted(p for p, c in self.children().items() if c == "asst-agent")

    def schedulers(self):
        return sorted(p for p, c in self.children().items() if c == "asst-scheduler")

    def wait_for(self, pred, timeout=10):
        return wait_for(pred, timeout, 0.05)

    def wait_children(self, agents, timeout=10):
        """Waits until there are agents agent children and one scheduler."""
        return wait_for(lambda: len(self.agents()) == agents and len(self.schedulers()) == 1,
                        timeout, 0.05)

    def log_lines(self, msg_id=None):
        lines = self.log_text().splitlines()
        return [ln for ln in lines if msg_id is None or " %s: " % msg_id in ln]

    def stderr_text(self):
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def scanned_lines(self):
        return (self.log_text() + self.stderr_text()).splitlines()
