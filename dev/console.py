#!/usr/bin/python3
"""dev/console.py: text the assistant as if from a phone.

Started by dev/run (which installs and builds first).  Brings up the whole
assistant on loopback in STATE (recreated each run; dev/localstack.py):
PostgreSQL, Redis, Apache with mod_assistant (/sms, /status, /metrics), a
stand-in for Twilio's REST API (tests/fakes/fake_twilio.py) and
assistant-worker.  Then reads lines: each is posted to /sms exactly as Twilio
posts an incoming SMS (its form fields, signed with python-twilio's
RequestValidator), and the replies the worker sends through "Twilio" are
shown as they arrive, like an SMS thread.  EOF, /quit or Ctrl-C stops it all.
Works with piped input: printf 'hello\\nSTOP\\n' | dev/run.

  dev/console.py --build BUILD_DIR [--state DIR] [--from +1...] [--timeout S]
"""

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True     # nothing written under tests/ or dev/
import localstack  # noqa: E402  (dev/localstack.py: the whole stack)
from localstack import ASSISTANT_NUMBER  # noqa: E402
from harness.webhook import signed_form  # noqa: E402  (tests/harness)

DEFAULT_FROM = "+15551230001"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}
SETTLE = 0.6          # seconds without a new part before a reply counts as complete
POLL = 0.1            # seconds between looks at the fake Twilio's requests

HELP = """\
Type a message and press Enter: it is posted to /sms as Twilio would post an
SMS from your number to the assistant's, and the reply appears when the
worker sends it through the (fake) Twilio API.  Commands:
  /from +15551230002   text as another number (E.164)
  /queue               assistant-admin queue: stream, pending, dead letters, outbox
  /metrics             the module's non-zero Prometheus metrics
  /help                this
  /quit                stop everything (so do Ctrl-D and Ctrl-C)
A message that starts with "/" is sent by doubling it: "//etc" sends "/etc".
STOP opts you out (nothing is sent to you after it), START opts you in again."""

GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
           "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
           "^{}\\[~]|€")


def num_segments(text):
    """How many SMS segments Twilio bills for text (GSM-7 or UCS-2)."""
    if all(c in GSM7 for c in text):
        n, single, multi = sum(2 if c in "^{}\\[~]|€" else 1 for c in text), 160, 153
    else:
        n, single, multi = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if n <= single else -(-n // multi)


def geo(number):
    """Twilio's From*/To* geography fields: filled for US numbers, empty otherwise."""
    if number.startswith("+1"):
        return {"Country": "US", "State": "CA", "City": "SAN FRANCISCO", "Zip": "94105"}
    return {"Country": "", "State": "", "City": "", "Zip": ""}


def keyword(text):
    return text.strip().upper()


class Console:
    def __init__(self, args):
        self.stack = localstack.LocalStack(args.state, args.build, workers=2, signup="open",
                                           out=self.say)
        self.from_ = args.from_
        self.tty = sys.stdin.isatty()
        self.timeout = args.timeout or (10.0 if self.tty else 5.0)
        self.lock = threading.RLock()          # output, and the state below
        self.cond = threading.Condition(self.lock)
        self.seen = 0                          # fake Twilio requests looked at
        self.replies = {}                      # number -> replies (201s) so far
        self.sent_at = {}                      # number -> wall time of its last webhook
        self.opted_out = set()
        self.at_prompt = False
        self.stopping = threading.Event()
        self.log_offsets = {}

    def rel(self, path):
        r = os.path.relpath(path, os.getcwd())
        return path if r.startswith("..") else r

    # -- output: the poller prints too, so one lock, and the prompt is redrawn
    def prompt(self):
        return "%s> " % self.from_

    def say(self, text=""):
        with self.lock:
            if self.at_prompt and self.tty:
                try:
                    import readline
                    buf = readline.get_line_buffer()
                except ImportError:
                    buf = ""
                sys.stdout.write("\r\x1b[K%s\n%s%s" % (text, self.prompt(), buf))
                sys.stdout.flush()
            else:
                print(text, flush=True)

    # -- the stack
    def start(self):
        self.stack.start()
        for path in self.logs():
            self.log_offsets[path] = self.size(path)
        threading.Thread(target=self.poll_replies, name="replies", daemon=True).start()

    def stop(self):
        self.stopping.set()
        stopped = self.stack.stop()
        if stopped:
            self.say("stopped %s; logs and data stay in %s/ until the next dev/run"
                     % (", ".join(stopped), self.rel(self.stack.state)))

    def explain(self):
        st = self.stack
        a, r, pg, tw, w = st.apache, st.redis, st.pg.server, st.fake, st.worker
        master, agents, scheds = st.worker_pids()
        user = st.worker_user_note or "children run as you"
        print("""\
The assistant is running on loopback, everything under {state}/ (recreated each run):

  PostgreSQL  port {pgport}, socket dir {pgsock}, database assistant (owner role assistant,
              migrated: {migrated})   log {pglog}
  Redis       {raddr}, in memory only   log {rlog}
  Apache      {url} (pid {apid}, event MPM) with mod_assistant
              config {aconf}   logs {elog}, {alog}
    /sms        incoming messages (Twilio's webhook), signed with the token in {token}
    /status     Twilio's delivery status callbacks of the replies
    /metrics    Prometheus metrics, loopback only
  fake Twilio {turl} (pid {tpid}): Twilio's REST API; posts status callbacks to /status
              log {tlog}
  worker      assistant-worker (master {master}, agents {agents}, scheduler {scheds}),
              2 agents, SignupPolicy open, {user}
              config {wconf}   log {wlog}

You are a phone, {from_}, texting the assistant's number {to}. Each line is
posted to /sms the way Twilio posts an incoming SMS; the reply is shown when the
worker sends it to Twilio. /help lists the commands; Ctrl-D, Ctrl-C or /quit
stops it all.
""".format(state=self.rel(st.state), pgport=pg.port, pgsock=self.rel(pg.sock_dir),
           migrated=(st.migrate_output.splitlines() or ["ok"])[-1], pglog=self.rel(pg.log_path),
           raddr=r.addr, rlog=self.rel(r.log_path), url=st.base_url, apid=a.pid,
           aconf=self.rel(a.conf_path), elog=self.rel(a.log_path), alog=self.rel(a.access_log),
           token=self.rel(st.token_file), turl=tw.url, tpid=tw.pid,
           tlog=self.rel(tw.log_path), master=master, agents=" ".join(map(str, agents)),
           scheds=" ".join(map(str, scheds)), user=user, wconf=self.rel(w.conf),
           wlog=self.rel(w.log), from_=self.from_, to=ASSISTANT_NUMBER), flush=True)

    # -- Twilio's side: the webhook
    def params(self, text, sid):
        f, t = geo(self.from_), geo(ASSISTANT_NUMBER)
        return [
            ("ToCountry", t["Country"]), ("ToState", t["State"]), ("SmsMessageSid", sid),
            ("NumMedia", "0"), ("ToCity", t["City"]), ("FromZip", f["Zip"]),
            ("SmsSid", sid), ("FromState", f["State"]), ("SmsStatus", "received"),
            ("FromCity", f["City"]), ("Body", text), ("FromCountry", f["Country"]),
            ("To", ASSISTANT_NUMBER), ("ToZip", t["Zip"]),
            ("NumSegments", str(num_segments(text))), ("MessageSid", sid),
            ("AccountSid", self.stack.account), ("From", self.from_),
            ("ApiVersion", "2010-04-01"),
        ]

    def send(self, text):
        import requests
        sid = "SM" + secrets.token_hex(16)
        params = self.params(text, sid)
        url = self.stack.base_url + "/sms"          # = AssistantPublicURL
        data, headers = signed_form(self.stack.token, url, params, {
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()), "Accept": "*/*",
            "Cache-Control": "max-age=259200", "X-Home-Region": "us1"})
        number = self.from_
        with self.lock:
            before = len(self.replies.get(number, []))
            self.sent_at[number] = time.time()
        t0 = time.monotonic()
        try:
            r = requests.post(url, data=data, headers=headers, timeout=15, allow_redirects=False)
        except requests.RequestException as e:
            self.say("  webhook: no answer from Apache: %s" % e)
            return
        ms = (time.monotonic() - t0) * 1000
        self.say("  webhook: POST /sms %d %s in %.1f ms (MessageSid %s)"
                 % (r.status_code, r.reason, ms, sid))
        if r.status_code != 200:
            self.say("  not accepted: %s" % r.text.strip()[:200])
            self.show_logs()
            return
        word = keyword(text)
        if word in STOP_WORDS:
            self.opted_out.add(number)
            why = "opted out"
        elif word in START_WORDS:
            self.opted_out.discard(number)
            why = "opted in again: Twilio itself confirms a START, the assistant does not"
        elif number in self.opted_out:
            why = "opted out: send START to opt in again"
        else:
            why = None
        self.wait_reply(number, before, why)
        self.show_logs()

    def wait_reply(self, number, before, silent):
        """Waits for the reply to number's last webhook (poll_replies prints
        it); silent: why no reply is expected (still waits, in case)."""
        deadline = time.monotonic() + self.timeout
        with self.cond:
            while True:
                n = len(self.replies.get(number, []))
                now = time.monotonic()
                if n > before and not silent:
                    last = self.replies[number][-1][0]
                    if now - last >= SETTLE:         # no further parts: complete
                        return
                    self.cond.wait(SETTLE - (now - last))
                    continue
                if now >= deadline:
                    break
                self.cond.wait(deadline - now)
        if len(self.replies.get(number, [])) > before:
            return
        if silent:
            self.say("  no reply (%s)" % silent)
        else:
            self.say("  no reply within %.0f s: see %s (and /queue)"
                     % (self.timeout, self.rel(self.stack.worker.log)))

    # -- Twilio's side: what the worker sent
    def poll_replies(self):
        import requests
        session = requests.Session()
        while not self.stopping.is_set():
            try:
                reqs = self.stack.fake.requests(session)
            except Exception:        # stopping, or a hiccup: look again
                time.sleep(POLL)
                continue
            with self.cond:
                for entry in reqs[self.seen:]:
                    self.show_outbound(entry)
                self.seen = max(self.seen, len(reqs))
                self.cond.notify_all()
            time.sleep(POLL)

    def show_outbound(self, entry):
        form = entry.get("form") or {}
        to, body, status = form.get("To", "?"), form.get("Body", ""), entry.get("status")
        sent = self.sent_at.get(to)
        after = " [%.0f ms after the webhook]" % ((entry["time"] - sent) * 1000) if sent else ""
        if status == 201:
            self.replies.setdefault(to, []).append((time.monotonic(), body))
            who = "" if to == self.from_ else " (to %s)" % to
            lines = body.split("\n")
            self.say("  %s%s: %s%s" % (form.get("From") or form.get("MessagingServiceSid", "?"),
                                       who, lines[0], after))
            for line in lines[1:]:
                self.say("      " + line)
        else:
            self.say("  (Twilio API answered %s to a send to %s; the worker will retry)"
                     % (status, to))

    # -- logs
    def logs(self):
        return [self.stack.apache.log_path, self.stack.worker.log_path]

    @staticmethod
    def size(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def show_logs(self):
        """New warnings and errors in httpd's and the worker's logs."""
        for path in self.logs():
            off = self.log_offsets.get(path, 0)
            try:
                with open(path, "rb") as f:
                    f.seek(off)
                    data = f.read()
            except OSError:
                continue
            self.log_offsets[path] = off + len(data)
            for line in data.decode("utf-8", "replace").splitlines():
                if re.search(r"\[(warn|error|crit|alert|emerg)\]|:(warn|error|crit|alert|emerg)\]",
                             line):
                    self.say("  %s: %s" % (os.path.basename(path), line))

    # -- commands
    def metrics(self):
        import requests
        try:
            r = requests.get(self.stack.base_url + "/metrics", timeout=10)
        except requests.RequestException as e:
            self.say("GET /metrics failed: %s" % e)
            return
        shown = 0
        for line in r.text.splitlines():
            if not line or line.startswith("#"):
                continue
            try:
                if float(line.rsplit(None, 1)[1]) == 0:
                    continue
            except (IndexError, ValueError):
                pass
            self.say("  " + line)
            shown += 1
        if not shown:
            self.say("  (all zero)")

    def queue(self):
        r = self.stack.admin("queue", timeout=30, stderr=subprocess.STDOUT)
        for line in r.stdout.rstrip("\n").splitlines():
            self.say("  " + line)
        if r.returncode != 0:
            self.say("  (assistant-admin queue exited %d)" % r.returncode)

    # -- the prompt
    def read_line(self):
        if self.tty:
            with self.lock:
                self.at_prompt = True
            try:
                return input(self.prompt())
            finally:
                with self.lock:
                    self.at_prompt = False
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        line = line.rstrip("\n")
        self.say(self.prompt() + line)
        return line

    def loop(self):
        while True:
            try:
                line = self.read_line()
            except EOFError:
                if self.tty:
                    print()
                return
            line = line.strip()
            if not line:
                continue
            if line.startswith("/") and not line.startswith("//"):
                cmd, _, arg = line.partition(" ")
                arg = arg.strip()
                if cmd in ("/quit", "/exit", "/q"):
                    return
                elif cmd in ("/help", "/?"):
                    self.say(HELP)
                elif cmd == "/metrics":
                    self.metrics()
                elif cmd == "/queue":
                    self.queue()
                elif cmd == "/from":
                    number = re.sub(r"[\s().-]", "", arg)
                    if E164.match(number):
                        self.from_ = number
                        self.say("now texting as %s" % number)
                    else:
                        self.say("/from needs an E.164 number such as +15551230002")
                else:
                    self.say("unknown command %s; /help lists them" % cmd)
                continue
            self.send(line[1:] if line.startswith("//") else line)


def main():
    ap = argparse.ArgumentParser(description="Text the assistant as if from a phone.")
    ap.add_argument("--build", required=True,
                    help="build directory (mod_assistant/.libs/mod_assistant.so, worker/assistant-*)")
    ap.add_argument("--state", default=os.path.join(REPO, "state"),
                    help="directory for every server's data and logs (recreated; default state/)")
    ap.add_argument("--from", dest="from_", default=DEFAULT_FROM,
                    help="the number you text from (default %s)" % DEFAULT_FROM)
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds to wait for a reply (default 10, 5 when stdin is not a terminal)")
    args = ap.parse_args()
    if not E164.match(args.from_):
        ap.error("--from needs an E.164 number")
    sys.stdout.reconfigure(line_buffering=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    c = Console(args)
    missing = c.stack.missing()
    if missing:
        print("dev/run: missing %s (bash dev/build; dev/install-deps)" % ", ".join(missing),
              file=sys.stderr)
        return 1
    if c.tty:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
    rc = 0
    try:
        try:
            c.start()
        except (RuntimeError, OSError) as e:      # harness.ServerError is a RuntimeError
            print("dev/run: could not start the stack: %s" % e, file=sys.stderr)
            rc = 1
        else:
            c.explain()
            c.loop()
    except KeyboardInterrupt:
        print()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not skip the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        c.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
