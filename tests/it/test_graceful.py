"""Graceful restarts under load drop nothing."""

import threading
import time

import pytest
import requests

import stack
from stack import get_metrics, metric, sms_params, stream_envelopes


@pytest.mark.slow
@pytest.mark.parametrize("mpm", stack.MPMS)
def test_graceful_under_load(apache_factory, webhook, rdb, mpm):
    apache = apache_factory(mpm=mpm)
    tw = webhook(apache)
    stop = threading.Event()
    lock = threading.Lock()
    ok_sids, non200, resets = [], [], []

    def client(n):
        i = 0
        deadline = time.monotonic() + 30          # bounded whatever happens
        while not stop.is_set() and time.monotonic() < deadline:
            i += 1
            params = sms_params(account=tw.account, body="load %d/%d" % (n, i))
            sid = dict(params)["MessageSid"]
            for attempt in range(3):
                try:
                    r = tw.post("/sms", params, timeout=10)
                except requests.ConnectionError as e:
                    # no response at all: the retry (same MessageSid) is what Twilio does
                    with lock:
                        resets.append((sid, repr(e)[:200]))
                    continue
                with lock:
                    if r.status_code == 200:
                        ok_sids.append(sid)
                    else:
                        non200.append((sid, r.status_code, r.text[:200]))
                break
            time.sleep(0.005)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.7)
        apache.graceful()
        time.sleep(0.7)
        apache.graceful()
        time.sleep(0.7)
    finally:
        stop.set()
        for t in threads:
            t.join(30)

    assert len(ok_sids) > 30, "too little load to mean anything: %d" % len(ok_sids)
    assert non200 == [], non200[:10]
    assert resets == [], "%d connection errors: %s" % (len(resets), resets[:5])
    in_stream = {env["sid"] for _, env in stream_envelopes(rdb)}
    missing = [s for s in ok_sids if s not in in_stream]
    assert missing == [], "%d of %d answered 200 but not queued" % (len(missing), len(ok_sids))
    assert len(in_stream) == len(set(ok_sids))
    # the metrics segment survives graceful restarts
    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="sms",
                  outcome="accepted") == len(set(ok_sids)), "counters lost in a graceful restart"
