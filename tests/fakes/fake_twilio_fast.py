"""fake_twilio.py --fast: the Messages create call alone, for benchmarks.

One asyncio event loop (uvloop's when python3-uvloop is installed) and an
HTTP/1.1 parser of its own (request line, headers, Content-Length body;
kept-alive and pipelined requests answered in order): several times the
sends per second of the threaded server, and less CPU per send, which
matters where the worker and PostgreSQL share the cores.  What it serves is
listed in fake_twilio.py's docstring; anything else is answered 501.
"""

import asyncio
import base64
import email.utils
import json
import sys
import time
import urllib.parse

import fake_twilio as twilio

try:
    import uvloop
except ImportError:               # plain asyncio: slower, same answers
    uvloop = None

HEAD_MAX = 64 * 1024
BODY_MAX = 1024 * 1024
REASONS = {100: "Continue", 200: "OK", 201: "Created", 400: "Bad Request",
           401: "Unauthorized", 404: "Not Found", 413: "Payload Too Large",
           431: "Request Header Fields Too Large", 501: "Not Implemented",
           505: "HTTP Version Not Supported"}


class Request:
    __slots__ = ("method", "target", "version", "headers", "body", "keep_alive")

    def __init__(self, method, target, version, headers, body=b""):
        self.method, self.target, self.version = method, target, version
        self.headers, self.body = headers, body
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            self.keep_alive = "close" not in connection
        else:                     # HTTP/1.0 (ab -k): only when asked for
            self.keep_alive = "keep-alive" in connection

    @property
    def path(self):
        return self.target.partition("?")[0]

    @property
    def query(self):
        return self.target.partition("?")[2]


class BadRequest(Exception):
    """A request that cannot be read: answered with status, then the
    connection is closed (where the next request starts is unknown)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def parse_head(head):
    """(method, target, version, {lower-case name: value}) of a request head."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise BadRequest(400, "bad request line: %r" % lines[0][:100])
    if parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505, "unsupported version: %s" % parts[2])
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or name != name.strip():
            raise BadRequest(400, "bad header line: %r" % line[:100])
        headers[name.lower()] = value.strip()
    return parts[0], parts[1], parts[2], headers


def content_length(headers):
    if "transfer-encoding" in headers:
        raise BadRequest(501, "Transfer-Encoding is not supported; send Content-Length")
    try:
        n = int(headers.get("content-length", "0"))
    except ValueError:
        raise BadRequest(400, "bad Content-Length") from None
    if n < 0:
        raise BadRequest(400, "bad Content-Length")
    if n > BODY_MAX:
        raise BadRequest(413, "body over %d bytes" % BODY_MAX)
    return n


class PerSecond:
    """f(whole second), computed once a second: dates cost ~5 us each."""

    def __init__(self, f):
        self.f, self.second, self.value = f, None, None

    def __call__(self, now):
        second = int(now)
        if second != self.second:
            self.second, self.value = second, self.f(second)
        return self.value


http_date = PerSecond(lambda t: email.utils.formatdate(t, usegmt=True))
rfc2822_date = PerSecond(twilio.rfc2822)


class FastFake:
    """What the fast fake remembers and answers; one event loop thread, so
    no locks."""

    def __init__(self, account, token):
        self.account, self.token = account, token
        self.good_auth = "Basic " + base64.b64encode(("%s:%s" % (account, token)).encode()).decode()
        self.messages_path = "/%s/Accounts/%s/Messages.json" % (twilio.API_VERSION, account)
        self.routes = {
            ("GET", "/_fake/requests"): self.get_requests,
            ("GET", "/_fake/count"): self.get_count,
            ("POST", "/_fake/reset"): self.post_reset,
            ("GET", "/_fake/faults"): lambda req: (200, {}),
            ("POST", "/_fake/faults"): self.post_faults,
        }
        self.reset()

    def reset(self):
        self.requests = []        # as the threaded server records them
        self.sent = 0             # of which accepted (201)

    def answer(self, req, peer):
        """(status, JSON-able reply, extra headers)."""
        route = self.routes.get((req.method, req.path))
        if route:
            status, reply = route(req)
            return status, reply, ()
        if req.method == "POST" and (req.path == self.messages_path or
                                     twilio.MESSAGES_RE.match(req.path)):
            return self.create(req, peer)
        return 501, {"error": "fake_twilio --fast does not serve %s %s" % (req.method, req.path),
                     "serves": ["POST %s" % self.messages_path] +
                               ["%s %s" % route for route in self.routes]}, ()

    # ---- POST Messages.json ----

    def create(self, req, peer):
        now = time.time()
        fields = twilio.form_fields(req.body)
        user, status, reply, headers = self.create_reply(req, fields, now)
        sid = reply["sid"] if status == 201 else None
        self.requests.append({"time": now, "method": "POST", "path": req.target,
                              "auth_user": user, "form": fields, "peer": peer,
                              "status": status, "sid": sid})
        self.sent += status == 201
        return status, reply, headers

    def create_reply(self, req, fields, now):
        """(auth user, http status, JSON reply, extra headers)."""
        auth = req.headers.get("authorization", "")
        if auth == self.good_auth:
            user, password = self.account, self.token
        else:
            user, password = twilio.basic_auth(auth)
        if (user, password) != (self.account, self.token):
            return (user,) + twilio.twilio_error(20003, 401)
        if req.path != self.messages_path:           # another account's URL
            return (user,) + twilio.twilio_error(20404, 404)
        error = twilio.validation_error(fields)
        if error:
            return (user,) + error
        return user, 201, twilio.message_resource(self.account, fields, twilio.new_sid(),
                                                  rfc2822_date(now)), ()

    # ---- control ----

    def get_requests(self, req):
        method = dict(urllib.parse.parse_qsl(req.query)).get("method")
        if method:
            return 200, [r for r in self.requests if r["method"] == method.upper()]
        return 200, self.requests

    def get_count(self, req):
        return 200, {"requests": len(self.requests), "sent": self.sent}

    def post_reset(self, req):
        self.reset()
        return 200, {"ok": True}

    def post_faults(self, req):
        """{} (no faults: what test fixtures set) is all there is to set."""
        try:
            faults = json.loads(req.body or b"{}")
        except ValueError as e:
            return 400, {"error": str(e)}
        if faults != {}:
            return 501, {"error": "fake_twilio --fast injects no faults", "faults": faults}
        return 200, {}


def response(status, obj, headers, req):
    """The bytes of an answer to req (None: to a request that could not be read)."""
    body = json.dumps(obj).encode()
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "")),
             "Server: fake-twilio-fast/1.0",
             "Date: " + http_date(time.time()),
             "Content-Type: application/json; charset=utf-8",
             "Content-Length: %d" % len(body)]
    lines += ["%s: %s" % h for h in headers]
    if req is None or not req.keep_alive:
        lines.append("Connection: close")
    elif req.version == "HTTP/1.0":
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection(asyncio.Protocol):
    """One client connection: reads requests off a buffer, answers each
    complete one in order, writes the answers of one read together."""

    def __init__(self, fake):
        self.fake = fake
        self.buf = bytearray()    # deleting its head is cheap, unlike a bytes' slicing
        self.transport = self.peer = None
        self.continued = False    # "100 Continue" sent for the request being read

    def connection_made(self, transport):
        self.transport = transport
        self.peer = transport.get_extra_info("peername")[1]

    def data_received(self, data):
        self.buf += data
        out, keep_alive = [], True
        while keep_alive:
            try:
                req = self.take_request()
            except BadRequest as e:
                out.append(response(e.status, {"error": str(e)}, (), None))
                keep_alive = False
                break
            if req is None:
                break
            out.append(response(*self.fake.answer(req, self.peer), req))
            keep_alive = req.keep_alive
        if out:
            self.transport.write(b"".join(out))
        if not keep_alive:
            self.transport.close()

    def take_request(self):
        """The next complete request off the buffer, or None until there is one."""
        while self.buf.startswith(b"\r\n"):     # tolerated before a request line
            del self.buf[:2]
        end = self.buf.find(b"\r\n\r\n", 0, HEAD_MAX + 4)
        if end < 0:
            if len(self.buf) > HEAD_MAX:
                raise BadRequest(431, "request head over %d bytes" % HEAD_MAX)
            return None
        method, target, version, headers = parse_head(self.buf[:end])
        length = content_length(headers)
        start = end + 4
        if len(self.buf) < start + length:
            self.send_continue(headers, version)
            return None
        body = bytes(self.buf[start:start + length])
        del self.buf[:start + length]
        self.continued = False
        return Request(method, target, version, headers, body)

    def send_continue(self, headers, version):
        """curl waits up to a second for it before sending a body it announced
        with "Expect: 100-continue"."""
        if (not self.continued and version == "HTTP/1.1" and
                headers.get("expect", "").lower() == "100-continue"):
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.continued = True


def serve(options):
    """Runs the fast fake until killed; prints "PORT n" once listening."""
    loop = uvloop.new_event_loop() if uvloop else asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    fake = FastFake(options.account, options.token)
    server = loop.run_until_complete(loop.create_server(
        lambda: Connection(fake), options.host, options.port, backlog=1024))
    sys.stderr.write("fake_twilio: --fast on %s\n" % ("uvloop" if uvloop else "asyncio"))
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
