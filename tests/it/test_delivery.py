"""Delivery under faults (issue 12): a send whose outcome was lost is looked
up in Twilio's log before it is sent again, a row whose sender died is
recovered within seconds while a slow live sender is never raced, one
failing text does not hold up later ones, the circuit opens on an outage
and not on rate limits, and consumers of dead children leave the group.

Fixtures: fixtures_path.py (assistant, assistant_factory, fake_twilio)."""

import os
import signal
import socket
import time

import pytest
import requests

import stack
from fixtures_path import LONG_ASK, TWILIO_FROM, seed_long_reply, unknown_reply
from stack import ACCOUNT, TOKEN
from test_llm_concurrency import text_all

phone = stack.new_phone


def insert_sending_row(a, to, body, claimed_ago="0"):
    """A user, an outbound message and an outbox row 'sending' that no
    process holds: what a sender killed mid-send leaves behind."""
    return a.value(
        "WITH u AS (INSERT INTO users (phone, status) VALUES (:'p', 'active') RETURNING id), "
        "m AS (INSERT INTO messages (user_id, direction, body, status) "
        "      SELECT id, 'out', :'b', 'pending' FROM u RETURNING id, user_id) "
        "INSERT INTO outbox (user_id, kind, payload, status, attempts, next_attempt_at, "
        "                    message_id, claimed_at) "
        "SELECT user_id, 'sms', jsonb_build_object('to', :'p'::text, 'body', :'b'::text), "
        "       'sending', 1, now(), id, now() - :'age'::interval FROM m RETURNING id",
        variables={"p": to, "b": body, "age": claimed_ago})


def post_to_fake(a, to, body):
    """A message Twilio accepted (as if our sender got through, then died)."""
    r = requests.post("%s/2010-04-01/Accounts/%s/Messages.json" % (a.fake.url, ACCOUNT),
                      data={"To": to, "From": TWILIO_FROM, "Body": body},
                      auth=(ACCOUNT, TOKEN), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["sid"]


def events(a, kind):
    return int(a.value("SELECT count(*) FROM events WHERE kind = :'k'", variables={"k": kind}))


def outbox_row(a, row_id):
    [row] = a.sql("SELECT status, attempts, provider_id FROM outbox WHERE id = :'i'",
                  variables={"i": row_id})
    return row


# --------------------------------------------------------------------------
# orphans: a row left 'sending' by a sender that is gone


def test_orphan_twilio_never_got_is_sent_again_within_seconds(assistant):
    a = assistant
    me = phone()
    t0 = time.monotonic()
    row = insert_sending_row(a, me, "lost in flight")
    [rep] = a.wait_replies(1, to=me, timeout=10)
    took = time.monotonic() - t0
    assert rep["form"]["Body"] == "lost in flight"
    assert took < 4.0, "recovered after %.1f s" % took
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=1.5)
    assert outbox_row(a, row)[:2] == ["sent", "2"]
    assert events(a, "outbox_orphaned") == 1 and events(a, "outbox_resent") == 1
    assert a.worker.wait_log(r"ASST01304: 1 outbox rows were left sending", 1)
    assert a.worker.wait_log(r"ASST01307: outbox row %s: Twilio has no such message" % row, 1)
    # it was looked up first: one GET of the list filtered by To and From
    lookups = [r for r in a.fake.requests(method="GET") if "/Messages.json" in r["path"]]
    assert lookups, "the row was sent again without asking Twilio"
    assert "To=%2B" + me[1:] in lookups[0]["path"] and "From=" in lookups[0]["path"]


def test_orphan_twilio_already_has_is_not_sent_again(assistant):
    a = assistant
    me = phone()
    sid = post_to_fake(a, me, "already delivered")
    row = insert_sending_row(a, me, "already delivered")
    assert stack.wait_for(lambda: outbox_row(a, row)[0] == "sent", 10), a.outbox_rows()
    assert outbox_row(a, row) == ["sent", "1", sid]
    assert a.value("SELECT twilio_sid FROM messages WHERE direction = 'out'") == sid
    assert events(a, "sms_reconciled") == 1 and events(a, "outbox_resent") == 0
    time.sleep(1.5)
    assert len(a.replies(to=me)) == 1, "sent twice: %s" % a.replies(to=me)
    assert a.worker.wait_log(r"ASST01306: outbox row %s: Twilio already has it as %s" % (row, sid), 1)


def test_two_lost_rows_with_one_text_each_take_one_sid(assistant):
    """Two orphans with the same body to the same person, Twilio has one of
    them: one row takes that message, the other is sent again."""
    a = assistant
    me = phone()
    sid = post_to_fake(a, me, "same words")
    first = insert_sending_row(a, me, "same words")
    user = a.value("SELECT user_id FROM outbox WHERE id = :'i'", variables={"i": first})
    second = a.value(
        "WITH m AS (INSERT INTO messages (user_id, direction, body, status) "
        "           VALUES (:'u', 'out', 'same words', 'pending') RETURNING id, user_id) "
        "INSERT INTO outbox (user_id, kind, payload, status, attempts, message_id, claimed_at) "
        "SELECT user_id, 'sms', jsonb_build_object('to', :'p'::text, 'body', 'same words'), "
        "       'sending', 1, id, now() FROM m RETURNING id", variables={"u": user, "p": me})
    a.wait_replies(2, to=me, timeout=10)        # ours above, and one resend
    a.wait_outbox_settled()
    sids = sorted(r[0] for r in a.sql("SELECT provider_id FROM outbox ORDER BY id"))
    assert sid in sids and len(set(sids)) == 2, sids
    assert events(a, "sms_reconciled") == 1 and events(a, "outbox_resent") == 1
    assert {first, second} == set(r[0] for r in a.sql("SELECT id FROM outbox"))


def test_lookup_failing_waits_and_never_sends_blind(assistant):
    """While Twilio's log cannot be read, an unknown row is neither sent
    again nor given up: it is looked up again once the log answers."""
    a = assistant
    me = phone()
    a.fake.faults({"list_fail_rate": 1.0})
    row = insert_sending_row(a, me, "wait for the log")
    assert stack.wait_for(lambda: len(a.fake.requests(method="GET")) >= 2, 10)
    assert outbox_row(a, row)[0] == "unknown" and a.replies(to=me) == []
    a.fake.faults({})
    [rep] = a.wait_replies(1, to=me, timeout=10)
    assert rep["form"]["Body"] == "wait for the log"
    a.wait_outbox_settled()


def test_slow_live_sender_is_never_raced(assistant):
    """Twilio takes 4 s to answer: the row stays 'sending' all along (its
    sender is alive and holds the claim) and goes out once."""
    a = assistant
    me = phone()
    a.fake.faults({"delay_ms": 4000})
    a.text(me, "take your time")
    assert stack.wait_for(lambda: a.value("SELECT status FROM outbox") == "sending", 5)
    time.sleep(3.0)
    assert a.value("SELECT status FROM outbox") == "sending"
    [rep] = a.wait_replies(1, to=me, timeout=10)
    a.wait_outbox_settled()
    a.assert_no_more(1, to=me, seconds=1.5)
    assert a.value("SELECT status FROM outbox") == "sent"
    assert events(a, "outbox_orphaned") == 0
    assert a.fake.requests(method="GET") == []


@pytest.mark.slow
def test_sender_killed_after_twilio_accepted_no_duplicate(assistant):
    """The fake accepts the message, then holds its answer: the agent that
    sent it is killed -9 while it waits. The row is found orphaned within a
    second, Twilio's log has the message, and nothing is sent twice."""
    a = assistant
    a.expect_worker(r"ASST01525: agent child \d+ \(pid \d+\) was killed by signal 9 ")
    me = phone()
    a.fake.faults({"reply_delay_ms": 5000})
    a.text(me, "accepted then killed")
    assert stack.wait_for(lambda: len(a.fake.requests()) == 1, 10)
    victims = a.agents()
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    a.fake.faults({})
    assert stack.wait_for(lambda: a.value("SELECT status FROM outbox") == "sent", 10), a.outbox_rows()
    took = time.monotonic() - t0
    assert took < 4.0, "recovered after %.1f s" % took
    a.assert_no_more(1, to=me, seconds=2.0)
    assert events(a, "sms_reconciled") == 1
    [(sid,)] = [(r["sid"],) for r in a.fake.requests()]
    assert a.value("SELECT provider_id FROM outbox") == sid
    a.wait_drained()


# --------------------------------------------------------------------------
# order: the parts of one reply in order, later replies not held up for long


def test_one_failing_text_does_not_hold_up_later_ones(assistant):
    """The reply to the first text fails (503) again and again; the reply to
    the second goes out within seconds, not after the first one's backoff."""
    a = assistant
    me = phone()
    a.fake.faults({"fail_bodies": {"doomed": 503}})
    a.text(me, "doomed text")
    assert stack.wait_for(lambda: a.value("SELECT attempts FROM outbox") == "1"
                          and a.value("SELECT status FROM outbox") == "pending", 10)
    t0 = time.monotonic()
    a.text(me, "fine text")
    [rep] = a.wait_replies(1, to=me, timeout=10)
    assert rep["form"]["Body"] == unknown_reply("fine text")
    assert time.monotonic() - t0 < 3.0
    a.fake.faults({})
    reps = a.wait_replies(2, to=me, timeout=20)
    assert reps[1]["form"]["Body"] == unknown_reply("doomed text")


def test_a_later_reply_waits_for_an_earlier_one_in_flight(assistant):
    """Ordinarily replies leave in order: while the first is being sent (a
    slow Twilio), the second waits for it rather than racing it."""
    a = assistant
    me = phone()
    a.fake.faults({"delay_ms": 1500})
    a.text(me, "first")
    assert stack.wait_for(lambda: a.value("SELECT count(*) FROM outbox WHERE status = 'sending'") == "1", 5)
    a.text(me, "second")
    reps = a.wait_replies(2, to=me, timeout=15)
    assert [r["form"]["Body"] for r in reps] == [unknown_reply("first"), unknown_reply("second")]
    firsts = [r for r in a.fake.requests() if r["form"].get("To") == me]
    assert [r["form"]["Body"] for r in firsts] == [unknown_reply("first"), unknown_reply("second")]


def test_parts_of_a_failing_reply_stay_in_order(assistant):
    """Part 1 of a long reply fails twice; part 2 waits for it."""
    a = assistant
    me = phone()
    want = seed_long_reply(a, me)
    a.fake.faults({"fail_bodies": {"word0000": 503}})
    a.text(me, LONG_ASK)
    assert stack.wait_for(lambda: a.value("SELECT max(attempts) FROM outbox") == "2", 15), a.outbox_rows()
    assert a.replies(to=me) == [], "a later part overtook the first"
    a.fake.faults({})
    reps = a.wait_replies(2, to=me, timeout=20)
    assert " ".join(r["form"]["Body"] for r in reps).split() == want.split()


# --------------------------------------------------------------------------
# an agent child sends while it works: a slow Twilio does not slow it down


def test_one_child_sends_many_replies_at_once(assistant_factory):
    """Twilio takes 0.5 s per send: one agent child answers 12 people in
    about one send's time (12 x 0.5 s one at a time), each once."""
    a = assistant_factory(Workers=1)
    a.fake.faults({"delay_ms": 500})
    people = [phone() for _ in range(12)]
    t0 = time.monotonic()
    text_all(a, [(me, "hello %d" % i) for i, me in enumerate(people)])
    for me in people:
        a.wait_replies(1, to=me, timeout=10)
    took = time.monotonic() - t0
    assert took < 3.5, "12 replies of a 0.5 s Twilio took %.1f s from one child" % took
    a.wait_outbox_settled()
    for i, me in enumerate(people):
        [rep] = a.assert_no_more(1, to=me, seconds=0)
        assert rep["form"]["Body"] == unknown_reply("hello %d" % i)
    assert a.sql("SELECT status, count(*) FROM outbox GROUP BY status") == [["sent", "12"]]
    assert a.value("SELECT count(*) FROM outbox WHERE attempts <> 1") == "0"
    a.wait_drained()


def test_a_persons_replies_leave_in_order_while_others_go_ahead(assistant_factory):
    """One person's three quick texts are answered in order, one send at a
    time, while another person's reply does not wait for them."""
    a = assistant_factory(Workers=1)
    a.fake.faults({"delay_ms": 500})
    me, other = phone(), phone()
    bodies = ["first text", "second text", "third text"]
    t0 = time.monotonic()
    for body in bodies:
        a.text(me, body)
    a.text(other, "meanwhile")
    a.wait_replies(1, to=other, timeout=10)
    assert time.monotonic() - t0 < 1.4, "the other person's reply waited for the first one's"
    reps = a.wait_replies(3, to=me, timeout=10)
    assert [r["form"]["Body"] for r in reps] == [unknown_reply(b) for b in bodies]
    sends = [r for r in a.fake.requests() if r["form"].get("To") == me]
    assert [r["form"]["Body"] for r in sends] == [unknown_reply(b) for b in bodies]
    for earlier, later in zip(sends, sends[1:]):
        assert later["time"] >= earlier["time"] + 0.45, "two replies to one person were in flight at once"
    a.wait_outbox_settled()
    a.assert_no_more(3, to=me, seconds=0.5)


@pytest.mark.slow
def test_a_database_outage_while_replies_are_sent_stalls_no_one(assistant_factory, pg_server):
    """PostgreSQL goes for 7 s while Twilio answers 8 replies of one
    agent child: each send's outcome is retried on the child's loop for
    5 s, then let go, and the orphan sweep finds them in Twilio's log.
    Every person gets one reply, and a text sent after the database is
    back is answered at once."""
    a = assistant_factory(Workers=1)
    # status callbacks that came during the outage: MaxDeliveries 5 here
    a.expect_worker(r"ASST01301", r"ASST01005", r"ASST02001", r"ASST02004", r"ASST01308", r"ASST01103")
    a.fake.faults({"delay_ms": 1500})
    people = [phone() for _ in range(8)]
    text_all(a, [(me, "hello %d" % i) for i, me in enumerate(people)])
    assert stack.wait_for(lambda: a.value("SELECT count(*) FROM outbox WHERE status = 'sending'") == "8", 5)
    pg_server.stop()
    time.sleep(7.0)
    pg_server.start()
    a.fake.faults({})
    t0 = time.monotonic()
    late = phone()
    a.text(late, "after")
    a.wait_replies(1, to=late, timeout=10)
    assert time.monotonic() - t0 < 3.0, "the agent child was still stuck recording the old sends"
    for me in people:
        a.wait_replies(1, to=me, timeout=30)
    a.wait_outbox_settled(timeout=30)
    for i, me in enumerate(people):
        [rep] = a.assert_no_more(1, to=me, seconds=0)
        assert rep["form"]["Body"] == unknown_reply("hello %d" % i)
    assert a.sql("SELECT status, count(*) FROM outbox GROUP BY status") == [["sent", "9"]]


# --------------------------------------------------------------------------
# the circuit breaker


def posts_after(a, t):
    return [r for r in a.fake.requests() if r["time"] >= t]


def test_twilio_down_opens_the_circuit_and_sends_resume_after(assistant):
    """Twilio answers every send 503: each process opens its circuit after
    ~10 sends and stops calling; once Twilio is back every reply goes out
    within seconds, once."""
    a = assistant
    a.fake.faults({"fail_rate_5xx": 1.0, "status_5xx": 503})
    people = [phone() for _ in range(20)]
    for me in people:
        a.text(me, "while down")
    assert a.worker.wait_log(r"ASST03003: twilio: circuit open: \d+ of the last \d+ calls failed", 20), \
        a.worker_log_tail()
    time.sleep(1.0)
    t = time.time()
    time.sleep(3.0)                       # inside TwilioBreakerCooldown (5 s)
    assert len(posts_after(a, t)) <= 3 * 3, "calls went on while the circuit was open"
    a.fake.faults({})
    t_up = time.monotonic()
    for me in people:
        a.wait_replies(1, to=me, timeout=20)
    assert time.monotonic() - t_up < 15, "sends resumed %.1f s after Twilio came back" % (
        time.monotonic() - t_up)
    a.wait_outbox_settled()
    assert a.value("SELECT count(*) FROM outbox WHERE status = 'sent'") == "20"
    # fail-fasts are no attempts: nothing near ASST_OUTBOX_MAX_ATTEMPTS
    assert int(a.value("SELECT max(attempts) FROM outbox")) <= 4, a.outbox_rows()
    for me in people:
        a.assert_no_more(1, to=me, seconds=0)


def test_rate_limits_are_not_an_outage(assistant):
    """Every send answered 429: the circuit never opens; each row waits its
    Retry-After and goes out once Twilio takes it."""
    a = assistant
    a.fake.faults({"rate_429": 1.0, "retry_after": 1})
    people = [phone() for _ in range(15)]
    for me in people:
        a.text(me, "slow down")
    assert stack.wait_for(lambda: len(a.fake.requests()) >= 40, 20)
    assert not a.worker.log_lines("ASST03003"), "a 429 opened the circuit"
    a.fake.faults({})
    for me in people:
        a.wait_replies(1, to=me, timeout=15)
    a.wait_outbox_settled()
    gaps = a.sql("SELECT count(*) FROM outbox WHERE attempts > 1")
    assert gaps[0][0] != "0"


# --------------------------------------------------------------------------
# consumers of dead children


def consumers(a, stream="{asst}:in"):
    return {c["name"] for c in a.rdb.xinfo_consumers(stream, "workers")}


def text_until_consumers(a, n, timeout=15):
    """Redis 7.0 creates a consumer with its first entry: text until n
    agents have had one."""
    deadline = time.monotonic() + timeout
    while len(consumers(a)) < n and time.monotonic() < deadline:
        people = [phone() for _ in range(8)]
        for me in people:                   # a burst: every agent gets some
            a.text(me, "hello")
        for me in people:
            a.wait_replies(1, to=me, timeout=10)
    return consumers(a)


@pytest.mark.slow
def test_consumers_of_dead_children_leave_the_group(assistant):
    a = assistant
    a.expect_worker(r"ASST01525: agent child \d+ \(pid \d+\) was killed by signal 9 ")
    host = socket.gethostname()
    assert a.worker.wait_children(2, timeout=15)
    killed = []
    for _ in range(3):
        assert len(text_until_consumers(a, 2)) == 2, consumers(a)
        victim = a.agents()[0]
        os.kill(victim, signal.SIGKILL)
        killed.append("%s:%d" % (host, victim))
        assert stack.wait_for(lambda: len(a.agents()) == 2 and victim not in a.agents(), 10)
        # removed within ClaimIdle (1.5 s in these tests), the prune period
        assert stack.wait_for(lambda: killed[-1] not in consumers(a), 6), consumers(a)
    live = {"%s:%d" % (host, pid) for pid in a.agents()}
    assert consumers(a) <= live, (consumers(a), live)
    assert a.worker.wait_log(r"ASST01105: removed consumer %s from \{asst\}:in" % killed[0], 1)
