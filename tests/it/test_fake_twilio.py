"""The fake Twilio's Messages list API (tests/fakes/fake_twilio.py), which
the worker uses to look up a send whose outcome it does not know: driven
directly with python3-requests and through python3-twilio's own client
(which proves the wire format: query keys, paging links, the page shape).

Fixture: fake_twilio (fixtures_path.py); nothing else of the stack runs.
Then the fake's --fast mode (fixture fast), against the same answers."""

import base64
import datetime
import json
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import stack
from harness.twilio import FakeTwilio
from stack import ACCOUNT, TOKEN, OTHER_TOKEN, OTHER_ACCOUNT

FROM = "+15005551234"
A, B = "+15557770001", "+15557770002"


def messages_url(fake, account=ACCOUNT):
    return "%s/2010-04-01/Accounts/%s/Messages.json" % (fake.url, account)


@pytest.fixture
def api(fake_twilio):
    s = requests.Session()
    s.auth = (ACCOUNT, TOKEN)
    yield s
    s.close()


@pytest.fixture
def callbacks():
    """A local HTTP server the fake posts status callbacks to: .url, .got."""
    got = []

    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            got.append(self.rfile.read(n).decode())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = "http://127.0.0.1:%d/status" % server.server_address[1]
    server.got = got
    yield server
    server.shutdown()
    server.server_close()


def create(api, fake, to, body, sender=FROM, **more):
    form = dict({"To": to, "Body": body}, **more)
    if sender:
        form["From"] = sender
    r = api.post(messages_url(fake), data=form, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def listing(api, fake, params=None, path=None, status=200):
    url = fake.url + path if path else messages_url(fake)
    r = api.get(url, params=params, timeout=10)
    assert r.status_code == status, r.text
    return r.json()


def bodies(page):
    return [m["body"] for m in page["messages"]]


# --------------------------------------------------------------------------

def test_list_needs_basic_auth(fake_twilio, api):
    create(api, fake_twilio, A, "secret")
    for auth in (None, (ACCOUNT, OTHER_TOKEN), (OTHER_ACCOUNT, TOKEN)):
        r = requests.get(messages_url(fake_twilio), auth=auth, timeout=10)
        assert r.status_code == 401, (auth, r.text)
        assert r.json()["code"] == 20003 and r.json()["status"] == 401
    r = api.get(messages_url(fake_twilio, OTHER_ACCOUNT), timeout=10)
    assert r.status_code == 401 and r.json()["code"] == 20003
    gets = fake_twilio.requests(method="GET")
    assert [g["status"] for g in gets] == [401] * 4


def test_newest_first_and_to_from_filters(fake_twilio, api):
    made = [create(api, fake_twilio, A, "a0"), create(api, fake_twilio, B, "b0"),
            create(api, fake_twilio, A, "a1", sender="+15005550000"),
            create(api, fake_twilio, A, "a2"), create(api, fake_twilio, B, "b1")]
    page = listing(api, fake_twilio)
    assert bodies(page) == ["b1", "a2", "a1", "b0", "a0"]         # newest first
    # the same dicts a fetch returns
    one = api.get("%s/2010-04-01/Accounts/%s/Messages/%s.json"
                  % (fake_twilio.url, ACCOUNT, made[0]["sid"]), timeout=10).json()
    assert page["messages"][-1] == one == made[0]
    assert bodies(listing(api, fake_twilio, {"To": A})) == ["a2", "a1", "a0"]
    assert bodies(listing(api, fake_twilio, {"To": B})) == ["b1", "b0"]
    assert bodies(listing(api, fake_twilio, {"From": FROM})) == ["b1", "a2", "b0", "a0"]
    assert bodies(listing(api, fake_twilio, {"To": A, "From": FROM})) == ["a2", "a0"]
    assert bodies(listing(api, fake_twilio, {"To": "+15550000000"})) == []
    page = listing(api, fake_twilio, {"To": A})
    assert page["page"] == 0 and page["page_size"] == 50
    assert page["start"] == 0 and page["end"] == 2
    assert page["next_page_uri"] is None and page["previous_page_uri"] is None
    assert page["uri"] == page["first_page_uri"] == (
        "/2010-04-01/Accounts/%s/Messages.json?To=%%2B15557770001&PageSize=50&Page=0" % ACCOUNT)


def test_paging_across_pages(fake_twilio, api):
    for i in range(7):
        create(api, fake_twilio, A, "m%d" % i)
    create(api, fake_twilio, B, "other")
    first = listing(api, fake_twilio, {"To": A, "PageSize": 3})
    assert bodies(first) == ["m6", "m5", "m4"]
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 3, 0, 2)
    nxt = first["next_page_uri"]
    assert nxt.startswith("/2010-04-01/Accounts/%s/Messages.json?To=%%2B15557770001&PageSize=3"
                          "&Page=1&PageToken=PA%s" % (ACCOUNT, first["messages"][-1]["sid"]))

    # a new message meanwhile does not shift the pages that follow
    create(api, fake_twilio, A, "late")
    second = listing(api, fake_twilio, path=nxt)
    assert bodies(second) == ["m3", "m2", "m1"]
    assert (second["page"], second["start"], second["end"]) == (1, 3, 5)
    assert second["uri"] == nxt
    assert second["first_page_uri"] == first["first_page_uri"]
    third = listing(api, fake_twilio, path=second["next_page_uri"])
    assert bodies(third) == ["m0"]
    assert (third["page"], third["start"], third["end"]) == (2, 6, 6)
    assert third["next_page_uri"] is None

    back = listing(api, fake_twilio, path=third["previous_page_uri"])
    assert bodies(back) == ["m3", "m2", "m1"] and back["page"] == 1
    back = listing(api, fake_twilio, path=back["previous_page_uri"])
    assert bodies(back) == ["m6", "m5", "m4"] and back["page"] == 0
    assert back["previous_page_uri"] is None

    # Page without a token: an offset from the newest
    assert bodies(listing(api, fake_twilio, {"To": A, "PageSize": 3, "Page": 1})) == \
        ["m4", "m3", "m2"]


def test_page_size_bounds(fake_twilio, api):
    for i in range(55):
        create(api, fake_twilio, A, "n%d" % i)
    page = listing(api, fake_twilio)
    assert len(page["messages"]) == 50 and page["page_size"] == 50
    assert page["next_page_uri"] and "PageSize=50&Page=1&PageToken=PA" in page["next_page_uri"]
    assert len(listing(api, fake_twilio, path=page["next_page_uri"])["messages"]) == 5
    page = listing(api, fake_twilio, {"PageSize": 5000})
    assert page["page_size"] == 1000 and len(page["messages"]) == 55
    for bad in ({"PageSize": 0}, {"PageSize": "x"}, {"Page": -1},
                {"PageToken": "nonsense"}, {"PageToken": "PASM" + "0" * 32}):
        assert listing(api, fake_twilio, bad, status=400)["code"] == 20001, bad


def test_date_sent_filters(fake_twilio, api, callbacks):
    """date_sent is set when the status moves to "sent" (status callbacks);
    a message still queued has none and no DateSent filter matches it."""
    create(api, fake_twilio, A, "never sent")                     # no StatusCallback
    create(api, fake_twilio, A, "sent", StatusCallback=callbacks.url)
    assert stack.wait_for(lambda: len(callbacks.got) == 3, 10), callbacks.got
    page = listing(api, fake_twilio, {"To": A})
    sent, queued = page["messages"]
    assert (queued["body"], queued["status"], queued["date_sent"]) == ("never sent", "queued", None)
    assert sent["status"] == "delivered" and sent["date_sent"]
    sent_at = datetime.datetime.strptime(sent["date_sent"], "%a, %d %b %Y %H:%M:%S %z")
    day = sent_at.date().isoformat()
    yesterday = (sent_at.date() - datetime.timedelta(days=1)).isoformat()
    tomorrow = (sent_at.date() + datetime.timedelta(days=1)).isoformat()

    def only(params):
        return bodies(listing(api, fake_twilio, dict(params, To=A)))
    assert only({"DateSent": day}) == ["sent"]
    assert only({"DateSent": yesterday}) == []
    assert only({"DateSent<": day}) == ["sent"]                   # on or before
    assert only({"DateSent<": yesterday}) == []
    assert only({"DateSent>": day}) == ["sent"]                   # on or after
    assert only({"DateSent>": tomorrow}) == []
    assert only({"DateSent>": yesterday, "DateSent<": tomorrow}) == ["sent"]
    # date-times, to the second (what the helper libraries send)
    iso = sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    before = (sent_at - datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert only({"DateSent>": iso}) == ["sent"] and only({"DateSent<": iso}) == ["sent"]
    assert only({"DateSent<": before}) == []
    assert only({"DateSent": day + "T00:00:00Z"}) == ["sent"]     # its day
    for bad in ("2024-02-30", "yesterday", "2024-1-1"):
        assert listing(api, fake_twilio, {"DateSent>": bad}, status=400)["code"] == 20001
    # the literal query the docs show: DateSent>=YYYY-MM-DD
    r = api.get(messages_url(fake_twilio) + "?To=%2B15557770001&DateSent>=" + day, timeout=10)
    assert bodies(r.json()) == ["sent"]


def test_lists_recorded_as_get(fake_twilio, api):
    create(api, fake_twilio, A, "x")
    listing(api, fake_twilio, {"To": A, "PageSize": 10})
    assert [r["method"] for r in fake_twilio.requests()] == ["POST"]      # the default view
    assert [r["form"]["Body"] for r in fake_twilio.sent()] == ["x"]
    [get] = fake_twilio.requests(method="GET")
    assert get["query"] == {"To": A, "PageSize": "10"}
    assert (get["status"], get["count"], get["auth_user"], get["form"]) == (200, 1, ACCOUNT, {})
    assert [r["method"] for r in fake_twilio.requests(method=None)] == ["POST", "GET"]


def test_list_faults(fake_twilio, api):
    create(api, fake_twilio, A, "x")
    fake_twilio.faults({"list_fail_rate": 1.0, "status_5xx": 503})
    r = api.get(messages_url(fake_twilio), timeout=10)
    assert r.status_code == 503 and r.json()["code"] == 20500
    create(api, fake_twilio, A, "sends unaffected")
    fake_twilio.faults({"list_delay_ms": 300})
    t = time.monotonic()
    assert bodies(listing(api, fake_twilio)) == ["sends unaffected", "x"]
    assert time.monotonic() - t >= 0.3
    assert [g["status"] for g in fake_twilio.requests(method="GET")] == [503, 200]


def test_send_fault_mix(fake_twilio, api):
    """The soak's faults: 20 % of sends answered 503 or 429 + Retry-After: 1."""
    fake_twilio.faults({"fail_rate_5xx": 0.1, "status_5xx": 503, "rate_429": 0.1111,
                        "retry_after": 1, "seed": 11})
    answers = {}
    for i in range(1000):
        r = api.post(messages_url(fake_twilio), data={"To": A, "From": FROM, "Body": "f%d" % i},
                     timeout=10)
        answers[r.status_code] = answers.get(r.status_code, 0) + 1
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "1"
    assert set(answers) == {201, 503, 429}, answers
    assert 150 <= answers[503] + answers[429] <= 250, answers
    assert 60 <= answers[503] <= 140 and 60 <= answers[429] <= 140, answers


def test_python_twilio_client_lists(fake_twilio):
    """Twilio's own helper library creates, pages through and filters."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client
    client = Client(ACCOUNT, TOKEN, http_client=TwilioHttpClient(timeout=10))
    client.api.base_url = fake_twilio.url
    made = [client.messages.create(to=A, from_=FROM, body="lib %d" % i) for i in range(5)]
    client.messages.create(to=B, from_=FROM, body="lib other")
    got = client.messages.list(to=A, page_size=2)                 # three pages
    assert [m.body for m in got] == ["lib %d" % i for i in range(4, -1, -1)]
    assert [m.sid for m in got] == [m.sid for m in reversed(made)]
    assert got[0].status == "queued" and got[0].date_sent is None
    assert isinstance(got[0].date_created, datetime.datetime)
    pages = [g for g in fake_twilio.requests(method="GET")]
    assert len(pages) == 3 and [g["query"].get("Page") for g in pages] == [None, "1", "2"]
    assert all(g["status"] == 200 for g in pages)
    page = client.messages.page(to=A, page_size=2)
    assert [m.body for m in page] == ["lib 4", "lib 3"]
    assert [m.body for m in page.next_page()] == ["lib 2", "lib 1"]
    assert len(client.messages.list(limit=3)) == 3
    # date filters as the library sends them: "DateSent<" / "DateSent>" date-times
    today = datetime.datetime.now(datetime.timezone.utc)
    assert client.messages.list(to=A, date_sent_after=today - datetime.timedelta(days=1)) == []
    sent = fake_twilio.requests(method="GET")[-1]
    assert "DateSent>" in sent["query"] and sent["query"]["DateSent>"].endswith("Z")


def test_reply_delay_accepts_then_holds_the_answer(fake_twilio, api):
    """reply_delay_ms: Twilio has the message before its sender hears so;
    a sender that gives up (or dies) meanwhile finds it in the list."""
    fake_twilio.faults({"reply_delay_ms": 3000})
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(messages_url(fake_twilio), data={"To": A, "From": FROM, "Body": "held"},
                 timeout=0.5)
    [rec] = fake_twilio.requests()
    assert rec["status"] == 201 and rec["sid"]
    fake_twilio.faults({})
    [msg] = listing(api, fake_twilio, {"To": A})["messages"]
    assert (msg["sid"], msg["body"]) == (rec["sid"], "held")


def test_fail_bodies(fake_twilio, api):
    fake_twilio.faults({"fail_bodies": {"doomed": 503, "slow down": 429}, "retry_after": 2})
    for body, want in (("a doomed text", 503), ("please slow down", 429), ("fine", 201)):
        r = api.post(messages_url(fake_twilio), data={"To": A, "From": FROM, "Body": body},
                     timeout=10)
        assert r.status_code == want, (body, r.text)
        if want == 429:
            assert r.headers["Retry-After"] == "2" and r.json()["code"] == 20429
        if want == 503:
            assert r.json()["code"] == 20500
    assert [m["body"] for m in listing(api, fake_twilio)["messages"]] == ["fine"]


def test_hold_and_inflight(fake_twilio, api):
    """/_fake/hold holds the answer to the next accepted send; /_fake/inflight
    shows it (the client's port, 201 once Twilio has it) meanwhile."""
    fake_twilio.hold(1, 1500)
    got = {}

    def send():
        got["r"] = api.post(messages_url(fake_twilio), data={"To": A, "From": FROM,
                                                             "Body": "held once"}, timeout=10)
    t = threading.Thread(target=send)
    t.start()
    assert stack.wait_for(lambda: fake_twilio.inflight(), 5)
    [f] = fake_twilio.inflight()
    assert f["status"] == 201 and f["to"] == A and f["sid"].startswith("SM")
    t.join(10)
    assert got["r"].status_code == 201 and got["r"].json()["sid"] == f["sid"]
    assert fake_twilio.inflight() == []
    assert fake_twilio.requests()[0]["peer"] == f["peer"]
    start = time.monotonic()
    create(api, fake_twilio, A, "not held")             # the hold was for one send
    assert time.monotonic() - start < 1.0


# --------------------------------------------------------------------------
# --fast (tests/fakes/fake_twilio_fast.py): creates only, for benchmarks

@pytest.fixture(scope="module")
def _fast_session(base_dir):
    f = FakeTwilio(base_dir, status_callbacks=False, fast=True, name="fake-twilio-fast").start()
    yield f
    f.stop()


@pytest.fixture
def fast(_fast_session):
    _fast_session.reset()
    return _fast_session


def raw_post(fake, form, version="HTTP/1.1", headers=(), account=ACCOUNT, token=TOKEN):
    """A create's request bytes, as a client would write them."""
    body = urllib.parse.urlencode(form).encode()
    auth = base64.b64encode(("%s:%s" % (account, token)).encode()).decode()
    head = ["POST /2010-04-01/Accounts/%s/Messages.json %s" % (account, version),
            "Host: 127.0.0.1:%d" % fake.port, "Authorization: Basic " + auth,
            "Content-Type: application/x-www-form-urlencoded",
            "Content-Length: %d" % len(body)] + list(headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def read_response(f):
    """(status, {lower-case header: value}, body) off a socket's file."""
    status = int(f.readline().split()[1])
    headers = {}
    for line in iter(f.readline, b"\r\n"):
        name, _, value = line.decode().partition(":")
        headers[name.lower()] = value.strip()
    return status, headers, f.read(int(headers.get("content-length", 0)))


def test_fast_needs_basic_auth(fast):
    for auth in (None, (ACCOUNT, OTHER_TOKEN), (OTHER_ACCOUNT, TOKEN)):
        r = requests.post(messages_url(fast), data={"To": A, "From": FROM, "Body": "x"}, auth=auth,
                          timeout=10)
        assert r.status_code == 401, (auth, r.text)
        assert r.json() == {"code": 20003, "message": "Authenticate", "status": 401,
                            "more_info": "https://www.twilio.com/docs/errors/20003"}
    r = requests.post(messages_url(fast, OTHER_ACCOUNT), data={"To": A, "From": FROM, "Body": "x"},
                      auth=(ACCOUNT, TOKEN), timeout=10)
    assert r.status_code == 404 and r.json()["code"] == 20404
    recs = fast.requests()
    assert [r["status"] for r in recs] == [401, 401, 401, 404]
    assert [r["auth_user"] for r in recs] == [None, ACCOUNT, OTHER_ACCOUNT, ACCOUNT]
    assert fast.count() == {"requests": 4, "sent": 0}


def test_fast_creates_the_same_resource(fast, fake_twilio, api):
    """201 with the message resource the threaded server answers; a new SM sid each time."""
    for form in ({"To": A, "From": FROM, "Body": "héllo"},
                 {"To": B, "MessagingServiceSid": "MG" + "1" * 32, "Body": "x" * 200,
                  "StatusCallback": "http://127.0.0.1:1/status"}):
        r = api.post(messages_url(fast), data=form, timeout=10)
        assert r.status_code == 201, r.text
        slow = api.post(messages_url(fake_twilio), data=form, timeout=10).json()
        got = r.json()
        assert set(got) == set(slow)
        assert re.match(r"^SM[0-9a-f]{32}$", got["sid"]) and got["sid"] != slow["sid"]
        assert got["uri"] == "/2010-04-01/Accounts/%s/Messages/%s.json" % (ACCOUNT, got["sid"])
        for same in set(got) - {"sid", "uri", "subresource_uris", "date_created", "date_updated"}:
            assert got[same] == slow[same], same
    sids = {api.post(messages_url(fast), data={"To": A, "From": FROM, "Body": "n"}, timeout=10)
            .json()["sid"] for _ in range(50)}
    assert len(sids) == 50


def test_fast_rejects_what_a_create_rejects(fast, fake_twilio, api):
    """400 with the threaded server's very answer."""
    for form in ({"To": A, "From": FROM}, {"From": FROM, "Body": "x"}, {"To": A, "Body": "x"},
                 {"To": "555", "From": FROM, "Body": "x"},
                 {"To": A, "From": FROM, "Body": "x" * 1601}):
        r = api.post(messages_url(fast), data=form, timeout=10)
        slow = api.post(messages_url(fake_twilio), data=form, timeout=10)
        assert (r.status_code, r.json()) == (400, slow.json()), form
    assert fast.count() == {"requests": 5, "sent": 0}
    assert [r["form"] for r in fast.requests()][0] == {"To": A, "From": FROM}


def test_fast_records_arrivals(fast, api):
    before = time.time()
    made = [create(api, fast, A, "a%d" % i) for i in range(3)]
    after = time.time()
    recs = fast.requests()
    assert [r["sid"] for r in recs] == [m["sid"] for m in made]
    assert all(before <= r["time"] <= after for r in recs)
    assert [r["time"] for r in recs] == sorted(r["time"] for r in recs)
    assert recs[0]["form"] == {"To": A, "From": FROM, "Body": "a0"}
    assert (recs[0]["method"], recs[0]["auth_user"], recs[0]["status"]) == ("POST", ACCOUNT, 201)
    assert recs[0]["path"] == "/2010-04-01/Accounts/%s/Messages.json" % ACCOUNT
    assert [r["sid"] for r in fast.sent(to=A)] == [m["sid"] for m in made]
    assert fast.requests(method="GET") == [] and len(fast.requests(method=None)) == 3
    assert fast.count() == {"requests": 3, "sent": 3}
    fast.reset()
    assert fast.requests() == [] and fast.count() == {"requests": 0, "sent": 0}


def test_fast_keeps_connections_alive(fast):
    """Several requests on one connection, written one at a time and then
    pipelined in one write: answered in order, the connection kept."""
    with socket.create_connection(("127.0.0.1", fast.port), timeout=10) as s:
        f = s.makefile("rb")
        for i in range(3):
            s.sendall(raw_post(fast, {"To": A, "From": FROM, "Body": "one %d" % i}))
            status, headers, body = read_response(f)
            assert status == 201 and json.loads(body)["body"] == "one %d" % i
            assert "connection" not in headers
        s.sendall(b"".join(raw_post(fast, {"To": A, "From": FROM, "Body": "piped %d" % i})
                           for i in range(5)) + raw_post(fast, {"To": A, "From": FROM}))
        answers = [read_response(f) for _ in range(6)]
        assert [a[0] for a in answers] == [201] * 5 + [400]
        assert [json.loads(a[2]).get("body") for a in answers[:5]] == ["piped %d" % i for i in range(5)]
        # a request split across writes, its body after an Expect: 100-continue
        req = raw_post(fast, {"To": A, "From": FROM, "Body": "expected"}, headers=["Expect: 100-continue"])
        head, body = req.split(b"\r\n\r\n")
        s.sendall(head + b"\r\n\r\n")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n" and f.readline() == b"\r\n"
        s.sendall(body)
        assert read_response(f)[0] == 201
        s.sendall(raw_post(fast, {"To": A, "From": FROM, "Body": "last"}, headers=["Connection: close"]))
        status, headers, _ = read_response(f)
        assert status == 201 and headers["connection"] == "close"
        assert f.read() == b""                                        # closed
    recs = fast.requests()
    assert len(recs) == 11 and len({r["peer"] for r in recs}) == 1


def test_fast_http10_keep_alive(fast):
    """ab -k's HTTP/1.0 with "Connection: Keep-Alive": kept only when asked, and said so."""
    with socket.create_connection(("127.0.0.1", fast.port), timeout=10) as s:
        f = s.makefile("rb")
        for i in range(2):
            s.sendall(raw_post(fast, {"To": A, "From": FROM, "Body": "ab"}, version="HTTP/1.0",
                               headers=["Connection: Keep-Alive"]))
            status, headers, _ = read_response(f)
            assert status == 201 and headers["connection"] == "keep-alive"
        s.sendall(raw_post(fast, {"To": A, "From": FROM, "Body": "ab"}, version="HTTP/1.0"))
        status, headers, _ = read_response(f)
        assert status == 201 and headers["connection"] == "close" and f.read() == b""
    assert fast.count()["sent"] == 3


def test_fast_answers_501_to_the_rest(fast, api):
    sid = create(api, fast, A, "x")["sid"]
    for method, path, data in (
            ("GET", "/2010-04-01/Accounts/%s/Messages/%s.json" % (ACCOUNT, sid), None),
            ("GET", "/2010-04-01/Accounts/%s/Messages.json" % ACCOUNT, None),
            ("POST", "/_fake/hold", "{}"), ("GET", "/_fake/inflight", None),
            ("POST", "/_fake/faults", '{"fail_rate_5xx": 1}'), ("GET", "/elsewhere", None)):
        r = api.request(method, fast.url + path, data=data, timeout=10)
        assert r.status_code == 501 and "fast" in r.json()["error"], (method, path, r.text)
    assert fast.faults() == {} and fast.faults({}) == {}          # what the fixtures set
    with socket.create_connection(("127.0.0.1", fast.port), timeout=10) as s:
        s.sendall(b"POST /_fake/reset HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        f = s.makefile("rb")
        assert read_response(f)[0] == 501 and f.read() == b""
    assert fast.count()["sent"] == 1


def test_fast_python_twilio_client(fast):
    """Twilio's own helper library creates through it."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client
    client = Client(ACCOUNT, TOKEN, http_client=TwilioHttpClient(timeout=10))
    client.api.base_url = fast.url
    msg = client.messages.create(to=A, from_=FROM, body="lib")
    assert msg.sid.startswith("SM") and msg.status == "queued" and msg.body == "lib"
    assert [r["sid"] for r in fast.sent()] == [msg.sid]
