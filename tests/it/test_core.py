"""The core of the incoming-SMS webhook, run under every MPM.

accept, duplicate, bad signature, 405 / 413 / 415 and exact metrics."""

import concurrent.futures
import time

import pytest
import requests

import stack
from stack import (TOKEN, OTHER_TOKEN, PUBLIC, assert_envelope, assert_twiml_ok,
                   get_metrics, metric, now_ms, sms_params, stream_envelopes)

pytestmark = pytest.mark.parametrize("mpm", stack.MPMS)

CLIENT_ERR = r"ASST\d+"        # the module may log a refused request at error level


def test_accept(apache, twilio, rdb):
    before = now_ms()
    r, params = twilio.sms(body="Remind me tomorrow at 9 to call mom")
    after = now_ms()
    assert_twiml_ok(r)
    entries = stream_envelopes(rdb)
    assert len(entries) == 1, entries
    assert_envelope(entries[0][1], params, before, after)
    sid = dict(params)["MessageSid"]
    ttl = rdb.ttl("{asst}:seen:" + sid)
    assert 86400 - 60 <= ttl <= 86400, "dedupe TTL %s" % ttl


def test_duplicate_sid(apache, twilio, rdb):
    params = sms_params(account=twilio.account, body="once")
    r1 = twilio.post("/sms", params)
    assert_twiml_ok(r1)
    for _ in range(2):                       # Twilio retries
        r = twilio.post("/sms", params)
        assert_twiml_ok(r)
    assert len(stream_envelopes(rdb)) == 1


def test_bad_signature(apache, twilio, rdb, signer):
    apache.expect(CLIENT_ERR)
    params = sms_params(account=twilio.account)
    sid = dict(params)["MessageSid"]
    # signed with another token
    r = twilio.post("/sms", params, token=OTHER_TOKEN)
    assert r.status_code == 403
    # no signature header
    r = twilio.post("/sms", params, sign=False)
    assert r.status_code == 403
    # garbage signature
    r = twilio.post("/sms", params, signature="not-a-signature")
    assert r.status_code == 403
    # a valid signature of other parameters (body tampered with)
    other = [(k, "tampered" if k == "Body" else v) for k, v in params]
    r = twilio.post("/sms", params, signature=signer(PUBLIC + "/sms", other))
    assert r.status_code == 403
    # signed for the local URL instead of the public one
    r = twilio.post("/sms", params, sign_url=apache.url + "/sms")
    assert r.status_code == 403
    assert stream_envelopes(rdb) == []
    # forged requests must not poison the dedupe key of the real message
    assert rdb.exists("{asst}:seen:" + sid) == 0
    assert_twiml_ok(twilio.post("/sms", params))
    assert len(stream_envelopes(rdb)) == 1


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_method_not_allowed(apache, twilio, rdb, method):
    apache.expect(CLIENT_ERR)
    r = requests.request(method, apache.url + "/sms", timeout=10)
    assert r.status_code == 405
    allow = [m.strip().upper() for m in r.headers.get("Allow", "").split(",")]
    assert "POST" in allow and "GET" not in allow, r.headers.get("Allow")
    assert stream_envelopes(rdb) == []


def _big_params(account, size):
    params = sms_params(account=account, body="x")
    base = len(stack.form_encode(params)) - 1
    return [(k, "x" * (size - base) if k == "Body" else v) for k, v in params]


def test_too_large_content_length(apache, twilio, rdb):
    apache.expect(CLIENT_ERR)
    params = _big_params(twilio.account, 65536 + 4096)
    r = twilio.post("/sms", params)
    assert r.status_code == 413
    assert stream_envelopes(rdb) == []


def test_too_large_chunked(apache, twilio, rdb):
    apache.expect(CLIENT_ERR)
    params = _big_params(twilio.account, 65536 + 4096)
    data = stack.form_encode(params).encode()

    def chunks():
        for i in range(0, len(data), 8192):
            yield data[i:i + 8192]

    sig = stack.twilio_signature(TOKEN, PUBLIC + "/sms", params)
    r = requests.post(apache.url + "/sms", data=chunks(), timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded",
                               "X-Twilio-Signature": sig})
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert r.status_code == 413
    assert stream_envelopes(rdb) == []


@pytest.mark.parametrize("ctype", ["application/json", "text/plain",
                                   "multipart/form-data; boundary=xyz", None])
def test_unsupported_media_type(apache, twilio, rdb, ctype):
    apache.expect(CLIENT_ERR)
    params = sms_params(account=twilio.account)
    r = twilio.post("/sms", params, headers={"Content-Type": ctype})
    assert r.status_code == 415
    assert stream_envelopes(rdb) == []


def test_charset_suffix_accepted(apache, twilio, rdb):
    params = sms_params(account=twilio.account)
    r = twilio.post("/sms", params,
                    headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert_twiml_ok(r)
    assert len(stream_envelopes(rdb)) == 1


def test_metrics_exact(apache_factory, webhook, rdb, mpm):
    """Counters are exact, aggregated over every child (keepalive off so the
    requests spread over several children)."""
    apache = apache_factory(keepalive=False)
    apache.expect(CLIENT_ERR)
    tw = webhook(apache)

    accepted = [sms_params(account=tw.account, body="m%d" % i) for i in range(12)]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        codes = list(ex.map(lambda p: tw.post("/sms", p).status_code, accepted))
    assert codes == [200] * len(accepted)
    assert tw.post("/sms", accepted[0]).status_code == 200                    # duplicate
    for _ in range(2):
        assert tw.post("/sms", sms_params(account=tw.account),
                       token=OTHER_TOKEN).status_code == 403                   # bad_signature
    assert tw.post("/sms", _big_params(tw.account, 70000)).status_code == 413  # too_large
    assert requests.get(apache.url + "/sms", timeout=10).status_code == 405   # bad_method
    no_from = [(k, v) for k, v in sms_params(account=tw.account) if k != "From"]
    assert tw.post("/sms", no_from).status_code == 400                        # bad_request
    elapsed = time.monotonic() - t0

    m = get_metrics(apache)
    want = {"accepted": len(accepted), "duplicate": 1, "bad_signature": 2, "too_large": 1,
            "bad_method": 1, "bad_request": 1, "rate_limited": 0, "spooled": 0,
            "redis_error": 0}
    got = {o: metric(m, "assistant_requests_total", handler="sms", outcome=o)
           for o in want}
    assert got == want, "children that served /sms: %s" % sorted(apache.access_pids("/sms"))
    for o in stack.SMS_OUTCOMES:
        assert metric(m, "assistant_requests_total", handler="status", outcome=o) == 0
    assert len(stream_envelopes(rdb)) == len(accepted)

    # histogram: cumulative buckets, +Inf == _count, a sane _sum
    buckets = sorted(((float(dict(lbl)["le"]), v) for (name, lbl), v in m.items()
                      if name == "assistant_request_duration_seconds_bucket"
                      and dict(lbl).get("handler") == "sms"), key=lambda x: x[0])
    assert buckets and buckets[-1][0] == float("inf"), buckets
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
    count = metric(m, "assistant_request_duration_seconds_count", handler="sms")
    total = sum(want.values())
    assert buckets[-1][1] == count
    assert len(accepted) + 1 <= count <= total, (count, total)
    s = metric(m, "assistant_request_duration_seconds_sum", handler="sms")
    assert 0 <= s <= elapsed + 1

    # scraping is read-only
    m2 = get_metrics(apache)
    assert {o: metric(m2, "assistant_requests_total", handler="sms", outcome=o)
            for o in want} == want

    if mpm == "prefork":
        assert len(apache.access_pids("/sms")) > 1, "requests did not spread over children"
