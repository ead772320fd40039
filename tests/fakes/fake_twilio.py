#!/usr/bin/python3
"""A stand-in for Twilio's REST API (Messages), for tests and dev/run.

Speaks Twilio's wire protocol (HTTP Basic auth with the account SID and auth
token on every call, else 401 and error 20003):
  POST /2010-04-01/Accounts/<AccountSid>/Messages.json   (form-encoded): create
  GET  /2010-04-01/Accounts/<AccountSid>/Messages/<Sid>.json              fetch
  GET  /2010-04-01/Accounts/<AccountSid>/Messages.json                    list
       Filters: To, From (exact); DateSent (the UTC day of date_sent; of a
       date-time, its day); DateSent< / DateSent> (on or before / on or
       after: the query keys Twilio's helper libraries send, i.e. the
       documented "DateSent<=..." and "DateSent>=..."), a date YYYY-MM-DD
       (whole UTC days) or a date-time YYYY-MM-DDTHH:MM:SSZ (to the second;
       what the helper libraries send for a date too).  A message has a
       date_sent only once its status moved to "sent" (status callbacks,
       below): one still queued has date_sent null, and no DateSent filter
       matches it.  Newest first by date_created, creation order breaking
       ties (RFC 2822 dates have 1 s resolution).  PageSize (default 50, at
       most 1000); next_page_uri / previous_page_uri carry Page and a
       PageToken (PA<sid> / PB<sid>: the page after / before that message),
       so paging is stable while new messages arrive; Page without a
       PageToken is an offset.  Answer: {"messages": [...], "page",
       "page_size", "start", "end", "uri", "first_page_uri",
       "next_page_uri", "previous_page_uri"}, each message the dict the
       fetch returns.
Errors are Twilio's JSON: {"code", "message", "more_info", "status"}.

Control API on the same port:
  GET  /_fake/requests   every request to the Messages API except fetches,
                         oldest first (JSON list of {time, method, path,
                         auth_user, form, peer, status, sid}; GET lists have
                         "method": "GET", "form": {}, their "query" and the
                         "count" of messages returned).  ?method=POST (or GET)
                         returns only those.
  GET  /_fake/count      {"requests": the POSTs /_fake/requests?method=POST
                         lists, "sent": the 201s among them}: cheap to poll
  GET  /_fake/faults     the faults in force
  POST /_fake/faults     JSON, replaces the faults:
         {"fail_rate_5xx": 0.3, "status_5xx": 500, "rate_429": 0.1,
          "retry_after": 1 (seconds, or an HTTP-date string), "delay_ms": 0,
          "timeout_rate": 0, "timeout_ms": 10000 (how long a "timeout" sleeps),
          "permanent": {"+15550000000": 21610},
          "undelivered": {"+15550000001": 30006} (status callbacks end there),
          "reply_delay_ms": 0 (the message is accepted and recorded, then
                              the 201 held back this long: a sender killed
                              meanwhile never learns Twilio has it),
          "fail_bodies": {"doomed": 503} (a send whose Body contains the
                              word gets that status; 429 with retry_after),
          "list_fail_rate": 0 (GET list answered status_5xx), "list_delay_ms": 0,
          "seed": 1}
         A send sleeps delay_ms, checks fail_bodies, then rolls timeout_rate,
         fail_rate_5xx and rate_429 in this order (each over the sends not
         failed yet). So "20 % of sends answered 503 or 429 +
         Retry-After: 1", half each, is
           {"fail_rate_5xx": 0.1, "status_5xx": 503, "rate_429": 0.1111,
            "retry_after": 1}
         (0.1 + 0.9 * 0.1111 = 0.2; tests/it/soak.py FAULTS).
  POST /_fake/hold       {"count": 1, "ms": 2000}: the next `count` sends
                         accepted are answered `ms` later (reply_delay_ms for
                         a few sends, without touching the faults)
  GET  /_fake/inflight   the sends being answered right now, oldest first:
                         [{peer (the client's port), since, to, status (None
                         until decided; 201 = Twilio has it), sid}]
  POST /_fake/reset      forget requests, messages, faults and holds

  fake_twilio.py --port 0 [--host 127.0.0.1] [--account AC...] [--token ...]
                 [--status-callbacks] [--callback-delay-ms 50] [--verbose]
                 [--fast]
prints "PORT <n>" on stdout once listening. With --status-callbacks, every
accepted message with a StatusCallback gets queued, sent and delivered (or
undelivered) callbacks signed with python3-twilio's RequestValidator; its
status (and date_updated) follow them, and date_sent is set at "sent".
Without callbacks a message stays "queued" with date_sent null.

--fast (fake_twilio_fast.py; for benchmarks: bench/reminders) takes ~5x the
sends per second of the threaded server (~45,000 on one core, ab -k -c 32)
at a fifth of its CPU per send (~21 us), and serves only what a throughput
benchmark needs:
  POST /2010-04-01/Accounts/<AccountSid>/Messages.json   create, as above:
       Basic auth (401, 20003), 404 for another account's URL, 400 for
       what a create checks (To, Body, From or MessagingServiceSid, ...),
       201 with the same message resource; StatusCallback is accepted and
       never called
  GET  /_fake/requests   as above (POSTs only: lists are not served)
  GET  /_fake/count      as above
  POST /_fake/reset      forgets the requests
  GET  /_fake/faults     {};  POST /_fake/faults: {} only (no faults)
HTTP/1.1 kept-alive and pipelined requests (HTTP/1.0 with "Connection:
keep-alive" too, as ab -k sends), Content-Length bodies ("Expect:
100-continue" answered). Anything else (fetches, lists, /_fake/hold,
/_fake/inflight, faults, chunked bodies) is answered 501 with a JSON
{"error"}, never pretended. No --status-callbacks.
"""

import argparse
import base64
import bisect
import calendar
import email.utils
import heapq
import http.client
import json
import queue
import random
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = "2010-04-01"
MESSAGES_RE = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
MESSAGE_RE = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")
E164_RE = re.compile(r"^\+[1-9][0-9]{1,14}$")
MAX_BODY = 1600

ERRORS = {
    20001: "Invalid parameter",
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


DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")
DATETIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.\d+)?"
                         r"(Z|[+-]00:?00)?$")


def parse_date_filter(value):
    """(first second, last second) a DateSent value covers, UTC epoch seconds:
    a whole day for YYYY-MM-DD, one second for a date-time; None if invalid."""
    m = DATE_RE.match(value)
    try:
        if m:
            t = calendar.timegm((int(m.group(1)), int(m.group(2)), int(m.group(3)), 0, 0, 0))
            if time.strftime("%Y-%m-%d", time.gmtime(t)) != value:
                return None               # 2024-02-30
            return t, t + 86399
        m = DATETIME_RE.match(value)
        if m:
            f = [int(x) for x in m.groups()[:6]]
            t = calendar.timegm(tuple(f))
            if tuple(time.gmtime(t)[:6]) != tuple(f):
                return None
            return t, t
    except (ValueError, OverflowError):
        return None
    return None


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
            # sid -> [created (epoch s), creation number, sent (epoch s) or None]
            self.times = {}
            self.order = []               # sids, oldest first
            self.faults = {}
            self.rng = random.Random()
            self.hold = [0, 0]            # /_fake/hold: [sends left, ms]
            self.inflight = {}            # id(handler) -> the send it is answering

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

    def take_hold(self):
        """ms to hold the answer of this accepted send (/_fake/hold), or 0."""
        with self.lock:
            if self.hold[0] <= 0:
                return 0
            self.hold[0] -= 1
            return self.hold[1]


def twilio_error(code, http_status, message=None, headers=()):
    """(http status, Twilio's error JSON, extra headers)."""
    return http_status, {
        "code": code,
        "message": message or ERRORS.get(code, "Error"),
        "more_info": "https://www.twilio.com/docs/errors/%d" % code,
        "status": http_status,
    }, headers


def form_fields(raw):
    """A form-encoded body as {name: value}, a list where a name repeats."""
    form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: (v[0] if len(v) == 1 else v) for k, v in form.items()}


def basic_auth(value):
    """(user, password) of an Authorization header's HTTP Basic, or (None, None)."""
    if not value.startswith("Basic "):
        return None, None
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except ValueError:
        return None, None
    return user, password


def validation_error(fields):
    """Twilio's 400 answer to a create with these fields, or None if valid."""
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
    return None


def new_sid():
    return "SM" + secrets.token_hex(16)


def message_resource(account, fields, sid, date):
    """The message resource a create answers, created at date (RFC 2822)."""
    uri = "/%s/Accounts/%s/Messages/%s.json" % (API_VERSION, account, sid)
    mss = fields.get("MessagingServiceSid")
    return {
        "account_sid": account,
        "api_version": API_VERSION,
        "body": fields.get("Body", ""),
        "date_created": date,
        "date_sent": None,
        "date_updated": date,
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a
    # kept-alive client would wait for its delayed ACK (40 ms) every time.
    disable_nagle_algorithm = True
    server_version = "fake-twilio/1.0"
    state = None          # set by main()
    options = None
    callbacks = None

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
        return basic_auth(self.headers.get("Authorization", ""))

    def authorized(self):
        user, password = self.auth_user()
        return user == self.state.account and password == self.state.token

    # ---- routes ----

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path == "/_fake/requests":
            method = dict(urllib.parse.parse_qsl(url.query)).get("method")
            with self.state.lock:
                reqs = list(self.state.requests)
            if method:
                reqs = [r for r in reqs if r["method"] == method.upper()]
            self.send_json(200, reqs)
        elif path == "/_fake/count":
            with self.state.lock:
                posts = [r for r in self.state.requests if r["method"] == "POST"]
                count = {"requests": len(posts), "sent": sum(r["status"] == 201 for r in posts)}
            self.send_json(200, count)
        elif path == "/_fake/faults":
            with self.state.lock:
                faults = dict(self.state.faults)
            self.send_json(200, faults)
        elif path == "/_fake/inflight":
            with self.state.lock:
                sends = [dict(v) for v in self.state.inflight.values()]
            self.send_json(200, sorted(sends, key=lambda v: v["since"]))
        elif MESSAGE_RE.match(path):
            self.get_message(MESSAGE_RE.match(path))
        elif MESSAGES_RE.match(path):
            self.list_messages(MESSAGES_RE.match(path).group(1), url.query)
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
        elif path == "/_fake/hold":
            try:
                hold = json.loads(body or b"{}")
                with self.state.lock:
                    self.state.hold = [int(hold.get("count", 1)), float(hold.get("ms", 2000))]
            except (ValueError, TypeError, AttributeError) as e:
                self.send_json(400, {"error": str(e)})
                return
            self.send_json(200, {"count": self.state.hold[0], "ms": self.state.hold[1]})
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
            msg = dict(msg) if msg is not None else None
        if msg is None:
            self.send_json(*twilio_error(20404, 404))
        else:
            self.send_json(200, msg)

    # ---- POST Messages.json ----

    def create_message(self, account, raw):
        fields = form_fields(raw)
        user, _ = self.auth_user()
        entry = {"time": time.time(), "method": "POST", "path": self.path,
                 "auth_user": user, "form": fields, "peer": self.client_address[1]}
        flight = {"peer": self.client_address[1], "since": entry["time"], "to": fields.get("To"),
                  "status": None, "sid": None}
        with self.state.lock:
            self.state.inflight[id(self)] = flight
        try:
            status, reply, headers = self.message_reply(account, fields)
            entry["status"] = status
            entry["sid"] = reply.get("sid") if status == 201 else None
            self.state.record(entry)
            with self.state.lock:
                flight["status"], flight["sid"] = status, entry["sid"]
            if status == 0:                       # a "timeout": never answer in time
                time.sleep(self.state.fault("timeout_ms", 10000) / 1000.0)
                self.close_connection = True
                return
            if status == 201:
                self.start_callbacks(reply, fields)
                hold = self.state.fault("reply_delay_ms", 0) or self.state.take_hold()
                if hold:                          # accepted, the answer held back
                    time.sleep(hold / 1000.0)
            self.send_json(status, reply, headers)
        finally:
            with self.state.lock:
                self.state.inflight.pop(id(self), None)

    def message_reply(self, account, fields):
        """(http status, JSON reply, extra headers); status 0 = timeout."""
        if not self.authorized():
            return twilio_error(20003, 401)
        if account != self.state.account:
            return twilio_error(20404, 404)
        delay = self.state.fault("delay_ms", 0)
        if delay:
            time.sleep(delay / 1000.0)
        body = fields.get("Body") if isinstance(fields.get("Body"), str) else ""
        for word, code in (self.state.fault("fail_bodies") or {}).items():
            if word in body:
                return self.transient_or(int(code))
        if self.state.roll("timeout_rate"):
            return 0, {}, ()
        if self.state.roll("fail_rate_5xx"):
            code = int(self.state.fault("status_5xx", 500))
            return twilio_error(20500, code)
        if self.state.roll("rate_429"):
            return self.transient_or(429)
        return self.validate_and_create(fields)

    def transient_or(self, status):
        """The error answer with this HTTP status (429: with retry_after)."""
        if status == 429:
            after = self.state.fault("retry_after")
            headers = (("Retry-After", str(after)),) if after is not None else ()
            return twilio_error(20429, 429, headers=headers)
        return twilio_error(20500 if status >= 500 else 20001, status)

    def validate_and_create(self, fields):
        error = validation_error(fields)
        if error:
            return error
        permanent = (self.state.fault("permanent") or {}).get(fields["To"])
        if permanent:
            return twilio_error(int(permanent), 400)
        return 201, self.new_message(fields), ()

    def new_message(self, fields):
        created = time.time()
        msg = message_resource(self.state.account, fields, new_sid(), rfc2822(created))
        with self.state.lock:
            self.state.messages[msg["sid"]] = msg
            self.state.times[msg["sid"]] = [created, len(self.state.order), None]
            self.state.order.append(msg["sid"])
        return msg

    # ---- GET Messages.json (list) ----

    LIST_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")

    def list_messages(self, account, query):
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        user, _ = self.auth_user()
        entry = {"time": time.time(), "method": "GET", "path": self.path, "auth_user": user,
                 "form": {}, "query": dict(pairs), "peer": self.client_address[1], "sid": None}
        status, reply, headers = self.list_reply(account, pairs)
        entry["status"] = status
        entry["count"] = len(reply.get("messages", ())) if status == 200 else 0
        self.state.record(entry)
        self.send_json(status, reply, headers)

    def list_reply(self, account, pairs):
        """(http status, JSON reply, extra headers) of a GET Messages.json."""
        if not self.authorized() or account != self.state.account:
            return twilio_error(20003, 401)
        delay = self.state.fault("list_delay_ms", 0)
        if delay:
            time.sleep(delay / 1000.0)
        if self.state.roll("list_fail_rate"):
            return twilio_error(20500, int(self.state.fault("status_5xx", 500)))
        params = dict(pairs)
        filters = [(k, v) for k, v in pairs if k in self.LIST_FILTERS]
        try:
            size = int(params.get("PageSize", "50"))
            page = int(params.get("Page", "0"))
            if size < 1 or page < 0:
                raise ValueError
        except ValueError:
            return twilio_error(20001, 400, "Invalid PageSize or Page")
        size = min(size, 1000)
        token = params.get("PageToken")
        if token is not None and not re.match(r"^P[AB]SM[0-9a-f]{32}$", token):
            return twilio_error(20001, 400, "Invalid PageToken")
        days = {}
        for name in ("DateSent", "DateSent<", "DateSent>"):
            if name in params:
                days[name] = parse_date_filter(params[name])
                if days[name] is None:
                    return twilio_error(20001, 400, "Invalid %s: %s" % (name, params[name]))

        def matches(msg, times):
            if "To" in params and msg["to"] != params["To"]:
                return False
            if "From" in params and msg["from"] != params["From"]:
                return False
            if days:
                sent = times[2]
                if sent is None:
                    return False
                sent = int(sent)                 # what date_sent shows
                if "DateSent" in days and sent // 86400 != days["DateSent"][0] // 86400:
                    return False
                if "DateSent<" in days and sent > days["DateSent<"][1]:
                    return False
                if "DateSent>" in days and sent < days["DateSent>"][0]:
                    return False
            return True

        def key(sid):                            # ascending = newest first
            created, number, _ = self.state.times[sid]
            return (-int(created), -number)

        with self.state.lock:
            st = self.state
            found = [sid for sid in st.order if matches(st.messages[sid], st.times[sid])]
            found.sort(key=key)
            keys = [key(sid) for sid in found]
            if token is None:
                lo = page * size
                hi = lo + size
            elif token[2:] not in st.times:
                return twilio_error(20001, 400, "Invalid PageToken")
            elif token.startswith("PA"):         # the page after this message
                lo = bisect.bisect_right(keys, key(token[2:]))
                hi = lo + size
            else:                                # the page before it
                hi = bisect.bisect_left(keys, key(token[2:]))
                lo = max(0, hi - size)
            items = [dict(st.messages[sid]) for sid in found[lo:hi]]
            more = hi < len(found)

        base = "/%s/Accounts/%s/Messages.json" % (API_VERSION, self.state.account)

        def uri(page_no, tok=None):
            q = filters + [("PageSize", str(size)), ("Page", str(page_no))]
            if tok:
                q.append(("PageToken", tok))
            return base + "?" + urllib.parse.urlencode(q)
        start = page * size
        return 200, {
            "messages": items,
            "page": page,
            "page_size": size,
            "start": start,
            "end": start + max(len(items), 1) - 1,
            "uri": uri(page, token),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1, "PA" + items[-1]["sid"]) if more and items else None,
            "previous_page_uri": (uri(page - 1, "PB" + items[0]["sid"])
                                  if page > 0 and lo > 0 and items else None),
        }, ()

    # ---- status callbacks ----

    def start_callbacks(self, msg, fields):
        url = fields.get("StatusCallback")
        if not self.options.status_callbacks or not url:
            return
        error = (self.state.fault("undelivered") or {}).get(msg["to"])
        final = "undelivered" if error else "delivered"
        self.callbacks.schedule(CallbackRun(self.state, url, msg, error,
                                            ["queued", "sent", final]))


class CallbackRun:
    """The status callbacks of one message, posted one after the other, each
    callback_delay_ms after the previous one was answered."""

    def __init__(self, state, url, msg, error, statuses):
        self.state, self.url, self.msg, self.error = state, url, msg, error
        self.statuses = statuses

    def step(self, post):
        """Posts the next callback with post(url, params); False when done."""
        status = self.statuses.pop(0)
        msg = self.msg
        params = {
            "AccountSid": self.state.account, "ApiVersion": API_VERSION,
            "From": msg["from"] or "", "To": msg["to"],
            "MessageSid": msg["sid"], "SmsSid": msg["sid"],
            "MessageStatus": status, "SmsStatus": status,
        }
        if msg["messaging_service_sid"]:
            params["MessagingServiceSid"] = msg["messaging_service_sid"]
        if status == "undelivered":
            params["ErrorCode"] = str(self.error)
        now = time.time()
        with self.state.lock:
            msg["status"] = status
            msg["date_updated"] = rfc2822(now)
            if status == "sent":
                msg["date_sent"] = rfc2822(now)
                times = self.state.times.get(msg["sid"])
                if times is not None:
                    times[2] = now
        post(self.url, params)
        return bool(self.statuses)


class Callbacks:
    """Posts status callbacks from a few threads, each keeping one HTTP
    connection per callback host alive (a thread and a new connection per
    callback cost ~1 ms of CPU per message; this is a few times cheaper)."""

    def __init__(self, state, delay_ms, threads=4):
        from twilio.request_validator import RequestValidator
        self.validator = RequestValidator(state.token)
        self.delay = delay_ms / 1000.0
        self.cond = threading.Condition()
        self.heap = []                    # (due, n, CallbackRun)
        self.n = 0
        self.ready = queue.Queue()
        threading.Thread(target=self.timer, daemon=True).start()
        for _ in range(threads):
            threading.Thread(target=self.sender, daemon=True).start()

    def schedule(self, run):
        with self.cond:
            self.n += 1
            heapq.heappush(self.heap, (time.monotonic() + self.delay, self.n, run))
            self.cond.notify()

    def timer(self):
        with self.cond:
            while True:
                now = time.monotonic()
                while self.heap and self.heap[0][0] <= now:
                    self.ready.put(heapq.heappop(self.heap)[2])
                self.cond.wait(self.heap[0][0] - now if self.heap else None)

    def sender(self):
        conns = {}

        def post(url, params):
            u = urllib.parse.urlsplit(url)
            key = (u.scheme, u.hostname, u.port)
            data = urllib.parse.urlencode(params)
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": self.validator.compute_signature(url, params),
                       "User-Agent": "TwilioProxy/1.1"}
            target = (u.path or "/") + ("?" + u.query if u.query else "")
            for attempt in (0, 1):
                conn = conns.get(key)
                reused = conn is not None
                if conn is None:
                    cls = http.client.HTTPSConnection if u.scheme == "https" else \
                        http.client.HTTPConnection
                    conn = conns[key] = cls(u.hostname, u.port, timeout=5)
                try:
                    conn.request("POST", target, body=data, headers=headers)
                    r = conn.getresponse()
                    r.read()
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        del conns[key]
                    return
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    del conns[key]
                    if attempt == 0 and reused:      # the server closed a kept-alive one
                        continue
                    sys.stderr.write("fake_twilio: status callback to %s failed: %s\n"
                                     % (url, e))
                    return

        while True:
            run = self.ready.get()
            try:
                more = run.step(post)
            except Exception as e:          # never lose the thread
                sys.stderr.write("fake_twilio: status callback: %r\n" % (e,))
                more = False
            if more:
                self.schedule(run)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--account", default="AC" + "0" * 32)
    ap.add_argument("--token", default="fake-auth-token")
    ap.add_argument("--status-callbacks", action="store_true")
    ap.add_argument("--callback-delay-ms", type=int, default=50)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--fast", action="store_true",
                    help="creates only, on an event loop (fake_twilio_fast.py)")
    options = ap.parse_args()
    if options.fast:
        if options.status_callbacks:
            ap.error("--fast posts no status callbacks")
        # run as a script this file is __main__: the fast module's
        # "import fake_twilio" gets it instead of a second copy
        sys.modules.setdefault("fake_twilio", sys.modules[__name__])
        import fake_twilio_fast
        fake_twilio_fast.serve(options)
        return
    Handler.state = State(options.account, options.token)
    Handler.options = options
    if options.status_callbacks:      # python3-twilio: fails here, not per message
        Handler.callbacks = Callbacks(Handler.state, options.callback_delay_ms)
    ThreadingHTTPServer.request_queue_size = 128    # bursts of new connections
    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
