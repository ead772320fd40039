"""The base class of every server the harness runs: one process started in
its own directory (base_dir/name), in a session of its own (a Ctrl-C typed
at a terminal reaches only whoever started it, who then stops it).  A
subclass says how to run it (argv()) and, if "its port accepts connections"
is not it, how to tell it is up (ready()); the base class starts, waits,
stops, kills, restarts and scans its log.  The contract and an example:
README.md.
"""

import os
import re
import signal
import subprocess
import time

from .util import make_dir, pid_alive, port_open, wait_for


class ServerError(RuntimeError):
    pass


class Server:
    name = "server"               # the directory under base_dir, unless given
    log_name = "server.log"       # the log file in it
    stop_signal = signal.SIGTERM
    start_timeout = 10
    stop_timeout = 10
    restart_retry = 0             # seconds restart() keeps trying a start that fails
    poll = 0.02                   # seconds between two looks at ready() / running
    stdout = None                 # subprocess.PIPE to read it; None: to out_path
    # bad_log_lines(): lines that always fail a test, and lines that fail it
    # unless it declared them with expect()
    fatal_patterns = ()
    error_patterns = ()
    error_class = ServerError

    def __init__(self, base_dir, name=None):
        self.dir = make_dir(os.path.join(base_dir, self.name if name is None else name), 0o755)
        self.log_path = os.path.join(self.dir, self.log_name)
        self.out_path = self.log_path
        self.port = None
        self.proc = None          # the process, when it is our child
        self.pid = None           # its pid (a daemon's, from its pid file)
        self.expected = []

    # ---- what a subclass says ------------------------------------------
    def argv(self):
        raise NotImplementedError

    def ready(self):
        return self.port is not None and port_open(self.port)

    def env(self):
        return None               # ours

    def preexec(self):
        return None               # a function the child runs before exec

    def launch(self):
        """Starts the process (without waiting for it to be ready)."""
        out = open(self.out_path, "ab") if self.out_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=self.stdout or out, stderr=out, cwd=self.dir,
                                         env=self.env(), preexec_fn=self.preexec(),
                                         start_new_session=True)
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        self.pid = self.proc.pid

    # ---- life cycle ------------------------------------------------------
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and pid_alive(self.pid)

    def start(self, timeout=None):
        """Starts it and waits until ready(); raises error_class (a
        ServerError) with the log's tail if it dies or is not ready in time."""
        if self.running:
            return self
        self.launch()
        timeout = self.start_timeout if timeout is None else timeout
        if not wait_for(lambda: not self.running or self.ready(), timeout, self.poll) \
                or not self.running:
            rc = self.proc.poll() if self.proc is not None else None
            self.stop(timeout=5)
            raise self.error_class("%s did not start (exit status %s); %s ends:\n%s"
                                   % (type(self).__name__, rc, self.log_path,
                                      self.log_text()[-3000:]))
        return self

    def stop(self, timeout=None, kill=False):
        """stop_signal, then SIGKILL after timeout seconds; kill=True is
        kill(): a crash.  Returns True if it had to be killed."""
        if kill:
            self.kill()
            return False
        forced = False
        if self.running:
            self.request_stop()
            if not self._wait_gone(self.stop_timeout if timeout is None else timeout):
                forced = True
                self.signal(signal.SIGKILL)
                self._wait_gone(5)
        self._forget()
        return forced

    def request_stop(self):
        """Asks it to shut down (default: sends stop_signal)."""
        self.signal(self.stop_signal)

    def kill(self, sig=signal.SIGKILL):
        """Sends sig; SIGKILL is a crash: returns once the process is gone."""
        self.signal(sig)
        if sig == signal.SIGKILL:
            self._wait_gone(10)
            self._forget()

    def restart(self, kill=False, timeout=None):
        self.stop(kill=kill)
        deadline = time.monotonic() + self.restart_retry
        while True:
            try:
                return self.start(timeout)
            except ServerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except (ProcessLookupError, TypeError):     # gone, or never started
            pass

    def wait_exit(self, timeout=15):
        """Its exit status (None if it was not our child); raises
        TimeoutError if it is still running after timeout seconds."""
        if not self._wait_gone(timeout):
            raise TimeoutError("%s (pid %s) still running" % (type(self).__name__, self.pid))
        return self.proc.returncode if self.proc is not None else None

    def _wait_gone(self, timeout):
        return wait_for(lambda: not self.running, timeout, self.poll)

    def _forget(self):
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = self.pid = None
        if self.port:           # really closed before a test relies on "it is down"
            wait_for(lambda: not port_open(self.port), 5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- its log -----------------------------------------------------------
    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_lines(self):
        return self.log_text().splitlines()

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def wait_log(self, pattern, timeout=10):
        """The first log line matching the regex pattern (waits for it), or None."""
        rx = re.compile(pattern)
        return wait_for(lambda: next((ln for ln in self.log_lines() if rx.search(ln)), None),
                        timeout, 0.05)

    def expect(self, *patterns):
        """Declares log lines (regexes) that the test provokes on purpose."""
        self.expected.extend(re.compile(p) for p in patterns)

    def scanned_lines(self):
        """The lines bad_log_lines() looks at (default: the log's)."""
        return self.log_lines()

    def bad_log_lines(self):
        """Lines matching a fatal pattern, or an error pattern not expect()ed."""
        fatal = [re.compile(p) if isinstance(p, str) else p for p in self.fatal_patterns]
        errors = [re.compile(p) if isinstance(p, str) else p for p in self.error_patterns]
        return [ln for ln in self.scanned_lines()
                if any(p.search(ln) for p in fatal)
                or (any(p.search(ln) for p in errors)
                    and not any(p.search(ln) for p in self.expected))]


def stop_all_and_scan_logs(servers):
    """Stops each server (a failed stop does not skip the rest) and returns
    the problems: failed stops and each log's bad lines. [] when all is well."""
    errors = []
    for s in servers:
        try:
            s.stop()
        except Exception as e:  # still scan its log
            errors.append("stop: %s" % e)
        bad = s.bad_log_lines()
        if bad:
            errors.append("unexpected lines in %s:\n  %s" % (s.log_path, "\n  ".join(bad)))
    return errors
