#!/usr/bin/python3
"""dev/console.py: text mod_assistant as if from a phone.

Started by dev/run (which installs and builds first).  Starts a private
redis-server and Apache (event MPM, mod_assistant at /sms, /status,
/metrics) in STATE (recreated each run), then reads lines: each is posted to
/sms exactly as Twilio posts an incoming SMS (its form fields, signed with
python-twilio's RequestValidator) and the console shows the answer and the
envelope that landed in the Redis stream {asst}:in.  EOF, /quit or Ctrl-C
stops Redis and Apache.  Works with piped input: printf 'hi\\n' | dev/run.

  dev/console.py --module PATH/mod_assistant.so [--state DIR] [--from +1...]
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "it"))
sys.dont_write_bytecode = True     # nothing written under tests/
import stack  # noqa: E402  (tests/it/stack.py: private Redis + Apache)

STREAM = "{asst}:in"
DEFAULT_FROM = "+15551230001"
ASSISTANT_NUMBER = "+15559870000"     # the Twilio number people text
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

HELP = """\
Type a message and press Enter: it is posted to /sms as Twilio would post an
SMS from your number to the assistant's.  Commands:
  /from +15551230002   text as another number (E.164)
  /metrics             the module's non-zero Prometheus metrics
  /help                this
  /quit                stop Redis and Apache (so do Ctrl-D and Ctrl-C)
A message that starts with "/" is sent by doubling it: "//etc" sends "/etc"."""

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


def pid_of(path, state):
    """The pid in path if that process is alive and was started for state."""
    try:
        with open(path) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    try:                        # redis-server rewrites its cmdline; it runs in --dir
        cwd = os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        cwd = ""
    return pid if state in cmd or cwd.startswith(state + os.sep) else None


def stop_leftovers(state):
    """Stops an Apache or Redis a previous run left behind (killed console)."""
    for path in (os.path.join(state, "httpd", "run", "httpd.pid"),
                 os.path.join(state, "redis", "redis.pid")):
        pid = pid_of(path, state)
        if not pid:
            continue
        print("stopping pid %d left running by a previous dev/run (%s)" % (pid, path))
        os.kill(pid, signal.SIGTERM)
        if not stack.wait_for(lambda: not stack.pid_alive(pid), 10):
            os.kill(pid, signal.SIGKILL)
            stack.wait_for(lambda: not stack.pid_alive(pid), 5)


class SessionRedis(stack.RedisServer):
    """stack.RedisServer in a session of its own, so that a Ctrl-C at the
    console reaches only the console, which then stops Redis and Apache."""

    def start(self, timeout=10):
        if self.running:
            return self
        self.proc = subprocess.Popen(self._argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        if not stack.wait_for(lambda: self._ping() or not self.running, timeout) \
                or not self.running:
            raise RuntimeError("redis-server did not start (rc=%s), see %s"
                               % (self.proc.poll(), self.logfile))
        return self


class Console:
    def __init__(self, args):
        self.state = os.path.abspath(args.state)
        self.module = os.path.abspath(args.module)
        self.from_ = args.from_
        self.redis = self.apache = self.rdb = None
        self.tty = sys.stdin.isatty()

    def rel(self, path):
        r = os.path.relpath(path, os.getcwd())
        return path if r.startswith("..") else r

    # -- the stack
    def start(self):
        state = self.state
        stop_leftovers(state)
        shutil.rmtree(state, ignore_errors=True)
        stack.make_dir(state, 0o755)
        sec = stack.make_dir(os.path.join(state, "secrets"), 0o700)
        self.token = secrets.token_hex(16)
        self.account = "AC" + secrets.token_hex(16)
        self.token_file = stack.write_file(os.path.join(sec, "twilio-auth-token"),
                                           self.token + "\n", 0o600)
        self.spool = stack.make_dir(os.path.join(state, "spool"), 0o750)
        if stack.IS_ROOT:   # httpd's children (www-data) write it
            user, _ = stack.run_user()
            import pwd
            pw = pwd.getpwnam(user)
            os.chown(self.spool, pw.pw_uid, pw.pw_gid)

        self.redis = SessionRedis(state, "redis", extra_args=[
            "--pidfile", os.path.join(state, "redis", "redis.pid")])
        self.redis.start()
        self.rdb = self.redis.client()

        port = stack.free_port()
        self.base_url = "http://127.0.0.1:%d" % port
        body = """
AssistantRedis {redis}
AssistantRedisTimeout 250

# Incoming messages: what Twilio's "A message comes in" webhook points at.
<Location /sms>
    SetHandler assistant-sms
    AssistantPublicURL {url}/sms
    AssistantTwilioAuthTokenFile {token}
    AssistantTwilioAccountSid {account}
    AssistantDedupeTTL 86400
    AssistantSpoolDir {spool}
</Location>

# Delivery status callbacks of the replies (the worker will ask for them).
<Location /status>
    SetHandler assistant-status
    AssistantPublicURL {url}/status
    AssistantTwilioAuthTokenFile {token}
    AssistantTwilioAccountSid {account}
    AssistantSpoolDir {spool}
</Location>

<Location /metrics>
    SetHandler assistant-metrics
    Require ip 127.0.0.1
</Location>
""".format(redis=self.redis.addr, url=self.base_url, token=self.token_file,
           account=self.account, spool=self.spool)
        self.apache = stack.Apache(state, self.module, name="httpd", mpm="event",
                                   body=body, port=port)
        self.apache.start()
        self.log_offset = self.apache.log_size()

    def stop(self):
        stopped = []
        if self.apache and self.apache.pid:
            pid = self.apache.pid
            try:
                self.apache.stop()
                stopped.append("Apache (pid %d)" % pid)
            except Exception as e:
                print("stopping Apache: %s" % e)
        if self.rdb is not None:
            self.rdb.close()
        gone = ""
        if self.redis and self.redis.proc is not None:
            pid = self.redis.proc.pid
            if self.redis.running:
                self.redis.stop()
                stopped.append("Redis (pid %d)" % pid)
            else:
                gone = " (Redis, pid %d, had already exited)" % pid
        if stopped:
            print("stopped %s%s; logs and data stay in %s until the next dev/run"
                  % (" and ".join(stopped), gone, self.rel(self.state)), flush=True)

    def explain(self):
        a, r = self.apache, self.redis
        print("""\
mod_assistant is running on loopback, everything under {state}/ (recreated each run):

  Redis   127.0.0.1:{rport} (and unix socket {rsock}), in memory only
          log {rlog}
  Apache  {url}  (httpd pid {pid}, event MPM) with {module}
          config {conf}
          logs   {elog}, {alog}
    /sms      assistant-sms: checks X-Twilio-Signature against {url}/sms with the
              auth token in {token}, accepts only AccountSid {account},
              queues each message in the Redis stream {{asst}}:in (spool {spool} if Redis is down)
    /status   assistant-status: delivery status callbacks into {{asst}}:status
    /metrics  Prometheus metrics, loopback only

You are a phone, {from_}, texting the assistant's number {to}. Each line is
posted to /sms the way Twilio posts an incoming SMS, and you see what landed in
{{asst}}:in. Nobody replies yet: assistant-worker (issue 4) will consume the
stream. /help lists the commands; Ctrl-D, Ctrl-C or /quit stops it all.
""".format(state=self.rel(self.state), rport=r.port, rsock=self.rel(r.sock),
           rlog=self.rel(r.logfile), url=self.base_url, pid=a.pid,
           module=self.rel(self.module), conf=self.rel(a.conf_path),
           elog=self.rel(a.error_log), alog=self.rel(a.access_log),
           token=self.rel(self.token_file), account=self.account,
           spool=self.rel(self.spool), from_=self.from_, to=ASSISTANT_NUMBER), flush=True)

    # -- Twilio's side
    def params(self, text, sid):
        f, t = geo(self.from_), geo(ASSISTANT_NUMBER)
        return [
            ("ToCountry", t["Country"]), ("ToState", t["State"]), ("SmsMessageSid", sid),
            ("NumMedia", "0"), ("ToCity", t["City"]), ("FromZip", f["Zip"]),
            ("SmsSid", sid), ("FromState", f["State"]), ("SmsStatus", "received"),
            ("FromCity", f["City"]), ("Body", text), ("FromCountry", f["Country"]),
            ("To", ASSISTANT_NUMBER), ("ToZip", t["Zip"]),
            ("NumSegments", str(num_segments(text))), ("MessageSid", sid),
            ("AccountSid", self.account), ("From", self.from_),
            ("ApiVersion", "2010-04-01"),
        ]

    def send(self, text):
        import requests
        from twilio.request_validator import RequestValidator
        sid = "SM" + secrets.token_hex(16)
        params = self.params(text, sid)
        url = self.base_url + "/sms"          # = AssistantPublicURL
        signature = RequestValidator(self.token).compute_signature(url, dict(params))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
            "Accept": "*/*",
            "Cache-Control": "max-age=259200",
            "X-Home-Region": "us1",
        }
        data = urllib.parse.urlencode(params).encode("ascii")
        print("-> POST /sms  MessageSid %s, %d form fields, X-Twilio-Signature %s"
              % (sid, len(params), signature))
        t0 = time.monotonic()
        try:
            r = requests.post(url, data=data, headers=headers, timeout=15, allow_redirects=False)
        except requests.RequestException as e:
            print("<- no answer: %s" % e)
            return
        ms = (time.monotonic() - t0) * 1000
        print("<- %d %s  %s  %s  (%.1f ms)" % (r.status_code, r.reason,
                                             r.headers.get("Content-Type", "-"),
                                             r.text.strip()[:200], ms))
        self.show_entry(sid, r.status_code)
        self.show_log()

    def show_entry(self, sid, status):
        try:
            for eid, fields in self.rdb.xrevrange(STREAM, "+", "-", count=50):
                env = json.loads(fields.get("env", "{}"))
                if env.get("sid") == sid:
                    print("   landed in %s as entry %s (stream length %d), field env:"
                          % (STREAM, eid, self.rdb.xlen(STREAM)))
                    for k, v in env.items():
                        print("     %-12s %s" % (k, json.dumps(v, ensure_ascii=False)))
                    print("   (no reply yet: assistant-worker, the next issue, will read it from the stream)")
                    return
        except Exception as e:   # Redis down: say so, then look in the spool
            print("   cannot read %s: %s" % (STREAM, e))
        spooled = os.path.join(self.spool, "sms-%s.json" % sid)
        if os.path.exists(spooled):
            print("   Redis was unreachable: spooled to %s" % self.rel(spooled))
        elif status == 200:
            print("   answered 200 but not in %s (a duplicate MessageSid?)" % STREAM)
        else:
            print("   not queued")

    def show_log(self):
        lines = self.apache.log_since(self.log_offset)
        self.log_offset = self.apache.log_size()
        for line in lines:
            print("   httpd error log: %s" % line)

    def metrics(self):
        import requests
        try:
            r = requests.get(self.base_url + "/metrics", timeout=10)
        except requests.RequestException as e:
            print("GET /metrics failed: %s" % e)
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
            print("  " + line)
            shown += 1
        if not shown:
            print("  (all zero)")

    # -- the prompt
    def read_line(self):
        prompt = "%s> " % self.from_
        if self.tty:
            return input(prompt)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        line = line.rstrip("\n")
        print(prompt + line)
        return line

    def loop(self):
        while True:
            try:
                line = self.read_line()
            except EOFError:
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
                    print(HELP)
                elif cmd == "/metrics":
                    self.metrics()
                elif cmd == "/from":
                    number = re.sub(r"[\s().-]", "", arg)
                    if E164.match(number):
                        self.from_ = number
                        print("now texting as %s" % number)
                    else:
                        print("/from needs an E.164 number such as +15551230002")
                else:
                    print("unknown command %s; /help lists them" % cmd)
                continue
            self.send(line[1:] if line.startswith("//") else line)


def main():
    ap = argparse.ArgumentParser(description="Text mod_assistant as if from a phone.")
    ap.add_argument("--module", required=True, help="mod_assistant.so")
    ap.add_argument("--state", default=os.path.join(REPO, "state"),
                    help="directory for Redis, Apache, logs (recreated; default state/)")
    ap.add_argument("--from", dest="from_", default=DEFAULT_FROM,
                    help="the number you text from (default %s)" % DEFAULT_FROM)
    args = ap.parse_args()
    if not E164.match(args.from_):
        ap.error("--from needs an E.164 number")
    if not os.path.isfile(args.module):
        sys.exit("dev/console.py: %s not found (bash dev/build)" % args.module)
    sys.stdout.reconfigure(line_buffering=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    c = Console(args)
    if c.tty:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
    try:
        try:
            c.start()
        except (stack.ApacheError, RuntimeError) as e:
            print("dev/run: could not start the stack: %s" % e, file=sys.stderr)
            return 1
        c.explain()
        c.loop()
    except KeyboardInterrupt:
        print()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not skip the cleanup
        c.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
