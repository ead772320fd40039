"""The fault soak, shared by bench/soak and tests/it/test_soak.py: texts sent
through the whole stack at a steady rate while the fake Twilio answers part
of the sends 503 or 429, a worker child is killed -9 every few seconds and,
optionally, Redis and PostgreSQL are restarted once; then every text must
have exactly one reply.

    target = stack                       # a harness Stack: the assistant fixture, or
                                         # soak.make_stack(dir, bins).start()
    plan = soak.Plan(texts=300, people=60, rate=100, kill_every=(1, 2))
    result = soak.run(target, plan)      # sends, kills, waits until settled
    print(result.report())               # figures and goals, PASS/FAIL each
    result.lost, result.duplicated, result.settled, result.ok

Each body is unique ("soak <run> <phase> <i>"); the rules planner quotes it
in its "I didn't understand" answer (fixtures_path.unknown_reply), so a
reply is matched to its text by body.  Figures:
  accepted    webhooks answered 200 by Apache (only those count below)
  lost        accepted texts with no reply the fake accepted (HTTP 201)
  duplicated  accepted texts whose reply the fake accepted more than once
  delay       the webhook's POST started -> the first 201 POST of its reply
              at the fake (its recorded time; one machine, one clock)
  breaker     worker log lines of the Twilio circuit opening ("circuit open",
              not the debug line of a send skipped while it is open)
  killed      worker children killed, by role (Plan(aim=f): that fraction of
              the kills waits for a send the fake accepted and holds, and
              kills the child waiting for its answer: Twilio has the message,
              the worker never heard so -- random kills rarely land in that
              window, a millisecond per send with the fake)
Settled = every accepted text has a reply, {asst}:in and the spool are
empty and no outbox row is on its way (status other than sent/failed), then
`quiet` seconds more without a new send (a late duplicate); at most
`settle` seconds after the last webhook.

make_stack() is the stack outside pytest (for bench/soak): a harness Stack
with Redis appendonly yes + appendfsync everysec, the worker configured like
assistant_factory's (SignupPolicy open, ClaimIdle 1500, ...).
"""

import collections
import http.client
import os
import queue
import random
import re
import secrets
import signal
import threading
import time

import stack
from fixtures_path import unknown_reply
from harness.stack import FAST_RECLAIM, Stack
from harness.webhook import signed_form

# "20 % of sends answered 503 or 429 + Retry-After: 1" (tests/fakes/fake_twilio.py)
FAULTS = {"fail_rate_5xx": 0.1, "status_5xx": 503, "rate_429": 0.1111, "retry_after": 1}
GOAL_P99_S, GOAL_MAX_S = 10.0, 30.0
KILL_LOG = r"ASST01525: (agent|scheduler) child \d+ \(pid \d+\) was killed by signal 9 "
BREAKER_RE = re.compile(r"circuit open")
BREAKER_SKIP_RE = re.compile(r"ASST03008")         # debug: a send skipped while open
UNSETTLED_SQL = "SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'failed')"


def pct(xs, p):
    """p-th percentile (nearest rank) of the sorted list xs; None if empty."""
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


class Target:
    """soak.run() drives a harness Stack (the assistant fixture's Path is one)."""

    @staticmethod
    def from_path(a):
        return a


class Plan:
    """One phase: how many texts, how fast, what goes wrong."""

    def __init__(self, texts=3000, people=300, rate=100.0, kill_every=(3.0, 3.0),
                 kill_for=None, faults=FAULTS, redis_restart=False, pg_restart=False,
                 outage=1.0, settle=180.0, quiet=5.0, connections=8, name="1", seed=None,
                 twilio_delay_ms=0, aim=0.0, out=None):
        self.texts, self.people, self.rate = texts, people, rate
        self.kill_every = kill_every if isinstance(kill_every, tuple) else (kill_every, kill_every)
        self.kill_for = kill_for            # seconds of killing (default: while sending)
        self.faults = faults
        self.redis_restart, self.pg_restart, self.outage = redis_restart, pg_restart, outage
        self.settle, self.quiet = settle, quiet
        self.connections = connections
        self.name = name
        self.seed = seed
        self.twilio_delay_ms = twilio_delay_ms   # every send answered this much later
        self.aim = aim                           # fraction of the kills aimed mid-send
        self.out = out or (lambda s: None)   # progress lines

    @property
    def duration(self):
        return self.texts / self.rate

    def describe(self):
        lo, hi = self.kill_every
        kills = ("a worker child killed -9 every %g s" % lo if lo == hi else
                 "a worker child killed -9 every %g-%g s" % (lo, hi)) if hi > 0 else "no kills"
        if hi > 0 and self.aim:
            kills += " (%.0f %% of them aimed at a child whose send Twilio accepted)" % (
                100 * self.aim)
        faults = "no Twilio faults"
        if self.faults:
            f = self.faults
            r5, r4 = float(f.get("fail_rate_5xx", 0)), float(f.get("rate_429", 0))
            faults = "%.0f %% of sends answered %s or 429%s" % (
                100 * (r5 + (1 - r5) * r4), f.get("status_5xx", 500),
                " + Retry-After: %s" % f["retry_after"] if "retry_after" in f else "")
        if self.twilio_delay_ms:
            faults += ", every send answered after %g ms" % self.twilio_delay_ms
        extra = [x for x, on in (("Redis restarted once", self.redis_restart),
                                 ("PostgreSQL restarted once", self.pg_restart)) if on]
        return "%d texts from %d people at %g/s, %s, %s%s" % (
            self.texts, self.people, self.rate, faults, kills,
            "".join(", " + x for x in extra))


# --------------------------------------------------------------------------
# the phone side

class Texts:
    """The phase's webhooks, signed with python-twilio before the clock starts."""

    def __init__(self, target, plan):
        self.run = secrets.token_hex(3)
        url = target.base_url + "/sms"        # what AssistantPublicURL names
        self.bodies, self.people, self.reqs = [], [], []
        for i in range(plan.texts):
            who = "+1555%07d" % (3000000 + i % plan.people)
            body = "soak %s %s %d" % (self.run, plan.name, i)
            sid = "SM%s%026x" % (self.run, i)                   # 34 characters
            params = stack.sms_params(sid=sid, account=target.account, from_=who,
                                      to=target.number, body=body)
            self.bodies.append(body)
            self.people.append(who)
            self.reqs.append(signed_form(target.token, url, params,
                                         {"I-Twilio-Idempotency-Token": sid}))


class Sender:
    """Open loop: text i leaves at t0 + i/rate whatever happened before, on a
    pool of keep-alive connections; a connection httpd closed is replaced and
    the same webhook (same MessageSid) posted again, as Twilio would."""

    def __init__(self, port, reqs, rate, connections):
        self.port, self.reqs, self.rate, self.connections = port, reqs, rate, connections
        n = len(reqs)
        self.sent_at = [None] * n          # time.time() the first POST started
        self.status = [None] * n
        self.retried = collections.Counter()
        self.q = queue.Queue()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)

    def worker(self):
        conn = self.conn()
        while True:
            i = self.q.get()
            if i is None:
                conn.close()
                return
            data, headers = self.reqs[i]
            for attempt in range(3):
                if attempt == 0:
                    self.sent_at[i] = time.time()
                try:
                    conn.request("POST", "/sms", body=data, headers=headers)
                    r = conn.getresponse()
                    r.read()
                    self.status[i] = r.status
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = self.conn()
                    break
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = self.conn()
                    self.status[i] = type(e).__name__
                    self.retried[type(e).__name__] += 1

    def run(self):
        threads = [threading.Thread(target=self.worker, daemon=True)
                   for _ in range(self.connections)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        for i in range(len(self.reqs)):
            d = t0 + i / self.rate - time.monotonic()
            if d > 0:
                time.sleep(d)
            self.q.put(i)
        for _ in threads:
            self.q.put(None)
        for t in threads:
            t.join(60)


# --------------------------------------------------------------------------
# what goes wrong

def socket_owner(port, pids):
    """The pid among pids that holds the TCP socket with local port `port`."""
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add("socket:[%s]" % parts[9])
        except (OSError, ValueError, IndexError, StopIteration):
            pass
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in inodes:
                    return pid
            except OSError:
                pass
    return None


class Killer(threading.Thread):
    """Every kill_every seconds (uniform in [lo, hi]) a random live child of
    the worker's master gets SIGKILL, until stop is set.  With aim > 0 that
    fraction of the kills is aimed: the fake Twilio holds the answer to the
    next send it accepts (/_fake/hold) and the child waiting for it is killed,
    so Twilio has the message and the worker never heard so."""

    def __init__(self, worker, kill_every, seed=None, fake=None, aim=0.0):
        super().__init__(daemon=True)
        self.worker = worker
        self.lo, self.hi = kill_every
        self.rng = random.Random(seed)
        self.fake, self.aim = fake, aim
        self.stop = threading.Event()
        self.killed = []                   # (time, pid, comm, aimed)
        self.aim_missed = 0

    def kill(self, pid, comm, aimed=False):
        try:
            os.kill(pid, signal.SIGKILL)
            self.killed.append((time.time(), pid, comm, aimed))
            return True
        except ProcessLookupError:
            return False

    def aimed_kill(self, timeout=3.0):
        """Kills the child whose send the fake accepted and holds; False if
        no send came within timeout."""
        import requests
        session = requests.Session()
        try:
            self.fake.hold(1, 1000 * (timeout + 1))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not self.stop.is_set():
                for f in self.fake.inflight(session):
                    if f.get("status") != 201:
                        continue
                    kids = self.worker.children()
                    pid = socket_owner(f["peer"], kids)
                    if pid and self.kill(pid, kids[pid], aimed=True):
                        return True
                time.sleep(0.005)
            return False
        finally:
            self.fake.hold(0, 0)
            session.close()

    def run(self):
        if self.hi <= 0:
            return
        while not self.stop.wait(self.rng.uniform(self.lo, self.hi)):
            if self.fake is not None and self.aim and self.rng.random() < self.aim:
                if self.aimed_kill():
                    continue
                self.aim_missed += 1
            kids = sorted(self.worker.children().items())
            if kids:
                self.kill(*self.rng.choice(kids))

    def roles(self):
        c = collections.Counter()
        for _, _, comm, _ in self.killed:
            c["agent" if comm == "asst-agent" else "scheduler" if comm == "asst-scheduler"
              else comm] += 1
        return c


class Outages(threading.Thread):
    """Redis, then PostgreSQL, stopped at 1/3 and 2/3 of the load and started
    again `outage` seconds later."""

    def __init__(self, target, plan, t0):
        super().__init__(daemon=True)
        self.target, self.plan, self.t0 = target, plan, t0
        self.done = []                     # (what, stopped at, started at)
        self.errors = []

    def run(self):
        steps = []
        if self.plan.redis_restart:
            steps.append(("Redis", self.plan.duration / 3, self.target.redis.stop,
                          self.target.redis.start))
        if self.plan.pg_restart:
            steps.append(("PostgreSQL", self.plan.duration * 2 / 3, self.target.pg.server.stop,
                          self.target.pg.server.restart))
        for what, at, stop, start in steps:
            d = self.t0 + at - time.monotonic()
            if d > 0:
                time.sleep(d)
            try:
                t1 = time.time()
                stop()
                time.sleep(self.plan.outage)
                start()
                self.done.append((what, t1, time.time()))
            except Exception as e:        # reported; the soak goes on
                self.errors.append("%s restart: %s" % (what, e))


# --------------------------------------------------------------------------

class Result:
    def __init__(self, plan):
        self.plan = plan
        self.notes = []

    @property
    def ok(self):
        return not self.failed_goals()

    def failed_goals(self):
        bad = []
        if self.lost:
            bad.append("lost")
        if self.duplicated:
            bad.append("duplicated")
        if self.p99 is None or self.p99 > GOAL_P99_S:
            bad.append("p99")
        if self.max is None or self.max > GOAL_MAX_S:
            bad.append("max")
        return bad

    def report(self):
        return "\n".join(["phase %s: %s" % (self.plan.name, self.plan.describe())]
                         + self.reply_lines() + self.fault_lines() + self.state_lines()
                         + ["  note: " + n for n in self.notes])

    def reply_lines(self):
        """Webhooks accepted, replies lost and duplicated, reply delay."""
        r = []
        r.append("  accepted            %d of %d webhooks answered 200%s" % (
            self.accepted, self.plan.texts,
            " (others: %s)" % dict(self.non200) if self.non200 else ""))
        r.append("  replies lost        %-6d goal 0      %s%s" % (
            self.lost, _mark(not self.lost),
            "   (%s; e.g. %s)" % (", ".join("%d %s" % (n, k) for k, n in
                                           sorted(self.lost_why.items())),
                                 ", ".join(self.lost_bodies[:3])) if self.lost else ""))
        r.append("  replies duplicated  %-6d goal 0      %s%s" % (
            self.duplicated, _mark(not self.duplicated),
            "   (%d extra sends; e.g. %s)" % (self.extra_sends, "; ".join(self.dup_examples[:3]))
            if self.duplicated else ""))
        r.append("  reply delay         p50 %s, p99 %s (goal <= %g s %s), max %s (goal <= %g s %s)"
                 "%s" % (_secs(self.p50), _secs(self.p99), GOAL_P99_S,
                    _mark(self.p99 is not None and self.p99 <= GOAL_P99_S), _secs(self.max),
                    GOAL_MAX_S, _mark(self.max is not None and self.max <= GOAL_MAX_S),
                    "; of the %d answered" % len(self.delays) if self.lost else ""))
        return r

    def fault_lines(self):
        """Breaker openings, children killed, restarts, the fake's answers."""
        r = []
        r.append("  breaker openings    %d (worker log lines \"circuit open\"%s)" % (
            self.breaker, ", %d of them after a failed probe" % self.breaker_again
            if self.breaker_again else ""))
        roles = ", ".join("%d %s" % (n, k) for k, n in sorted(self.killed_roles.items()))
        r.append("  children killed     %d%s%s" % (
            self.killed, " (%s)" % roles if roles else "",
            "; %d aimed mid-send, %d aims found no send" % (self.aimed, self.aim_missed)
            if self.plan.aim else ""))
        for what, t1, t2 in self.outages:
            r.append("  %-19s down %.1f s, %.1f s into the load" % (
                what + " restarted", t2 - t1, t1 - self.t0_wall))
        r.append("  fake Twilio         %d send attempts: %s; %d list lookups%s" % (
            sum(self.answers.values()), _counts(self.answers), sum(self.lookups.values()),
            " (%s)" % _counts(self.lookups) if self.lookups else ""))
        return r

    def state_lines(self):
        """Settling, what the outbox and {asst}:dead hold, the machine."""
        r = []
        r.append("  settled             %s after the last webhook%s" % (
            "%.1f s" % self.settle_time if self.settled else
            "NOT within %g s" % self.plan.settle,
            "" if self.settled else " (%s)" % self.unsettled_why))
        r.append("  outbox rows         %s; {asst}:dead holds %d" % (self.outbox, self.dead))
        r.append("  machine             %d CPUs, load average %.2f before the load, %.2f after it"
                 % (os.cpu_count(), self.loadavg[0], self.loadavg[1]))
        return r


def _mark(good):
    return "PASS" if good else "FAIL"


def _secs(x):
    return "-" if x is None else "%.3f s" % x


def _counts(c):
    """A Counter by key, as "3 x 201, 1 x 503"."""
    return ", ".join("%d x %s" % (n, k) for k, n in sorted(c.items(), key=lambda kv: str(kv[0])))


def lost_breakdown(target, texts, bodies):
    """{where the lost texts are: "in outbox, pending (attempts 7, 8)": n, ...}."""
    import json
    why = collections.Counter()
    try:
        rows = json.loads(target.value(
            "SELECT coalesce(jsonb_agg(jsonb_build_array(status, attempts, payload->>'body')), "
            "'[]') FROM outbox WHERE status <> 'sent'") or "[]")
        inbound = set(json.loads(target.value(
            "SELECT coalesce(jsonb_agg(body), '[]') FROM messages WHERE direction = 'in' "
            "AND body LIKE :'p'", variables={"p": "soak %s %%" % texts.run}) or "[]"))
    except Exception as e:                 # reported, not fatal
        return {"? (%s)" % e: len(bodies)}
    rows = {body: (status, attempts) for status, attempts, body in rows}
    attempts = collections.defaultdict(list)
    for b in bodies:
        row = rows.get(unknown_reply(b))
        if row:
            attempts[row[0]].append(row[1])
        elif b in inbound:
            why["in the database without an outbox row"] += 1
        else:
            why["never committed"] += 1
    for status, n in attempts.items():
        why["in outbox, %s (attempts %s)" % (status, ", ".join(map(str, sorted(n))))] = len(n)
    return why


def _unsettled(target):
    try:
        return int(target.value(UNSETTLED_SQL) or 0)
    except Exception:                      # PostgreSQL still coming back
        return -1


def _stream_len(rdb, key):
    try:
        return rdb.xlen(key)
    except Exception:
        return -1


def run(target, plan):
    """Sends plan.texts through target while killing and faulting, waits
    until settled (or plan.settle seconds), returns a Result."""
    texts = Texts(target, plan)
    target.fake.faults(twilio_faults(plan))
    log_offset = target.worker.log_size()
    load = drive(target, plan, texts)
    accepted = [i for i in range(plan.texts) if load.sender.status[i] == 200]
    reply_of = {unknown_reply(texts.bodies[i]): i for i in range(plan.texts)}
    settled, settle_time, why, dead, dead_entries = wait_settled(
        target, plan, accepted, reply_of, load.t_last)
    replies = Replies(target.fake.requests(), reply_of, texts.people)
    res = figures(target, plan, texts, load, accepted, replies, log_offset)
    res.settled, res.settle_time, res.unsettled_why = settled, settle_time, why
    res.dead, res.dead_entries = dead, dead_entries
    add_notes(res, target, texts, load, replies)
    return res


def twilio_faults(plan):
    """The fake Twilio's fault settings for the plan (tests/fakes/fake_twilio.py)."""
    faults = dict(plan.faults or {})
    if plan.twilio_delay_ms:
        faults["delay_ms"] = plan.twilio_delay_ms
    if plan.seed is not None:
        faults["seed"] = plan.seed
    return faults


# --------------------------------------------------------------------------
# the load

class Load:
    """What drive() started (the Sender, the Killer, the Outages), when the
    load started (wall clock) and ended (monotonic), and the load average
    before and after it."""

    def __init__(self, sender, killer, outages, t0_wall, t_last, loadavg):
        self.sender, self.killer, self.outages = sender, killer, outages
        self.t0_wall, self.t_last, self.loadavg = t0_wall, t_last, loadavg


def drive(target, plan, texts):
    """Sends the texts open-loop while children are killed and Redis /
    PostgreSQL restarted; returns once the kills stopped and the outages
    are over."""
    sender = Sender(target.apache.port, texts.reqs, plan.rate, plan.connections)
    killer = Killer(target.worker, plan.kill_every, plan.seed, target.fake, plan.aim)
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    t0_wall = time.time()
    outages = Outages(target, plan, t0)
    killer.start()
    outages.start()
    plan.out("phase %s: sending %d texts for %.0f s" % (plan.name, plan.texts, plan.duration))
    sender.run()
    t_last = time.monotonic()
    load1 = os.getloadavg()[0]
    stop_killing(killer, t0 + (plan.kill_for if plan.kill_for is not None else plan.duration))
    outages.join(120)
    plan.out("phase %s: sent (%d killed); waiting for replies to settle" % (
        plan.name, len(killer.killed)))
    return Load(sender, killer, outages, t0_wall, t_last, (load0, load1))


def stop_killing(killer, until):
    """Lets the killer go on until `until` (time.monotonic()), then stops it."""
    while time.monotonic() < until:
        time.sleep(0.1)
    killer.stop.set()
    killer.join(10)


# --------------------------------------------------------------------------
# settling

def wait_settled(target, plan, accepted, reply_of, t_last):
    """Waits until settled or plan.settle seconds after t_last; returns
    (settled, settle_time, why, XLEN {asst}:dead, the dead entries as
    (stream, reason, env))."""
    rdb = target.redis.client()
    try:
        settled, settle_time, why = wait_quiet(target, plan, rdb, accepted, reply_of, t_last)
        dead = _stream_len(rdb, "{asst}:dead")
        dead_entries = _dead_entries(rdb)
    finally:
        rdb.close()
    plan.out("phase %s: %s" % (plan.name, "settled" if settled else "not settled: " + why))
    return settled, settle_time, why, dead, dead_entries


def wait_quiet(target, plan, rdb, accepted, reply_of, t_last):
    """Polls every second until nothing is left to do and the fake saw no
    new request for plan.quiet seconds, or until plan.settle seconds after
    t_last; returns (settled, settle_time, why)."""
    settle_time = None
    deadline = t_last + plan.settle
    quiet_since, last_count = None, -1
    while True:
        reqs = target.fake.requests()
        left = backlog(target, rdb, reqs, accepted, reply_of)
        why = BACKLOG_WHY % left
        now = time.monotonic()
        if not any(left):
            if quiet_since is None or len(reqs) != last_count:
                quiet_since, last_count = now, len(reqs)
                settle_time = now - t_last
            elif now - quiet_since >= plan.quiet:
                return True, settle_time, why
        else:
            quiet_since = None
        if now >= deadline:
            return False, settle_time, why
        time.sleep(1.0)


BACKLOG_WHY = "%d without a reply, XLEN {asst}:in %d, spool %d, outbox rows on their way %d"


def backlog(target, rdb, reqs, accepted, reply_of):
    """(accepted texts without a reply, XLEN {asst}:in, spool files, outbox
    rows on their way); -1 for what could not be read."""
    got = replied(reqs, reply_of)
    return (sum(1 for i in accepted if i not in got), _stream_len(rdb, "{asst}:in"),
            len(target.spool_files()), _unsettled(target))


def replied(reqs, reply_of):
    """The texts (indexes) whose reply the fake accepted (HTTP 201)."""
    got = set()
    for e in reqs:
        if e.get("status") == 201:
            i = reply_of.get((e.get("form") or {}).get("Body"))
            if i is not None:
                got.add(i)
    return got


def _dead_entries(rdb):
    try:
        return [(f.get("stream"), f.get("reason"), f.get("env") or "")
                for _, f in rdb.xrange("{asst}:dead")]
    except Exception:
        return []


# --------------------------------------------------------------------------
# the figures

class Replies:
    """The fake's recorded sends of the phase's replies: answers by status,
    accepted (201) sends per text, when each text's first one came, and how
    many went to another number than their text came from."""

    def __init__(self, reqs, reply_of, people):
        self.answers = collections.Counter()
        self.count = collections.Counter()
        self.first = {}
        self.misrouted = 0
        for e in reqs:
            form = e.get("form") or {}
            i = reply_of.get(form.get("Body"))
            if i is None:
                continue
            self.answers[e.get("status")] += 1
            if e.get("status") != 201:
                continue
            self.count[i] += 1
            self.first.setdefault(i, e["time"])
            if form.get("To") != people[i]:
                self.misrouted += 1


def figures(target, plan, texts, load, accepted, replies, log_offset):
    """A Result with the figures of the load, the replies, the worker log
    since log_offset and the outbox (not yet the settling nor the notes)."""
    lookups = target.fake.requests(method="GET")
    res = Result(plan)
    res.t0_wall = load.t0_wall
    res.loadavg = load.loadavg
    res.accepted = len(accepted)
    res.non200 = collections.Counter(load.sender.status[i] for i in range(plan.texts)
                                     if load.sender.status[i] != 200)
    reply_figures(res, target, texts, load.sender, accepted, replies)
    worker_figures(res, target.worker.log_since(log_offset), load.killer)
    res.outages = load.outages.done
    res.answers = replies.answers
    res.lookups = collections.Counter(e.get("status") for e in lookups)
    res.outbox = outbox_summary(target)
    res.misrouted = replies.misrouted
    return res


def reply_figures(res, target, texts, sender, accepted, replies):
    """Lost and duplicated replies, reply delays."""
    count = replies.count
    res.lost_bodies = [texts.bodies[i] for i in accepted if count[i] == 0]
    res.lost = len(res.lost_bodies)
    res.lost_why = lost_breakdown(target, texts, res.lost_bodies) if res.lost else {}
    dups = [i for i in accepted if count[i] > 1]
    res.duplicated = len(dups)
    res.extra_sends = sum(count[i] - 1 for i in dups)
    res.dup_examples = ["%r x%d" % (texts.bodies[i], count[i]) for i in dups]
    delays = sorted(replies.first[i] - sender.sent_at[i] for i in accepted
                    if i in replies.first)
    res.delays = delays
    res.p50, res.p99 = pct(delays, 50), pct(delays, 99)
    res.max = delays[-1] if delays else None


def worker_figures(res, lines, killer):
    """Breaker openings and [error] lines in the worker log lines, children killed."""
    opened = [ln for ln in lines if BREAKER_RE.search(ln) and not BREAKER_SKIP_RE.search(ln)]
    res.breaker = len(opened)
    res.breaker_again = sum(1 for ln in opened if "again" in ln)
    res.killed = len(killer.killed)
    res.aimed = sum(1 for k in killer.killed if k[3])
    res.aim_missed = killer.aim_missed
    res.killed_roles = killer.roles()
    res.kills = list(killer.killed)
    res.worker_errors = [ln for ln in lines if "[error]" in ln
                         and not re.search(KILL_LOG, ln)]


def outbox_summary(target):
    """The outbox rows by status, as "failed 2, sent 398"."""
    try:
        return target.value(
            "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM "
            "(SELECT status, count(*) AS n FROM outbox GROUP BY status) s") or "empty"
    except Exception as e:                 # reported, not fatal
        return "? (%s)" % e


# --------------------------------------------------------------------------
# the notes

def add_notes(res, target, texts, load, replies):
    """What the figures do not say: misrouted replies, failed restarts,
    webhooks posted again, dead letters, worker errors, a dead master."""
    if res.misrouted:
        res.notes.append("%d replies went to another number than the text came from"
                         % res.misrouted)
    if load.outages.errors:
        res.notes.extend(load.outages.errors)
    if load.sender.retried:
        res.notes.append("webhooks posted again on a new connection: %s"
                         % dict(load.sender.retried))
    if res.dead:
        res.notes.append(dead_note(res.dead, res.dead_entries, texts, replies.count))
    if res.worker_errors:
        res.notes.append(worker_errors_note(res.worker_errors))
    if not target.worker.running:
        res.notes.append("the worker's master is not running any more")


def dead_note(dead, dead_entries, texts, count):
    """The {asst}:dead entries by stream and reason, and whether their text
    was answered all the same."""
    why = collections.Counter()
    for stream_, reason, env in dead_entries:
        m = re.search(r'"body":"(soak [^"]*)"', env)
        tag = ""
        if m and m.group(1) in texts.bodies:
            i = texts.bodies.index(m.group(1))
            tag = ", its text answered" if count[i] else ", its text NOT answered"
        why["%s: %s%s" % (stream_, reason, tag)] += 1
    return "%d entries in {asst}:dead: %s" % (
        dead, "; ".join("%d x %s" % (n, k) for k, n in why.items()))


def worker_errors_note(errors):
    """How many worker [error] lines, by message id, and the first one."""
    ids = collections.Counter(m.group(0) for m in (re.search(r"ASST\d{5}", ln)
                                                   for ln in errors) if m)
    return "%d worker [error] lines besides the kills (%s), first: %s" % (
        len(errors), ", ".join("%s x%d" % kv for kv in sorted(ids.items())),
        errors[0].split("] ", 2)[-1][:160])


# --------------------------------------------------------------------------
# the stack outside pytest (bench/soak)

def make_stack(dir, bins, workers=2, log_level="info", **directives):
    """The assistant_factory's stack, Redis with an append-only file."""
    return Stack(dir, bins, workers=workers, log_level=log_level, db_name="soak",
                 redis_args=["--appendonly", "yes", "--appendfsync", "everysec"],
                 **dict(FAST_RECLAIM, **directives))
