"""The whole assistant on loopback, wired together:

  PostgreSQL  initdb + postgres, role `assistant`, a database owned by it,
              migrated with `assistant-admin -f <worker.conf> migrate`
  Redis       redis-server (in memory unless redis_args say otherwise)
  Apache      mod_assistant at /sms, /status and /metrics, with a spool;
              the public URLs are its own (Twilio signs for those)
  fake Twilio the REST API for the replies, posting signed status callbacks
              to /status
  the worker  assistant-worker -F on a worker.conf pointing at all of them

started in this order under one directory and stopped in the reverse one.
One account and auth token serve webhook signatures, status-callback
signatures and the REST API's Basic auth.

    s = Stack(base_dir, Binaries(build)).start()
    ... s.apache.url, s.fake.sent(), s.value("SELECT ...") ...
    s.stop()

fast_fake=True starts the fake Twilio in its --fast mode (creates only,
without status callbacks, so with status_callbacks=False): for benchmarks
that must never measure the fake.

Running servers can be handed in instead (pg: a PgDatabase, redis, fake:
used, never stopped), and so can unstarted Apache / Worker instances to
configure and start (the pytest fixtures do, so that their factories scan
the logs).  Subclasses change the site (site()) or worker.conf
(worker_directives()).
"""

import os
import subprocess

from .apache import Apache, default_body
from .postgres import PG_BINDIR, PgDatabase, PostgresServer
from .redis import RedisServer
from .server import ServerError
from .twilio import FakeTwilio
from .util import Binaries, make_dir, write_file
from .webhook import ACCOUNT, TOKEN, TWILIO_FROM
from .worker import Worker

# The tests' worker.conf: a stale stream entry is claimed again after 1.5 s
# and dead-lettered after 5 deliveries (bench/soak uses it too).
FAST_RECLAIM = {"ClaimIdle": 1500, "MaxDeliveries": 5}


class Stack:
    def __init__(self, dir, bins=None, workers=2, signup="open", log_level="info",
                 token=TOKEN, account=ACCOUNT, number=TWILIO_FROM, db_name="assistant",
                 redis_args=(), mpm="event", status_callbacks=True, spool=True,
                 worker_timeout=15, pg=None, redis=None, fake=None, apache=None, worker=None,
                 out=lambda s: None, fast_fake=False, **directives):
        self.dir = os.path.abspath(dir)
        self.bins = bins or Binaries()
        self.workers, self.signup, self.log_level = workers, signup, log_level
        self.token, self.account, self.number = token, account, number
        self.db_name, self.redis_args, self.mpm = db_name, list(redis_args), mpm
        self.status_callbacks = status_callbacks
        self.fast_fake = fast_fake         # the fake Twilio's --fast mode (bench/)
        self.spool = spool                 # True: DIR/spool; a path; None: no spool
        self.worker_timeout = worker_timeout
        self.pg, self.redis, self.fake = pg, redis, fake
        self.apache, self.worker = apache, worker
        self.shared = [s for s in (pg and pg.server, redis, fake) if s is not None]
        self.out = out                     # where stop() reports a failure
        self.directives = directives       # worker.conf, over worker_directives()
        self.token_file = self.base_url = self.migrate_output = None

    def missing(self):
        """What is not there to run the stack, as a list of strings."""
        miss = self.bins.missing()
        if self.pg is None and not PG_BINDIR:
            miss.append("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
        return miss

    # ---- start ---------------------------------------------------------
    def start(self):
        d = make_dir(self.dir, 0o755)
        if self.pg is None:
            server = PostgresServer(d, "pg")
            self.pg = PgDatabase(server, self.db_name)
            server.initdb().start().setup_roles()
            self.pg.create()
        if self.redis is None:
            self.redis = RedisServer(d, "redis", extra_args=self.redis_args)
            self.redis.start()
        if self.spool is True:
            self.spool = self.make_spool(os.path.join(d, "spool"))
        secrets = make_dir(os.path.join(d, "secrets"), 0o700)
        self.token_file = write_file(os.path.join(secrets, "twilio-auth-token"),
                                     self.token + "\n", 0o600)
        if self.apache is None:
            self.apache = Apache(d, self.bins.module, mpm=self.mpm)
        self.start_apache()
        if self.fake is None:
            self.fake = FakeTwilio(d, self.account, self.token, name="twilio",
                                   status_callbacks=self.status_callbacks, fast=self.fast_fake)
            self.fake.start()
        if self.worker is None:
            self.worker = Worker(d, self.bins.worker)
        self.worker.write_conf(self.worker_directives())
        r = self.admin("migrate", timeout=120, stderr=subprocess.STDOUT)
        self.migrate_output = r.stdout.strip()
        if r.returncode != 0:
            raise ServerError("assistant-admin migrate exited %d:\n%s" % (r.returncode, r.stdout))
        self.worker.start(timeout=self.worker_timeout)
        return self

    def make_spool(self, path):
        return make_dir(path, 0o777)       # written by www-data's httpd children as root

    def start_apache(self):
        """Starts Apache with site(); its public URLs are its own, so when
        start() had to move to another port, again with the new URLs."""
        for _ in range(3):
            self.base_url = self.apache.url
            self.apache.body = self.site()
            self.apache.write_conf()
            self.apache.start()
            if self.apache.url == self.base_url:
                return
            self.apache.stop()
        raise ServerError("Apache could not keep a port")

    def site(self):
        """Apache's site: the standard one at base_url, with the spool."""
        spool = "    AssistantSpoolDir %s" % self.spool if self.spool else ""
        return default_body(redis_addr=self.redis.addr, public=self.base_url, token=self.token,
                            account=self.account, sms_extra=spool, status_extra=spool)

    def worker_directives(self):
        d = {
            "Workers": self.workers,
            "Database": '"%s"' % self.pg.dsn,
            "Redis": self.redis.addr,
            "TwilioAccountSid": self.account,
            "TwilioAuthTokenFile": self.token_file,
            "TwilioFrom": self.number,
            "TwilioApiBase": self.fake.url,
            "TwilioStatusCallbackURL": self.base_url + "/status",
            "SignupPolicy": self.signup,
            "ShutdownTimeout": 5,
            "LogLevel": self.log_level,
        }
        if self.spool:
            d["SpoolDir"] = self.spool
        d.update(self.directives)
        return d

    # ---- stop, worker first ---------------------------------------------
    def stop(self):
        """Stops what is running (not the servers handed in); returns
        ["assistant-worker (pid N)", ...].  A failure is reported to out()
        and does not keep the others running."""
        stopped = []
        parts = (("assistant-worker", self.worker), ("Apache", self.apache),
                 ("fake Twilio", self.fake), ("Redis", self.redis),
                 ("PostgreSQL", self.pg.server if self.pg else None))
        for name, part in parts:
            if part is None or part in self.shared:
                continue
            try:
                pid = part.pid if part.running else None
                if pid:
                    part.stop()
                    stopped.append("%s (pid %d)" % (name, pid))
            except Exception as e:         # keep stopping the others
                self.out("stopping %s: %s" % (name, e))
        return stopped

    # ---- looking at it -------------------------------------------------
    @property
    def conf(self):
        return self.worker.conf

    def admin(self, *args, timeout=60, stderr=subprocess.PIPE):
        """assistant-admin -f worker.conf args... (a CompletedProcess, text)."""
        return subprocess.run([self.bins.admin, "-f", self.worker.conf] + list(args),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                              text=True, timeout=timeout)

    def sql(self, query, **kw):
        """Rows (lists of strings) as the owner role, in system scope."""
        return self.pg.query(query, scope="system", **kw)

    def value(self, query, **kw):
        rows = self.sql(query, **kw)
        return rows[0][0] if rows else None

    def spool_files(self):
        try:
            return sorted(f for f in os.listdir(self.spool) if f.endswith(".json")
                          and not f.startswith("."))
        except (OSError, TypeError):
            return []

    def worker_pids(self):
        """(master pid, [agent pids], [scheduler pids])."""
        return self.worker.pid, self.worker.agents(), self.worker.schedulers()
