"""The fake OpenAI-compatible chat completions API (tests/fakes/fake_llm.py)
as a server on a free port, and its control API.  What a script step is
and what the fake records: that file's doc."""

import importlib.util
import json
import os

from .fake import FakeServer
from .util import PYTHON, REPO_ROOT

FAKE_LLM = os.path.join(REPO_ROOT, "tests", "fakes", "fake_llm.py")
API_KEY = "sk-fake-llm-test-key"       # what the fixtures' fake requires
MODEL = "fake-model"                   # what its /v1/models lists

_spec = importlib.util.spec_from_file_location("fake_llm", FAKE_LLM)
_fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fake)
# usage as the fake computes it: prompt_tokens(request body),
# completion_tokens(the answer's message)
prompt_tokens = _fake.prompt_tokens
completion_tokens = _fake.completion_tokens
CHAT_PATHS = _fake.CHAT_PATHS


class FakeLLM(FakeServer):
    """fake_llm.py --port 0: the port is the one it prints ("PORT n").
    api_key=None: no Authorization required."""
    name, log_name, pid_name = "fake-llm", "fake_llm.log", "fake_llm.pid"

    def __init__(self, base_dir, api_key=API_KEY, name=None):
        super().__init__(base_dir, name)
        self.api_key = api_key

    def argv(self):
        argv = [PYTHON, FAKE_LLM, "--port", "0", "--pidfile", self.pid_file]
        return argv + (["--api-key", self.api_key] if self.api_key else [])

    @property
    def root(self):
        """http://127.0.0.1:PORT: where the control API (/_fake/) is."""
        return "http://127.0.0.1:%d" % self.port

    @property
    def url(self):
        """The base URL a client is configured with (LLMBaseURL): .../v1."""
        return self.root + "/v1"

    # ---- control API ----
    def _get(self, path, session=None):
        import requests
        r = (session or requests).get(self.root + path, timeout=10)
        r.raise_for_status()
        return r.json()

    def _post(self, path, obj=None):
        import requests
        r = requests.post(self.root + path, data=json.dumps({} if obj is None else obj),
                          headers={"Content-Type": "application/json"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def script(self, steps):
        """Replaces the queue of steps (one consumed per chat request)."""
        return self._post("/_fake/script", list(steps))

    def append(self, steps):
        """Adds steps (a list, or one step) after those queued."""
        return self._post("/_fake/append", [steps] if isinstance(steps, dict) else list(steps))

    def pending(self):
        """The steps not consumed yet."""
        return self._get("/_fake/script")

    def requests(self, session=None):
        """Every request to the API (not /_fake/), oldest first, as recorded
        before it was answered (fake_llm.py's doc)."""
        return self._get("/_fake/requests", session)

    def completions(self):
        """The JSON bodies of the recorded chat completions requests (any
        answer, refused ones included), oldest first."""
        return [r["body"] for r in self.requests()
                if r["method"] == "POST" and r["path"].split("?")[0] in CHAT_PATHS
                and isinstance(r["body"], dict)]

    def faults(self, faults=None):
        """The faults in force ({"delay_ms": N}); with a dict, replaces them first."""
        if faults is not None:
            return self._post("/_fake/faults", faults)
        return self._get("/_fake/faults")

    def reset(self):
        """Forgets the script, requests, faults and a set_api_key()."""
        return self._post("/_fake/reset")

    def set_api_key(self, key):
        """Requires this key from now on (None: none) until reset()."""
        return self._post("/_fake/auth", {"api_key": key})

    def inflight(self, session=None):
        """The chat requests being answered right now, oldest first:
        [{n, since, path, model, peer, step}]."""
        return self._get("/_fake/inflight", session)
