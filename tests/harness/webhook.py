"""The Twilio side of a webhook: the test identities, the form fields
Twilio posts, and signed posts to a local Apache.  Signatures come from
python3-twilio's RequestValidator, never from our own code."""

import os
import time
import urllib.parse

# Test identities.  Twilio auth tokens are 32 hex characters, Account SIDs "AC" + 32.
TOKEN = "9f2c4e1a7b3d5c6e8f0a1b2c3d4e5f60"
SECONDARY_TOKEN = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
OTHER_TOKEN = "ffffeeeeddddccccbbbbaaaa99998888"
ACCOUNT = "AC" + "0123456789abcdef0123456789abcdef"
OTHER_ACCOUNT = "AC" + "fedcba9876543210fedcba9876543210"
PUBLIC = "https://assistant.example.com"
TWILIO_FROM = "+15005551234"          # the assistant's number (what people text)
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'   # what a webhook gets


class _Pairs:
    """Adapter so python-twilio's compute_signature (which sorts
    params.items()) sees every (name, value) pair of a repeated field."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def items(self):
        return list(self.pairs)

    def __len__(self):
        return len(self.pairs)


def twilio_signature(token, url, params):
    """X-Twilio-Signature as computed by python-twilio (never by our own code)."""
    from twilio.request_validator import RequestValidator
    if isinstance(params, dict):
        p = params
    else:
        pairs = list(params)
        names = [k for k, _ in pairs]
        p = dict(pairs) if len(set(names)) == len(names) else _Pairs(pairs)
    return RequestValidator(token).compute_signature(url, p)


_sid_counter = [0]


def new_sid(prefix="SM"):
    _sid_counter[0] += 1
    raw = "%08x%08x%016x" % (os.getpid() & 0xffffffff, _sid_counter[0],
                             int(time.time() * 1e6) & 0xffffffffffffffff)
    return prefix + raw[:32]


def sms_params(sid=None, account=None, from_="+15005550006", to="+15005551234",
               body="Hello assistant", media=(), extra=()):
    """Form fields of an incoming-message webhook, in the order Twilio posts them."""
    sid = new_sid() if sid is None else sid
    pairs = [
        ("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", sid),
        ("NumMedia", str(len(media))), ("ToCity", "SAN FRANCISCO"),
        ("FromZip", "94105"), ("SmsSid", sid), ("FromState", "CA"),
        ("SmsStatus", "received"), ("FromCity", "SAN FRANCISCO"), ("Body", body),
        ("FromCountry", "US"), ("To", to), ("ToZip", "94105"),
        ("NumSegments", "1"), ("MessageSid", sid), ("AccountSid", account),
        ("From", from_), ("ApiVersion", "2010-04-01"),
    ]
    for i, (url, ctype) in enumerate(media):
        pairs.append(("MediaContentType%d" % i, ctype))
        pairs.append(("MediaUrl%d" % i, url))
    pairs.extend(extra)
    return [(k, v) for k, v in pairs if v is not None]


def status_params(sid, status, account=None, from_="+15005551234", to="+15005550006",
                  extra=()):
    pairs = [("SmsSid", sid), ("SmsStatus", status), ("MessageStatus", status),
             ("To", to), ("MessageSid", sid), ("AccountSid", account),
             ("From", from_), ("ApiVersion", "2010-04-01")]
    pairs.extend(extra)
    return [(k, v) for k, v in pairs if v is not None]


def form_encode(params, space="+"):
    """application/x-www-form-urlencoded body; space '+' (quote_plus) or '%20'."""
    if space == "+":
        return urllib.parse.urlencode(params)
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def signed_form(token, url, params, headers=None):
    """(body, headers) of a webhook as Twilio posts it to url: form-encoded,
    signed by python-twilio, plus headers."""
    return form_encode(params).encode("ascii"), dict(
        {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1",
         "X-Twilio-Signature": twilio_signature(token, url, params)}, **(headers or {}))


class Webhook:
    """Posts Twilio-style webhooks to a local Apache, signed for the public URL."""

    CT = "application/x-www-form-urlencoded"

    def __init__(self, apache, token, public_base, account):
        self.apache = apache
        self.token = token
        self.public_base = public_base.rstrip("/")
        self.account = account

    def post(self, path, params, sign_url=None, token=None, signature=None,
             sign=True, data=None, headers=None, space="+", timeout=10, session=None):
        import requests
        if sign_url is None:
            sign_url = self.public_base + path
        hdrs = {"Content-Type": self.CT, "User-Agent": "TwilioProxy/1.1",
                "Connection": "close"}
        if sign:
            if signature is None:
                signature = twilio_signature(token or self.token, sign_url, params)
            hdrs["X-Twilio-Signature"] = signature
        if headers:
            hdrs.update(headers)
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        if data is None:
            data = form_encode(params, space).encode("ascii")
        r = (session or requests).post(self.apache.url + path, data=data, headers=hdrs,
                                       timeout=timeout, allow_redirects=False)
        return r

    def sms(self, path="/sms", account=None, **kw):
        post_kw = {k: kw.pop(k) for k in list(kw) if k in
                   ("sign_url", "token", "signature", "sign", "headers", "space",
                    "session", "timeout")}
        params = sms_params(account=account or self.account, **kw)
        return self.post(path, params, **post_kw), params

    def status(self, sid, status, path="/status", account=None, **kw):
        post_kw = {k: kw.pop(k) for k in list(kw) if k in
                   ("sign_url", "token", "signature", "sign", "headers", "space",
                    "session", "timeout")}
        params = status_params(sid, status, account=account or self.account, **kw)
        return self.post(path, params, **post_kw), params
