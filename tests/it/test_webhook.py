"""Incoming-SMS webhook: envelope contract, request validation, limits, options."""

import os
import time

import pytest
import requests

import stack
from stack import (ACCOUNT, OTHER_ACCOUNT, PUBLIC, TOKEN, assert_envelope, assert_twiml_ok,
                   form_encode, get_metrics, metric, now_ms, sms_params, stream_envelopes,
                   twilio_signature)

CLIENT_ERR = r"ASST\d+"


def test_envelope_media_and_unicode(apache, twilio, rdb):
    media = [("https://api.twilio.com/2010-04-01/Accounts/%s/Messages/MM1/Media/ME1" % ACCOUNT,
              "image/jpeg"),
             ("https://api.twilio.com/2010-04-01/Accounts/%s/Messages/MM1/Media/ME2" % ACCOUNT,
              "audio/amr")]
    body = "Grüße 你好 👋 — \"quoted\" \\ back\\slash\nnew line & amp = eq + plus"
    before = now_ms()
    r, params = twilio.sms(body=body, media=media)
    after = now_ms()
    assert_twiml_ok(r)
    [(_, env)] = stream_envelopes(rdb)
    assert_envelope(env, params, before, after)
    assert env["body"] == body
    assert env["num_media"] == 2
    assert all(isinstance(v, str) for v in env["params"].values())


def test_envelope_repeated_field_is_array(apache, twilio, rdb):
    extra = [("Tag", "alpha"), ("Tag", "beta"), ("Tag", "gamma"), ("Empty", "")]
    r, params = twilio.sms(extra=extra)
    assert_twiml_ok(r)
    [(_, env)] = stream_envelopes(rdb)
    assert env["params"]["Tag"] == ["alpha", "beta", "gamma"]
    assert env["params"]["Empty"] == ""
    assert_envelope(env, params)


def test_envelope_no_media_no_body(apache, twilio, rdb):
    params = [(k, v) for k, v in sms_params(account=ACCOUNT) if k not in ("Body", "NumMedia")]
    r = twilio.post("/sms", params)
    assert_twiml_ok(r)
    [(_, env)] = stream_envelopes(rdb)
    assert env["body"] == "" and env["num_media"] == 0 and env["media"] == []


@pytest.mark.parametrize("raw", [
    b"Body=%G1&From=x",           # bad escape
    b"Body=abc%4",                # truncated escape
    b"Body=a%00b&From=x",         # NUL
    b"Body=%C3%28&From=x",        # invalid UTF-8 (escaped)
    b"Body=\xff\xfe&From=x",      # invalid UTF-8 (raw bytes)
    b"Body=%ED%A0%80",            # UTF-16 surrogate encoded in UTF-8
    b"Body=%C0%AF",               # overlong
], ids=["bad-escape", "truncated-escape", "nul", "bad-utf8-escaped", "bad-utf8-raw",
        "surrogate", "overlong"])
def test_malformed_form(apache, twilio, rdb, raw):
    apache.expect(CLIENT_ERR)
    r = twilio.post("/sms", [], data=raw,
                    signature=twilio_signature(TOKEN, PUBLIC + "/sms", {"Body": "x"}))
    assert r.status_code == 400
    assert stream_envelopes(rdb) == []


@pytest.mark.parametrize("field", ["MessageSid", "From", "AccountSid"])
def test_missing_required_field(apache, twilio, rdb, field):
    apache.expect(CLIENT_ERR)
    params = [(k, v) for k, v in sms_params(account=ACCOUNT) if k != field]
    r = twilio.post("/sms", params)
    assert r.status_code == 400
    assert stream_envelopes(rdb) == []


def test_account_sid_mismatch(apache, twilio, rdb):
    apache.expect(CLIENT_ERR)
    r, _ = twilio.sms(account=OTHER_ACCOUNT)     # correctly signed, wrong account
    assert r.status_code == 403
    assert stream_envelopes(rdb) == []


def test_media_type_case_insensitive(apache, twilio, rdb):
    """RFC 9110: media type names are case-insensitive."""
    params = sms_params(account=ACCOUNT)
    r = twilio.post("/sms", params, headers={
        "Content-Type": "Application/X-WWW-Form-URLEncoded;charset=UTF-8"})
    assert_twiml_ok(r)


def test_max_body_boundary(apache_factory, webhook, rdb):
    apache = apache_factory(sms_extra="    AssistantMaxBody 2048")
    apache.expect(CLIENT_ERR)
    tw = webhook(apache)

    def params_of_size(n):
        p = sms_params(account=ACCOUNT, body="x")
        base = len(form_encode(p)) - 1
        p = [(k, "y" * (n - base) if k == "Body" else v) for k, v in p]
        assert len(form_encode(p)) == n
        return p

    assert_twiml_ok(tw.post("/sms", params_of_size(2048)))
    assert tw.post("/sms", params_of_size(2049)).status_code == 413

    p = params_of_size(4000)
    data = form_encode(p).encode()
    r = requests.post(apache.url + "/sms", data=iter([data[:1000], data[1000:]]), timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded",
                               "X-Twilio-Signature": twilio_signature(TOKEN, PUBLIC + "/sms", p)})
    assert r.status_code == 413
    # chunked within the limit is fine
    p = params_of_size(2000)
    data = form_encode(p).encode()
    r = requests.post(apache.url + "/sms", data=iter([data[:700], data[700:]]), timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded",
                               "X-Twilio-Signature": twilio_signature(TOKEN, PUBLIC + "/sms", p)})
    assert_twiml_ok(r)
    assert len(stream_envelopes(rdb)) == 2


def test_dedupe_ttl_configured(apache_factory, webhook, rdb):
    apache = apache_factory(sms_extra="    AssistantDedupeTTL 120")
    r, params = webhook(apache).sms()
    assert_twiml_ok(r)
    ttl = rdb.ttl("{asst}:seen:" + dict(params)["MessageSid"])
    assert 100 <= ttl <= 120, ttl


def test_custom_stream(apache_factory, webhook, rdb):
    apache = apache_factory(sms_extra="    AssistantStream {asst}:custom")
    r, params = webhook(apache).sms()
    assert_twiml_ok(r)
    assert stream_envelopes(rdb) == []
    [(_, env)] = stream_envelopes(rdb, "{asst}:custom")
    assert_envelope(env, params)


def test_rate_limit(apache_factory, webhook, rdb):
    apache = apache_factory(sms_extra="    AssistantRateLimit 3/60")
    apache.expect(CLIENT_ERR)
    tw = webhook(apache)
    sender = "+15005550100"
    sent = []
    for i in range(3):
        r, p = tw.sms(from_=sender, body="m%d" % i)
        assert_twiml_ok(r)
        sent.append(p)
    r, _ = tw.sms(from_=sender, body="too many")
    assert r.status_code == 429
    # another sender is not affected
    r, _ = tw.sms(from_="+15005550101")
    assert_twiml_ok(r)
    # Twilio retrying a message that was accepted still gets 200 (duplicate), not 429
    assert_twiml_ok(tw.post("/sms", sent[0]))
    assert len(stream_envelopes(rdb)) == 4
    ttl = rdb.ttl("{asst}:rl:" + sender)
    assert 0 < ttl <= 60, ttl
    m = get_metrics(apache)
    assert metric(m, "assistant_requests_total", handler="sms", outcome="rate_limited") == 1
    assert metric(m, "assistant_requests_total", handler="sms", outcome="accepted") == 4
    assert metric(m, "assistant_requests_total", handler="sms", outcome="duplicate") == 1


@pytest.mark.slow
def test_rate_limit_window_expires(apache_factory, webhook, rdb):
    apache = apache_factory(sms_extra="    AssistantRateLimit 1/1")
    apache.expect(CLIENT_ERR)
    tw = webhook(apache)
    sender = "+15005550102"
    assert_twiml_ok(tw.sms(from_=sender)[0])
    assert tw.sms(from_=sender)[0].status_code == 429
    time.sleep(2.1)
    assert_twiml_ok(tw.sms(from_=sender)[0])


def test_directives_inherited_from_server(apache_factory, webhook, rdb, redis_server, test_dir):
    """Per-location directives set at server level apply to every location."""
    tokfile = stack.write_file(test_dir + "/token", TOKEN)
    body = """
AssistantRedis {redis}
AssistantTwilioAuthTokenFile {tokfile}
AssistantTwilioAccountSid {account}
AssistantDedupeTTL 300
<Location /in>
    SetHandler assistant-sms
    AssistantPublicURL {public}/in
</Location>
""".format(redis=redis_server.addr, tokfile=tokfile, account=ACCOUNT, public=PUBLIC)
    apache = apache_factory(body=body)
    apache.expect(CLIENT_ERR)
    tw = webhook(apache)
    r, params = tw.sms(path="/in")
    assert_twiml_ok(r)
    ttl = rdb.ttl("{asst}:seen:" + dict(params)["MessageSid"])
    assert 250 <= ttl <= 300, ttl
    assert tw.sms(path="/in", account=OTHER_ACCOUNT)[0].status_code == 403
    assert len(stream_envelopes(rdb)) == 1


def test_other_urls_untouched(apache, twilio):
    """The module only handles its own locations."""
    r = requests.get(apache.url + "/index.html", timeout=10)
    assert r.status_code == 404
    r = requests.post(apache.url + "/elsewhere", data=b"a=b", timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code in (404, 405)


@pytest.mark.parametrize("sid", ["../../../tmp/evil", "SM/abc", "SM abc", "SM" + "a" * 70, "",
                                 "SM\u00e9"],
                         ids=["dotdot", "slash", "space", "too-long", "empty", "non-ascii"])
def test_hostile_message_sid(apache_factory, webhook, redis_server, rdb, test_dir, sid):
    """MessageSid names a spool file and a Redis key: anything odd is refused."""
    spool = stack.make_dir(test_dir + "/spool", 0o777)
    apache = apache_factory(sms_extra="    AssistantSpoolDir %s" % spool,
                            status_extra="    AssistantSpoolDir %s" % spool)
    apache.expect(CLIENT_ERR)
    tw = webhook(apache)
    assert tw.sms(sid=sid)[0].status_code == 400
    assert tw.status(sid, "sent")[0].status_code == 400
    redis_server.stop()
    assert tw.sms(sid=sid)[0].status_code == 400
    assert os.listdir(spool) == []


@pytest.mark.parametrize("status", ["de/livered", "../x", "", "a b"])
def test_hostile_message_status(apache_factory, webhook, redis_server, test_dir, status):
    spool = stack.make_dir(test_dir + "/spool", 0o777)
    apache = apache_factory(status_extra="    AssistantSpoolDir %s" % spool)
    apache.expect(CLIENT_ERR)
    redis_server.stop()
    r, _ = webhook(apache).status(stack.new_sid(), status)
    assert r.status_code == 400
    assert os.listdir(spool) == []


def test_webhook_locations_skip_the_filesystem(apache_factory, webhook, rdb, test_dir):
    """A webhook URL names no file: httpd does not walk the disk for it, so an
    .htaccess under DocumentRoot that denies every file there is not even
    read for /sms, /status or /metrics -- unless a <Location> hands the URL
    back to httpd's own handlers."""
    htdocs = os.path.join(test_dir, "httpd-fs", "htdocs")     # stack.Apache's layout
    apache = apache_factory(name="httpd-fs", start=False,
                            server_extra='<Directory "%s">\n    AllowOverride All\n</Directory>' % htdocs,
                            extra_locations="<Location /sms/plain>\n    SetHandler none\n</Location>")
    assert apache.root == os.path.dirname(htdocs)
    for d in ("", "sms", "status", "metrics"):
        stack.make_dir(os.path.join(htdocs, d), 0o755)
        stack.write_file(os.path.join(htdocs, d, ".htaccess"), "Require all denied\n")
    stack.write_file(os.path.join(htdocs, "index.html"), "hello\n")
    apache.expect(r"AH01630", r"ASST\d+")     # client denied by server configuration
    apache.start()
    tw = webhook(apache)

    r, params = tw.sms()
    assert_twiml_ok(r)
    sid = dict(params)["MessageSid"]
    assert [env["sid"] for _, env in stream_envelopes(rdb)] == [sid]
    assert_twiml_ok(tw.status(sid, "delivered")[0])
    assert requests.get(apache.url + "/metrics", timeout=10).status_code == 200
    # the same .htaccess is read for a file, and for a location given back to httpd
    assert requests.get(apache.url + "/index.html", timeout=10).status_code == 403
    assert tw.sms(path="/sms/plain")[0].status_code == 403
