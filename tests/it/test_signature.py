"""X-Twilio-Signature: Twilio's exact scheme, checked against python-twilio.

Every signature here comes from twilio.request_validator.RequestValidator."""

import re

import pytest

import stack
from stack import (ACCOUNT, OTHER_TOKEN, PUBLIC, SECONDARY_TOKEN, TOKEN, assert_twiml_ok,
                   sms_params, stream_envelopes, twilio_signature)

CLIENT_ERR = r"ASST\d+"
HOST = "assistant.example.com"


@pytest.mark.parametrize("public,signed,ok", [
    ("https://%s/sms" % HOST, "https://%s:443/sms" % HOST, True),
    ("https://%s:443/sms" % HOST, "https://%s/sms" % HOST, True),
    ("https://%s:443/sms" % HOST, "https://%s:443/sms" % HOST, True),
    ("http://%s/sms" % HOST, "http://%s:80/sms" % HOST, True),
    ("http://%s:80/sms" % HOST, "http://%s/sms" % HOST, True),
    ("https://%s:8443/sms" % HOST, "https://%s:8443/sms" % HOST, True),
    ("https://%s/sms" % HOST, "https://%s:8443/sms" % HOST, False),
    ("https://%s/sms" % HOST, "http://%s/sms" % HOST, False),
    ("https://%s/sms" % HOST, "https://%s/sms/" % HOST, False),
    ("https://%s/sms" % HOST, "https://other.example.com/sms", False),
], ids=["add-443", "drop-443", "both-443", "add-80", "drop-80", "custom-port",
        "wrong-port", "wrong-scheme", "wrong-path", "wrong-host"])
def test_public_url_port_variants(apache_factory, webhook, rdb, public, signed, ok):
    apache = apache_factory(extra_locations="""
<Location /p>
    SetHandler assistant-sms
    AssistantTwilioAuthToken {tok}
    AssistantTwilioAccountSid {acc}
    AssistantPublicURL {public}
</Location>""".format(tok=TOKEN, acc=ACCOUNT, public=public))
    apache.expect(CLIENT_ERR)
    r, _ = webhook(apache).sms(path="/p", sign_url=signed)
    if ok:
        assert_twiml_ok(r)
        assert len(stream_envelopes(rdb)) == 1
    else:
        assert r.status_code == 403
        assert stream_envelopes(rdb) == []


def test_query_string_is_signed(apache, twilio, rdb):
    params = sms_params(account=ACCOUNT)
    r = twilio.post("/sms?tenant=alpha&x=1%202", params,
                    sign_url=PUBLIC + "/sms?tenant=alpha&x=1%202")
    assert_twiml_ok(r)
    apache.expect(CLIENT_ERR)
    # the same request signed without the query string is refused
    params = sms_params(account=ACCOUNT)
    r = twilio.post("/sms?tenant=alpha", params, sign_url=PUBLIC + "/sms")
    assert r.status_code == 403
    assert len(stream_envelopes(rdb)) == 1


@pytest.mark.parametrize("body,space", [
    ("Grüße aus Köln 🍺 — ok?", "+"),
    ("1 + 1 = 2 & 2+2=4", "+"),
    ("1 + 1 = 2 & 2+2=4", "%20"),
    ("a%20b is not a space; %41 neither", "+"),
    ("&&==&=", "%20"),
    ("trailing space ", "%20"),
    ("", "+"),
    ("日本語のテキスト", "%20"),
], ids=["unicode", "plus-amp", "plus-amp-pct20", "literal-percent", "ampersands",
        "trailing-space", "empty", "cjk"])
def test_signed_values(apache, twilio, rdb, body, space):
    params = sms_params(account=ACCOUNT, body=body,
                        extra=[("ProfileName", "Zoë & co"), ("Weird Name+", "v a l")])
    r = twilio.post("/sms", params, space=space)
    assert_twiml_ok(r)
    [(_, env)] = stream_envelopes(rdb)
    assert env["body"] == body
    assert env["params"]["ProfileName"] == "Zoë & co"
    assert env["params"]["Weird Name+"] == "v a l"


def test_repeated_field_signature(apache, twilio, rdb):
    """Repeated names: Twilio sorts by name, then by value."""
    params = sms_params(account=ACCOUNT, extra=[("Tag", "zeta"), ("Tag", "alpha")])
    r = twilio.post("/sms", params)
    assert_twiml_ok(r)
    [(_, env)] = stream_envelopes(rdb)
    assert env["params"]["Tag"] == ["zeta", "alpha"]


def _rotation_site(test_dir, trailing=""):
    """apache_factory kwargs: /sms takes its tokens from files."""
    prim = stack.write_file(test_dir + "/primary.token", TOKEN + trailing, 0o600)
    sec = stack.write_file(test_dir + "/secondary.token", SECONDARY_TOKEN + trailing, 0o600)
    return dict(token=None,
                sms_extra="    AssistantTwilioAuthTokenFile %s\n"
                          "    AssistantTwilioSecondaryAuthTokenFile %s" % (prim, sec),
                status_extra="    AssistantTwilioAuthToken %s" % TOKEN)


def test_token_rotation(apache_factory, webhook, rdb, test_dir):
    apache = apache_factory(**_rotation_site(test_dir))
    apache.expect(CLIENT_ERR)
    assert_twiml_ok(webhook(apache, token=TOKEN).sms()[0])
    assert_twiml_ok(webhook(apache, token=SECONDARY_TOKEN).sms()[0])
    assert webhook(apache, token=OTHER_TOKEN).sms()[0].status_code == 403
    assert len(stream_envelopes(rdb)) == 2


def test_token_file_trailing_newline(apache_factory, webhook, rdb, test_dir):
    """Token files written with `echo token > file` end in a newline."""
    apache = apache_factory(**_rotation_site(test_dir, trailing="\n"))
    assert_twiml_ok(webhook(apache, token=TOKEN).sms()[0])
    assert_twiml_ok(webhook(apache, token=SECONDARY_TOKEN).sms()[0])


@pytest.mark.parametrize("loglevel", ["warn assistant:info", "warn assistant:trace8"])
def test_403_logged_without_secrets(apache_factory, webhook, rdb, loglevel):
    apache = apache_factory(loglevel=loglevel)
    apache.expect(CLIENT_ERR)
    tw = webhook(apache)
    params = sms_params(account=ACCOUNT)
    good = {twilio_signature(TOKEN, u, params)
            for u in (PUBLIC + "/sms", "https://assistant.example.com:443/sms")}
    start = apache.log_size()
    r = tw.post("/sms", params, token=OTHER_TOKEN)
    assert r.status_code == 403
    lines = apache.log_since(start)
    ids = [ln for ln in lines if re.search(r"ASST\d{5}", ln)]
    text = "\n".join(lines)
    assert len([ln for ln in ids if "signature" in ln.lower()]) == 1, lines
    if "trace" not in loglevel:
        assert len(ids) == 1, ids
    assert TOKEN not in text
    for sig in good:
        assert sig not in text, "expected signature logged"
    # nor anywhere else in the log (startup included)
    whole = apache.log_text()
    assert TOKEN not in whole and SECONDARY_TOKEN not in whole
    assert all(sig not in whole for sig in good)

    # a missing header gets a line too
    start = apache.log_size()
    assert tw.post("/sms", params, sign=False).status_code == 403
    lines = [ln for ln in apache.log_since(start) if re.search(r"ASST\d{5}", ln)]
    assert lines and "signature" in " ".join(lines).lower(), lines
