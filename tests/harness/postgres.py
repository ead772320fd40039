"""A private PostgreSQL: initdb into base_dir/name/data, `postgres` on a
fixed free 127.0.0.1 port and a unix socket in its directory (sock_dir),
trust authentication, fsync off; stop()/start() keep both.  PgDatabase is
one database of it, owned by the ordinary LOGIN role `assistant` (not a
superuser, no BYPASSRLS: row-level security binds it, as it binds the
worker).

As root, initdb and postgres (which refuse to run as root) run as the
`postgres` user when it exists (Debian's postgresql package creates it),
else as `nobody`; as any other user they run as that user.

Environment: PG_BINDIR (default: the newest /usr/lib/postgresql/*/bin).
"""

import glob
import os
import pwd
import signal
import subprocess

from .server import Server
from .util import IS_ROOT, free_port

APP_ROLE = "assistant"
SUPERUSER = "postgres"


def find_pg_bindir():
    """$PG_BINDIR, else the newest /usr/lib/postgresql/N/bin with initdb, else None."""
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
            if os.access(os.path.join(d, "initdb"), os.X_OK)]

    def major(d):
        v = d.split("/")[-2]
        return int(v) if v.isdigit() else 0
    return max(dirs, key=major) if dirs else None


PG_BINDIR = find_pg_bindir()


class PsqlError(Exception):
    def __init__(self, rc, stderr):
        super().__init__("psql exited %d: %s" % (rc, stderr.strip()))
        self.rc = rc
        self.stderr = stderr


def _server_user():
    """(uid, gid) initdb/postgres run as, or None to stay who we are."""
    if not IS_ROOT:
        return None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    return 65534, 65534


class PostgresServer(Server):
    name, log_name = "pg", "postgres.log"
    stop_signal = signal.SIGINT           # fast shutdown
    start_timeout = stop_timeout = 30
    poll = 0.05
    restart_retry = 30        # after a SIGKILL, orphaned backends hold the shared memory a moment

    def __init__(self, base_dir, name=None):
        if not PG_BINDIR:
            raise RuntimeError("PostgreSQL server binaries not found "
                               "(install postgresql or set PG_BINDIR)")
        super().__init__(base_dir, name)
        self.data = os.path.join(self.dir, "data")
        self.sock_dir = self.dir
        self.port = free_port()
        self.ids = _server_user()
        if self.ids:
            os.chown(self.dir, self.ids[0], self.ids[1])

    def env(self):
        return dict(os.environ, LC_ALL="C.UTF-8", TZ="UTC")

    def preexec(self):
        ids = self.ids
        if not ids:
            return None

        def drop():
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
        return drop

    def initdb(self):
        r = subprocess.run(
            [os.path.join(PG_BINDIR, "initdb"), "-D", self.data, "-U", SUPERUSER,
             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
            preexec_fn=self.preexec(), env=self.env(), cwd=self.dir, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError("initdb failed (%d):\n%s" % (r.returncode, r.stdout))
        return self

    def argv(self):
        return [os.path.join(PG_BINDIR, "postgres"), "-D", self.data, "-p", str(self.port),
                "-k", self.sock_dir, "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=100",
                "-c", "log_min_messages=warning", "-c", "TimeZone=UTC"]

    def ready(self):
        r = subprocess.run([os.path.join(PG_BINDIR, "pg_isready"), "-q", "-h", self.sock_dir,
                            "-p", str(self.port), "-U", SUPERUSER],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0

    def dsn(self, dbname="postgres", user=SUPERUSER):
        """libpq conninfo through the unix socket."""
        return "host=%s port=%d dbname=%s user=%s" % (self.sock_dir, self.port, dbname, user)

    def tcp_dsn(self, dbname="postgres", user=SUPERUSER):
        return "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.port, dbname, user)

    def url(self, dbname="postgres", user=SUPERUSER):
        return "postgresql://%s@127.0.0.1:%d/%s" % (user, self.port, dbname)

    def psql(self, sql, dbname="postgres", user=SUPERUSER, check=True, variables=None):
        """Runs sql (a script: several statements, psql meta-commands) and
        returns its rows as lists of strings (tab-separated, unaligned).
        Raises PsqlError on the first error unless check=False, in which
        case it returns (rc, rows, stderr)."""
        argv = [os.path.join(PG_BINDIR, "psql"), "-X", "-q", "-A", "-t", "-F", "\t",
                "-v", "ON_ERROR_STOP=1", "-d", self.dsn(dbname, user), "-f", "-"]
        for k, v in (variables or {}).items():
            argv += ["-v", "%s=%s" % (k, v)]
        r = subprocess.run(argv, input=sql, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        rows = [line.split("\t") for line in r.stdout.splitlines() if line != ""]
        if not check:
            return r.returncode, rows, r.stderr
        if r.returncode != 0:
            raise PsqlError(r.returncode, r.stderr)
        return rows

    def setup_roles(self):
        self.psql("DO $$ BEGIN\n"
                  "  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN\n"
                  "    CREATE ROLE %s LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;\n"
                  "  END IF;\n"
                  "END $$;" % (APP_ROLE, APP_ROLE))
        return self


class PgDatabase:
    """A database of server, owned by role `assistant`."""

    def __init__(self, server, name):
        self.server = server
        self.name = name
        self.role = APP_ROLE

    @property
    def dsn(self):
        """conninfo for the owner: what worker.conf's Database holds."""
        return self.server.dsn(self.name, APP_ROLE)

    @property
    def super_dsn(self):
        return self.server.dsn(self.name, SUPERUSER)

    @property
    def url(self):
        return self.server.url(self.name, APP_ROLE)

    def run(self, sql, user=APP_ROLE, check=True, user_id=None, scope=None, variables=None):
        """psql script as `user` (default the owner role). With user_id and/or
        scope the script runs in one transaction with asst.user_id /
        asst.scope set the way the worker sets them (set_config(..., true))."""
        if user_id is not None or scope is not None:
            pre = "BEGIN;\n"
            if user_id is not None:
                pre += "SELECT set_config('asst.user_id', '%d', true) \\g /dev/null\n" % int(user_id)
            if scope is not None:
                pre += "SELECT set_config('asst.scope', :'asst_scope', true) \\g /dev/null\n"
                variables = dict(variables or {}, asst_scope=scope)
            sql = pre + sql.rstrip().rstrip(";") + ";\nCOMMIT;\n"
        return self.server.psql(sql, self.name, user, check=check, variables=variables)

    def query(self, sql, **kw):
        """Rows of sql (as the owner unless user=); raises on error."""
        return self.run(sql, **kw)

    def value(self, sql, **kw):
        rows = self.run(sql, **kw)
        return rows[0][0] if rows else None

    def execute(self, sql, **kw):
        self.run(sql, **kw)

    def create(self):
        self.server.psql('CREATE DATABASE "%s" OWNER %s' % (self.name, APP_ROLE))
        return self

    def drop(self):
        self.server.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
