#!/usr/bin/python3
"""Generate tests/vectors/sig_vectors.h: X-Twilio-Signature test vectors
computed by Twilio's own helper library (Debian's python3-twilio), so the C
implementation in lib/asst_sig.c is checked against Twilio, not against itself.

Run with /usr/bin/python3 (the interpreter python3-twilio is installed for):
    /usr/bin/python3 tests/vectors/gen_sig_vectors.py
The output is committed; re-run only when adding vectors.
"""

import os
import sys
from urllib.parse import urlparse

import twilio
from twilio.request_validator import RequestValidator, add_port, remove_port

TOKEN = "12345678901234567890123456789012"   # 32 hex-ish chars, like a real token
WRONG = "abcdefabcdefabcdefabcdefabcdef00"
LONG_TOKEN = "k" * 100                       # longer than the HMAC-SHA1 block

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
SMS_URL = "https://assistant.example.org/sms"


class Pairs(list):
    """A list of (name, value) pairs that python-twilio can sign.

    compute_signature() does sorted(params.items()); a dict cannot hold a
    repeated form field, this can. Sorting the tuples orders by name, then
    by value, which is what lib/asst_sig.c must do.
    """

    def items(self):
        return list(self)


SMS_WEBHOOK = Pairs([
    ("ToCountry", "US"),
    ("ToState", "CA"),
    ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("NumMedia", "0"),
    ("ToCity", "SAN FRANCISCO"),
    ("FromZip", "94105"),
    ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
    ("FromState", "CA"),
    ("SmsStatus", "received"),
    ("FromCity", "SAN FRANCISCO"),
    ("Body", "remind me tomorrow at 9 to call mom"),
    ("FromCountry", "US"),
    ("To", "+14155550100"),
    ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
    ("ToZip", "94107"),
    ("NumSegments", "1"),
    ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("From", "+14155550123"),
    ("ApiVersion", "2010-04-01"),
])

MMS_WEBHOOK = Pairs([
    ("MessageSid", "MM0123456789abcdef0123456789abcdef"),
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("From", "+14155550123"),
    ("To", "+14155550100"),
    ("Body", "look at these"),
    ("NumMedia", "2"),
    ("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC01/Messages/MM01/Media/ME01"),
    ("MediaContentType0", "image/jpeg"),
    ("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC01/Messages/MM01/Media/ME02"),
    ("MediaContentType1", "image/png"),
    ("ApiVersion", "2010-04-01"),
])

STATUS_CALLBACK = Pairs([
    ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("MessageStatus", "undelivered"),
    ("ErrorCode", "30003"),
    ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
    ("From", "+14155550100"),
    ("To", "+14155550123"),
    ("ApiVersion", "2010-04-01"),
])


def sms(body):
    return Pairs([("MessageSid", "SM01"), ("From", "+14155550123"),
                  ("To", "+14155550100"), ("Body", body)])


# (description, signing token, signed URL, params,
#  URL given to validation (None: the signed one), tokens given to validation)
CASES = [
    ("documented example from twilio docs", TOKEN, URL, Pairs([
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"),
        ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212")]),
     None, None),
    ("plain SMS webhook", TOKEN, SMS_URL, SMS_WEBHOOK, None, None),
    ("MMS webhook with two media", TOKEN, SMS_URL, MMS_WEBHOOK, None, None),
    ("status callback", TOKEN, SMS_URL + "/status", STATUS_CALLBACK, None, None),
    ("empty param list", TOKEN, SMS_URL, Pairs(), None, None),
    ("empty body value", TOKEN, SMS_URL, sms(""), None, None),
    ("emoji body", TOKEN, SMS_URL, sms("on my way \U0001F600\U0001F44D"), None, None),
    ("accented body", TOKEN, SMS_URL, sms("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00e0 8h, \u00c7a va?"),
     None, None),
    ("CJK body", TOKEN, SMS_URL, sms("\u660e\u5929\u4e5d\u70b9\u63d0\u9192\u6211\u7ed9\u5988\u5988\u6253\u7535\u8bdd"),
     None, None),
    ("plus and spaces in value", TOKEN, SMS_URL, sms("1 + 1 = 2  (two spaces)"), None, None),
    ("literal %20 and %2B in value", TOKEN, SMS_URL, sms("100%20off %2B more %"), None, None),
    ("ampersand and equals in value", TOKEN, SMS_URL, sms("a=1&b=2&&c=="), None, None),
    ("quotes backslash newline tab in value", TOKEN, SMS_URL,
     sms("she said \"hi\"\\n\nline two\tcol"), None, None),
    ("long body 1600 chars", TOKEN, SMS_URL, sms(("0123456789abcdef" * 100)), None, None),
    ("token longer than HMAC block", LONG_TOKEN, SMS_URL, SMS_WEBHOOK, None, None),
    ("repeated key sorted by value", TOKEN, SMS_URL, Pairs([
        ("MessageSid", "SM01"), ("Tag", "zeta"), ("Tag", "alpha"), ("Tag", "mid"),
        ("Body", "x")]), None, None),
    ("repeated key, value prefix", TOKEN, SMS_URL, Pairs([
        ("k", "ab"), ("k", "a"), ("k", ""), ("k", "abc")]), None, None),
    ("repeated key, non-ASCII values sort as unsigned bytes", TOKEN, SMS_URL, Pairs([
        ("Tag", "\U0001F600"), ("Tag", "z"), ("Tag", "\u00e9"), ("Tag", "A")]), None, None),
    ("sort by name then value, not by name+value", TOKEN, SMS_URL, Pairs([
        ("ab", ""), ("a", "c"), ("a", "b")]), None, None),
    ("name prefixes To ToCity ToCountry", TOKEN, SMS_URL, Pairs([
        ("ToCountry", "US"), ("To", "+1"), ("ToCity", "SF"), ("T", "x")]), None, None),
    ("case-sensitive byte order of names", TOKEN, SMS_URL, Pairs([
        ("body", "lower"), ("Body", "upper"), ("_x", "under"), ("BODY", "caps"),
        ("9", "digit")]), None, None),
    ("URL with query string", TOKEN,
     "https://assistant.example.org/sms?tenant=acme&x=%20y+z", SMS_WEBHOOK, None, None),
    ("https with :443, validated as signed", TOKEN,
     "https://assistant.example.org:443/sms", SMS_WEBHOOK, None, None),
    ("http without port", TOKEN, "http://assistant.example.org/sms", SMS_WEBHOOK, None, None),
    ("http with :80", TOKEN, "http://assistant.example.org:80/sms", SMS_WEBHOOK, None, None),
    ("non-default port", TOKEN, "https://assistant.example.org:8443/sms?t=1",
     SMS_WEBHOOK, None, None),
    ("signed with :443, validated without port", TOKEN,
     "https://assistant.example.org:443/sms", SMS_WEBHOOK,
     "https://assistant.example.org/sms", None),
    ("signed without port, validated with :443", TOKEN,
     "https://assistant.example.org/sms", SMS_WEBHOOK,
     "https://assistant.example.org:443/sms", None),
    ("signed with :80, validated without port", TOKEN,
     "http://assistant.example.org:80/sms?a=b", SMS_WEBHOOK,
     "http://assistant.example.org/sms?a=b", None),
    ("signed without port, validated with :80", TOKEN,
     "http://assistant.example.org/sms", SMS_WEBHOOK,
     "http://assistant.example.org:80/sms", None),
    ("signed with :8443, validated with it", TOKEN,
     "https://assistant.example.org:8443/sms", SMS_WEBHOOK,
     "https://assistant.example.org:8443/sms", None),
    ("signed with :8443, validated without port (must fail)", TOKEN,
     "https://assistant.example.org:8443/sms", SMS_WEBHOOK,
     "https://assistant.example.org/sms", None),
    ("signed with :443, validated on http (must fail)", TOKEN,
     "https://assistant.example.org:443/sms", SMS_WEBHOOK,
     "http://assistant.example.org/sms", None),
    ("signed on another path (must fail)", TOKEN,
     "https://assistant.example.org/sms", SMS_WEBHOOK,
     "https://assistant.example.org/sms/", None),
    ("signed with a different query (must fail)", TOKEN,
     "https://assistant.example.org/sms?a=1", SMS_WEBHOOK,
     "https://assistant.example.org/sms?a=2", None),
    ("wrong token (must fail)", TOKEN, SMS_URL, SMS_WEBHOOK, None, [WRONG]),
    ("secondary token validates", TOKEN, SMS_URL, SMS_WEBHOOK, None, [WRONG, TOKEN]),
    ("primary token validates with a secondary", TOKEN, SMS_URL, SMS_WEBHOOK, None,
     [TOKEN, WRONG]),
    ("two wrong tokens (must fail)", TOKEN, SMS_URL, SMS_WEBHOOK, None, [WRONG, LONG_TOKEN]),
]

URL_CASES = [
    "https://assistant.example.org/sms",
    "https://assistant.example.org:443/sms",
    "https://assistant.example.org:8443/sms",
    "http://assistant.example.org/sms",
    "http://assistant.example.org:80/sms",
    "http://assistant.example.org:8080/sms?a=1&b=%20",
    "https://assistant.example.org/sms?tenant=acme",
    "https://assistant.example.org:443/sms?tenant=acme#frag",
    "https://assistant.example.org",
    "https://assistant.example.org:443",
    "http://127.0.0.1:8080/sms",
    "http://127.0.0.1/sms",
    "http://localhost:80/",
]


def c_str(s):
    """A C string literal of s's UTF-8 bytes. Non-printable and non-ASCII
    bytes become 3-digit octal escapes (hex escapes would swallow a
    following hex digit); '?' is escaped against trigraphs."""
    if s is None:
        return "NULL"
    out = ['"']
    for b in s.encode("utf-8"):
        ch = chr(b)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7f:
            out.append(ch)
        else:
            out.append("\\%03o" % b)
    out.append('"')
    return "".join(out)


def expected_valid(url, params, signature, tokens):
    return any(RequestValidator(t).validate(url, params, signature) for t in tokens)


def emit(out):
    w = out.append
    w("/* Generated by tests/vectors/gen_sig_vectors.py with python3-twilio %s\n"
      " * (twilio.request_validator). Do not edit: re-run the script. */\n"
      % twilio.__version__)
    w("#ifndef SIG_VECTORS_H\n#define SIG_VECTORS_H\n\n")
    w("typedef struct {\n    const char *name;\n    const char *value;\n} sig_vector_param_t;\n\n")
    w("typedef struct {\n"
      "    const char *desc;\n"
      "    const char *token;          /* token that signed */\n"
      "    const char *url;            /* URL that was signed */\n"
      "    const sig_vector_param_t *params;  /* in the order received */\n"
      "    int nparams;\n"
      "    const char *signature;      /* compute_signature(url, params) */\n"
      "    const char *validate_url;   /* URL given to validation */\n"
      "    const char *tokens[2];      /* tokens given to validation */\n"
      "    int ntokens;\n"
      "    int valid;                  /* RequestValidator.validate() with any token */\n"
      "} sig_vector_t;\n\n")
    w("typedef struct {\n    const char *url;\n    const char *with_port;     /* add_port(urlparse(url)) */\n"
      "    const char *without_port;  /* remove_port(urlparse(url)) */\n} sig_url_vector_t;\n\n")

    rows = []
    for i, (desc, token, url, params, vurl, tokens) in enumerate(CASES):
        vurl = vurl or url
        tokens = tokens or [token]
        assert len(tokens) <= 2
        sig = RequestValidator(token).compute_signature(url, params)
        valid = expected_valid(vurl, params, sig, tokens)
        if params:
            w("static const sig_vector_param_t sig_params_%d[] = {\n" % i)
            for name, value in params:
                w("    { %s, %s },\n" % (c_str(name), c_str(value)))
            w("};\n")
            parr = "sig_params_%d" % i
        else:
            parr = "NULL"
        toks = ", ".join(c_str(t) for t in tokens + [None] * (2 - len(tokens)))
        rows.append("    { %s,\n      %s,\n      %s,\n      %s, %d,\n      %s,\n"
                    "      %s,\n      { %s }, %d, %d },\n"
                    % (c_str(desc), c_str(token), c_str(url), parr, len(params),
                       c_str(sig), c_str(vurl), toks, len(tokens), 1 if valid else 0))
    w("\nstatic const sig_vector_t sig_vectors[] = {\n")
    w("".join(rows))
    w("};\n#define SIG_VECTOR_COUNT ((int)(sizeof(sig_vectors) / sizeof(sig_vectors[0])))\n\n")

    w("static const sig_url_vector_t sig_url_vectors[] = {\n")
    for url in URL_CASES:
        parsed = urlparse(url)
        # Only URLs urlparse round-trips verbatim: anything else would test
        # Python's normalisation, not the port handling.
        assert parsed.geturl() == url, url
        w("    { %s,\n      %s,\n      %s },\n"
          % (c_str(url), c_str(add_port(parsed)), c_str(remove_port(parsed))))
    w("};\n#define SIG_URL_VECTOR_COUNT ((int)(sizeof(sig_url_vectors) / sizeof(sig_url_vectors[0])))\n\n")
    w("#endif\n")


def main():
    out = []
    emit(out)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sig_vectors.h")
    with open(path, "w", encoding="ascii") as f:
        f.write("".join(out))
    print("wrote %s (%d vectors, %d url vectors)" % (path, len(CASES), len(URL_CASES)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
