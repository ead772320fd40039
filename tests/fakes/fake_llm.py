#!/usr/bin/python3
"""A stand-in for an OpenAI-compatible chat completions API, for tests,
dev/run and bench/: the worker calls it exactly as it calls OpenAI, Gemini's
OpenAI endpoint, llama.cpp, Ollama or vLLM.  Python's standard library only.

Speaks OpenAI's wire protocol:
  POST /v1/chat/completions  and  POST /chat/completions
       (a base URL may or may not end in /v1).  The request must be a JSON
       object with "model" and a non-empty "messages" array, else 400;
       "stream": true is refused (400) too: the fake does not stream.  With
       --api-key (or /_fake/auth), "Authorization: Bearer <key>" is
       required, else 401.  Auth is checked first, then the body.
  GET  /v1/models  and  GET /models: {"object": "list", "data": [one model,
       "fake-model"]} (with the same auth).
Errors are OpenAI's JSON: {"error": {"message", "type", "param", "code"}}
(type "invalid_request_error" for 4xx, "requests" for 429, "server_error"
for 5xx).

Every request to the API (anything but /_fake/) is recorded, oldest first,
BEFORE it is answered: {"n", "time", "method", "path", "peer", "headers"
(as received), "authorization" (the header, or null), "body" (the parsed
JSON, or null), "raw" (the body's text when it is not JSON, else absent),
"status" (null until the answer is decided; 0: the connection was closed
without one), "step" (the script step it consumed, or null)}.

A valid chat request consumes the next step of the script (one per request,
in arrival order), or, when the script is empty, the default {"content":
"OK"}.  Steps (JSON objects):
  {"content": "text"}          assistant message, finish_reason "stop"
  {"tool_calls": [{"name": "notes", "arguments": {...} | "raw string"}, ...],
   "content": null | "text"}   assistant message with tool_calls: ids
                               "call_<n>" (unique for the process's life),
                               type "function", function.arguments a JSON
                               string (an object is json.dumps'ed; a string
                               goes verbatim: malformed JSON on purpose);
                               finish_reason "tool_calls"
  {"status": 500}  {"status": 503, "body": "message"}
                               that HTTP status with OpenAI's error body
                               ("body": its message if a string, the whole
                               JSON body if an object or array)
  {"status": 429, "retry_after": 1}
                               ... with "Retry-After: 1" (any status may
                               carry retry_after)
  {"hang_ms": 5000, ...rest}   sleeps that long, then answers with the rest
                               of the step (only hang_ms: the default).  A
                               client that hung up meanwhile is ignored.
  {"raw": "not json", "status": 200, "content_type": "text/plain"}
                               exactly that body (status default 200,
                               content_type default application/json)
  {"close": true}              closes the connection without an answer
Optional in any answering step: "usage": {...} (sent as given),
"finish_reason": "length" (overrides), "headers": {"X-A": "b"} (extra
response headers), "model": "other" (instead of echoing the request's).
A completion is {"id": "chatcmpl-fake<n>", "object": "chat.completion",
"created", "model" (the request's), "choices": [{"index": 0, "message":
{"role": "assistant", "content", ["tool_calls"]}, "logprobs": null,
"finish_reason"}], "usage": {"prompt_tokens": P, "completion_tokens": C,
"total_tokens": P + C}} with
  P = ceil(len(json.dumps(messages) + json.dumps(tools)) / 4)
      (json.dumps with Python's defaults; no "tools" in the request: "")
  C = ceil(len((content or "") + "".join(each function.arguments)) / 4)
(prompt_tokens() and completion_tokens() below).

Control API on the same port:
  POST /_fake/script     JSON array of steps: replaces the queue
  POST /_fake/append     JSON array of steps (or one step): appends
  GET  /_fake/script     the steps not consumed yet
  GET  /_fake/requests   the recorded requests, oldest first
  GET  /_fake/faults     the faults in force
  POST /_fake/faults     JSON object, replaces them: {"delay_ms": N} makes
                         every valid chat request sleep N ms (after taking
                         its step, before answering; requests run
                         concurrently: a thread each); {"tool_loop": N}
                         answers with the script empty by the conversation
                         itself, so concurrent turns never take each
                         other's steps: while fewer than N tool results
                         follow the last user message, one tool call (a
                         notes add of that message, then notes lists),
                         then the content "Done in N steps."
  GET  /_fake/inflight   the chat requests being answered right now, oldest
                         first: [{"n", "since", "path", "model", "peer", "step"}]
  GET  /_fake/auth       {"api_key": the key required, or null}
  POST /_fake/auth       {"api_key": "..." | null}: replaces it (until reset)
  POST /_fake/reset      forgets the script, requests and faults, and puts
                         back the --api-key (call ids keep counting)

  fake_llm.py [--port 0] [--host 127.0.0.1] [--api-key KEY] [--pidfile PATH]
              [--verbose]
prints "PORT <n>" on stdout once listening.
"""

import argparse
import collections
import json
import math
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_ID = "fake-model"
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
MODEL_PATHS = ("/v1/models", "/models")
DEFAULT_STEP = {"content": "OK"}


def loop_step(body, n):
    """The next step of an n-call tool loop, read from the conversation."""
    msgs = body["messages"]
    last_user = max((i for i, m in enumerate(msgs) if m.get("role") == "user"), default=0)
    done = sum(1 for m in msgs[last_user:] if m.get("role") == "tool")
    if done >= n:
        return {"content": "Done in %d steps." % (n + 1)}
    if done == 0:
        text = msgs[last_user].get("content") or "note"
        return {"tool_calls": [{"name": "notes", "arguments": {"action": "add", "text": text[:200]}}]}
    return {"tool_calls": [{"name": "notes", "arguments": {"action": "list"}}]}


def prompt_tokens(body):
    """P of a request body (a dict): see the module doc."""
    text = json.dumps(body.get("messages"))
    if "tools" in body:
        text += json.dumps(body.get("tools"))
    return int(math.ceil(len(text) / 4.0))


def completion_tokens(message):
    """C of an answer's message (a dict): see the module doc."""
    text = message.get("content") or ""
    for call in message.get("tool_calls") or ():
        text += call["function"]["arguments"]
    return int(math.ceil(len(text) / 4.0))


def error_body(status, message, code=None):
    if status == 429:
        kind, code = "requests", code or "rate_limit_exceeded"
    elif status >= 500:
        kind = "server_error"
    else:
        kind = "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class State:
    """Everything the fake remembers; one lock guards it all."""

    def __init__(self, api_key):
        self.cli_api_key = api_key
        self.lock = threading.Lock()
        self.calls = 0            # tool call ids: never reset
        self.completions = 0      # chatcmpl ids: never reset
        self.reset()

    def reset(self):
        with self.lock:
            self.script = collections.deque()
            self.requests = []
            self.faults = {}
            self.inflight = {}
            self.api_key = self.cli_api_key

    def next_call_id(self):
        with self.lock:
            self.calls += 1
            return "call_%d" % self.calls

    def next_completion_id(self):
        with self.lock:
            self.completions += 1
            return "chatcmpl-fake%d" % self.completions


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True      # headers and body are two writes
    server_version = "fake-llm/1.0"
    state = None          # set by main()
    options = None

    def log_message(self, fmt, *args):
        if self.options.verbose:
            sys.stderr.write("fake_llm: " + (fmt % args) + "\n")

    # ---- plumbing ----

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass                          # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_bytes(self, status, data, content_type="application/json",
                   extra_headers=()):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers:
                self.send_header(name, str(value))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.close_connection = True      # the client hung up: fine

    def send_json(self, status, obj, extra_headers=()):
        self.send_bytes(status, json.dumps(obj).encode(), extra_headers=extra_headers)

    def send_error_json(self, status, message, code=None, extra_headers=()):
        self.send_json(status, error_body(status, message, code), extra_headers)

    def control_json(self, raw, default):
        """(True, the control request's JSON or default when empty), or
        (False, None) once a 400 was sent."""
        if not raw.strip():
            return True, default
        try:
            return True, json.loads(raw)
        except ValueError as e:
            self.send_json(400, {"error": "not JSON: %s" % e})
            return False, None

    def authorized(self):
        with self.state.lock:
            key = self.state.api_key
        return key is None or self.headers.get("Authorization") == "Bearer " + key

    def record(self, method, raw):
        body = None
        entry = {"time": time.time(), "method": method, "path": self.path,
                 "peer": self.client_address[1],
                 "headers": {k: v for k, v in self.headers.items()},
                 "authorization": self.headers.get("Authorization"),
                 "status": None, "step": None}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                entry["raw"] = raw.decode("utf-8", "replace")
        entry["body"] = body
        with self.state.lock:
            entry["n"] = len(self.state.requests) + 1
            self.state.requests.append(entry)
        return entry

    def set_status(self, entry, status):
        with self.state.lock:
            entry["status"] = status

    # ---- routes ----

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        st = self.state
        if path == "/_fake/requests":
            with st.lock:
                reqs = [dict(r) for r in st.requests]
            self.send_json(200, reqs)
        elif path == "/_fake/script":
            with st.lock:
                steps = list(st.script)
            self.send_json(200, steps)
        elif path == "/_fake/faults":
            with st.lock:
                faults = dict(st.faults)
            self.send_json(200, faults)
        elif path == "/_fake/inflight":
            with st.lock:
                flights = [dict(v) for v in st.inflight.values()]
            self.send_json(200, sorted(flights, key=lambda v: (v["since"], v["n"])))
        elif path == "/_fake/auth":
            with st.lock:
                key = st.api_key
            self.send_json(200, {"api_key": key})
        elif path.startswith("/_fake/"):
            self.send_json(404, {"error": "no such control endpoint"})
        else:
            entry = self.record("GET", b"")
            if path in MODEL_PATHS:
                if not self.authorized():
                    self.answer_401(entry)
                    return
                self.set_status(entry, 200)
                self.send_json(200, {"object": "list", "data": [
                    {"id": MODEL_ID, "object": "model", "created": 1700000000,
                     "owned_by": "fake-llm"}]})
            else:
                self.set_status(entry, 404)
                self.send_error_json(404, "Unknown request URL: GET %s" % path,
                                     "unknown_url")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        raw = self.read_body()
        st = self.state
        if path == "/_fake/reset":
            st.reset()
            self.send_json(200, {"ok": True})
        elif path in ("/_fake/script", "/_fake/append"):
            ok, steps = self.control_json(raw, [])
            if not ok:
                return
            if isinstance(steps, dict):
                steps = [steps]
            if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
                self.send_json(400, {"error": "steps must be a JSON array of objects"})
                return
            with st.lock:
                if path == "/_fake/script":
                    st.script.clear()
                st.script.extend(steps)
                left = len(st.script)
            self.send_json(200, {"queued": left})
        elif path == "/_fake/faults":
            ok, faults = self.control_json(raw, {})
            if not ok:
                return
            if not isinstance(faults, dict):
                self.send_json(400, {"error": "faults must be a JSON object"})
                return
            with st.lock:
                st.faults = faults
            self.send_json(200, faults)
        elif path == "/_fake/auth":
            ok, obj = self.control_json(raw, {})
            if not ok:
                return
            if not isinstance(obj, dict):
                self.send_json(400, {"error": "a JSON object: {\"api_key\": ...}"})
                return
            with st.lock:
                st.api_key = obj.get("api_key") or None
                key = st.api_key
            self.send_json(200, {"api_key": key})
        elif path.startswith("/_fake/"):
            self.send_json(404, {"error": "no such control endpoint"})
        elif path in CHAT_PATHS:
            self.chat(path, raw)
        else:
            entry = self.record("POST", raw)
            self.set_status(entry, 404)
            self.send_error_json(404, "Unknown request URL: POST %s" % path, "unknown_url")

    def answer_401(self, entry):
        self.set_status(entry, 401)
        self.send_error_json(401, "Incorrect API key provided.", "invalid_api_key")

    # ---- POST chat/completions ----

    def chat(self, path, raw):
        entry = self.record("POST", raw)
        if not self.authorized():
            self.answer_401(entry)
            return
        body = entry["body"]
        problem = None
        if not isinstance(body, dict):
            problem = "The request body is not a JSON object."
        elif not isinstance(body.get("model"), str) or not body["model"]:
            problem = "you must provide a model parameter"
        elif not isinstance(body.get("messages"), list) or not body["messages"]:
            problem = "'messages' must be a non-empty array"
        elif body.get("stream"):
            problem = "the fake does not stream: send \"stream\": false"
        if problem:
            self.set_status(entry, 400)
            self.send_error_json(400, problem)
            return

        st = self.state
        with st.lock:
            loop = st.faults.get("tool_loop")
            step = st.script.popleft() if st.script else loop_step(body, loop) if loop else DEFAULT_STEP
            entry["step"] = step
            delay = st.faults.get("delay_ms") or 0
            key = id(self)
            st.inflight[key] = {"n": entry["n"], "since": entry["time"], "path": path,
                                "model": body["model"], "peer": self.client_address[1],
                                "step": step}
        try:
            if delay:
                time.sleep(float(delay) / 1000.0)
            hang = step.get("hang_ms")
            if hang:
                time.sleep(float(hang) / 1000.0)
                step = {k: v for k, v in step.items() if k != "hang_ms"} or DEFAULT_STEP
            self.answer(entry, body, step)
        finally:
            with st.lock:
                st.inflight.pop(key, None)

    def answer(self, entry, body, step):
        headers = list((step.get("headers") or {}).items())
        if step.get("retry_after") is not None:
            headers.append(("Retry-After", step["retry_after"]))
        status = int(step.get("status", 200))
        if step.get("close"):
            self.set_status(entry, 0)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if "raw" in step:
            raw = step["raw"]
            data = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
            self.set_status(entry, status)
            self.send_bytes(status, data, step.get("content_type", "application/json"),
                            headers)
            return
        if status >= 400:
            given = step.get("body")
            if isinstance(given, (dict, list)):
                reply = given
            else:
                reply = error_body(status, given if isinstance(given, str) else
                                   "The fake LLM answers %d as scripted." % status)
            self.set_status(entry, status)
            self.send_json(status, reply, headers)
            return
        self.set_status(entry, status)
        self.send_json(status, self.completion(body, step), headers)

    def completion(self, body, step):
        message = {"role": "assistant", "content": step.get("content")}
        finish = "stop"
        if step.get("tool_calls"):
            calls = []
            for call in step["tool_calls"]:
                args = call.get("arguments", {})
                calls.append({"id": self.state.next_call_id(), "type": "function",
                              "function": {"name": call.get("name"),
                                           "arguments": args if isinstance(args, str)
                                           else json.dumps(args)}})
            message["tool_calls"] = calls
            finish = "tool_calls"
        elif message["content"] is None:
            message["content"] = ""
        usage = step.get("usage")
        if usage is None:
            p, c = prompt_tokens(body), completion_tokens(message)
            usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        return {
            "id": self.state.next_completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": step.get("model", body["model"]),
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": step.get("finish_reason", finish)}],
            "usage": usage,
        }


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256          # bursts of new connections (benchmarks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", default=None,
                    help="require Authorization: Bearer KEY (default: no auth)")
    ap.add_argument("--pidfile", default=None)
    ap.add_argument("--verbose", action="store_true")
    options = ap.parse_args()
    Handler.state = State(options.api_key or None)
    Handler.options = options
    server = Server((options.host, options.port), Handler)
    if options.pidfile:
        with open(options.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
