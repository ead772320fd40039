"""dev/localstack.py: the whole assistant on loopback, in one state directory.

Used by dev/console.py (bash dev/run) and bench/e2e.  LocalStack is the
harness's Stack (tests/harness/stack.py: PostgreSQL with a database
`assistant` migrated by assistant-admin, Redis in memory, Apache (event MPM)
with mod_assistant at /sms, /status and /metrics, the fake Twilio posting
signed status callbacks to /status, assistant-worker -F), started in this
order and stopped in the reverse one, with what a developer's copy adds:

  - STATE is recreated each run; servers a killed console left running
    there are stopped first (their pid files name them);
  - a fresh random account SID and auth token, kept in STATE/secrets/;
  - the site reads the token from that file and dedupes for a day;
  - worker.conf, worker.log and worker.pid directly in STATE.

Every server runs in a session of its own, so a Ctrl-C typed at the console
reaches only the console, which then stops them.

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
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.dont_write_bytecode = True     # nothing written under tests/
from harness import util  # noqa: E402
from harness.stack import Stack  # noqa: E402
from harness.worker import Worker  # noqa: E402

ASSISTANT_NUMBER = "+15559870000"     # the Twilio number people text
STREAM = "{asst}:in"
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
    if not util.pid_alive(pid):
        return None
    return pid if state in cmd or cwd == state or cwd.startswith(state + os.sep) else None


def stop_pid(pid, sig=signal.SIGTERM, timeout=15):
    """Sends sig, waits, then SIGKILL; True if it had to kill."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    if util.wait_for(lambda: not util.pid_alive(pid), timeout, 0.05):
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    util.wait_for(lambda: not util.pid_alive(pid), 5, 0.05)
    return True


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


class LocalStack(Stack):
    """PostgreSQL, Redis, Apache + mod_assistant, fake Twilio, assistant-worker."""

    def __init__(self, state, build, workers=2, signup="open", log_level="info",
                 status_callbacks=True, out=print):
        super().__init__(state, util.Binaries(build), workers=workers, signup=signup,
                         log_level=log_level, number=ASSISTANT_NUMBER,
                         status_callbacks=status_callbacks, out=out)
        self.state = self.dir
        self.worker_user = None
        self.worker_user_note = ""

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

    def start(self):
        self.stop_leftovers()
        shutil.rmtree(self.state, ignore_errors=True)
        self.token = secrets.token_hex(16)
        self.account = "AC" + secrets.token_hex(16)
        self.redis_args = ["--pidfile", os.path.join(self.state, "redis", "redis.pid")]
        self.worker = Worker(self.state, self.bins.worker, name="")   # files directly in STATE
        return super().start()

    def site(self):
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
""".format(redis=self.redis.addr, url=self.base_url, token=self.token_file,
           account=self.account, spool=self.spool)

    def make_spool(self, path):
        """As root, httpd's children (www-data) write the spool and the
        worker's children drain it: owner www-data, group nogroup (nobody's),
        setgid so spooled files get that group, 2770."""
        spool = util.make_dir(path, 0o750)
        if not util.IS_ROOT:
            return spool
        user, _ = util.run_user()
        web = pwd.getpwnam(user)
        try:
            gid = pwd.getpwnam(WORKER_USER).pw_gid
        except KeyError:
            gid = web.pw_gid
        os.chown(spool, web.pw_uid, gid)
        os.chmod(spool, 0o2770)
        return spool

    def _pick_worker_user(self):
        if not util.IS_ROOT:
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
        sock_dir = self.pg.server.sock_dir
        paths = [self.spool] + parts[::-1] + [sock_dir]
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
                                     "as root" % (WORKER_USER, self.spool, sock_dir))

    def worker_directives(self):
        d = super().worker_directives()
        d.update(Stream=STREAM, DefaultTimezone="UTC")
        self._pick_worker_user()
        if self.worker_user:
            d["User"] = self.worker_user
        return d
