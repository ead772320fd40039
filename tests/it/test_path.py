"""The whole path of one message (DESIGN.md, issue 4 "Tests"): a signed
webhook through Apache and Redis to assistant-worker, one PostgreSQL
transaction per turn, and the reply delivered to a fake Twilio REST API,
whose status callbacks come back through Apache's /status.

Fixtures: fixtures_path.py (assistant, assistant_factory, fake_twilio)."""

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import fixtures_path
import stack
from fixtures_path import (HELP_TEXT, LONG_ASK, TWILIO_FROM, VALGRIND, assert_valgrind_clean,
                           seed_long_reply, unknown_reply, valgrind_wrapper)
from fixtures_pg import PG_BINDIR
from stack import ACCOUNT, TOKEN

REDIS_ERR = stack.REDIS_ERR

phone = stack.new_phone


def inbound_rows(a, sid):
    return a.value("SELECT count(*) FROM messages WHERE direction = 'in' AND twilio_sid = :'s'",
                   variables={"s": sid})


# --------------------------------------------------------------------------
# a text and its reply

def test_text_gets_one_reply(assistant):
    a = assistant
    me = phone()
    sid = a.text(me, "hello there")
    [rep] = a.wait_replies(1, to=me)
    form = rep["form"]
    assert form["Body"] == unknown_reply("hello there")
    assert form["To"] == me
    assert form["From"] == TWILIO_FROM
    assert "MessagingServiceSid" not in form
    assert form["StatusCallback"] == a.apache.url + "/status"
    assert rep["auth_user"] == ACCOUNT
    assert rep["path"] == "/2010-04-01/Accounts/%s/Messages.json" % ACCOUNT
    provider_sid = rep["sid"]
    assert provider_sid.startswith("SM")

    a.wait_outbox_settled()
    [[status, attempts, provider_id, last_error]] = a.sql(
        "SELECT status, attempts, provider_id, coalesce(last_error, '') FROM outbox")
    assert (status, attempts, provider_id, last_error) == ("sent", "1", provider_sid, "")
    [[in_sid, in_status, in_body]] = a.sql(
        "SELECT twilio_sid, status, body FROM messages WHERE direction = 'in'")
    assert (in_sid, in_status, in_body) == (sid, "received", "hello there")
    # queued, sent, delivered callbacks from the fake -> Apache /status -> worker
    ok = stack.wait_for(lambda: a.sql(
        "SELECT twilio_sid, status, body FROM messages WHERE direction = 'out'")
        == [[provider_sid, "delivered", unknown_reply("hello there")]], 15, 0.1)
    assert ok, a.sql("SELECT * FROM messages")
    kinds = [r[0] for r in a.sql("SELECT kind FROM events ORDER BY id")]
    assert kinds[:5] == ["user_created", "message_received", "reply_queued", "turn_done", "sms_sent"], kinds
    assert kinds.count("delivery_status") >= 1
    assert a.user(me)["status"] == "active"
    a.wait_drained()
    assert a.rdb.xlen("{asst}:status") == 0
    # the worker connects as the ordinary role that row-level security binds
    roles = a.sql("SELECT DISTINCT s.usename, r.rolsuper, r.rolbypassrls FROM pg_stat_activity s "
                  "JOIN pg_roles r ON r.rolname = s.usename "
                  "WHERE s.application_name = 'assistant-worker'")
    assert roles == [["assistant", "f", "f"]], roles
    a.assert_no_more(1, to=me, seconds=1.0)


def test_basic_auth_carries_the_token(assistant):
    """The fake accepted the POST, so the password was right; check it anyway
    by replaying what the worker sent with a wrong token: refused."""
    import requests
    a = assistant
    me = phone()
    a.text(me, "auth?")
    [rep] = a.wait_replies(1, to=me)
    url = a.fake.url + rep["path"]
    good = requests.post(url, data={"To": me, "From": TWILIO_FROM, "Body": "x"},
                         auth=(ACCOUNT, TOKEN), timeout=10)
    bad = requests.post(url, data={"To": me, "From": TWILIO_FROM, "Body": "x"},
                        auth=(ACCOUNT, "0" * 32), timeout=10)
    assert good.status_code == 201 and bad.status_code == 401


def test_duplicate_webhook_one_reply(assistant):
    a = assistant
    me = phone()
    sid = a.text(me, "only once please")
    params = a.last_params
    for _ in range(2):                        # Twilio retrying the same webhook
        stack.assert_twiml_ok(a.post(params))
    a.wait_replies(1, to=me)
    a.wait_drained()
    a.assert_no_more(1, to=me, seconds=1.5)
    assert inbound_rows(a, sid) == "1"
    assert a.value("SELECT count(*) FROM outbox") == "1"


def test_long_reply_in_ordered_parts(assistant):
    a = assistant
    me = phone()
    want = seed_long_reply(a, me)
    assert len(want) > 1600
    a.text(me, LONG_ASK)
    reps = a.wait_replies(2, to=me)
    a.wait_outbox_settled()
    reps = a.assert_no_more(2, to=me, seconds=1.0)
    parts = [r["form"]["Body"] for r in reps]
    assert all(len(p) <= 1600 for p in parts), [len(p) for p in parts]
    assert parts[0].startswith("What I know about you:\n1. fact 00 word0000")
    assert " ".join(parts).split() == want.split()     # split at a blank, in order
    rows = a.sql("SELECT o.status, o.provider_id, m.twilio_sid, md5(m.body) FROM outbox o "
                 "JOIN messages m ON m.id = o.message_id ORDER BY o.id")      # bodies hold newlines
    assert [r[3] for r in rows] == [hashlib.md5(p.encode()).hexdigest() for p in parts]
    assert [r[1] for r in rows] == [r["sid"] for r in reps]
    assert all(r[0] == "sent" and r[1] == r[2] for r in rows), rows


# --------------------------------------------------------------------------
# crashes and restarts

class LockHolder:
    """A psql session holding the per-sender turn lock the worker takes
    before intake: pg_advisory_xact_lock(1, hashtext(<E.164 from>)). An
    agent child does not wait for it: it keeps the entry and tries again."""

    def __init__(self, a, phone):
        self.a = a
        self.phone = phone
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([os.path.join(PG_BINDIR, "psql"), "-X", "-q", "-v",
                                      "ON_ERROR_STOP=1", "-d", self.a.pg.super_dsn],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, text=True)
        self.proc.stdin.write("BEGIN;\nSELECT pg_advisory_xact_lock(1, hashtext('%s'));\n"
                              % self.phone)
        self.proc.stdin.flush()
        assert stack.wait_for(lambda: self.a.value(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = 1 AND objsubid = 2 AND objid = hashtext(:'p')::oid",
            variables={"p": self.phone}) == "1", 10), "psql did not take the lock"
        return self

    def holders(self, n=1, timeout=10):
        """Pids of the agent children holding this person's texts, once at
        least n are held: their entries pending in {asst}:in while the
        turns keep trying the lock (with TurnsInFlight 1 such a child reads
        nothing else)."""
        def enough():
            rows = self.a.rdb.xpending_range("{asst}:in", "workers", "-", "+", 100)
            return rows if len(rows) >= n else None
        rows = stack.wait_for(enough, timeout)
        assert rows, "fewer than %d texts of %s are held\n%s" % (n, self.phone, self.a.worker_log_tail())
        names = [r["consumer"].decode() if isinstance(r["consumer"], bytes) else r["consumer"] for r in rows]
        return [int(name.rsplit(":", 1)[1]) for name in names]      # consumers are host:pid

    def release(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.write("COMMIT;\n\\q\n")
            self.proc.stdin.flush()
            self.proc.stdin.close()
            self.proc.wait(10)

    def __exit__(self, *exc):
        self.release()


@pytest.mark.slow
def test_kill_agent_mid_turn_answered_once(assistant):
    a = assistant
    a.expect_worker(r"ASST01525: agent child \d+ \(pid \d+\) was killed by signal 9 ")
    me = phone()
    with LockHolder(a, me) as lock:
        agents_before = a.agents()
        sid = a.text(me, "survive the crash")
        [child] = lock.holders(1)
        assert child in agents_before
        victims = [child]
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        assert stack.wait_for(lambda: not any(stack.pid_alive(p) for p in victims), 5)

    # the master respawns; the entry is reclaimed after ClaimIdle and run once
    [rep] = a.wait_replies(1, to=me, timeout=30)
    assert rep["form"]["Body"] == unknown_reply("survive the crash")
    assert a.worker.wait_children(2, timeout=15), a.worker.children()
    assert not set(victims) & set(a.agents())
    a.wait_drained()
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=2.0)
    assert inbound_rows(a, sid) == "1"
    assert a.value("SELECT count(*) FROM messages WHERE direction = 'out'") == "1"
    assert a.rdb.xlen("{asst}:dead") == 0
    assert any("ASST01102" in ln for ln in a.worker.log_lines()), "not reclaimed?"


@pytest.mark.slow
def test_redis_restart_loses_nothing(assistant_factory, redis_factory):
    """Redis (appendonly) restarted while turns are blocked and entries wait
    in the stream, unread: all answered once, including what the module
    spooled while Redis was down."""
    redis = redis_factory(extra_args=["--appendonly", "yes", "--appendfsync", "always"])
    assert redis.client().config_get("appendonly")["appendonly"] == "yes"
    a = assistant_factory(redis=redis, TurnsInFlight=1)
    a.apache.expect(REDIS_ERR)
    a.expect_worker(r"(?i)redis|connect|refused|reset|EOF")
    me = phone()
    bodies = []

    def send(label):
        bodies.append(label)
        a.text(me, label)

    with LockHolder(a, me) as lock:
        for i in range(5):
            send("before %d" % i)
        lock.holders(2)                    # both agents stuck in a turn, 3 entries unread
        assert a.rdb.xlen("{asst}:in") == 5
        redis.stop()
        for i in range(3):
            send("during %d" % i)          # spooled by the module, drained by the scheduler
        spooled = [ln for ln in a.apache.log_lines() if "spooled sms" in ln]
        assert len(spooled) == 3, spooled
        redis.start()
        assert redis.client().xlen("{asst}:in") == 5, "the AOF did not keep the stream"
    for i in range(3):
        send("after %d" % i)

    a.wait_replies(len(bodies), to=me, timeout=45)
    a.wait_drained(timeout=20)
    a.wait_outbox_settled()
    reps = a.assert_no_more(len(bodies), to=me, seconds=2.0)
    got = sorted(r["form"]["Body"] for r in reps)
    assert got == sorted(unknown_reply(b) for b in bodies)
    assert a.value("SELECT count(*) FROM messages WHERE direction = 'in'") == str(len(bodies))


@pytest.mark.slow
def test_postgres_restart_reconnects(assistant, pg_server):
    a = assistant
    me = phone()
    a.text(me, "before the outage")
    a.wait_replies(1, to=me)
    a.wait_outbox_settled()
    agents, schedulers = a.agents(), a.schedulers()

    pg_server.stop()
    a.text(me, "during the outage")
    time.sleep(2)
    pg_server.start()
    a.text(me, "after the outage")

    reps = a.wait_replies(3, to=me, timeout=45)
    a.wait_drained()
    a.wait_outbox_settled()
    reps = a.assert_no_more(3, to=me, seconds=1.0)
    assert sorted(r["form"]["Body"] for r in reps) == sorted(
        unknown_reply(b) for b in ("before the outage", "during the outage",
                                       "after the outage"))
    assert a.agents() == agents and a.schedulers() == schedulers, "children were restarted"
    assert not [ln for ln in a.worker.log_lines() if "ASST01525" in ln]


# --------------------------------------------------------------------------
# Twilio misbehaving

@pytest.mark.slow
def test_flaky_twilio_every_reply_once(assistant):
    a = assistant
    a.fake.faults({"fail_rate_5xx": 0.3, "status_5xx": 503, "rate_429": 0.1,
                   "retry_after": 1, "seed": 7})
    senders = [phone() for _ in range(4)]
    want = []
    for i in range(12):
        who = senders[i % len(senders)]
        body = "flaky %d" % i
        a.text(who, body)
        want.append((who, unknown_reply(body)))
    a.wait_replies(len(want), timeout=90)
    a.wait_outbox_settled(timeout=30)
    reps = a.assert_no_more(len(want), seconds=2.0)
    assert sorted((r["form"]["To"], r["form"]["Body"]) for r in reps) == sorted(want)
    failed = [r for r in a.fake.requests() if r["status"] != 201]
    assert failed, "the fault injection did not fire"
    assert {r["status"] for r in failed} <= {503, 429}
    reqs = a.fake.requests()
    for i, r in enumerate(reqs):
        if r["status"] != 429:
            continue
        key = (r["form"]["To"], r["form"]["Body"])
        nxt = [q for q in reqs[i + 1:] if (q["form"]["To"], q["form"]["Body"]) == key]
        assert nxt, "no retry after a 429 for %s" % (key,)
        assert nxt[0]["time"] - r["time"] >= 0.9, \
            "retried %.3f s after a 429 with Retry-After 1" % (nxt[0]["time"] - r["time"])
    rows = a.sql("SELECT status, count(*) FROM outbox GROUP BY status")
    assert rows == [["sent", str(len(want))]], rows


def test_permanent_4xx_no_retry_storm(assistant):
    a = assistant
    bad, gone = phone(), phone()
    a.fake.faults({"permanent": {bad: 21211, gone: 21610}})
    a.text(bad, "to an invalid number")
    a.text(gone, "to an unsubscribed number")
    a.wait_drained()
    a.wait_outbox_settled()
    time.sleep(2.5)                     # two scheduler rounds: nothing retried
    reqs = a.fake.requests()
    assert [r["form"]["To"] for r in reqs if r["form"].get("To") == bad] == [bad]
    assert [r["form"]["To"] for r in reqs if r["form"].get("To") == gone] == [gone]
    assert all(r["status"] == 400 for r in reqs), reqs
    rows = a.sql("SELECT u.phone, o.status, o.attempts FROM outbox o JOIN users u "
                 "ON u.id = o.user_id ORDER BY u.phone")
    assert sorted(rows) == sorted([[bad, "failed", "1"], [gone, "failed", "1"]])
    ub, ug = a.user(bad), a.user(gone)
    assert ub["flagged"] == "t" and ub["status"] == "active"
    assert ug["status"] == "opted_out" and ug["flagged"] == "f"
    assert a.value("SELECT count(*) FROM messages WHERE direction = 'out' AND status = 'failed'") == "2"
    codes = sorted(r[0] for r in a.sql("SELECT error_code FROM messages WHERE direction = 'out'"))
    assert codes == ["21211", "21610"]
    # nothing is ever sent to the opted-out number again
    a.fake.faults({})
    a.text(gone, "hello again")
    a.wait_drained()
    a.wait_outbox_settled()
    assert a.assert_no_more(0, to=gone, seconds=1.0) == []


# --------------------------------------------------------------------------
# compliance keywords and sign-up

def test_stop_start_help(assistant):
    a = assistant
    me = phone()
    a.text(me, "hi")
    a.wait_replies(1, to=me)

    a.text(me, "  Stop ")
    a.wait_drained()
    assert a.user(me)["status"] == "opted_out"
    a.text(me, "anyone there?")
    a.wait_drained()
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=1.0)
    assert a.value("SELECT count(*) FROM messages WHERE direction = 'in'") == "3"

    a.text(me, "START")
    a.wait_drained()
    assert a.user(me)["status"] == "active"
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=0.5)          # Twilio confirms START itself
    a.text(me, "back again")
    reps = a.wait_replies(2, to=me)
    assert reps[1]["form"]["Body"] == unknown_reply("back again")
    a.text(me, "help")
    reps = a.wait_replies(3, to=me)
    assert reps[2]["form"]["Body"] == HELP_TEXT
    a.wait_outbox_settled()
    a.assert_no_more(3, to=me, seconds=1.0)
    kinds = [r[0] for r in a.sql("SELECT kind FROM events WHERE kind IN ('opted_out', 'opted_in') "
                                 "ORDER BY id")]
    assert kinds == ["opted_out", "opted_in"]


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "end", "QUIT"])
def test_every_stop_word(assistant, word):
    a = assistant
    me = phone()
    a.text(me, word)
    a.wait_drained()
    assert a.user(me)["status"] == "opted_out"
    a.text(me, "still there?")
    a.wait_drained()
    a.wait_outbox_settled()
    a.assert_no_more(0, to=me, seconds=0.5)


def test_pairing(assistant_factory):
    a = assistant_factory(SignupPolicy="pairing")
    me = phone()
    # two first messages at once: one user, one code
    threads = [threading.Thread(target=a.text, args=(me, b)) for b in ("let me in", "please")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [rep] = a.wait_replies(1, to=me)
    a.wait_drained()
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=0.5)
    assert a.value("SELECT count(*) FROM users") == "1"
    m = re.search(r"pairing code is ([A-Z0-9]{8})\b", rep["form"]["Body"])
    assert m, rep["form"]["Body"]
    code = m.group(1)
    u = a.user(me)
    assert u["status"] == "pending" and u["pairing_code"] == code

    a.text(me, "hello?")
    a.wait_drained()
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=1.0)

    r = a.admin("users", "approve", code.lower())
    assert a.user(me)["status"] == "active", r.stdout + r.stderr
    a.text(me, "now?")
    reps = a.wait_replies(2, to=me)
    assert reps[1]["form"]["Body"] == unknown_reply("now?")
    a.assert_no_more(2, to=me, seconds=1.0)


def test_closed_signup_ignores_unknown(assistant_factory):
    a = assistant_factory(SignupPolicy="closed")
    me = phone()
    a.text(me, "hello?")
    a.wait_drained()
    time.sleep(0.5)
    assert a.fake.requests() == []
    assert a.user(me) is None
    assert a.value("SELECT count(*) FROM messages") == "0"
    assert a.value("SELECT count(*) FROM events WHERE kind = 'unknown_sender_ignored'") == "1"


# --------------------------------------------------------------------------
# the stream contract

def test_unknown_envelope_version_dead_lettered(assistant):
    a = assistant
    a.expect_worker(r"ASST01103: \{asst\}:in \S+ moved to \{asst\}:dead: unknown envelope version 2")
    env = {"v": 2, "sid": stack.new_sid(), "account": ACCOUNT, "from": "+15550009999",
           "to": TWILIO_FROM, "body": "from the future", "num_media": 0, "media": [],
           "received_ms": stack.now_ms(), "params": {}}
    eid = a.rdb.xadd("{asst}:in", {"env": json.dumps(env)})
    assert stack.wait_for(lambda: a.rdb.xlen("{asst}:dead") == 1, 15), a.worker_log_tail()
    [(_, fields)] = a.rdb.xrange("{asst}:dead")
    assert fields["stream"] == "{asst}:in" and fields["id"] == eid
    assert "version" in fields["reason"] and "2" in fields["reason"], fields
    assert json.loads(fields["env"]) == env
    a.wait_drained()
    assert a.rdb.xpending("{asst}:in", "workers")["pending"] == 0
    assert a.value("SELECT count(*) FROM users") == "0"

    me = phone()
    a.text(me, "still working?")
    [rep] = a.wait_replies(1, to=me)
    assert rep["form"]["Body"] == unknown_reply("still working?")
    assert a.worker.running and len(a.agents()) == 2


def test_undelivered_status_callback(assistant):
    a = assistant
    me, gone = phone(), phone()
    a.fake.faults({"undelivered": {me: 30006, gone: 21610}})
    a.text(gone, "unsubscribed at the carrier")
    a.text(me, "into the void")
    [rep] = a.wait_replies(1, to=me)
    a.wait_replies(1, to=gone)
    # 21610 in a callback: the person opted out with Twilio
    assert stack.wait_for(lambda: a.user(gone)["status"] == "opted_out", 15, 0.1)
    ok = stack.wait_for(lambda: a.sql(
        "SELECT m.twilio_sid, m.status, m.error_code FROM messages m JOIN users u "
        "ON u.id = m.user_id WHERE m.direction = 'out' AND u.phone = :'p'", variables={"p": me})
        == [[rep["sid"], "undelivered", "30006"]], 15, 0.1)
    assert ok, a.sql("SELECT * FROM messages")
    # an undelivered message fails its outbox row (status.c)
    assert stack.wait_for(lambda: sorted(a.sql("SELECT status, last_error FROM outbox"))
                          == [["failed", "Twilio: undelivered 21610"],
                              ["failed", "Twilio: undelivered 30006"]], 5, 0.1), a.outbox_rows()
    assert a.user(me)["status"] == "active"


def test_max_deliveries_dead_letter(assistant):
    """An entry delivered MaxDeliveries (5) times without a commit goes to
    {asst}:dead when it is reclaimed, and is never run."""
    a = assistant
    a.expect_worker(r"ASST01103: \{asst\}:in \S+ moved to \{asst\}:dead: delivered 6 times")
    assert stack.wait_for(lambda: [g for g in a.rdb.xinfo_groups("{asst}:in")
                                   if g["name"] == "workers"], 10)
    me = phone()
    params = stack.sms_params(account=ACCOUNT, from_=me, to=TWILIO_FROM, body="poison")
    env = {"v": 1, "sid": dict(params)["MessageSid"], "account": ACCOUNT, "from": me,
           "to": TWILIO_FROM, "body": "poison", "num_media": 0, "media": [],
           "received_ms": stack.now_ms(), "params": stack.expected_params(params)}
    pipe = a.rdb.pipeline(transaction=True)      # no agent sees it unread
    pipe.xadd("{asst}:in", {"env": json.dumps(env)})
    pipe.xreadgroup("workers", "ghost:1", {"{asst}:in": ">"}, count=1)
    eid, _ = pipe.execute()
    a.rdb.xclaim("{asst}:in", "workers", "ghost:1", 0, [eid], retrycount=5)
    assert stack.wait_for(lambda: a.rdb.xlen("{asst}:dead") == 1, 15), a.worker_log_tail()
    [(_, fields)] = a.rdb.xrange("{asst}:dead")
    assert fields["id"] == eid and fields["deliveries"] == "6", fields
    assert "6 times" in fields["reason"]
    a.wait_drained()
    assert a.rdb.xpending("{asst}:in", "workers")["pending"] == 0
    assert a.value("SELECT count(*) FROM messages") == "0"
    assert a.fake.requests() == []


def _insert_outbox(a, phone, body, status, attempts=0, age="0"):
    """A user, an outbound message and its outbox row, written directly."""
    return a.value(
        "WITH u AS (INSERT INTO users (phone, status) VALUES (:'p', 'active') RETURNING id), "
        "m AS (INSERT INTO messages (user_id, direction, body, status) "
        "      SELECT id, 'out', :'b', 'pending' FROM u RETURNING id, user_id) "
        "INSERT INTO outbox (user_id, kind, payload, status, attempts, next_attempt_at, "
        "                    message_id, created_at, updated_at) "
        "SELECT user_id, 'sms', jsonb_build_object('to', :'p'::text, 'body', :'b'::text), "
        "       :'st', :'n'::int, now(), id, now() - :'age'::interval, now() - :'age'::interval "
        "FROM m RETURNING id",
        variables={"p": phone, "b": body, "st": status, "n": attempts, "age": age})


def test_scheduler_delivers_due_rows(assistant):
    """The scheduler sends due outbox rows by itself (rows whose sender went
    away mid-send: test_delivery.py)."""
    a = assistant
    due = phone()
    _insert_outbox(a, due, "left pending", "pending")
    [rep] = a.wait_replies(1, to=due, timeout=10)
    assert rep["form"]["Body"] == "left pending"
    a.wait_outbox_settled()
    assert a.sql("SELECT status, attempts FROM outbox ORDER BY id") == [["sent", "1"]]


def test_status_callback_before_sid_recorded(assistant):
    """Twilio may call back before the worker has recorded the message sid
    (the POST answered, the settle transaction not yet committed): the
    callbacks must not be lost. Here the settle is held up by a row lock on
    the outbox row while the fake answers and calls back."""
    a = assistant
    me = phone()
    a.fake.faults({"delay_ms": 1500})          # the POST takes 1.5 s
    a.text(me, "quick callbacks")
    assert stack.wait_for(lambda: a.value("SELECT status FROM outbox") == "sending", 10, 0.02)
    holder = subprocess.Popen([os.path.join(PG_BINDIR, "psql"), "-X", "-q", "-v",
                               "ON_ERROR_STOP=1", "-d", a.pg.super_dsn],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        holder.stdin.write("BEGIN;\nSELECT id FROM outbox FOR UPDATE;\n")
        holder.stdin.flush()
        [rep] = a.wait_replies(1, to=me)
        # queued, sent, delivered reach the stream while the sending agent
        # waits to record the sid: the other agent defers them (left
        # pending, not acknowledged) instead of dropping them
        arrived = stack.wait_for(lambda: a.rdb.xinfo_stream("{asst}:status")["entries-added"] >= 3, 10)
        assert arrived, "callbacks did not reach the stream"
        assert stack.wait_for(lambda: a.rdb.xpending("{asst}:status", "workers")["pending"] >= 1, 5)
        assert a.value("SELECT count(*) FROM outbox WHERE provider_id IS NULL") == "1"
    finally:
        holder.stdin.write("COMMIT;\n\\q\n")
        holder.stdin.flush()
        holder.stdin.close()
        holder.wait(10)
    a.wait_outbox_settled()
    # reclaimed after ClaimIdle (1.5 s here) and applied
    ok = stack.wait_for(lambda: a.value(
        "SELECT status FROM messages WHERE direction = 'out'") == "delivered", 15, 0.1)
    assert ok, "outbound message %s after Twilio reported it delivered" % a.sql(
        "SELECT twilio_sid, status FROM messages WHERE direction = 'out'")


def test_spooled_then_streamed_duplicate_one_reply(assistant, redis_server):
    """Twilio retries a webhook the module spooled while Redis was down;
    the retry reaches the stream once Redis is back: one reply."""
    a = assistant
    a.apache.expect(REDIS_ERR)
    a.expect_worker(r"(?i)redis|connect|refused|reset|EOF")
    me = phone()
    redis_server.stop()
    sid = a.text(me, "twice through two doors")
    params = a.last_params
    assert [ln for ln in a.apache.log_lines() if "spooled sms %s" % sid in ln]
    redis_server.start()
    assert stack.wait_for(lambda: stack.assert_twiml_ok(a.post(params)) is None
                          and a.rdb.exists("{asst}:seen:%s" % sid), 10)
    a.wait_replies(1, to=me)
    a.wait_drained()
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=1.5)
    assert inbound_rows(a, sid) == "1"


def test_unicode_round_trip(assistant):
    a = assistant
    me = phone()
    body = "Caf\u00e9 \u00e0 9h? \u2615 \U0001F44B \u65e5\u672c \u0645\u0631\u062d\u0628\u0627"
    a.text(me, body)
    [rep] = a.wait_replies(1, to=me)
    assert rep["form"]["Body"] == unknown_reply(body)
    assert a.value("SELECT body FROM messages WHERE direction = 'in'") == body


def test_messaging_service_sid(assistant_factory):
    a = assistant_factory(TwilioFrom=None, TwilioMessagingServiceSid="MG" + "1" * 32)
    me = phone()
    a.text(me, "via a service")
    [rep] = a.wait_replies(1, to=me)
    assert rep["form"]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in rep["form"]
    assert stack.wait_for(lambda: a.value("SELECT status FROM messages WHERE direction = 'out'")
                          == "delivered", 10, 0.1)


def test_dropped_connections_retried_once_each(assistant):
    """The fake drops the connection without answering (its "timeout" with a
    short sleep): retried, every reply delivered exactly once."""
    a = assistant
    a.fake.faults({"timeout_rate": 0.4, "timeout_ms": 200, "seed": 3})
    me = phone()
    want = []
    for i in range(6):
        a.text(me, "dropped %d" % i)
        want.append(unknown_reply("dropped %d" % i))
    a.wait_replies(len(want), to=me, timeout=60)
    a.wait_outbox_settled(timeout=30)
    reps = a.assert_no_more(len(want), to=me, seconds=1.5)
    assert sorted(r["form"]["Body"] for r in reps) == sorted(want)
    assert [r for r in a.fake.requests() if r["status"] == 0], "no connection was dropped"


def test_many_senders_at_once(assistant):
    """40 messages from 8 senders posted concurrently: each answered once."""
    a = assistant
    senders = [phone() for _ in range(8)]
    jobs = [(senders[i % 8], "burst %d" % i) for i in range(40)]
    errors = []

    def post(chunk):
        try:
            for who, body in chunk:
                a.text(who, body)
        except Exception as e:          # reported below
            errors.append(e)
    threads = [threading.Thread(target=post, args=(jobs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    a.wait_replies(len(jobs), timeout=30)
    a.wait_outbox_settled()
    reps = a.assert_no_more(len(jobs), seconds=1.0)
    assert sorted((r["form"]["To"], r["form"]["Body"]) for r in reps) == \
        sorted((who, unknown_reply(body)) for who, body in jobs)
    assert a.value("SELECT count(*) FROM users") == "8"


def test_stop_cancels_a_pending_reply(assistant):
    """A reply still waiting for a retry when the person texts STOP is never sent."""
    a = assistant
    me = phone()
    a.fake.faults({"fail_rate_5xx": 1.0, "status_5xx": 500})
    a.text(me, "hi")
    assert stack.wait_for(lambda: a.fake.requests(), 10)
    a.text(me, "STOP")
    a.wait_drained()
    assert a.user(me)["status"] == "opted_out"
    a.fake.faults({})
    assert stack.wait_for(lambda: a.value("SELECT status FROM outbox") == "failed", 15, 0.1), \
        a.outbox_rows()
    assert a.value("SELECT last_error FROM outbox") == "recipient is opted_out"
    time.sleep(1.5)
    assert a.replies(to=me) == []


@pytest.mark.slow
def test_retirement_and_reload_under_traffic(assistant_factory):
    """Children retiring (MaxTurnsPerChild 3) and a HUP while messages flow:
    every message answered exactly once."""
    a = assistant_factory(MaxTurnsPerChild=3)
    me = [phone() for _ in range(3)]
    jobs = [(me[i % 3], "flow %d" % i) for i in range(18)]

    def post():
        for i, (who, body) in enumerate(jobs):
            a.text(who, body)
            time.sleep(0.05)
    t = threading.Thread(target=post)
    t.start()
    time.sleep(0.4)
    a.worker.signal(signal.SIGHUP)
    t.join()
    a.wait_replies(len(jobs), timeout=30)
    a.wait_drained()
    a.wait_outbox_settled()
    reps = a.assert_no_more(len(jobs), seconds=1.0)
    assert sorted((r["form"]["To"], r["form"]["Body"]) for r in reps) == \
        sorted((who, unknown_reply(body)) for who, body in jobs)
    assert a.worker.wait_log(r"ASST01515: HUP", 1)
    assert a.worker.wait_log(r"ASST01004: retiring after 3 turns", 1)
    assert a.worker.running and a.worker.wait_children(2)


def test_pairing_first_text_start_still_gets_code(assistant_factory):
    a = assistant_factory(SignupPolicy="pairing")
    me = phone()
    a.text(me, "START")
    a.wait_drained()
    a.text(me, "hello?")
    a.wait_drained()
    a.wait_outbox_settled()
    code = a.user(me)["pairing_code"]
    assert code and a.user(me)["status"] == "pending"
    reps = a.replies(to=me)
    assert [r for r in reps if code in r["form"]["Body"]], \
        "pending user %s never got its pairing code; sent: %s" % (me, reps)


def test_long_reply_parts_stay_ordered_across_a_retry(assistant):
    """seed 1 at fail_rate_5xx 0.5: the fake fails the first POST (part 1)
    and accepts the next ones."""
    a = assistant
    a.fake.faults({"fail_rate_5xx": 0.5, "status_5xx": 503, "seed": 1})
    me = phone()
    want = seed_long_reply(a, me)
    a.text(me, LONG_ASK)
    reps = a.wait_replies(2, to=me, timeout=20)
    reqs = a.fake.requests()
    assert reqs[0]["status"] == 503, [r["status"] for r in reqs]
    parts = [r["form"]["Body"] for r in reps]
    assert " ".join(parts).split() == want.split(), \
        "parts accepted out of order: %s" % [p[:20] + "..." for p in parts]


# --------------------------------------------------------------------------
# known worker bugs (see the report); kept last so that -x runs everything else

def test_status_entry_not_stranded_by_a_two_stream_read(assistant_factory):
    """XREADGROUP COUNT 1 over {asst}:in and {asst}:status returns up to one
    entry PER STREAM. When both have new entries, the agent must process
    (or not take) both: the status entry must not sit in its pending list
    until another agent reclaims it ClaimIdle (default 60 s) later."""
    a = assistant_factory(ClaimIdle=60000, TurnsInFlight=1)
    first, busy, other = phone(), phone(), phone()
    a.text(first, "hello")
    [rep] = a.wait_replies(1, to=first)
    assert stack.wait_for(lambda: a.value("SELECT status FROM messages WHERE twilio_sid = :'s'",
                                          variables={"s": rep["sid"]}) == "delivered", 10, 0.1)
    a.wait_drained(stream="{asst}:status")
    with LockHolder(a, busy) as lock:
        a.text(busy, "one")
        a.text(busy, "two")
        lock.holders(2)                        # both agents inside a turn
        a.text(other, "queued behind")          # -> {asst}:in
        r, _ = a.webhook.status(rep["sid"], "read", from_=TWILIO_FROM, to=first)
        stack.assert_twiml_ok(r)                # -> {asst}:status
        assert a.rdb.xlen("{asst}:in") == 3 and a.rdb.xlen("{asst}:status") == 1
    a.wait_replies(1, to=other)
    applied = stack.wait_for(lambda: a.value(
        "SELECT status FROM messages WHERE twilio_sid = :'s'", variables={"s": rep["sid"]})
        == "read", 8, 0.1)
    pending = a.rdb.xpending_range("{asst}:status", "workers", "-", "+", 10)
    assert applied, ("status callback not applied 8 s later; {asst}:status pending: %s, "
                     "consumers: %s" % (pending, a.rdb.xinfo_consumers("{asst}:status", "workers")))


@pytest.mark.skipif(not VALGRIND, reason="valgrind is not installed")
def test_worker_is_valgrind_clean(assistant_factory, tmp_path):
    """Master, agent and scheduler under memcheck through real turns,
    a duplicate, a STOP and a stop: no errors, nothing definitely lost."""
    logs = tmp_path / "valgrind"
    logs.mkdir()
    a = assistant_factory(Workers=1, start_timeout=60, wrapper=valgrind_wrapper(logs))
    me = phone()
    for i in range(3):
        a.text(me, "under valgrind %d" % i)
    a.post(a.last_params)
    a.wait_replies(3, to=me, timeout=60)
    a.text(me, "STOP")
    a.wait_drained()
    assert_valgrind_clean(a, logs)


def test_worker_refuses_an_old_schema(worker_factory, pg, redis_server):
    """No migrate yet: the children say which command to run and exit with
    the start-up status, the master throttles them instead of spinning,
    and after the operator migrates they start serving."""
    w = worker_factory(start=False, Workers=1, Database='"%s"' % pg.dsn, Redis=redis_server.addr,
                       SignupPolicy="open")
    w.start(wait=False)
    line = w.wait_log(r"ASST01003: .*assistant-admin -f %s migrate" % re.escape(w.conf), 15)
    assert "schema" in line or "migrat" in line
    stack.wait_for(lambda: len(w.log_lines("ASST01525")) >= 2, 10)
    deaths = w.log_lines("ASST01525")
    assert deaths and all("restarting in" in ln or "restart" in ln for ln in deaths), deaths
    time.sleep(2)
    assert len(w.log_lines("ASST01525")) < 8, "children respawned without throttling"
    assert w.running
    subprocess.run([fixtures_path.find_admin(), "-f", w.conf, "migrate"], check=True,
                   capture_output=True, timeout=60)
    assert stack.wait_for(lambda: len(w.children()) == 2, 90), "children never came back"
    settled = len(w.log_lines("ASST01525"))
    time.sleep(2)
    assert len(w.log_lines("ASST01525")) == settled and len(w.children()) == 2
