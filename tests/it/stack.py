"""What the end-to-end tests use by name: the harness's servers and helpers
(tests/harness, re-exported so tests say stack.X) and the contract checks
that are the tests' own (TwiML, envelopes, stream entries).

Importing it puts tests/ on sys.path, so `import harness` works however
this module was reached (pytest, bench/soak).
"""

import itertools
import json
import os
import sys
import time

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from harness.apache import (MPMS, Apache, ApacheError, default_body, get_metrics,  # noqa: E402,F401
                            metric, metric_series, parse_metrics)
from harness.redis import RedisServer  # noqa: E402,F401
from harness.server import stop_all_and_scan_logs  # noqa: E402,F401
from harness.util import (APACHE2, IS_ROOT, REDIS_SERVER, REPO_ROOT, find_module,  # noqa: E402,F401
                          free_port, make_base_dir, make_dir, pid_alive, port_open, remove_tree,
                          run_user, wait_for, write_file)
from harness.webhook import (ACCOUNT, OTHER_ACCOUNT, OTHER_TOKEN, PUBLIC,  # noqa: E402,F401
                             SECONDARY_TOKEN, TOKEN, TWIML_EMPTY, Webhook, form_encode, new_sid,
                             sms_params, status_params, twilio_signature)

# The log lines a test that stops Redis provokes (declare with expect()).
REDIS_ERR = r"(?i)ASST\d+.*(redis|spool|connect|refused|timeout|timed out|i/o|reset|EOF)"

_phones = itertools.count(1)


def new_phone():
    """A fresh E.164 number per call (users are per test database anyway)."""
    return "+1555%07d" % (2000000 + next(_phones))


def now_ms():
    return int(time.time() * 1000)


# --------------------------------------------------------------------------
# Contract checks shared by the tests

ENVELOPE_KEYS = {"v", "sid", "account", "from", "to", "body", "num_media", "media",
                 "received_ms", "params"}

SMS_OUTCOMES = ("accepted", "duplicate", "bad_signature", "too_large", "bad_method",
                "bad_request", "rate_limited", "spooled", "redis_error")


def stream_envelopes(rdb, stream="{asst}:in"):
    """[(entry id, envelope dict)] of every entry in stream, oldest first."""
    out = []
    for eid, fields in rdb.xrange(stream):
        assert set(fields) == {"env"}, "stream entry %s has fields %s" % (eid, sorted(fields))
        out.append((eid, json.loads(fields["env"])))
    return out


def assert_twiml_ok(r):
    assert r.status_code == 200, "status %d, body %r" % (r.status_code, r.text[:300])
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "text/xml", "Content-Type %r" % ctype
    assert r.content.rstrip(b"\r\n") == TWIML_EMPTY.encode(), "body %r" % r.content[:300]


def expected_params(params):
    """The envelope's "params" for these form pairs: repeats become arrays."""
    out = {}
    for k, v in params:
        if k in out:
            if isinstance(out[k], list):
                out[k].append(v)
            else:
                out[k] = [out[k], v]
        else:
            out[k] = v
    return out


def assert_envelope(env, params, before_ms=None, after_ms=None, stream_kind="sms"):
    """env (parsed JSON) is the v1 envelope of the form pairs params."""
    first = {}
    for k, v in params:
        first.setdefault(k, v)
    assert set(env) == ENVELOPE_KEYS, "envelope keys %s" % sorted(env)
    assert env["v"] == 1 and type(env["v"]) is int
    assert env["sid"] == first["MessageSid"]
    assert env["account"] == first["AccountSid"]
    if stream_kind == "sms":
        assert env["from"] == first["From"]
        assert env["to"] == first["To"]
        assert env["body"] == first.get("Body", "")
        n = int(first.get("NumMedia", "0"))
        assert env["num_media"] == n and type(env["num_media"]) is int
        assert env["media"] == [{"url": first["MediaUrl%d" % i],
                                 "type": first["MediaContentType%d" % i]} for i in range(n)]
    assert type(env["received_ms"]) is int
    if before_ms is not None:
        # same machine clock; allow a little rounding
        assert before_ms - 5 <= env["received_ms"] <= after_ms + 5, \
            (before_ms, env["received_ms"], after_ms)
    assert env["params"] == expected_params(params)
