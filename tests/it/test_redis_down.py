"""Redis unavailable: spool to disk (still 200) or 503, and recovery."""

import json
import os
import signal
import time

import pytest

import stack
from stack import (ACCOUNT, assert_envelope, assert_twiml_ok, get_metrics, metric, new_sid,
                   now_ms, stream_envelopes)

REDIS_ERR = stack.REDIS_ERR


def _spool_files(spool):
    return sorted(os.listdir(spool))


def test_spool_and_recover(apache_factory, webhook, redis_server, rdb, test_dir):
    spool = stack.make_dir(os.path.join(test_dir, "spool"), 0o777)
    apache = apache_factory(sms_extra="    AssistantSpoolDir %s" % spool)
    apache.expect(REDIS_ERR)
    tw = webhook(apache)
    assert_twiml_ok(tw.sms(body="warm up the pool")[0])
    assert len(stream_envelopes(rdb)) == 1

    redis_server.stop()
    before = now_ms()
    r, params = tw.sms(body="while Redis is down")
    after = now_ms()
    assert_twiml_ok(r)
    sid = dict(params)["MessageSid"]
    name = "sms-%s.json" % sid
    assert _spool_files(spool) == [name]
    with open(os.path.join(spool, name), encoding="utf-8") as f:
        assert_envelope(json.load(f), params, before, after)

    # Twilio retries the same message: the same file is rewritten
    assert_twiml_ok(tw.post("/sms", params))
    assert _spool_files(spool) == [name]
    with open(os.path.join(spool, name), encoding="utf-8") as f:
        assert_envelope(json.load(f), params)
    spooled = 2

    redis_server.start()
    t0 = time.monotonic()
    recovered = None
    while time.monotonic() - t0 < 2.5:
        r, p = tw.sms(body="after restart")
        assert_twiml_ok(r)
        if os.path.exists(os.path.join(spool, "sms-%s.json" % dict(p)["MessageSid"])):
            spooled += 1
            time.sleep(0.1)
            continue
        recovered = time.monotonic() - t0
        break
    assert recovered is not None, "still spooling 2.5 s after Redis came back"
    [(_, env)] = stream_envelopes(rdb)          # the restarted Redis is empty
    assert_envelope(env, p)
    assert len(_spool_files(spool)) == spooled - 1   # the retry rewrote one file

    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="sms", outcome="spooled") == spooled
    assert metric(m, "assistant_requests_total", handler="sms", outcome="accepted") == 2
    assert metric(m, "assistant_requests_total", handler="sms", outcome="redis_error") == 0


def test_no_spool_dir_503(apache_factory, webhook, redis_server, rdb):
    apache = apache_factory()
    apache.expect(REDIS_ERR)
    tw = webhook(apache)
    assert_twiml_ok(tw.sms()[0])
    redis_server.stop(kill=True)
    r, params = tw.sms()
    assert r.status_code == 503
    # Twilio's retry after Redis is back is accepted (the 503 did not mark it seen)
    redis_server.start()
    ok = stack.wait_for(lambda: tw.post("/sms", params).status_code == 200, 3, 0.2)
    assert ok, "retry not accepted after Redis came back"
    [(_, env)] = stream_envelopes(rdb)
    assert env["sid"] == dict(params)["MessageSid"]
    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="sms", outcome="redis_error") >= 1
    assert metric(m, "assistant_requests_total", handler="sms", outcome="spooled") == 0


def test_unwritable_spool_dir_503(apache_factory, webhook, redis_server, test_dir):
    spool = stack.make_dir(os.path.join(test_dir, "ro-spool"), 0o555)
    if not stack.IS_ROOT and os.access(spool, os.W_OK):
        pytest.skip("cannot make an unwritable directory here")
    apache = apache_factory(sms_extra="    AssistantSpoolDir %s" % spool)
    apache.expect(REDIS_ERR)
    tw = webhook(apache)
    redis_server.stop()
    r, _ = tw.sms()
    assert r.status_code == 503
    assert _spool_files(spool) == []
    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="sms", outcome="redis_error") == 1


def test_status_spool_name(apache_factory, webhook, redis_server, test_dir):
    spool = stack.make_dir(os.path.join(test_dir, "spool"), 0o777)
    apache = apache_factory(status_extra="    AssistantSpoolDir %s" % spool)
    apache.expect(REDIS_ERR)
    tw = webhook(apache)
    redis_server.stop()
    sid = new_sid()
    for st in ("sent", "delivered", "delivered"):
        r, _ = tw.status(sid, st)
        assert r.status_code == 200
    assert _spool_files(spool) == ["status-%s-delivered.json" % sid, "status-%s-sent.json" % sid]
    with open(os.path.join(spool, "status-%s-delivered.json" % sid), encoding="utf-8") as f:
        env = json.load(f)
    assert env["sid"] == sid and env["account"] == ACCOUNT
    assert env["params"]["MessageStatus"] == "delivered"


def _site_on_own_redis(apache_factory, webhook, redis_factory, test_dir):
    """(redis, spool dir, Webhook): a site with a spool and a 300 ms Redis
    timeout on a Redis of its own (to SIGSTOP), one webhook already through."""
    r = redis_factory(name="redis-hang")
    spool = stack.make_dir(os.path.join(test_dir, "spool"), 0o777)
    apache = apache_factory(redis_addr=r.addr, redis_timeout=300,
                            sms_extra="    AssistantSpoolDir %s" % spool)
    apache.expect(REDIS_ERR)
    tw = webhook(apache)
    assert_twiml_ok(tw.sms()[0])
    return r, spool, tw


def test_redis_hangs_timeout(apache_factory, webhook, redis_factory, test_dir):
    """A Redis that accepts but never answers costs about AssistantRedisTimeout."""
    r, spool, tw = _site_on_own_redis(apache_factory, webhook, redis_factory, test_dir)
    os.kill(r.proc.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        resp, params = tw.sms(timeout=15)
        took = time.monotonic() - t0
    finally:
        os.kill(r.proc.pid, signal.SIGCONT)
    assert_twiml_ok(resp)
    assert took < 2.0, "request took %.2fs with AssistantRedisTimeout 300" % took
    assert _spool_files(spool) == ["sms-%s.json" % dict(params)["MessageSid"]]


def test_redis_hangs_under_concurrent_webhooks(apache_factory, webhook, redis_factory, test_dir):
    """Each httpd child shares one pipelined Redis connection: when Redis
    hangs, every webhook in flight on it is spooled within about
    AssistantRedisTimeout (none waits behind another's timeout), none is
    lost, and once Redis is back new webhooks go to the stream again."""
    from concurrent.futures import ThreadPoolExecutor
    r, spool, tw = _site_on_own_redis(apache_factory, webhook, redis_factory, test_dir)

    def one(_):
        t0 = time.monotonic()
        resp, params = tw.sms(timeout=15)
        return resp.status_code, time.monotonic() - t0, dict(params)["MessageSid"]

    os.kill(r.proc.pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(one, range(32)))
    finally:
        os.kill(r.proc.pid, signal.SIGCONT)
    assert [st for st, _, _ in results] == [200] * 32
    slowest = max(took for _, took, _ in results)
    assert slowest < 3.0, "slowest webhook took %.2fs with AssistantRedisTimeout 300" % slowest
    sids = {sid for _, _, sid in results}
    spooled = {f[len("sms-"):-len(".json")] for f in _spool_files(spool)}
    rdb = r.client()
    deadline = time.monotonic() + 5
    while True:     # a command Redis had read before it stopped runs when it resumes
        queued = {env["sid"] for _, env in stream_envelopes(rdb)}
        if sids <= spooled | queued or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert sids <= spooled | queued, "lost: %s" % sorted(sids - spooled - queued)
    assert spooled, "Redis was stopped, yet nothing was spooled"

    before = len(stream_envelopes(rdb))
    resp, params = tw.sms()
    assert_twiml_ok(resp)
    assert dict(params)["MessageSid"] in {env["sid"] for _, env in stream_envelopes(rdb)[before:]}
