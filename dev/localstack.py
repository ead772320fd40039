"""dev/localstack.py: the whole assistant on loopback, in one state directory.

Used by dev/console.py (bash dev/run) and bench/e2e.  Starts, in this order:

  PostgreSQL  initdb + postgres (tests/it/fixtures_pg.py), role `assistant`
              (LOGIN, not a superuser), database `assistant` owned by it,
              migrated with `assistant-admin -f STATE/worker.conf migrate`
  Redis       redis-server (tests/it/stack.py), in memory only
  Apache      event MPM, mod_assistant at /sms, /status and /metrics
  fake Twilio tests/fakes/fake_twilio.py --status-callbacks: Twilio's REST
              API for the replies; it posts signed status callbacks to /status
  the worker  assistant-worker -F (tests/it/fixtures_worker.py's Worker)

and stops them in the reverse order.  Every server runs in a session of its
own, so a Ctrl-C typed at the console reaches only the console, which then
stops them.  One Twilio account and auth token serve the three places Twilio
uses it: the webhook signatures, the status-callback signatures and the REST
API's Basic auth.

As root: Apache's children run as www-data, PostgreSQL as `postgres`, and the
worker's children as `nobody` when nobody can reach what they need (the
spool directory, which gets group nogroup and the setgid bit so that both
www-data's files and nobody's deletes work, and the PostgreSQL socket);
otherwise they stay root and the log says so (the master always stays root,
see docs/decisions.md).  As any other user everything runs as that user.
"""

import os
import pwd
import grp
import secrets
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "it"))
sys.dont_write_bytecode = True     # nothing written under tests/
import stack  # noqa: E402  (private Redis + Apache)
import fixtures_pg  # noqa: E402  (private PostgreSQL)
import fixtures_worker  # noqa: E402  (worker.conf + assistant-worker)
import fixtures_path  # noqa: E402  (the fake Twilio)

PYTHON = "/usr/bin/python3"
ASSISTANT_NUMBER = "+15559870000"     # the Twilio number people text
STREAM = "{asst}:in"
DB_NAME = "assistant"
WORKER_USER = "nobody"                # the worker's children, when started as root


def pid_from(path, state, first_line=True):
    """The pid in path if that process is alive and belongs to state (its
    command line or working directory names the state directory)."""
    try:
        with open(path) as f:
            text = f.read()
        pid = int(text.splitlines()[0].strip() if first_line else text.strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().decode("utf-8", "replace")
    except (OSError, ValueError, IndexError):
        return None
    try:                        # redis-server rewrites its cmdline; it runs in --dir
        cwd = os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        cwd = ""
    if not stack.pid_alive(pid):
        return None
    return pid if state in cmd or cwd == state or cwd.startswith(state + os.sep) else None


def stop_pid(pid, sig=signal.SIGTERM, timeout=15):
    """Sends sig, waits, then SIGKILL; True if it had to kill."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    if stack.wait_for(lambda: not stack.pid_alive(pid), timeout, 0.05):
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    stack.wait_for(lambda: not stack.pid_alive(pid), 5, 0.05)
    return True


# --------------------------------------------------------------------------
# The servers, each in a session of its own

class SessionRedis(stack.RedisServer):
    """stack.RedisServer in a session of its own."""

    def start(self, timeout=10):
        if self.running:
            return self
        self.proc = subprocess.Popen(self._argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        if not stack.wait_for(lambda: self._ping() or not self.running, timeout) \
                or not self.running:
            raise RuntimeError("redis-server did not start (rc=%s), see %s"
                               % (self.proc.poll(), self.logfile))
        return self


class SessionWorker(fixtures_worker.Worker):
    """fixtures_worker.Worker in a session of its own, files directly in dir."""

    def __init__(self, dir, binary, **directives):
        super().__init__(dir, binary, name="", **directives)
        self.stderr_path = os.path.join(self.dir, "worker.stderr")

    def start(self, timeout=15):
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([self.binary, "-F", "-f", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.stderr,
                                     stderr=self.stderr, start_new_session=True,
                                     cwd=self.dir)
        self.pid = self.proc.pid
        want = int(self.directives.get("Workers") or 2) + 1
        if not stack.wait_for(lambda: len(self.children()) == want or not self.running,
                              timeout) or not self.running:
            raise RuntimeError("assistant-worker did not come up (%d of %d children); "
                               "%s says:\n%s%s" % (len(self.children()), want, self.log,
                                                   self.log_text()[-3000:], self.stderr_text()[-2000:]))
        return self


# --------------------------------------------------------------------------

def can_access_as(user, paths):
    """True if user (by name) can search every directory in paths and
    read+write the last one; checked by a child that really is that user."""
    pw = pwd.getpwnam(user)

    def become():
        os.setgroups([])
        os.initgroups(user, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    script = 'for d in "$@"; do test -x "$d" || exit 1; done; test -r "$1" && test -w "$1"'
    r = subprocess.run(["/bin/sh", "-c", script, "sh"] + list(paths), preexec_fn=become,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


class LocalStack:
    """PostgreSQL, Redis, Apache + mod_assistant, fake Twilio, assistant-worker."""

    def __init__(self, state, build, workers=2, signup="open", log_level="info",
                 status_callbacks=True, out=print):
        self.state = os.path.abspath(state)
        self.build = os.path.abspath(build)
        self.module = os.path.join(self.build, "mod_assistant", ".libs", "mod_assistant.so")
        self.worker_bin = os.path.join(self.build, "worker", "assistant-worker")
        self.admin_bin = os.path.join(self.build, "worker", "assistant-admin")
        self.workers = workers
        self.signup = signup
        self.log_level = log_level
        self.status_callbacks = status_callbacks
        self.out = out
        self.pg = self.redis = self.apache = self.twilio = self.worker = None
        self.worker_user = None
        self.worker_user_note = ""

    def missing(self):
        """What is not there to run the stack, as a list of strings."""
        miss = [p for p in (self.module, self.worker_bin, self.admin_bin)
                if not os.access(p, os.X_OK if not p.endswith(".so") else os.R_OK)]
        for exe in (stack.APACHE2, stack.REDIS_SERVER, PYTHON):
            if not os.access(exe, os.X_OK):
                miss.append(exe)
        if not fixtures_pg.PG_BINDIR:
            miss.append("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
        return miss

    # -- leftovers of a previous run (its console was killed)
    def stop_leftovers(self):
        s = self.state
        found = [
            ("assistant-worker", os.path.join(s, "worker.pid"), signal.SIGTERM),
            ("Apache", os.path.join(s, "httpd", "run", "httpd.pid"), signal.SIGTERM),
            ("fake Twilio", os.path.join(s, "twilio", "fake_twilio.pid"), signal.SIGTERM),
            ("Redis", os.path.join(s, "redis", "redis.pid"), signal.SIGTERM),
            ("PostgreSQL", os.path.join(s, "pg", "data", "postmaster.pid"), signal.SIGINT),
        ]
        for name, path, sig in found:
            pid = pid_from(path, s)
            if pid:
                self.out("stopping %s (pid %d) left running by a previous run" % (name, pid))
                stop_pid(pid, sig)

    # -- start
    def start(self):
        s = self.state
        self.stop_leftovers()
        shutil.rmtree(s, ignore_errors=True)
        stack.make_dir(s, 0o755)
        sec = stack.make_dir(os.path.join(s, "secrets"), 0o700)
        self.token = secrets.token_hex(16)
        self.account = "AC" + secrets.token_hex(16)
        self.token_file = stack.write_file(os.path.join(sec, "twilio-auth-token"),
                                           self.token + "\n", 0o600)
        self.spool = stack.make_dir(os.path.join(s, "spool"), 0o750)

        self.pg = fixtures_pg.PostgresServer(s, "pg")
        self.pg.initdb().start()
        self.pg.setup_roles()
        self.pg.psql('CREATE DATABASE "%s" OWNER %s' % (DB_NAME, fixtures_pg.APP_ROLE))

        self.redis = SessionRedis(s, "redis", extra_args=[
            "--pidfile", os.path.join(s, "redis", "redis.pid")])
        self.redis.start()

        port = stack.free_port()
        self.base_url = "http://127.0.0.1:%d" % port
        self.apache = stack.Apache(s, self.module, name="httpd", mpm="event",
                                   body=self.site(self.base_url), port=port)
        self._setup_spool_owner()
        self.apache.start()
        if self.apache.url != self.base_url:   # the port was taken: public URLs follow
            self.base_url = self.apache.url
            self.apache.body = self.site(self.base_url)
            self.apache.write_conf()
            self.apache.graceful()

        self.twilio = fixtures_path.FakeTwilio(s, self.account, self.token,
                                               status_callbacks=self.status_callbacks,
                                               dirname="twilio")
        self.twilio.start()

        self._pick_worker_user()
        self.worker = SessionWorker(s, self.worker_bin, **self.worker_directives())
        r = subprocess.run([self.admin_bin, "-f", self.worker.conf, "migrate"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        self.migrate_output = r.stdout.strip()
        if r.returncode != 0:
            raise RuntimeError("assistant-admin migrate exited %d:\n%s" % (r.returncode, r.stdout))
        self.worker.start()
        return self

    def site(self, url):
        return """
AssistantRedis {redis}
AssistantRedisTimeout 250

# Incoming messages: what Twilio's "A message comes in" webhook points at.
<Location /sms>
    SetHandler assistant-sms
    AssistantPublicURL {url}/sms
    AssistantTwilioAuthTokenFile {token}
    AssistantTwilioAccountSid {account}
    AssistantDedupeTTL 86400
    AssistantSpoolDir {spool}
</Location>

# Delivery status callbacks of the replies (the worker's TwilioStatusCallbackURL).
<Location /status>
    SetHandler assistant-status
    AssistantPublicURL {url}/status
    AssistantTwilioAuthTokenFile {token}
    AssistantTwilioAccountSid {account}
    AssistantSpoolDir {spool}
</Location>

<Location /metrics>
    SetHandler assistant-metrics
    Require ip 127.0.0.1
</Location>
""".format(redis=self.redis.addr, url=url, token=self.token_file,
           account=self.account, spool=self.spool)

    def _setup_spool_owner(self):
        """As root, httpd's children (www-data) write the spool and the
        worker's children drain it: owner www-data, group nogroup (nobody's),
        setgid so spooled files get that group, 2770."""
        if not stack.IS_ROOT:
            return
        user, _ = stack.run_user()
        web = pwd.getpwnam(user)
        try:
            gid = pwd.getpwnam(WORKER_USER).pw_gid
        except KeyError:
            gid = web.pw_gid
        os.chown(self.spool, web.pw_uid, gid)
        os.chmod(self.spool, 0o2770)

    def _pick_worker_user(self):
        if not stack.IS_ROOT:
            return
        try:
            pwd.getpwnam(WORKER_USER)
        except KeyError:
            self.worker_user_note = "no user %s: the worker's children run as root" % WORKER_USER
            return
        # what the children open: the spool (read, delete) and the socket directory
        # of PostgreSQL; Redis, Twilio and the log (inherited) need no file access
        parts, p = [], self.spool
        while True:
            parts.append(p)
            if p == "/":
                break
            p = os.path.dirname(p)
        paths = [self.spool] + parts[::-1] + [self.pg.sock_dir]
        if can_access_as(WORKER_USER, paths):
            self.worker_user = WORKER_USER
            try:
                gname = grp.getgrgid(pwd.getpwnam(WORKER_USER).pw_gid).gr_name
            except KeyError:
                gname = "?"
            self.worker_user_note = ("children run as %s (spool is group %s, setgid)"
                                     % (WORKER_USER, gname))
        else:
            self.worker_user_note = ("%s cannot reach %s or %s: the worker's children run "
                                     "as root" % (WORKER_USER, self.spool, self.pg.sock_dir))

    def worker_directives(self):
        s = self.state
        d = {
            "Workers": self.workers,
            "Database": '"%s"' % self.pg.dsn(DB_NAME, fixtures_pg.APP_ROLE),
            "Redis": self.redis.addr,
            "Stream": STREAM,
            "TwilioAccountSid": self.account,
            "TwilioAuthTokenFile": self.token_file,
            "TwilioFrom": ASSISTANT_NUMBER,
            "TwilioApiBase": self.twilio.url,
            "TwilioStatusCallbackURL": self.base_url + "/status",
            "SignupPolicy": self.signup,
            "DefaultTimezone": "UTC",
            "SpoolDir": self.spool,
            "PidFile": os.path.join(s, "worker.pid"),
            "LogFile": os.path.join(s, "worker.log"),
            "LogLevel": self.log_level,
            "ShutdownTimeout": 5,
        }
        if self.worker_user:
            d["User"] = self.worker_user
        return d

    # -- stop, worker first
    def stop(self):
        """Stops what is running; returns ["assistant-worker (pid N)", ...]."""
        stopped = []

        def attempt(name, obj, pid_of, stop):
            if obj is None:
                return
            try:
                pid = pid_of()
                if pid:
                    stop()
                    stopped.append("%s (pid %d)" % (name, pid))
            except Exception as e:      # keep stopping the others
                self.out("stopping %s: %s" % (name, e))

        w, a, t, r, p = self.worker, self.apache, self.twilio, self.redis, self.pg
        attempt("assistant-worker", w, lambda: w.pid if w.running else None, w.stop)
        attempt("Apache", a, lambda: a.pid if a.running else None, a.stop)
        attempt("fake Twilio", t, lambda: t.proc.pid if t.running else None, t.stop)
        attempt("Redis", r, lambda: r.proc.pid if r.running else None, r.stop)
        attempt("PostgreSQL", p, lambda: p.proc.pid if p.running else None, p.stop)
        self.worker = self.apache = self.twilio = self.redis = self.pg = None
        return stopped

    # -- helpers
    def admin(self, *args, timeout=30):
        """(rc, output) of assistant-admin -f worker.conf args..."""
        r = subprocess.run([self.admin_bin, "-f", self.worker.conf] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return r.returncode, r.stdout

    def worker_pids(self):
        """(master pid, [agent pids], [scheduler pids])."""
        w = self.worker
        return w.pid, w.agents(), w.schedulers()
