"""Twilio message status callbacks (assistant-status)."""

import pytest
import requests

from stack import (ACCOUNT, OTHER_ACCOUNT, OTHER_TOKEN, assert_envelope, assert_twiml_ok,
                   get_metrics, metric, new_sid, now_ms, status_params, stream_envelopes)

CLIENT_ERR = r"ASST\d+"
STATUS_STREAM = "{asst}:status"


def test_status_lifecycle(apache, twilio, rdb):
    sid = new_sid()
    sent = []
    before = now_ms()
    for st in ("queued", "sent", "delivered"):
        r, params = twilio.status(sid, st)
        assert r.status_code == 200, r.text
        sent.append(params)
    r, _ = twilio.status(sid, "delivered")          # Twilio retries the callback
    assert r.status_code == 200
    after = now_ms()
    entries = stream_envelopes(rdb, STATUS_STREAM)
    assert [e["params"]["MessageStatus"] for _, e in entries] == ["queued", "sent", "delivered"]
    for (_, env), params in zip(entries, sent):
        assert_envelope(env, params, before, after, stream_kind="status")
    for st in ("queued", "sent", "delivered"):
        ttl = rdb.ttl("{asst}:seen:status:%s:%s" % (sid, st))
        assert 86400 - 60 <= ttl <= 86400, (st, ttl)
    assert stream_envelopes(rdb) == []               # nothing in {asst}:in
    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="status", outcome="accepted") == 3
    assert metric(m, "assistant_requests_total", handler="status", outcome="duplicate") == 1
    assert metric(m, "assistant_requests_total", handler="sms", outcome="accepted") == 0


def test_status_and_sms_same_sid(apache, twilio, rdb):
    """An incoming message and a status callback of the same SID do not dedupe each other."""
    sid = new_sid()
    r, _ = twilio.sms(sid=sid)
    assert_twiml_ok(r)
    r, _ = twilio.status(sid, "received")
    assert r.status_code == 200
    assert len(stream_envelopes(rdb)) == 1
    assert len(stream_envelopes(rdb, STATUS_STREAM)) == 1


def test_status_error_code_kept(apache, twilio, rdb):
    sid = new_sid()
    r, params = twilio.status(sid, "undelivered", extra=[("ErrorCode", "30003"),
                                                         ("ErrorMessage", "Unreachable handset")])
    assert r.status_code == 200
    [(_, env)] = stream_envelopes(rdb, STATUS_STREAM)
    assert env["params"]["ErrorCode"] == "30003"
    assert_envelope(env, params, stream_kind="status")


@pytest.mark.parametrize("field", ["MessageSid", "AccountSid", "MessageStatus"])
def test_status_missing_field(apache, twilio, rdb, field):
    apache.expect(CLIENT_ERR)
    params = [(k, v) for k, v in status_params(new_sid(), "sent", account=ACCOUNT) if k != field]
    r = twilio.post("/status", params)
    assert r.status_code == 400
    assert stream_envelopes(rdb, STATUS_STREAM) == []


def test_status_validation(apache, twilio, rdb):
    apache.expect(CLIENT_ERR)
    sid = new_sid()
    assert twilio.status(sid, "sent", token=OTHER_TOKEN)[0].status_code == 403
    assert twilio.status(sid, "sent", sign=False)[0].status_code == 403
    assert twilio.status(sid, "sent", account=OTHER_ACCOUNT)[0].status_code == 403
    # signed for the /sms URL, posted to /status
    r, _ = twilio.status(sid, "sent", sign_url="https://assistant.example.com/sms")
    assert r.status_code == 403
    assert requests.get(apache.url + "/status", timeout=10).status_code == 405
    r = twilio.post("/status", status_params(sid, "sent", account=ACCOUNT),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    assert stream_envelopes(rdb, STATUS_STREAM) == []
    m = get_metrics(apache)
    # the AccountSid mismatch may count as bad_signature or bad_request
    assert 3 <= metric(m, "assistant_requests_total", handler="status",
                       outcome="bad_signature") <= 4
    assert metric(m, "assistant_requests_total", handler="status", outcome="bad_method") == 1


def test_status_custom_stream(apache_factory, webhook, rdb):
    apache = apache_factory(status_extra="    AssistantStream {asst}:receipts")
    r, _ = webhook(apache).status(new_sid(), "delivered")
    assert r.status_code == 200
    assert len(stream_envelopes(rdb, "{asst}:receipts")) == 1
    assert stream_envelopes(rdb, STATUS_STREAM) == []
