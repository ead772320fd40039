"""Spool files the worker cannot take in whole (worker/spool_drain.c): a
file cut short is never run; it goes to the dead-letter stream {asst}:dead
and leaves the spool, while a good file next to it is still answered.

Fixtures: fixtures_path.py (assistant)."""

import os
import re

import stack

REDIS_ERR = stack.REDIS_ERR

phone = stack.new_phone


def spool_two_then_cut_one(a, redis_server):
    """With the worker stopped and Redis down, texts two messages (the module
    spools both), then cuts the first file in half. Returns
    ((bad sender, bad sid, the bytes left), (good sender, good sid))."""
    a.apache.expect(REDIS_ERR)
    a.worker.stop()
    redis_server.stop()
    bad_me, good_me = phone(), phone()
    bad_sid = a.text(bad_me, "this one gets cut in half")
    good_sid = a.text(good_me, "this one stays whole")
    bad = os.path.join(a.spool, "sms-%s.json" % bad_sid)
    assert a.spool_files() == sorted(["sms-%s.json" % bad_sid, "sms-%s.json" % good_sid])
    with open(bad, "rb") as f:
        whole = f.read()
    os.truncate(bad, len(whole) // 2)
    return (bad_me, bad_sid, whole[:len(whole) // 2]), (good_me, good_sid)


def inbound_rows(a, sid):
    return a.value("SELECT count(*) FROM messages WHERE direction = 'in' AND twilio_sid = :'s'",
                   variables={"s": sid})


def assert_dead_lettered(a, bad_sid, left):
    name = "sms-%s.json" % bad_sid
    assert stack.wait_for(lambda: a.rdb.xlen("{asst}:dead") == 1, 15), a.worker_log_tail()
    raw = a.redis.client(decode_responses=False)     # env as the bytes read
    try:
        [(_, fields)] = raw.xrange("{asst}:dead")
    finally:
        raw.close()
    assert fields[b"stream"] == b"spool"
    assert fields[b"id"] == name.encode()
    assert fields[b"reason"].startswith(b"truncated"), fields
    assert fields[b"env"] == left
    line = a.worker.wait_log(r"ASST01403: spooled \S*/%s cannot be processed \(truncated"
                             % re.escape(name))
    assert line and "[error]" in line and "{asst}:dead" in line, a.worker_log_tail()
    assert not os.path.exists(os.path.join(a.spool, name))


def test_truncated_spool_file_dead_lettered(assistant, redis_server):
    a = assistant
    (bad_me, bad_sid, left), (good_me, good_sid) = spool_two_then_cut_one(a, redis_server)
    a.expect_worker(r"ASST01403: spooled \S*/sms-%s\.json " % bad_sid)
    redis_server.start()
    a.worker.start()

    assert_dead_lettered(a, bad_sid, left)
    a.wait_replies(1, to=good_me)
    a.wait_drained()
    a.wait_outbox_settled()
    a.assert_no_more(0, to=bad_me, seconds=1.5)
    assert inbound_rows(a, bad_sid) == "0"
    assert inbound_rows(a, good_sid) == "1"


def test_truncated_spool_file_waits_for_redis(assistant, redis_server):
    """Redis down when the cut file is found: it stays in the spool (the
    good one is answered all the same) until the dead letter can be written."""
    a = assistant
    (bad_me, bad_sid, left), (good_me, good_sid) = spool_two_then_cut_one(a, redis_server)
    a.expect_worker(r"ASST01403: spooled \S*/sms-%s\.json " % bad_sid,
                    r"(?i)redis|connect|refused|reset|EOF")
    a.worker.start()

    a.wait_replies(1, to=good_me)
    line = a.worker.wait_log(r"ASST01404: spooled \S*/sms-%s\.json cannot be processed "
                             r"\(truncated.*left for the next pass" % bad_sid)
    assert line, a.worker_log_tail()
    # (the good reply's status callbacks may be spooled next to it meanwhile)
    assert "sms-%s.json" % bad_sid in a.spool_files()

    redis_server.start()
    assert_dead_lettered(a, bad_sid, left)
    a.wait_drained()
    a.assert_no_more(0, to=bad_me, seconds=1.5)
    assert inbound_rows(a, bad_sid) == "0"
    assert inbound_rows(a, good_sid) == "1"
