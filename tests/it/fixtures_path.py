"""The whole message path, end to end (imported by conftest.py): a
harness Stack built from the session's servers and this test's Apache and
worker.

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
  fake_llm           the session's fake OpenAI-compatible LLM (one process,
                     requiring harness.llm.API_KEY; reset before every test):
                     .url (.../v1), .script(steps), .append(steps),
                     .requests(), .completions(), .faults(dict=None),
                     .inflight(), .reset(), .set_api_key(key)
  assistant_factory  make(redis=None, spool=True, mpm=None, **directives) -> Path:
                     a migrated database, Apache, the worker (started) and
                     worker.conf pointing at all of them; directives override
                     the worker.conf defaults (Workers 2, ClaimIdle 1500,
                     SignupPolicy open, ...); redis= another RedisServer
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

Binaries: $ASST_WORKER / $ASST_ADMIN, else the newest build under the
repository or beside it (harness.util; the admin next to the worker first).
"""

import os
import re
import shutil
import time

import pytest

import stack  # noqa: F401  (puts tests/ on sys.path)
from harness.llm import FakeLLM
from harness.stack import FAST_RECLAIM, Stack
from harness.twilio import FakeTwilio
from harness.util import Binaries, find_admin, wait_for  # noqa: F401
from harness.webhook import TWILIO_FROM, Webhook
from stack import assert_twiml_ok

__all__ = ["_fake_twilio_session", "fake_twilio", "_fake_llm_session", "fake_llm",
           "assistant_factory", "assistant"]

ERROR_LINE = re.compile(r"\[error\]")
HELP_TEXT = ("This is your personal assistant. Text it what you need. "
             "Reply STOP to unsubscribe, START to resubscribe.")
# worker/tools/help.c HELP_ALL, and worker/agent/rules.c QUOTE_MAX
CAPABILITIES = (
    'I can keep notes ("note: buy milk", "my notes", "search notes for milk", "delete note 2"), '
    'remember things about you ("remember that my sister is Ana", "what do you know about me", '
    '"forget my sister") and your settings ("call me Sam", "set my timezone to Europe/Berlin", '
    '"quiet hours 22:00 to 07:00"), and remind you ("remind me tomorrow at 9 to call mom", '
    '"my reminders"). Text STOP to unsubscribe.')
QUOTE_MAX = 40


def unknown_reply(body):
    """What the rules planner answers a text it does not understand: the
    text quoted (its first QUOTE_MAX characters), then what it can do. Tests
    that need a reply to carry their text use it."""
    quoted = body if len(body) <= QUOTE_MAX else body[:QUOTE_MAX] + "..."
    return 'Sorry, I didn\'t understand "%s". %s' % (quoted, CAPABILITIES)


# ---- the worker under valgrind memcheck (tests that pass wrapper=) ----

VALGRIND = shutil.which("valgrind")


def valgrind_wrapper(logs):
    """The worker's wrapper: memcheck on master and children, a report each in logs."""
    return (VALGRIND, "--trace-children=yes", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--log-file=%s/vg.%%p.log" % logs)


def assert_valgrind_clean(path, logs):
    """Stops the worker; every process's report: no errors, nothing definitely lost."""
    path.worker.stop(timeout=60)
    reports = {p.name: p.read_text() for p in logs.glob("vg.*.log")}
    assert len(reports) >= 3, "expected master, agent and scheduler reports: %s" % list(reports)
    for name, text in reports.items():
        assert "ERROR SUMMARY: 0 errors" in text, "%s:\n%s" % (name, text[-3000:])
        lost = re.findall(r"definitely lost: ([\d,]+) bytes", text)
        assert all(n == "0" for n in lost), "%s:\n%s" % (name, text[-3000:])


LONG_ASK = "what do you know about me"


def seed_long_reply(path, phone, facts=20):
    """Makes phone an active user with `facts` memories ("fact 00 word0000
    word0001 ...", 116 characters each), so that LONG_ASK is answered with a
    list of more than 1600 characters: two SMS parts. Returns that reply."""
    path.admin("users", "add", phone)
    uid = path.value("SELECT id FROM users WHERE phone = :'p'", variables={"p": phone})
    bodies = ["fact %02d " % k + " ".join("word%04d" % (k * 12 + i) for i in range(12))
              for k in range(facts)]
    path.sql("INSERT INTO memories (user_id, body) SELECT %d, b "
             "FROM unnest(string_to_array(:'b', '|')) WITH ORDINALITY AS t(b, k) ORDER BY k"
             % int(uid), variables={"b": "|".join(bodies)})
    return "What I know about you:\n%s\nText \"forget\" and a number to remove one." % "\n".join(
        "%d. %s" % (i + 1, b) for i, b in enumerate(bodies))


# --------------------------------------------------------------------------
# the fakes: one process a session, forgotten before every test

def _fake_fixtures(cls, name, doc):
    """(session fixture, per-test fixture) for a harness FakeServer class."""
    session_name = "_%s_session" % name

    @pytest.fixture(scope="session", name=session_name)
    def session(base_dir):
        f = cls(base_dir).start()
        yield f
        f.stop()

    @pytest.fixture(name=name)
    def per_test(request):
        f = request.getfixturevalue(session_name)
        if not f.running:
            f.start()
        f.reset()
        yield f
        f.faults({})
    per_test.__doc__ = doc
    return session, per_test


_fake_twilio_session, fake_twilio = _fake_fixtures(
    FakeTwilio, "fake_twilio", "The session's fake Twilio, forgotten everything and without faults.")
# an OpenAI-compatible chat completions API
_fake_llm_session, fake_llm = _fake_fixtures(
    FakeLLM, "fake_llm", "The session's fake LLM: no script, requests, faults, the default key.")


# --------------------------------------------------------------------------
# the whole path

class Path(Stack):
    """A Stack with what a test drives (see the module doc)."""

    def start(self):
        self.expected = []
        super().start()
        self.rdb = self.redis.client()
        self.twilio_from = self.number
        self.webhook = Webhook(self.apache, self.token, self.base_url, self.account)
        self.admin_binary = self.bins.admin
        return self

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
        got = wait_for(lambda: len(self.replies(to, body)) >= n, timeout, 0.05)
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
    def wait_drained(self, timeout=15, stream="{asst}:in"):
        """Until every queued message is committed: the stream holds no entry
        (the worker XDELs after COMMIT) and the spool no file."""
        ok = wait_for(lambda: self.rdb.xlen(stream) == 0 and not self.spool_files(),
                      timeout, 0.05)
        assert ok, "not drained after %ss: XLEN %s=%d, spool %s\n%s" % (
            timeout, stream, self.rdb.xlen(stream), self.spool_files(), self.worker_log_tail())

    def wait_outbox_settled(self, timeout=15):
        ok = wait_for(lambda: self.value(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending', 'unknown')") == "0",
            timeout, 0.1)
        assert ok, "outbox not settled after %ss: %s" % (timeout, self.outbox_rows())

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

    def admin(self, *args, rc=0, **kw):
        r = super().admin(*args, **kw)
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
def assistant_factory(test_dir, module_path, worker_binary, pg, redis_server, apache_factory,
                      worker_factory, fake_twilio):
    """make(redis=None, spool=True, mpm=None, **directives) -> Path (see module doc)."""
    bins = Binaries(module=module_path, worker=worker_binary)
    if not bins.admin:
        pytest.skip("assistant-admin not found: set ASST_ADMIN or build into build*/")
    made = []

    def make(redis=None, spool=True, mpm=None, wrapper=(), start_timeout=10, **directives):
        n = len(made)
        kw = {"start": False, "name": "httpd-path%d" % n}
        if mpm:
            kw["mpm"] = mpm
        worker = worker_factory(name="worker-path%d" % n, start=False)
        worker.wrapper = wrapper
        path = Path(os.path.join(test_dir, "path%d" % n), bins, log_level="debug",
                    pg=pg, redis=redis or redis_server, fake=fake_twilio,
                    apache=apache_factory(**kw), worker=worker, spool=spool or None,
                    worker_timeout=start_timeout, **dict(FAST_RECLAIM, **directives))
        made.append(path)
        return path.start()

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
