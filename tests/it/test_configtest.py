"""`apache2 -t` refuses configurations the module cannot run with."""

import os

import pytest

import stack
from stack import ACCOUNT, PUBLIC, TOKEN, default_body


def _site(redis_addr, token_line="AssistantTwilioAuthToken %s" % TOKEN,
          public_line="AssistantPublicURL %s/sms" % PUBLIC, server_extra="", loc_extra=""):
    return """
AssistantRedis {redis}
{server_extra}
<Location /sms>
    SetHandler assistant-sms
    {token_line}
    AssistantTwilioAccountSid {acc}
    {public_line}
    {loc_extra}
</Location>
""".format(redis=redis_addr, server_extra=server_extra, token_line=token_line, acc=ACCOUNT,
           public_line=public_line, loc_extra=loc_extra)


def _configtest(apache_factory, body):
    a = apache_factory(body=body, start=False)
    return a.configtest()


def test_good_config(apache_factory, redis_server, test_dir):
    tok = stack.write_file(os.path.join(test_dir, "tok"), TOKEN, 0o600)
    tok2 = stack.write_file(os.path.join(test_dir, "tok2"), TOKEN[::-1], 0o600)
    pw = stack.write_file(os.path.join(test_dir, "pw"), "redis-pass", 0o600)
    spool = stack.make_dir(os.path.join(test_dir, "spool"), 0o777)
    body = _site(redis_server.addr, token_line="AssistantTwilioAuthTokenFile %s" % tok,
                 server_extra="AssistantRedisPasswordFile %s\nAssistantRedisTimeout 250" % pw,
                 loc_extra="""AssistantTwilioSecondaryAuthTokenFile {tok2}
    AssistantStream {{asst}}:in
    AssistantDedupeTTL 3600
    AssistantMaxBody 32768
    AssistantSpoolDir {spool}
    AssistantRateLimit 10/60""".format(tok2=tok2, spool=spool))
    rc, out = _configtest(apache_factory, body)
    assert rc == 0 and "Syntax OK" in out, out


def test_good_config_standard_site(apache_factory, redis_server):
    rc, out = _configtest(apache_factory, default_body(redis_addr=redis_server.addr,
                                                       sms_extra="AssistantRateLimit 0"))
    assert rc == 0 and "Syntax OK" in out, out


def test_good_config_unix_socket(apache_factory, redis_server):
    rc, out = _configtest(apache_factory, _site("unix:" + redis_server.sock))
    assert rc == 0 and "Syntax OK" in out, out


def test_good_config_bracketed_ipv6(apache_factory):
    rc, out = _configtest(apache_factory, _site("[::1]:6379"))
    assert rc == 0 and "Syntax OK" in out, out


BAD = {
    "no-token": (dict(token_line=""), ["AssistantTwilioAuthToken"]),
    "no-public-url": (dict(public_line=""), ["AssistantPublicURL"]),
    "token-file-missing": (dict(token_line="AssistantTwilioAuthTokenFile {dir}/nope.token"),
                           ["{dir}/nope.token"]),
    "token-file-is-dir": (dict(token_line="AssistantTwilioAuthTokenFile {dir}"), ["{dir}"]),
    "secondary-token-file-missing": (
        dict(loc_extra="AssistantTwilioSecondaryAuthTokenFile {dir}/nope2.token"),
        ["{dir}/nope2.token"]),
    "redis-password-file-missing": (
        dict(server_extra="AssistantRedisPasswordFile {dir}/nope.pw"), ["{dir}/nope.pw"]),
    "rate-limit-zero-window": (dict(loc_extra="AssistantRateLimit 5/0"), ["AssistantRateLimit"]),
    "rate-limit-abc": (dict(loc_extra="AssistantRateLimit abc"), ["AssistantRateLimit"]),
    "rate-limit-no-window": (dict(loc_extra="AssistantRateLimit 5/"), ["AssistantRateLimit"]),
    "rate-limit-negative": (dict(loc_extra="AssistantRateLimit -1/60"), ["AssistantRateLimit"]),
    "rate-limit-junk-window": (dict(loc_extra="AssistantRateLimit 5/6x"), ["AssistantRateLimit"]),
    "redis-bare-ipv6": (dict(server_extra="AssistantRedis ::1"),
                        ["Syntax error on line", "AssistantRedis: '::1': IPv6 addresses",
                         "need brackets: [::1]:6379"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config(apache_factory, redis_server, test_dir, case):
    kw, needles = BAD[case]
    kw = {k: v.format(dir=test_dir) for k, v in kw.items()}
    rc, out = _configtest(apache_factory, _site(redis_server.addr, **kw))
    assert rc != 0, "configtest accepted it:\n" + out
    assert "Syntax OK" not in out
    for n in needles:
        assert n.format(dir=test_dir) in out, "%r not named in:\n%s" % (n, out)


def test_bad_config_unreadable_token_file(apache_factory, redis_server, test_dir):
    if stack.IS_ROOT:
        pytest.skip("root reads a mode 000 file")
    tok = stack.write_file(os.path.join(test_dir, "secret.token"), TOKEN, 0o000)
    rc, out = _configtest(apache_factory, _site(
        redis_server.addr, token_line="AssistantTwilioAuthTokenFile %s" % tok))
    assert rc != 0 and tok in out, out


def test_bad_config_status_without_token(apache_factory, redis_server):
    body = """
AssistantRedis %s
<Location /status>
    SetHandler assistant-status
    AssistantPublicURL %s/status
</Location>
""" % (redis_server.addr, PUBLIC)
    rc, out = _configtest(apache_factory, body)
    assert rc != 0 and "AssistantTwilioAuthToken" in out, out


def test_empty_token_file_refused(apache_factory, redis_server, test_dir):
    """An empty token would be an empty HMAC key: anyone could sign."""
    tok = stack.write_file(os.path.join(test_dir, "empty.token"), "\n", 0o600)
    rc, out = _configtest(apache_factory, _site(
        redis_server.addr, token_line="AssistantTwilioAuthTokenFile %s" % tok))
    assert rc != 0 and tok in out, out


def test_start_refused_too(apache_factory, redis_server):
    """`-k start` with a bad config fails loudly instead of serving."""
    a = apache_factory(body=_site(redis_server.addr, token_line=""), start=False)
    with pytest.raises(stack.ApacheError) as ei:
        a.start()
    assert "AssistantTwilioAuthToken" in str(ei.value)
    assert not stack.port_open(a.port)


def test_token_not_echoed_in_configtest(apache_factory, redis_server):
    """Even a config error near the token does not print it."""
    body = _site(redis_server.addr, public_line="")
    rc, out = _configtest(apache_factory, body)
    assert rc != 0
    assert TOKEN not in out
