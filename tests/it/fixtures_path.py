"""The whole message path, end to end (imported by conftest.py).

    Twilio (signed webhook) -> Apache + mod_assistant (/sms, /status)
      -> Redis stream {asst}:in (or AssistantSpoolDir while Redis is down)
      -> assistant-worker (Workers agents + scheduler) -> PostgreSQL
      -> fake Twilio REST API (tests/fakes/fake_twilio.py), whose status
         callbacks come back through Apache's /status.

Fixtures:
  fake_twilio        the session's fake Twilio (one process, --status-callbacks,
                     reset before every test): .url, .requests(method="POST"),
                     .sent(to=None),
                     .faults(dict=None) (get, or replace), .reset(),
                     .hold(count, ms), .inflight()
  assistant_factory  make(redis=None, spool=True, mpm=None, **directives) -> Path:
                     a migrated database, Apache, the worker (started) and
                     worker.conf pointing at all of them; directives override
                     the worker.conf defaults (Workers 2, ClaimIdle 1500,
                     SignupPolicy open, ...); redis= another stack.RedisServer
  assistant          assistant_factory() with the defaults

Path (what a test drives):
  .text(from_, body, sid=None) -> MessageSid     signed webhook, asserts 200 TwiML
  .post(params) -> response                      the same webhook again (Twilio retry)
  .wait_replies(n, to=None, timeout=15, body=None) -> [fake requests]
        the first accepted (HTTP 201) Messages.json POSTs once there are >= n
  .replies(to=None, body=None), .assert_no_more(n, to=None, seconds=1.5)
  .wait_drained(timeout=15)                      {asst}:in empty and spool empty
  .wait_outbox_settled(timeout=15)               no outbox row pending/sending
  .sql(query) / .value(query)                    psql as `assistant` in system scope
  .admin(*args, rc=0)                            assistant-admin -f <worker.conf> ...
  .expect_worker(*regex)                         [error] lines the test provokes
  .pg, .redis, .rdb, .apache, .worker, .fake, .conf, .spool, .webhook

After the test the worker is stopped and its LogFile scanned: every
"[error]" line not declared with expect_worker() fails the test (Apache's
log is scanned by apache_factory as usual).

Binaries: $ASST_WORKER / $ASST_ADMIN, else the newest build*/worker/ under
the repository or beside it (the admin next to the worker first).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

import stack
from stack import ACCOUNT, TOKEN, Webhook, default_body, assert_twiml_ok

__all__ = ["_fake_twilio_session", "fake_twilio", "assistant_factory", "assistant"]

FAKE_TWILIO = os.path.join(stack.REPO_ROOT, "tests", "fakes", "fake_twilio.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
TWILIO_FROM = "+15005551234"
ERROR_LINE = re.compile(r"\[error\]")
PLACEHOLDER = 'Got it: "%s". (I can only acknowledge messages for now.)'
HELP_TEXT = ("This is your personal assistant. Text it what you need. "
             "Reply STOP to unsubscribe, START to resubscribe.")


def placeholder_reply(body):
    return PLACEHOLDER % body


def _newest(paths):
    paths = [p for p in paths if os.access(p, os.X_OK)]
    return max(paths, key=os.path.getmtime) if paths else None


def _build_globs(name):
    hits = []
    for root in (stack.REPO_ROOT, os.path.dirname(stack.REPO_ROOT)):
        hits += glob.glob(os.path.join(root, "build*", "worker", name))
    return hits


def find_worker():
    env = os.environ.get("ASST_WORKER")
    if env:
        return os.path.abspath(env)
    return _newest(_build_globs("assistant-worker"))


def find_admin():
    env = os.environ.get("ASST_ADMIN")
    if env:
        return os.path.abspath(env)
    worker = find_worker()
    if worker:
        beside = os.path.join(os.path.dirname(worker), "assistant-admin")
        if os.access(beside, os.X_OK):
            return beside
    return _newest(_build_globs("assistant-admin")) or shutil.which("assistant-admin")


# --------------------------------------------------------------------------
# fake Twilio

class FakeTwilio:
    """tests/fakes/fake_twilio.py on a free port, signing its status callbacks
    with the stack's auth token (so Apache's /status accepts them)."""

    def __init__(self, base_dir, account=ACCOUNT, token=TOKEN, callback_delay_ms=50,
                 status_callbacks=True, dirname="fake-twilio"):
        self.account = account
        self.token = token
        self.dir = stack.make_dir(os.path.join(base_dir, dirname), 0o755)
        self.log = os.path.join(self.dir, "fake_twilio.log")
        self.pid_file = os.path.join(self.dir, "fake_twilio.pid")
        self.callback_delay_ms = callback_delay_ms
        self.status_callbacks = status_callbacks
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=15):
        argv = [PYTHON, FAKE_TWILIO, "--port", "0", "--account", self.account,
                "--token", self.token, "--callback-delay-ms", str(self.callback_delay_ms)]
        if self.status_callbacks:
            argv.append("--status-callbacks")
        log = open(self.log, "ab")
        try:
            # its own session: a terminal's Ctrl-C reaches only who started it
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=log, start_new_session=True, cwd=self.dir)
        finally:
            log.close()
        stack.write_file(self.pid_file, "%d\n" % self.proc.pid)
        got = {}

        def read_port():
            line = self.proc.stdout.readline().decode("ascii", "replace")
            if line.startswith("PORT "):
                got["port"] = int(line.split()[1])
        t = threading.Thread(target=read_port, daemon=True)
        t.start()
        t.join(timeout)
        if "port" not in got:
            self.stop()
            raise RuntimeError("fake_twilio did not start; see %s" % self.log)
        self.port = got["port"]
        return self

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.proc.stdout.close()
        self.proc = None

    # ---- control API ----
    def _get(self, path, session=None):
        import requests
        r = (session or requests).get(self.url + path, timeout=10)
        r.raise_for_status()
        return r.json()

    def _post(self, path, obj=None):
        import requests
        r = requests.post(self.url + path, data=json.dumps(obj or {}),
                          headers={"Content-Type": "application/json"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def requests(self, session=None, method="POST"):
        """Every POST to Messages.json, oldest first (failed ones included);
        method="GET": the GET Messages.json lists instead, None: both."""
        return self._get("/_fake/requests" + ("?method=" + method if method else ""), session)

    def sent(self, to=None, body=None):
        """The POSTs the fake accepted (HTTP 201), optionally to one number
        or with one body, oldest first."""
        return [r for r in self.requests() if r["status"] == 201
                and (to is None or r["form"].get("To") == to)
                and (body is None or r["form"].get("Body") == body)]

    def faults(self, faults=None):
        """The faults in force; with a dict, replaces them first."""
        if faults is not None:
            return self._post("/_fake/faults", faults)
        return self._get("/_fake/faults")

    def reset(self):
        return self._post("/_fake/reset")

    def hold(self, count=1, ms=2000):
        """The next `count` sends the fake accepts are answered `ms` later."""
        return self._post("/_fake/hold", {"count": count, "ms": ms})

    def inflight(self, session=None):
        """The sends being answered right now: [{peer, since, to, status, sid}]."""
        return self._get("/_fake/inflight", session)


@pytest.fixture(scope="session")
def _fake_twilio_session(base_dir):
    f = FakeTwilio(base_dir).start()
    yield f
    f.stop()


@pytest.fixture
def fake_twilio(_fake_twilio_session):
    """The session's fake Twilio, forgotten everything and without faults."""
    f = _fake_twilio_session
    if not f.running:
        f.start()
    f.reset()
    yield f
    f.faults({})


# --------------------------------------------------------------------------
# the whole path

class Path:
    def __init__(self, pg, redis, apache, worker, fake, spool, admin_binary):
        self.pg = pg
        self.redis = redis
        self.rdb = redis.client()
        self.apache = apache
        self.worker = worker
        self.fake = fake
        self.spool = spool
        self.conf = worker.conf
        self.admin_binary = admin_binary
        self.twilio_from = TWILIO_FROM
        self.webhook = Webhook(apache, TOKEN, apache.url, ACCOUNT)
        self.expected = []

    # ---- the phone side ----
    def text(self, from_, body, sid=None, to=None):
        """Posts a signed incoming-SMS webhook; returns its MessageSid."""
        r, params = self.webhook.sms(from_=from_, body=body, sid=sid, to=to or self.twilio_from)
        assert_twiml_ok(r)
        self.last_params = params
        return dict(params)["MessageSid"]

    def post(self, params, path="/sms"):
        """The same signed webhook again (what Twilio does on a timeout)."""
        return self.webhook.post(path, params)

    # ---- the Twilio REST side ----
    def replies(self, to=None, body=None):
        return self.fake.sent(to=to, body=body)

    def wait_replies(self, n, to=None, timeout=15, body=None):
        """The accepted Messages.json POSTs (to `to`) once there are at least n;
        fails with what is known when they do not come."""
        got = stack.wait_for(lambda: len(self.replies(to, body)) >= n, timeout, 0.05)
        reps = self.replies(to, body)
        if not got:
            pytest.fail("%d replies%s after %ss, wanted %d\nreplies: %s\noutbox: %s\n"
                        "worker log tail:\n%s" % (
                            len(reps), " to %s" % to if to else "", timeout, n,
                            [r["form"].get("Body", "")[:80] for r in reps],
                            self.outbox_rows(), self.worker_log_tail()), pytrace=False)
        return reps

    def assert_no_more(self, n, to=None, seconds=1.5, body=None):
        """The number of accepted sends (to `to`) stays n for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            reps = self.replies(to, body)
            assert len(reps) == n, "%d replies%s, wanted exactly %d: %s" % (
                len(reps), " to %s" % to if to else "", n,
                [r["form"].get("Body", "")[:80] for r in reps])
            if time.monotonic() >= deadline:
                return reps
            time.sleep(0.1)

    # ---- the worker's side ----
    def spool_files(self):
        try:
            return sorted(f for f in os.listdir(self.spool) if f.endswith(".json")
                          and not f.startswith("."))
        except OSError:
            return []

    def wait_drained(self, timeout=15, stream="{asst}:in"):
        """Until every queued message is committed: the stream holds no entry
        (the worker XDELs after COMMIT) and the spool no file."""
        ok = stack.wait_for(lambda: self.rdb.xlen(stream) == 0 and not self.spool_files(),
                            timeout, 0.05)
        assert ok, "not drained after %ss: XLEN %s=%d, spool %s\n%s" % (
            timeout, stream, self.rdb.xlen(stream), self.spool_files(), self.worker_log_tail())

    def wait_outbox_settled(self, timeout=15):
        ok = stack.wait_for(lambda: self.value(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending', 'unknown')") == "0",
            timeout, 0.1)
        assert ok, "outbox not settled after %ss: %s" % (timeout, self.outbox_rows())

    def sql(self, query, **kw):
        """Rows (lists of strings) as the owner role, in system scope."""
        return self.pg.query(query, scope="system", **kw)

    def value(self, query, **kw):
        rows = self.sql(query, **kw)
        return rows[0][0] if rows else None

    def outbox_rows(self):
        return self.sql("SELECT id, user_id, status, attempts, provider_id, last_error "
                        "FROM outbox ORDER BY id")

    def user(self, phone):
        """{column: value} of the user with this phone, or None."""
        rows = self.sql("SELECT id, status, coalesce(pairing_code, ''), flagged FROM users "
                        "WHERE phone = :'p'", variables={"p": phone})
        if not rows:
            return None
        return dict(zip(("id", "status", "pairing_code", "flagged"), rows[0]))

    def admin(self, *args, rc=0):
        r = subprocess.run([self.admin_binary, "-f", self.conf] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        if rc is not None:
            assert r.returncode == rc, "assistant-admin %s -> %d, wanted %d\n%s%s" % (
                " ".join(args), r.returncode, rc, r.stdout, r.stderr)
        return r

    def agents(self):
        return self.worker.agents()

    def schedulers(self):
        return self.worker.schedulers()

    # ---- logs ----
    def expect_worker(self, *patterns):
        """Declares worker [error] lines (regexes) this test provokes."""
        self.expected.extend(re.compile(p) for p in patterns)

    def worker_log_tail(self, n=40):
        return "\n".join(self.worker.log_lines()[-n:])

    def worker_errors(self):
        return [ln for ln in self.worker.log_lines() if ERROR_LINE.search(ln)
                and not any(p.search(ln) for p in self.expected)]

    def close(self):
        try:
            self.rdb.close()
        except Exception:
            pass


@pytest.fixture
def assistant_factory(test_dir, pg, redis_server, apache_factory, worker_factory, fake_twilio):
    """make(redis=None, spool=True, mpm=None, **directives) -> Path (see module doc)."""
    admin_binary = find_admin()
    if not admin_binary:
        pytest.skip("assistant-admin not found: set ASST_ADMIN or build into build*/")
    made = []

    def make(redis=None, spool=True, mpm=None, wrapper=(), start_timeout=10, **directives):
        redis = redis or redis_server
        spool_dir = stack.make_dir(os.path.join(test_dir, "spool%d" % len(made)), 0o777) \
            if spool else None
        kw = {"start": False, "name": "httpd-path%d" % len(made)}
        if mpm:
            kw["mpm"] = mpm
        apache = apache_factory(**kw)
        spool_line = "    AssistantSpoolDir %s" % spool_dir if spool_dir else ""

        def configure():
            # Twilio signs for the URL it posts to: the status callback URL
            # the worker hands it, i.e. this Apache's own /status.
            apache.body = default_body(redis_addr=redis.addr, public=apache.url,
                                       sms_extra=spool_line, status_extra=spool_line)
            apache.write_conf()
        configure()
        apache.start()
        if apache.body.count(apache.url) != 2:     # start() picked another port
            apache.stop()
            configure()
            apache.start()

        token_file = stack.write_file(os.path.join(test_dir, "twilio-token%d" % len(made)),
                                      TOKEN + "\n", 0o600)
        conf = {
            "Workers": 2,
            "Database": '"%s"' % pg.dsn,
            "Redis": redis.addr,
            "TwilioAccountSid": ACCOUNT,
            "TwilioAuthTokenFile": token_file,
            "TwilioFrom": TWILIO_FROM,
            "TwilioApiBase": fake_twilio.url,
            "TwilioStatusCallbackURL": apache.url + "/status",
            "SignupPolicy": "open",
            "ClaimIdle": 1500,
            "MaxDeliveries": 5,
            "ShutdownTimeout": 5,
            "LogLevel": "debug",
        }
        if spool_dir:
            conf["SpoolDir"] = spool_dir
        conf.update(directives)
        worker = worker_factory(name="worker-path%d" % len(made), start=False, **conf)
        path = Path(pg, redis, apache, worker, fake_twilio, spool_dir, admin_binary)
        made.append(path)
        path.admin("migrate")
        worker.wrapper = wrapper
        worker.start(timeout=start_timeout)
        return path

    yield make

    errors = []
    for path in made:
        try:
            path.worker.stop()
        except Exception as e:
            errors.append("stopping the worker: %s" % e)
        bad = path.worker_errors()
        if bad:
            errors.append("unexpected [error] lines in %s:\n  %s"
                          % (path.worker.log, "\n  ".join(bad)))
        path.close()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def assistant(assistant_factory):
    """The whole path with the default worker.conf (SignupPolicy open)."""
    return assistant_factory()
