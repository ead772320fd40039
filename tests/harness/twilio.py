"""The fake Twilio REST API (tests/fakes/fake_twilio.py) as a server on a
free port, signing its status callbacks with the stack's auth token (so
Apache's /status accepts them), and its control API.  fast=True: its
--fast mode for benchmarks (creates only, no status callbacks)."""

import json
import os

from .fake import FakeServer
from .util import PYTHON, REPO_ROOT
from .webhook import ACCOUNT, TOKEN

FAKE_TWILIO = os.path.join(REPO_ROOT, "tests", "fakes", "fake_twilio.py")


class FakeTwilio(FakeServer):
    """fake_twilio.py --port 0: the port is the one it prints ("PORT n")."""
    name, log_name, pid_name = "fake-twilio", "fake_twilio.log", "fake_twilio.pid"

    def __init__(self, base_dir, account=ACCOUNT, token=TOKEN, callback_delay_ms=50,
                 status_callbacks=True, name=None, fast=False):
        if fast and status_callbacks:
            raise ValueError("the fast fake Twilio posts no status callbacks")
        super().__init__(base_dir, name)
        self.account = account
        self.token = token
        self.callback_delay_ms = callback_delay_ms
        self.status_callbacks = status_callbacks
        self.fast = fast

    def argv(self):
        argv = [PYTHON, FAKE_TWILIO, "--port", "0", "--account", self.account,
                "--token", self.token, "--callback-delay-ms", str(self.callback_delay_ms)]
        return argv + (["--status-callbacks"] if self.status_callbacks else []) + \
            (["--fast"] if self.fast else [])

    # ---- control API ----
    def _get(self, path, session=None):
        import requests
        r = (session or requests).get(self.url + path, timeout=10)
        r.raise_for_status()
        return r.json()

    def _post(self, path, obj=None):
        import requests
        r = requests.post(self.url + path, data=json.dumps(obj or {}),
                          headers={"Content-Type": "application/json"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def requests(self, session=None, method="POST"):
        """Every POST to Messages.json, oldest first (failed ones included);
        method="GET": the GET Messages.json lists instead, None: both."""
        return self._get("/_fake/requests" + ("?method=" + method if method else ""), session)

    def sent(self, to=None, body=None):
        """The POSTs the fake accepted (HTTP 201), optionally to one number
        or with one body, oldest first."""
        return [r for r in self.requests() if r["status"] == 201
                and (to is None or r["form"].get("To") == to)
                and (body is None or r["form"].get("Body") == body)]

    def count(self):
        """{"requests": the POSTs to Messages.json, "sent": the 201s among
        them}: cheaper to poll than requests()."""
        return self._get("/_fake/count")

    def faults(self, faults=None):
        """The faults in force; with a dict, replaces them first."""
        if faults is not None:
            return self._post("/_fake/faults", faults)
        return self._get("/_fake/faults")

    def reset(self):
        return self._post("/_fake/reset")

    def hold(self, count=1, ms=2000):
        """The next `count` sends the fake accepts are answered `ms` later."""
        return self._post("/_fake/hold", {"count": count, "ms": ms})

    def inflight(self, session=None):
        """The sends being answered right now: [{peer, since, to, status, sid}]."""
        return self._get("/_fake/inflight", session)
