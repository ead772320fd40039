"""assistant-metrics: Prometheus text, access control, Redis pool gauges."""

import re

import requests

import stack
from stack import OTHER_TOKEN, assert_twiml_ok, get_metrics, metric

REDIS_ERR = stack.REDIS_ERR


def test_metrics_format(apache, twilio):
    assert_twiml_ok(twilio.sms()[0])
    r = requests.get(apache.url + "/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers["Content-Type"]
    text = r.text
    m = stack.parse_metrics(text)          # raises on anything that is not Prometheus text
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    assert types.get("assistant_requests_total") == "counter"
    assert types.get("assistant_request_duration_seconds") == "histogram"
    assert types.get("assistant_redis_connections") == "gauge"
    assert types.get("assistant_redis_connects_total") == "counter"
    assert types.get("assistant_redis_connect_failures_total") == "counter"
    assert metric(m, "assistant_requests_total", handler="sms", outcome="accepted") == 1
    assert text.endswith("\n")


def test_metrics_all_series_present(apache):
    """Every handler x outcome series is exported from the start (as 0)."""
    m = get_metrics(apache)
    for handler in ("sms", "status"):
        for outcome in stack.SMS_OUTCOMES:
            key = ("assistant_requests_total",
                   frozenset({"handler": handler, "outcome": outcome}.items()))
            assert m.get(key) == 0, (handler, outcome, m.get(key))
        assert metric(m, "assistant_request_duration_seconds_count", handler=handler) == 0
    for state in ("open", "in_use"):
        assert ("assistant_redis_connections", frozenset({"state": state}.items())) in m


def test_metrics_require_denied(apache_factory):
    apache = apache_factory(metrics_extra="Require all denied")
    apache.expect(r"AH01630")
    r = requests.get(apache.url + "/metrics", timeout=10)
    assert r.status_code == 403
    assert "assistant_requests_total" not in r.text


def test_metrics_require_other_ip(apache_factory):
    apache = apache_factory(metrics_extra="Require ip 192.0.2.1")
    apache.expect(r"AH01630")
    assert requests.get(apache.url + "/metrics", timeout=10).status_code == 403


def test_redis_pool_metrics(apache_factory, webhook, redis_server):
    apache = apache_factory(keepalive=False)
    apache.expect(REDIS_ERR)
    tw = webhook(apache)
    for _ in range(4):
        assert_twiml_ok(tw.sms()[0])
    m = get_metrics(apache)
    assert metric(m, "assistant_redis_connections", state="in_use") == 0
    assert metric(m, "assistant_redis_connections", state="open") >= 1
    connects = metric(m, "assistant_redis_connects_total")
    assert 1 <= connects <= 4
    assert metric(m, "assistant_redis_connect_failures_total") == 0
    # the pool is reused: more requests do not mean more connects
    for _ in range(6):
        assert_twiml_ok(tw.sms()[0])
    m = get_metrics(apache)
    assert metric(m, "assistant_redis_connects_total") <= connects + 2

    redis_server.stop()
    codes = [tw.sms()[0].status_code for _ in range(6)]
    assert set(codes) == {503}, codes
    m = get_metrics(apache)
    assert metric(m, "assistant_redis_connect_failures_total") >= 1
    assert metric(m, "assistant_redis_connections", state="in_use") == 0
    assert metric(m, "assistant_requests_total", handler="sms", outcome="redis_error") == 6


def test_metrics_not_counting_bad_signature_as_accepted(apache, twilio):
    apache.expect(r"ASST\d+")
    assert twilio.sms(token=OTHER_TOKEN)[0].status_code == 403
    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="sms", outcome="bad_signature") == 1
    assert metric(m, "assistant_requests_total", handler="sms", outcome="accepted") == 0
