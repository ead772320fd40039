"""Fixtures for the end-to-end tests: a private Redis and Apache with
mod_assistant (the servers are tests/harness's; this file only decides
their lifetimes).

Redis runs once per session and is FLUSHALLed before every test (a test that
stops it gets it restarted on the same port before the next test).  Apache is
started per test from a generated configuration; after the test it is
stopped and its error log scanned (harness.apache: Apache.bad_log_lines):
crashes ("Segmentation fault", "exit signal", AH00052, sanitizer reports) and
:emerg]/:crit]/:alert] lines always fail the test; ":error]" lines and
[core:warn]/[core:error] lines fail it unless the test declared them with
apache.expect(regex).  ([core:notice] start-up lines are normal.)

Fixtures: base_dir, test_dir, redis_server (session Redis, flushed, with
stop()/start()), rdb (redis-py client), redis_factory (extra Redis servers),
mpm (parametrize it), apache_factory (make(**kw) -> started Apache), apache
(standard site), twilio / webhook (signed posts), signer (python-twilio).
"""

import os
import re

import pytest

import stack  # first: puts tests/ on sys.path for harness
from stack import Apache, RedisServer, Webhook, TOKEN, ACCOUNT, PUBLIC, default_body


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    module = stack.find_module()
    reason = None
    if os.environ.get("ASST_MODULE") and not os.path.isfile(module):
        raise pytest.UsageError("ASST_MODULE=%s does not exist" % module)
    if not module:
        reason = ("mod_assistant.so not found: set ASST_MODULE or build into build*/ "
                  "(searched under %s)" % stack.REPO_ROOT)
    for binary in (stack.APACHE2, stack.REDIS_SERVER):
        if not os.access(binary, os.X_OK):
            reason = "%s not executable" % binary
    if reason:
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def module_path():
    return stack.find_module()


@pytest.fixture(scope="session")
def base_dir():
    d = stack.make_base_dir()
    yield d
    if not os.environ.get("ASST_KEEP_TMP"):
        stack.remove_tree(d)


_counter = [0]


@pytest.fixture
def test_dir(base_dir, request):
    """A per-test directory (0755) under the session's temp dir."""
    _counter[0] += 1
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80]
    return stack.make_dir(os.path.join(base_dir, "%03d-%s" % (_counter[0], name)), 0o755)


@pytest.fixture(scope="session")
def _redis_session(base_dir):
    r = RedisServer(base_dir, "redis-session").start()
    yield r
    r.stop()


@pytest.fixture
def redis_server(_redis_session):
    """The session's Redis, running and empty.  Tests may stop()/start() it."""
    if not _redis_session.running:
        _redis_session.start()
    _redis_session.client().flushall()
    yield _redis_session
    if not _redis_session.running:
        _redis_session.start()


@pytest.fixture
def rdb(redis_server):
    c = redis_server.client()
    yield c
    c.close()


@pytest.fixture
def redis_factory(base_dir):
    """Extra private Redis servers (e.g. with requirepass), stopped after the test."""
    servers = []

    def make(**kw):
        kw.setdefault("name", "redis-%d-%d" % (os.getpid(), len(servers) + _counter[0] * 100))
        r = RedisServer(base_dir, **kw).start()
        servers.append(r)
        return r

    yield make
    for r in servers:
        r.stop()


@pytest.fixture
def mpm():
    """Overridden by @pytest.mark.parametrize("mpm", stack.MPMS)."""
    return os.environ.get("ASST_MPM", "event")


@pytest.fixture
def apache_factory(test_dir, module_path, redis_server, mpm, request):
    """make(body=None, mpm=<fixture>, keepalive=True, loglevel=..., start=True, **site)

    body=None builds the standard site (default_body(**site)) pointing at the
    session Redis.  Every instance is stopped after the test and its error
    log checked."""
    made = []

    def make(body=None, mpm=mpm, keepalive=True, loglevel="warn assistant:info",
             start=True, name=None, **site):
        if body is None:
            site.setdefault("redis_addr", redis_server.addr)
            body = default_body(**site)
        a = Apache(test_dir, module_path, name=name or "httpd%d" % len(made), mpm=mpm,
                   body=body, keepalive=keepalive, loglevel=loglevel)
        made.append(a)
        if start:
            a.start()
        return a

    yield make

    errors = stack.stop_all_and_scan_logs(made)
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def apache(apache_factory):
    """The standard site under the parametrized MPM, started."""
    return apache_factory()


@pytest.fixture
def twilio(apache):
    return Webhook(apache, TOKEN, PUBLIC, ACCOUNT)


@pytest.fixture
def webhook():
    """make(apache) -> Webhook signing with the default token for PUBLIC."""
    def make(apache, token=TOKEN, public=PUBLIC, account=ACCOUNT):
        return Webhook(apache, token, public, account)
    return make


@pytest.fixture
def signer():
    """signer(url, params, token=TOKEN) -> X-Twilio-Signature from python-twilio."""
    def sign(url, params, token=TOKEN):
        return stack.twilio_signature(token, url, params)
    return sign
from fixtures_pg import *  # noqa: F401,F403
from fixtures_worker import *  # noqa: F401,F403
from fixtures_path import *  # noqa: F401,F403
