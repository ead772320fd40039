"""How the module reaches Redis: password, unix socket."""

import os

import pytest

import stack
from stack import assert_envelope, assert_twiml_ok, stream_envelopes

REDIS_ERR = r"(?i)ASST\d+.*(redis|auth|password|connect|refused|denied|WRONGPASS|NOAUTH)"
PASSWORD = "r3dis-S3cret-pw-7c1d9e"


@pytest.mark.parametrize("trailing", ["", "\n"], ids=["plain", "trailing-newline"])
def test_redis_password(apache_factory, webhook, redis_factory, test_dir, trailing):
    r = redis_factory(password=PASSWORD)
    pw = stack.write_file(os.path.join(test_dir, "redis.pw"), PASSWORD + trailing, 0o600)
    apache = apache_factory(redis_addr=r.addr, server_extra="AssistantRedisPasswordFile %s" % pw,
                            loglevel="warn assistant:debug")
    resp, params = webhook(apache).sms()
    assert_twiml_ok(resp)
    [(_, env)] = stream_envelopes(r.client())
    assert_envelope(env, params)
    assert PASSWORD not in apache.log_text()


def test_redis_wrong_password(apache_factory, webhook, redis_factory, test_dir):
    r = redis_factory(password=PASSWORD)
    wrong = "not-the-" + PASSWORD
    pw = stack.write_file(os.path.join(test_dir, "redis.pw"), wrong, 0o600)
    apache = apache_factory(redis_addr=r.addr, server_extra="AssistantRedisPasswordFile %s" % pw,
                            loglevel="warn assistant:debug")
    apache.expect(REDIS_ERR)
    resp, _ = webhook(apache).sms()
    assert resp.status_code == 503
    assert stream_envelopes(r.client()) == []
    log = apache.log_text()
    assert wrong not in log and PASSWORD not in log
    assert "ASST" in log, "the failure is not logged"


def test_redis_no_password_configured(apache_factory, webhook, redis_factory):
    r = redis_factory(password=PASSWORD)
    apache = apache_factory(redis_addr=r.addr)
    apache.expect(REDIS_ERR)
    resp, _ = webhook(apache).sms()
    assert resp.status_code == 503


def test_redis_unix_socket(apache_factory, webhook, redis_server, rdb):
    apache = apache_factory(redis_addr="unix:" + redis_server.sock)
    resp, params = webhook(apache).sms()
    assert_twiml_ok(resp)
    [(_, env)] = stream_envelopes(redis_server.client(unix=True))
    assert_envelope(env, params)
    resp, _ = webhook(apache).status(stack.new_sid(), "sent")
    assert resp.status_code == 200
    assert len(stream_envelopes(rdb, "{asst}:status")) == 1


def test_redis_unix_socket_with_password(apache_factory, webhook, redis_factory, test_dir):
    r = redis_factory(password=PASSWORD)
    pw = stack.write_file(os.path.join(test_dir, "redis.pw"), PASSWORD, 0o600)
    apache = apache_factory(redis_addr="unix:" + r.sock,
                            server_extra="AssistantRedisPasswordFile %s" % pw)
    resp, _ = webhook(apache).sms()
    assert_twiml_ok(resp)
    assert len(stream_envelopes(r.client(unix=True))) == 1


def test_redis_script_flushed(apache_factory, webhook, redis_server, rdb):
    """SCRIPT FLUSH (or a failover) makes EVALSHA fail with NOSCRIPT: still accepted."""
    apache = apache_factory(keepalive=False)
    tw = webhook(apache)
    for _ in range(3):
        assert_twiml_ok(tw.sms()[0])
    rdb.script_flush()
    for _ in range(3):
        assert_twiml_ok(tw.sms()[0])
    assert len(stream_envelopes(rdb)) == 6
