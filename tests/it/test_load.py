"""Concurrency and crash robustness: many threads, Redis killed under load."""

import concurrent.futures
import json
import os
import threading
import time

import pytest
import requests

import stack
from stack import assert_twiml_ok, get_metrics, metric, sms_params, stream_envelopes

REDIS_ERR = stack.REDIS_ERR


@pytest.mark.parametrize("mpm", stack.MPMS)
def test_concurrent_clients(apache_factory, webhook, rdb, mpm):
    """Many concurrent requests share each child's Redis pool safely."""
    apache = apache_factory(mpm=mpm)
    tw = webhook(apache)
    all_params = [sms_params(account=tw.account, body="c%d" % i) for i in range(240)]
    # every 4th message is sent twice, as Twilio's retries would
    jobs = all_params + all_params[::4]

    def send(p):
        with requests.Session() as s:
            return tw.post("/sms", p, session=s).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        codes = list(ex.map(send, jobs))
    assert codes.count(200) == len(jobs), {c: codes.count(c) for c in set(codes)}
    sids = [env["sid"] for _, env in stream_envelopes(rdb)]
    assert len(sids) == len(all_params) == len(set(sids))
    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="sms", outcome="accepted") == len(all_params)
    assert metric(m, "assistant_requests_total", handler="sms",
                  outcome="duplicate") == len(all_params[::4])
    assert metric(m, "assistant_redis_connections", state="in_use") == 0
    assert metric(m, "assistant_redis_connect_failures_total") == 0


@pytest.mark.slow
def test_redis_killed_under_load(apache_factory, webhook, redis_factory, test_dir):
    """kill -9 Redis while webhooks flow: every 200 is in the stream or the spool."""
    r = redis_factory(name="redis-aof",
                      extra_args=["--appendonly", "yes", "--appendfsync", "always"])
    spool = stack.make_dir(os.path.join(test_dir, "spool"), 0o777)
    apache = apache_factory(redis_addr=r.addr, sms_extra="    AssistantSpoolDir %s" % spool)
    apache.expect(REDIS_ERR)
    tw = webhook(apache)
    stop = threading.Event()
    lock = threading.Lock()
    ok, bad = [], []

    def client(n):
        i = 0
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            i += 1
            p = sms_params(account=tw.account, body="k %d/%d" % (n, i))
            try:
                resp = tw.post("/sms", p, timeout=10)
                code = resp.status_code
            except requests.RequestException as e:
                code = repr(e)[:200]
            with lock:
                (ok if code == 200 else bad).append((dict(p)["MessageSid"], code))
            time.sleep(0.002)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        r.stop(kill=True)
        time.sleep(0.7)
        r.start()
        time.sleep(2.5)          # past the module's reconnect hold-down
    finally:
        stop.set()
        for t in threads:
            t.join(30)

    assert bad == [], bad[:10]
    in_stream = {env["sid"] for _, env in stream_envelopes(r.client())}
    spooled = set()
    for name in os.listdir(spool):
        assert name.startswith("sms-") and name.endswith(".json"), name
        with open(os.path.join(spool, name), encoding="utf-8") as f:
            env = json.load(f)
        assert name == "sms-%s.json" % env["sid"]
        spooled.add(env["sid"])
    lost = [sid for sid, _ in ok if sid not in in_stream and sid not in spooled]
    assert lost == [], "%d of %d answered 200 but neither queued nor spooled" % (len(lost), len(ok))
    assert spooled, "Redis was down 0.7 s and nothing was spooled"
    # after the restart messages go to Redis again
    last = [sid for sid, _ in ok[-20:]]
    assert all(sid in in_stream for sid in last), "still spooling at the end"


def test_many_params(apache, twilio, rdb):
    """Thousands of fields within AssistantMaxBody: no quadratic blow-up, all kept."""
    extra = [("X%04d" % i, "v%d" % i) for i in range(4000)]
    params = sms_params(account=twilio.account, extra=extra)
    assert len(stack.form_encode(params)) < 65536
    t0 = time.monotonic()
    r = twilio.post("/sms", params)
    took = time.monotonic() - t0
    assert_twiml_ok(r)
    assert took < 2, took
    [(_, env)] = stream_envelopes(rdb)
    assert len(env["params"]) == len(params)
    assert env["params"]["X3999"] == "v3999"


def test_empty_body_signed(apache, twilio, rdb):
    apache.expect(r"ASST\d+")
    r = twilio.post("/sms", [], data=b"")
    assert r.status_code == 400
    assert stream_envelopes(rdb) == []
