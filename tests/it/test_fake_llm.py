"""The fake OpenAI-compatible chat completions API (tests/fakes/fake_llm.py)
that the LLM planner's tests script: driven directly with python3-requests,
its answers parsed as plain JSON and checked for the fields an OpenAI
client reads (python3-openai is not packaged).

Fixture: fake_llm (fixtures_path.py); nothing else of the stack runs."""

import json
import math
import threading
import time

import pytest
import requests

from harness.llm import API_KEY, MODEL, completion_tokens, prompt_tokens

MESSAGES = [{"role": "system", "content": "You are an SMS assistant."},
            {"role": "user", "content": "note: buy milk"}]
TOOLS = [{"type": "function", "function": {
    "name": "notes", "description": "Keeps notes",
    "parameters": {"type": "object", "properties": {"op": {"type": "string"},
                                                    "text": {"type": "string"}}}}}]


@pytest.fixture
def api(fake_llm):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + API_KEY
    yield s
    s.close()


def chat(api, fake, status=200, path="/chat/completions", timeout=10, **body):
    body.setdefault("model", "gpt-test")
    body.setdefault("messages", MESSAGES)
    r = api.post(fake.url + path, data=json.dumps(body),
                 headers={"Content-Type": "application/json"}, timeout=timeout)
    assert r.status_code == status, r.text
    return r


def completion(r):
    """The fields an OpenAI client reads from a chat completion; asserts the shape."""
    assert r.headers["Content-Type"].startswith("application/json")
    c = json.loads(r.text)
    assert c["object"] == "chat.completion"
    assert isinstance(c["id"], str) and c["id"]
    assert isinstance(c["created"], int) and abs(c["created"] - time.time()) < 60
    assert len(c["choices"]) == 1
    choice = c["choices"][0]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    u = c["usage"]
    assert all(isinstance(u[k], int) for k in ("prompt_tokens", "completion_tokens",
                                               "total_tokens"))
    return c


def openai_error(r, kind):
    e = json.loads(r.text)["error"]
    assert isinstance(e["message"], str) and e["message"]
    assert e["type"] == kind
    return e


# --------------------------------------------------------------------------

def test_default_answer_and_both_paths(fake_llm, api):
    assert fake_llm.url.endswith("/v1")
    root = fake_llm.url[:-len("/v1")]
    for url in (fake_llm.url + "/chat/completions", root + "/chat/completions"):
        r = api.post(url, json={"model": "m1", "messages": MESSAGES}, timeout=10)
        assert r.status_code == 200, r.text
        c = completion(r)
        assert c["model"] == "m1"
        msg = c["choices"][0]["message"]
        assert msg["content"] == "OK" and "tool_calls" not in msg
        assert c["choices"][0]["finish_reason"] == "stop"
    reqs = fake_llm.requests()
    assert [q["path"] for q in reqs] == ["/v1/chat/completions", "/chat/completions"]
    assert [q["status"] for q in reqs] == [200, 200]


def test_content_steps_in_order(fake_llm, api):
    fake_llm.script([{"content": "first"}, {"content": "second"}])
    fake_llm.append([{"content": "third"}])
    fake_llm.append({"content": "fourth"})
    assert len(fake_llm.pending()) == 4
    got = [completion(chat(api, fake_llm))["choices"][0]["message"]["content"]
           for _ in range(5)]
    assert got == ["first", "second", "third", "fourth", "OK"]
    ids = [completion(chat(api, fake_llm))["id"] for _ in range(2)]
    assert ids[0] != ids[1]
    # script() replaces what is queued
    fake_llm.script([{"content": "a"}, {"content": "b"}])
    fake_llm.script([{"content": "c"}])
    assert completion(chat(api, fake_llm))["choices"][0]["message"]["content"] == "c"
    assert completion(chat(api, fake_llm))["choices"][0]["message"]["content"] == "OK"


def test_tool_calls(fake_llm, api):
    fake_llm.script([
        {"tool_calls": [{"name": "notes", "arguments": {"op": "add", "text": "buy milk"}},
                        {"name": "memory", "arguments": {"op": "list"}}]},
        {"tool_calls": [{"name": "notes", "arguments": '{"op": "add", "text": '}],
         "content": "thinking"},
        {"tool_calls": [{"name": "notes", "arguments": {}}]},
    ])
    c = completion(chat(api, fake_llm, tools=TOOLS, tool_choice="auto"))
    choice = c["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    msg = choice["message"]
    assert msg["content"] is None
    calls = msg["tool_calls"]
    assert [k["type"] for k in calls] == ["function", "function"]
    assert [k["function"]["name"] for k in calls] == ["notes", "memory"]
    assert all(isinstance(k["function"]["arguments"], str) for k in calls)
    assert json.loads(calls[0]["function"]["arguments"]) == {"op": "add", "text": "buy milk"}
    assert json.loads(calls[1]["function"]["arguments"]) == {"op": "list"}

    # a string goes verbatim: malformed JSON on purpose
    c2 = completion(chat(api, fake_llm))
    msg2 = c2["choices"][0]["message"]
    assert msg2["content"] == "thinking"
    assert msg2["tool_calls"][0]["function"]["arguments"] == '{"op": "add", "text": '
    with pytest.raises(ValueError):
        json.loads(msg2["tool_calls"][0]["function"]["arguments"])

    c3 = completion(chat(api, fake_llm))
    assert c3["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{}"

    # ids: call_<n>, unique and increasing for the server's life (not reset)
    ids = [k["id"] for k in calls + msg2["tool_calls"] + c3["choices"][0]["message"]["tool_calls"]]
    nums = [int(i[len("call_"):]) for i in ids]
    assert all(i.startswith("call_") for i in ids)
    assert nums == sorted(set(nums)) and nums == list(range(nums[0], nums[0] + 4))
    fake_llm.reset()
    fake_llm.script([{"tool_calls": [{"name": "notes", "arguments": {}}]}])
    c4 = completion(chat(api, fake_llm))
    assert c4["choices"][0]["message"]["tool_calls"][0]["id"] == "call_%d" % (nums[-1] + 1)


def test_error_steps(fake_llm, api):
    fake_llm.script([{"status": 500}, {"status": 503, "body": "overloaded, try later"},
                     {"status": 429, "retry_after": 1}, {"content": "fine"}])
    r = chat(api, fake_llm, status=500)
    openai_error(r, "server_error")
    assert "Retry-After" not in r.headers
    r = chat(api, fake_llm, status=503)
    assert openai_error(r, "server_error")["message"] == "overloaded, try later"
    r = chat(api, fake_llm, status=429)
    assert r.headers["Retry-After"] == "1"
    assert openai_error(r, "requests")["code"] == "rate_limit_exceeded"
    assert completion(chat(api, fake_llm))["choices"][0]["message"]["content"] == "fine"
    assert [q["status"] for q in fake_llm.requests()] == [500, 503, 429, 200]


def test_raw_and_close(fake_llm, api):
    fake_llm.script([{"raw": "not json at all", "status": 200},
                     {"raw": "<html>Bad gateway</html>", "status": 502,
                      "content_type": "text/html"},
                     {"close": True},
                     {"content": "after"}])
    r = chat(api, fake_llm)
    assert r.text == "not json at all"
    with pytest.raises(ValueError):
        json.loads(r.text)
    r = chat(api, fake_llm, status=502)
    assert r.text == "<html>Bad gateway</html>"
    assert r.headers["Content-Type"] == "text/html"
    with pytest.raises(requests.exceptions.ConnectionError):
        chat(api, fake_llm)
    assert completion(chat(api, fake_llm))["choices"][0]["message"]["content"] == "after"
    assert [q["status"] for q in fake_llm.requests()] == [200, 502, 0, 200]


def test_hang_then_answer_and_client_timeout(fake_llm, api):
    fake_llm.script([{"hang_ms": 600, "content": "late"},
                     {"hang_ms": 300, "status": 503},
                     {"hang_ms": 400}])
    t0 = time.monotonic()
    c = completion(chat(api, fake_llm))
    assert time.monotonic() - t0 >= 0.6
    assert c["choices"][0]["message"]["content"] == "late"
    t0 = time.monotonic()
    chat(api, fake_llm, status=503)
    assert time.monotonic() - t0 >= 0.3
    # the client gives up first (a timeout): the fake shrugs off the broken pipe
    with pytest.raises(requests.exceptions.ReadTimeout):
        chat(api, fake_llm, timeout=0.1)
    assert len(fake_llm.inflight()) == 1            # still "thinking"
    time.sleep(0.5)
    assert fake_llm.inflight() == []
    assert completion(chat(api, fake_llm))["choices"][0]["message"]["content"] == "OK"
    assert len(fake_llm.requests()) == 4


def test_auth(fake_llm):
    fake_llm.script([{"content": "secret"}])
    body = {"model": "m", "messages": MESSAGES}
    url = fake_llm.url + "/chat/completions"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY},
                    {"Authorization": "Basic " + API_KEY}):
        r = requests.post(url, json=body, headers=headers, timeout=10)
        assert r.status_code == 401, r.text
        assert openai_error(r, "invalid_request_error")["code"] == "invalid_api_key"
    r = requests.get(fake_llm.url + "/models", timeout=10)
    assert r.status_code == 401
    # refused requests consume no step, and are recorded with what they sent
    assert len(fake_llm.pending()) == 1
    reqs = fake_llm.requests()
    assert [q["status"] for q in reqs] == [401] * 5
    assert [q["authorization"] for q in reqs] == [None, "Bearer wrong", API_KEY,
                                                  "Basic " + API_KEY, None]
    r = requests.post(url, json=body, headers={"Authorization": "Bearer " + API_KEY},
                      timeout=10)
    assert completion(r)["choices"][0]["message"]["content"] == "secret"
    assert fake_llm.requests()[-1]["headers"]["Authorization"] == "Bearer " + API_KEY

    # a local server without a key (llama.cpp, Ollama): no header needed
    fake_llm.set_api_key(None)
    assert requests.post(url, json=body, timeout=10).status_code == 200
    fake_llm.set_api_key("other")
    assert requests.post(url, json=body, timeout=10).status_code == 401
    fake_llm.reset()                                 # back to the key it started with
    assert requests.post(url, json=body, timeout=10).status_code == 401
    assert requests.post(url, json=body, headers={"Authorization": "Bearer " + API_KEY},
                         timeout=10).status_code == 200


def test_bad_bodies_are_400(fake_llm, api):
    fake_llm.script([{"content": "kept"}])
    url = fake_llm.url + "/chat/completions"
    bad = ["not json", "[]", json.dumps({"messages": MESSAGES}),
           json.dumps({"model": "", "messages": MESSAGES}),
           json.dumps({"model": "m"}), json.dumps({"model": "m", "messages": []}),
           json.dumps({"model": "m", "messages": "hi"}),
           json.dumps({"model": "m", "messages": MESSAGES, "stream": True}), ""]
    for data in bad:
        r = api.post(url, data=data, headers={"Content-Type": "application/json"},
                     timeout=10)
        assert r.status_code == 400, (data, r.text)
        openai_error(r, "invalid_request_error")
    reqs = fake_llm.requests()
    assert [q["status"] for q in reqs] == [400] * len(bad)
    assert reqs[0]["body"] is None and reqs[0]["raw"] == "not json"
    assert reqs[2]["body"] == {"messages": MESSAGES}
    assert fake_llm.pending() == [{"content": "kept"}]
    assert completion(chat(api, fake_llm))["choices"][0]["message"]["content"] == "kept"
    # a base URL gone wrong is a 404 (recorded too)
    r = api.post(fake_llm.url + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES},
                 timeout=10)
    assert r.status_code == 404
    openai_error(r, "invalid_request_error")
    assert fake_llm.requests()[-1]["path"] == "/v1/v1/chat/completions"


def test_usage(fake_llm, api):
    answer = {"op": "add", "text": "buy milk"}
    fake_llm.script([{"content": "Noted: buy milk."},
                     {"tool_calls": [{"name": "notes", "arguments": answer},
                                     {"name": "notes", "arguments": "{bad"}]},
                     {"content": "x", "usage": {"prompt_tokens": 7, "completion_tokens": 3,
                                                "total_tokens": 10}}])
    c = completion(chat(api, fake_llm))
    p = math.ceil(len(json.dumps(MESSAGES)) / 4)
    assert c["usage"] == {"prompt_tokens": p, "completion_tokens": math.ceil(16 / 4),
                          "total_tokens": p + 4}
    c = completion(chat(api, fake_llm, tools=TOOLS))
    p = math.ceil(len(json.dumps(MESSAGES) + json.dumps(TOOLS)) / 4)
    cc = math.ceil(len(json.dumps(answer) + "{bad") / 4)
    assert c["usage"] == {"prompt_tokens": p, "completion_tokens": cc, "total_tokens": p + cc}
    # the harness's helpers say the same
    body = fake_llm.completions()[-1]
    assert prompt_tokens(body) == p
    assert completion_tokens(c["choices"][0]["message"]) == cc
    c = completion(chat(api, fake_llm))
    assert c["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def test_recording(fake_llm, api):
    fake_llm.script([{"content": "one"}, {"status": 500}, {"content": "three"}])
    sent = []
    for i in range(3):
        body = {"model": "m%d" % i, "messages": MESSAGES + [{"role": "user", "content": str(i)}],
                "tools": TOOLS, "tool_choice": "auto", "max_tokens": 400, "temperature": 0.2}
        sent.append(body)
        r = api.post(fake_llm.url + "/chat/completions", json=body,
                     headers={"X-Test": str(i)}, timeout=10)
        assert r.status_code == (500 if i == 1 else 200)
    api.get(fake_llm.url + "/models", timeout=10)
    reqs = fake_llm.requests()
    assert [q["n"] for q in reqs] == [1, 2, 3, 4]
    assert [q["method"] for q in reqs] == ["POST"] * 3 + ["GET"]
    assert [q["body"] for q in reqs[:3]] == sent
    assert [q["headers"]["X-Test"] for q in reqs[:3]] == ["0", "1", "2"]
    assert all(q["authorization"] == "Bearer " + API_KEY for q in reqs)
    assert [q["step"] for q in reqs[:3]] == [{"content": "one"}, {"status": 500},
                                              {"content": "three"}]
    assert reqs[0]["time"] <= reqs[1]["time"] <= reqs[2]["time"] <= reqs[3]["time"]
    assert fake_llm.completions() == sent


def test_recorded_before_answered(fake_llm, api):
    fake_llm.script([{"hang_ms": 800, "content": "slow"}])
    done = []
    t = threading.Thread(target=lambda: done.append(chat(api, fake_llm)))
    t.start()
    try:
        time.sleep(0.3)
        reqs = fake_llm.requests()
        assert len(reqs) == 1 and reqs[0]["status"] is None
        assert reqs[0]["body"]["messages"] == MESSAGES
        fl = fake_llm.inflight()
        assert len(fl) == 1 and fl[0]["model"] == "gpt-test"
        assert fl[0]["step"] == {"hang_ms": 800, "content": "slow"}
    finally:
        t.join(10)
    assert completion(done[0])["choices"][0]["message"]["content"] == "slow"
    assert fake_llm.requests()[0]["status"] == 200 and fake_llm.inflight() == []


def test_delay_is_concurrent(fake_llm):
    assert fake_llm.faults() == {}
    fake_llm.faults({"delay_ms": 1000})
    assert fake_llm.faults() == {"delay_ms": 1000}
    n = 20
    results = [None] * n
    gate = threading.Barrier(n + 1)

    def one(i):
        gate.wait()
        try:
            r = requests.post(fake_llm.url + "/chat/completions",
                              json={"model": "m", "messages": MESSAGES},
                              headers={"Authorization": "Bearer " + API_KEY}, timeout=15)
            results[i] = (r.status_code, time.monotonic())
        except Exception as e:  # reported below
            results[i] = (repr(e), time.monotonic())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    gate.wait()
    t0 = time.monotonic()
    time.sleep(0.5)
    flying = len(fake_llm.inflight())
    for t in threads:
        t.join(20)
    elapsed = max(r[1] for r in results) - t0
    assert [r[0] for r in results] == [200] * n
    assert flying == n
    assert 1.0 <= elapsed < 3.0, elapsed           # ~1x the delay, not 20x
    assert len(fake_llm.requests()) == n


def test_models(fake_llm, api):
    for url in (fake_llm.url + "/models", fake_llm.url[:-3] + "/models"):
        r = api.get(url, timeout=10)
        assert r.status_code == 200
        m = json.loads(r.text)
        assert m["object"] == "list"
        assert [x["id"] for x in m["data"]] == [MODEL]
        assert m["data"][0]["object"] == "model"


def test_reset(fake_llm, api):
    fake_llm.script([{"content": "a"}, {"content": "b"}])
    fake_llm.faults({"delay_ms": 50})
    chat(api, fake_llm)
    assert fake_llm.requests() and fake_llm.pending() == [{"content": "b"}]
    fake_llm.reset()
    assert fake_llm.requests() == [] and fake_llm.pending() == []
    assert fake_llm.faults() == {} and fake_llm.inflight() == []
    assert completion(chat(api, fake_llm))["choices"][0]["message"]["content"] == "OK"


def test_control_api_refuses_garbage(fake_llm):
    for path, data in (("/_fake/script", "nope"), ("/_fake/script", "[1, 2]"),
                       ("/_fake/append", '"x"'), ("/_fake/faults", "[]")):
        r = requests.post(fake_llm.root + path, data=data, timeout=10)
        assert r.status_code == 400, (path, data, r.text)
    assert fake_llm.pending() == [] and fake_llm.faults() == {}
