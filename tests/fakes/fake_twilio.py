#!/usr/bin/python3
"""A stand-in for Twilio's REST API (Messages), for tests and dev/run.

Speaks Twilio's wire protocol:
  POST /2010-04-01/Accounts/<AccountSid>/Messages.json   (form-encoded, Basic auth)
  GET  /2010-04-01/Accounts/<AccountSid>/Messages/<Sid>.json
Errors are Twilio's JSON: {"code", "message", "more_info", "status"}.

Control API on the same port:
  GET  /_fake/requests   every POST to Messages.json, oldest first (JSON list of
                         {time, method, path, auth_user, form, peer, status, sid})
  GET  /_fake/faults     the faults in force
  POST /_fake/faults     JSON, replaces the faults:
         {"fail_rate_5xx": 0.3, "status_5xx": 500, "rate_429": 0.1,
          "retry_after": 1 (seconds, or an HTTP-date string), "delay_ms": 0,
          "timeout_rate": 0, "timeout_ms": 10000 (how long a "timeout" sleeps),
          "permanent": {"+15550000000": 21610},
          "undelivered": {"+15550000001": 30006} (status callbacks end there),
          "seed": 1}
  POST /_fake/reset      forget requests, messages and faults

  fake_twilio.py --port 0 [--host 127.0.0.1] [--account AC...] [--token ...]
                 [--status-callbacks] [--callback-delay-ms 50] [--verbose]
prints "PORT <n>" on stdout once listening. With --status-callbacks, every
accepted message with a StatusCallback gets queued, sent and delivered (or
undelivered) callbacks signed with python3-twilio's RequestValidator.
"""

import argparse
import base64
import email.utils
import importlib
import json
import random
import re
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = "2010-04-01"
MESSAGES_RE = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
MESSAGE_RE = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")
E164_RE = re.compile(r"^\+[1-9][0-9]{1,14}$")
MAX_BODY = 1600

ERRORS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}

# GSM 03.38 basic set; the extension set costs two septets.
GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = set("^{}\\[~]|€\f")


def num_segments(body):
    if all(c in GSM_BASIC or c in GSM_EXT for c in body):
        units = sum(2 if c in GSM_EXT else 1 for c in body)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)   # UTF-16
        single, multi = 70, 67
    if units <= single:
        return 1
    return (units + multi - 1) // multi


def rfc2822(t):
    return email.utils.formatdate(t, usegmt=False).replace("-0000", "+0000")


class State:
    """Everything the fake remembers; one lock guards it all."""

    def __init__(self, account, token):
        self.account = account
        self.token = token
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = []
            self.messages = {}
            self.faults = {}
            self.rng = random.Random()

    def set_faults(self, faults):
        with self.lock:
            self.faults = dict(faults)
            self.rng = random.Random(faults.get("seed"))

    def roll(self, name):
        """True with probability faults[name]."""
        with self.lock:
            rate = float(self.faults.get(name, 0) or 0)
            return rate > 0 and self.rng.random() < rate

    def fault(self, name, default=None):
        with self.lock:
            return self.faults.get(name, default)

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)


def twilio_error(code, http_status, message=None, headers=()):
    """(http status, Twilio's error JSON, extra headers)."""
    return http_status, {
        "code": code,
        "message": message or ERRORS.get(code, "Error"),
        "more_info": "https://www.twilio.com/docs/errors/%d" % code,
        "status": http_status,
    }, headers


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a
    # kept-alive client would wait for its delayed ACK (40 ms) every time.
    disable_nagle_algorithm = True
    server_version = "fake-twilio/1.0"
    state = None          # set by main()
    options = None

    def log_message(self, fmt, *args):
        if self.options.verbose:
            sys.stderr.write("fake_twilio: " + (fmt % args) + "\n")

    # ---- plumbing ----

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, status, obj, extra_headers=()):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def auth_user(self):
        """(user, password) from HTTP Basic, or (None, None)."""
        value = self.headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return None, None
        try:
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        except ValueError:
            return None, None
        return user, password

    def authorized(self):
        user, password = self.auth_user()
        return user == self.state.account and password == self.state.token

    # ---- routes ----

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_fake/requests":
            with self.state.lock:
                self.send_json(200, list(self.state.requests))
        elif path == "/_fake/faults":
            with self.state.lock:
                faults = dict(self.state.faults)
            self.send_json(200, faults)
        elif MESSAGE_RE.match(path):
            self.get_message(MESSAGE_RE.match(path))
        else:
            self.send_json(*twilio_error(20404, 404))

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        body = self.read_body()
        if path == "/_fake/reset":
            self.state.reset()
            self.send_json(200, {"ok": True})
        elif path == "/_fake/faults":
            self.post_faults(body)
        elif MESSAGES_RE.match(path):
            self.create_message(MESSAGES_RE.match(path).group(1), body)
        else:
            self.send_json(*twilio_error(20404, 404))

    def post_faults(self, body):
        try:
            faults = json.loads(body or b"{}")
            if not isinstance(faults, dict):
                raise ValueError("faults must be a JSON object")
        except ValueError as e:
            self.send_json(400, {"error": str(e)})
            return
        self.state.set_faults(faults)
        self.send_json(200, faults)

    def get_message(self, m):
        if not self.authorized() or m.group(1) != self.state.account:
            self.send_json(*twilio_error(20003, 401))
            return
        with self.state.lock:
            msg = self.state.messages.get(m.group(2))
        if msg is None:
            self.send_json(*twilio_error(20404, 404))
        else:
            self.send_json(200, msg)

    # ---- POST Messages.json ----

    def create_message(self, account, raw):
        form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        fields = {k: (v[0] if len(v) == 1 else v) for k, v in form.items()}
        user, _ = self.auth_user()
        entry = {"time": time.time(), "method": "POST", "path": self.path,
                 "auth_user": user, "form": fields, "peer": self.client_address[1]}
        status, reply, headers = self.message_reply(account, fields)
        entry["status"] = status
        entry["sid"] = reply.get("sid") if status == 201 else None
        self.state.record(entry)
        if status == 0:                       # a "timeout": never answer in time
            time.sleep(self.state.fault("timeout_ms", 10000) / 1000.0)
            self.close_connection = True
            return
        self.send_json(status, reply, headers)
        if status == 201:
            self.start_callbacks(reply, fields)

    def message_reply(self, account, fields):
        """(http status, JSON reply, extra headers); status 0 = timeout."""
        if not self.authorized():
            return twilio_error(20003, 401)
        if account != self.state.account:
            return twilio_error(20404, 404)
        delay = self.state.fault("delay_ms", 0)
        if delay:
            time.sleep(delay / 1000.0)
        if self.state.roll("timeout_rate"):
            return 0, {}, ()
        if self.state.roll("fail_rate_5xx"):
            code = int(self.state.fault("status_5xx", 500))
            return twilio_error(20500, code)
        if self.state.roll("rate_429"):
            after = self.state.fault("retry_after")
            headers = (("Retry-After", str(after)),) if after is not None else ()
            return twilio_error(20429, 429, headers=headers)
        return self.validate_and_create(fields)

    def validate_and_create(self, fields):
        to = fields.get("To")
        body = fields.get("Body")
        sender = fields.get("From") or fields.get("MessagingServiceSid")
        if not to:
            return twilio_error(21604, 400)
        if not body and not fields.get("MediaUrl"):
            return twilio_error(21602, 400)
        if not sender:
            return twilio_error(21603, 400)
        if not isinstance(to, str) or not E164_RE.match(to):
            return twilio_error(21211, 400, "The 'To' number %s is not a valid phone number." % to)
        if len(body or "") > MAX_BODY:
            return twilio_error(21617, 400)
        permanent = (self.state.fault("permanent") or {}).get(to)
        if permanent:
            return twilio_error(int(permanent), 400)
        return 201, self.new_message(fields), ()

    def new_message(self, fields):
        sid = "SM" + secrets.token_hex(16)
        now = rfc2822(time.time())
        uri = "/%s/Accounts/%s/Messages/%s.json" % (API_VERSION, self.state.account, sid)
        mss = fields.get("MessagingServiceSid")
        msg = {
            "account_sid": self.state.account,
            "api_version": API_VERSION,
            "body": fields.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": fields.get("From"),
            "messaging_service_sid": mss,
            "num_media": "0",
            "num_segments": str(num_segments(fields.get("Body", ""))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if mss and not fields.get("From") else "queued",
            "subresource_uris": {"media": uri[:-5] + "/Media.json"},
            "to": fields["To"],
            "uri": uri,
        }
        with self.state.lock:
            self.state.messages[sid] = msg
        return msg

    # ---- status callbacks ----

    def start_callbacks(self, msg, fields):
        url = fields.get("StatusCallback")
        if not self.options.status_callbacks or not url:
            return
        error = (self.state.fault("undelivered") or {}).get(msg["to"])
        threading.Thread(target=send_callbacks, daemon=True,
                         args=(self.state, self.options, url, msg, error)).start()


def send_callbacks(state, options, url, msg, error):
    from twilio.request_validator import RequestValidator
    validator = RequestValidator(state.token)
    final = ["undelivered"] if error else ["delivered"]
    for status in ["queued", "sent"] + final:
        time.sleep(options.callback_delay_ms / 1000.0)
        params = {
            "AccountSid": state.account, "ApiVersion": API_VERSION,
            "From": msg["from"] or "", "To": msg["to"],
            "MessageSid": msg["sid"], "SmsSid": msg["sid"],
            "MessageStatus": status, "SmsStatus": status,
        }
        if msg["messaging_service_sid"]:
            params["MessagingServiceSid"] = msg["messaging_service_sid"]
        if status == "undelivered":
            params["ErrorCode"] = str(error)
        with state.lock:
            msg["status"] = status
        post_signed(validator, url, params)


def post_signed(validator, url, params):
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    req.add_header("X-Twilio-Signature", validator.compute_signature(url, params))
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except OSError as e:
        sys.stderr.write("fake_twilio: status callback to %s failed: %s\n" % (url, e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--account", default="AC" + "0" * 32)
    ap.add_argument("--token", default="fake-auth-token")
    ap.add_argument("--status-callbacks", action="store_true")
    ap.add_argument("--callback-delay-ms", type=int, default=50)
    ap.add_argument("--verbose", action="store_true")
    options = ap.parse_args()
    if options.status_callbacks:
        importlib.import_module("twilio.request_validator")   # fail early, not per message
    Handler.state = State(options.account, options.token)
    Handler.options = options
    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
