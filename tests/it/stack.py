"""Run a private mod_assistant stack: redis-server and Apache httpd.

Used by the pytest fixtures in conftest.py and usable on its own (a local
"run the stack" script can import it).  Everything lives under one temp
directory and listens on free 127.0.0.1 ports; nothing touches the system's
Apache or Redis.

Environment:
  ASST_MODULE   absolute path to mod_assistant.so (default: search build*/)
  APACHE2       httpd binary (default /usr/sbin/apache2)
  REDIS_SERVER  redis-server binary (default /usr/bin/redis-server)
  APACHE_MODULES_DIR  where mod_mpm_*.so live (default /usr/lib/apache2/modules)

When run as root Apache's children drop to www-data: every directory they
must traverse is created 0755, directories they write 0777, and Redis's unix
socket is created with unixsocketperm 777.
"""

import errno
import glob
import itertools
import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

APACHE2 = os.environ.get("APACHE2") or "/usr/sbin/apache2"
REDIS_SERVER = os.environ.get("REDIS_SERVER") or "/usr/bin/redis-server"
APACHE_MODULES_DIR = os.environ.get("APACHE_MODULES_DIR") or "/usr/lib/apache2/modules"

IS_ROOT = os.geteuid() == 0

# The log lines a test that stops Redis provokes (declare with expect()).
REDIS_ERR = r"(?i)ASST\d+.*(redis|spool|connect|refused|timeout|timed out|i/o|reset|EOF)"

_phones = itertools.count(1)


def new_phone():
    """A fresh E.164 number per call (users are per test database anyway)."""
    return "+1555%07d" % (2000000 + next(_phones))

MPMS = ("event", "prefork", "worker")

# Environment variables handed through to httpd (sanitizer builds, odd libdirs).
_PASS_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS",
             "TSAN_OPTIONS", "LD_LIBRARY_PATH", "LD_PRELOAD", "TZ")


def find_module():
    """Path of mod_assistant.so, or None.  $ASST_MODULE wins when set."""
    env = os.environ.get("ASST_MODULE")
    if env:
        return os.path.abspath(env)
    roots = [REPO_ROOT, "/work/main", os.path.dirname(REPO_ROOT)]
    for root in roots:
        pats = [os.path.join(root, "build*", "mod_assistant", ".libs", "mod_assistant.so"),
                os.path.join(root, "mod_assistant", ".libs", "mod_assistant.so")]
        for pat in pats:
            hits = sorted(glob.glob(pat), key=os.path.getmtime, reverse=True)
            if hits:
                return hits[0]
    return None


def run_user():
    """(user, group) Apache's children run as when started by root."""
    for user in ("www-data", "nobody"):
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            continue
        try:
            group = grp.getgrgid(pw.pw_gid).gr_name
        except KeyError:
            group = "#%d" % pw.pw_gid
        return user, group
    return "#65534", "#65534"


def make_dir(path, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)          # umask-proof
    return path


def make_base_dir(prefix="asst-it-"):
    """A fresh temp dir that httpd children (www-data) can traverse."""
    return make_dir(tempfile.mkdtemp(prefix=prefix), 0o755)


def write_file(path, text, mode=0o644):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    # a zombie child of ours is not alive
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def wait_for(pred, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# --------------------------------------------------------------------------
# Redis

class RedisServer:
    """A private redis-server on a fixed free 127.0.0.1 port and a unix socket.

    stop()/start() may be called repeatedly; the port and socket path stay
    the same so the module's configuration keeps pointing at it."""

    def __init__(self, base_dir, name="redis", password=None, extra_args=()):
        self.dir = make_dir(os.path.join(base_dir, name), 0o755)
        self.port = free_port()
        self.sock = os.path.join(self.dir, "redis.sock")
        self.password = password
        self.extra_args = list(extra_args)
        self.logfile = os.path.join(self.dir, "redis.log")
        self.proc = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _argv(self):
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", self.sock, "--unixsocketperm", "777",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--daemonize", "no", "--logfile", self.logfile,
                "--databases", "1"]
        if self.password:
            argv += ["--requirepass", self.password]
        return argv + self.extra_args

    def _ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                data = s.recv(64)
                # +PONG, or -NOAUTH when a password is required: up either way
                return data.startswith(b"+PONG") or data.startswith(b"-NOAUTH")
        except OSError:
            return False

    def start(self, timeout=10):
        if self.running:
            return self
        self.proc = subprocess.Popen(self._argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_for(lambda: self._ping() or not self.running, timeout) or not self.running:
            rc = self.proc.poll()
            raise RuntimeError("redis-server did not start (rc=%s), see %s" % (rc, self.logfile))
        return self

    def stop(self, kill=False, timeout=10):
        """Stops the server; kill=True is a SIGKILL crash instead of a shutdown."""
        if not self.running:
            self.proc = None
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)
        self.proc = None
        # the port must really be closed before a test relies on "Redis down"
        wait_for(lambda: not port_open(self.port), 5)

    def client(self, decode_responses=True, unix=False):
        import redis  # python3-redis, only needed by the tests
        if unix:
            return redis.Redis(unix_socket_path=self.sock, password=self.password,
                               decode_responses=decode_responses, socket_timeout=5)
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                           decode_responses=decode_responses, socket_timeout=5)


# --------------------------------------------------------------------------
# The standard site

# Test identities.  Twilio auth tokens are 32 hex characters, Account SIDs "AC" + 32.
TOKEN = "9f2c4e1a7b3d5c6e8f0a1b2c3d4e5f60"
SECONDARY_TOKEN = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
OTHER_TOKEN = "ffffeeeeddddccccbbbbaaaa99998888"
ACCOUNT = "AC" + "0123456789abcdef0123456789abcdef"
OTHER_ACCOUNT = "AC" + "fedcba9876543210fedcba9876543210"
PUBLIC = "https://assistant.example.com"


def default_body(redis_addr=None, server_extra="", sms_extra="", status_extra="",
                 metrics_extra="Require ip 127.0.0.1", extra_locations="",
                 token=TOKEN, account=ACCOUNT, public=PUBLIC, redis_timeout=1000):
    """The standard site: /sms, /status, /metrics."""
    lines = []
    if redis_addr:
        lines.append("AssistantRedis %s" % redis_addr)
    if redis_timeout is not None:
        lines.append("AssistantRedisTimeout %d" % redis_timeout)
    lines.append(server_extra)
    tok = "    AssistantTwilioAuthToken %s\n" % token if token else ""
    acc = "    AssistantTwilioAccountSid %s\n" % account if account else ""
    lines.append("""
<Location /sms>
    SetHandler assistant-sms
{tok}{acc}    AssistantPublicURL {public}/sms
{sms_extra}
</Location>
<Location /status>
    SetHandler assistant-status
{tok}{acc}    AssistantPublicURL {public}/status
{status_extra}
</Location>
<Location /metrics>
    SetHandler assistant-metrics
    {metrics_extra}
</Location>
{extra_locations}
""".format(tok=tok, acc=acc, public=public, sms_extra=sms_extra,
           status_extra=status_extra, metrics_extra=metrics_extra,
           extra_locations=extra_locations))
    return "\n".join(lines)


def get_metrics(apache):
    import requests
    r = requests.get(apache.url + "/metrics", timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return parse_metrics(r.text)


# --------------------------------------------------------------------------
# Apache

MPM_CONF = {
    "event": """\
StartServers 2
ServerLimit 4
ThreadLimit 8
ThreadsPerChild 8
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
MaxConnectionsPerChild 0
""",
    "worker": """\
StartServers 2
ServerLimit 4
ThreadLimit 8
ThreadsPerChild 8
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
MaxConnectionsPerChild 0
""",
    "prefork": """\
StartServers 4
MinSpareServers 4
MaxSpareServers 8
ServerLimit 16
MaxRequestWorkers 16
MaxConnectionsPerChild 0
""",
}

CONF_TEMPLATE = """\
# generated by tests/it/stack.py
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/run/httpd.pid"
DefaultRuntimeDir "{root}/run"
Mutex file:{root}/run default
ErrorLog "{root}/logs/error.log"
LogLevel {loglevel}
LogFormat "%P %>s %m %U%q" pidlog
CustomLog "{root}/logs/access.log" pidlog
DocumentRoot "{root}/htdocs"
{user_group}
LoadModule mpm_{mpm}_module "{modules_dir}/mod_mpm_{mpm}.so"
LoadModule authz_core_module "{modules_dir}/mod_authz_core.so"
LoadModule authz_host_module "{modules_dir}/mod_authz_host.so"
{mpm_conf}
Timeout 10
KeepAlive {keepalive}
GracefulShutdownTimeout 10
<Directory />
    Require all denied
</Directory>
<Directory "{root}/htdocs">
    Require all granted
</Directory>

{load_module}

{body}
"""

def stop_all_and_scan_logs(servers, log_of):
    """Stops each server (a failed stop does not skip the rest) and returns
    the problems: failed stops and each log's unexpected lines (log_of(s)
    names the log in the message). [] when all is well."""
    errors = []
    for s in servers:
        try:
            s.stop()
        except Exception as e:  # still scan its log
            errors.append("stop: %s" % e)
        bad = s.bad_log_lines()
        if bad:
            errors.append("unexpected lines in %s:\n  %s" % (log_of(s), "\n  ".join(bad)))
    return errors


# Lines in the error log that fail a test whatever it declared expected.
FATAL_LOG_PATTERNS = [
    re.compile(p) for p in (
        r"Segmentation fault", r"exit signal", r"AH00052", r":emerg\]", r":crit\]",
        r":alert\]", r"AddressSanitizer", r"LeakSanitizer", r"runtime error:",
        r"double free", r"stack smashing",
    )
]
# Lines that fail a test unless it declared them expected.
ERROR_LOG_PATTERNS = [re.compile(r":error\]"), re.compile(r"\[core:(warn|error)\]")]


class ApacheError(Exception):
    pass


class Apache:
    """One httpd instance with a generated configuration."""

    def __init__(self, base_dir, module, name="httpd", mpm="event", body="",
                 keepalive=True, loglevel="warn assistant:info", port=None):
        if mpm not in MPM_CONF:
            raise ValueError("unknown MPM %r" % mpm)
        self.root = make_dir(os.path.join(base_dir, name), 0o755)
        for d in ("run", "logs", "htdocs", "conf"):
            make_dir(os.path.join(self.root, d), 0o755)
        self.module = module
        self.mpm = mpm
        self.port = port or free_port()
        self.body = body
        self.keepalive = keepalive
        self.loglevel = loglevel
        self.conf_path = os.path.join(self.root, "conf", "httpd.conf")
        self.error_log = os.path.join(self.root, "logs", "error.log")
        self.access_log = os.path.join(self.root, "logs", "access.log")
        self.pid_file = os.path.join(self.root, "run", "httpd.pid")
        self.pid = None
        self.expected = []          # regexes of error lines a test provoked on purpose
        self.write_conf()

    # -- configuration
    def conf_text(self, body=None):
        if IS_ROOT:
            user, group = run_user()
            user_group = "User %s\nGroup %s" % (user, group)
        else:
            user_group = ""
        return CONF_TEMPLATE.format(
            root=self.root, port=self.port, loglevel=self.loglevel,
            user_group=user_group, mpm=self.mpm, modules_dir=APACHE_MODULES_DIR,
            mpm_conf=MPM_CONF[self.mpm], keepalive="On" if self.keepalive else "Off",
            load_module=('LoadModule assistant_module "%s"' % self.module) if self.module else "",
            body=self.body if body is None else body)

    def write_conf(self, body=None, path=None):
        write_file(path or self.conf_path, self.conf_text(body))
        return path or self.conf_path

    def env(self):
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C",
            "APACHE_RUN_DIR": os.path.join(self.root, "run"),
            "APACHE_LOCK_DIR": os.path.join(self.root, "run"),
            "APACHE_LOG_DIR": os.path.join(self.root, "logs"),
            "APACHE_PID_FILE": self.pid_file,
        }
        if IS_ROOT:
            env["APACHE_RUN_USER"], env["APACHE_RUN_GROUP"] = run_user()
        for k in _PASS_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def _ctl(self, *args, conf=None, timeout=30):
        argv = [APACHE2, "-d", self.root, "-f", conf or self.conf_path] + list(args)
        return subprocess.run(argv, env=self.env(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, cwd=self.root)

    def configtest(self, conf=None):
        """(exit code, output) of `apache2 -t`."""
        p = self._ctl("-t", conf=conf)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    # -- life cycle
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def read_pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    @property
    def running(self):
        return self.pid is not None and pid_alive(self.pid)

    def start(self, timeout=15, _retries=2):
        log_start = self.log_size()
        p = self._ctl("-k", "start")
        out = p.stdout.decode("utf-8", "replace")
        in_use = "Address already in use" in out + "\n".join(self.log_since(log_start))
        if p.returncode != 0 and in_use and _retries > 0:
            # another process took the free port we picked: pick again
            self.port = free_port()
            self.write_conf()
            return self.start(timeout, _retries - 1)
        if p.returncode != 0:
            raise ApacheError("apache2 -k start failed (rc=%d):\n%s\n%s" %
                              (p.returncode, out, self.log_text()[-4000:]))
        self.pid = wait_for(self.read_pid, timeout)
        if not self.pid:
            raise ApacheError("no pid file after start:\n%s\n%s" % (out, self.log_text()[-4000:]))
        if not wait_for(lambda: port_open(self.port) or not pid_alive(self.pid), timeout) \
                or not pid_alive(self.pid):
            raise ApacheError("httpd not listening on %d:\n%s" % (self.port, self.log_text()[-4000:]))
        # children up (the parent logs this once they are forked)
        wait_for(lambda: self.log_text().count("resuming normal operations") >= 1, timeout)
        return self

    def stop(self, timeout=20):
        if self.pid is None:
            self.pid = self.read_pid()
        if self.pid is None:
            return
        if pid_alive(self.pid):
            self._ctl("-k", "stop")
            if not wait_for(lambda: not pid_alive(self.pid), timeout):
                os.kill(self.pid, signal.SIGKILL)
                wait_for(lambda: not pid_alive(self.pid), 5)
                raise ApacheError("httpd %d did not stop within %ds" % (self.pid, timeout))
        self.pid = None

    def graceful(self, timeout=20):
        """`apache2 -k graceful`; returns once the new generation is up."""
        n = self.log_text().count("resuming normal operations")
        p = self._ctl("-k", "graceful")
        if p.returncode != 0:
            raise ApacheError("graceful failed: %s" % p.stdout.decode("utf-8", "replace"))
        if not wait_for(lambda: self.log_text().count("resuming normal operations") > n, timeout):
            raise ApacheError("no new generation after graceful:\n%s" % self.log_text()[-4000:])

    # -- logs
    def log_text(self):
        try:
            with open(self.error_log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_lines(self):
        return self.log_text().splitlines()

    def log_size(self):
        try:
            return os.path.getsize(self.error_log)
        except OSError:
            return 0

    def log_since(self, offset):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def access_pids(self, path_prefix="/"):
        """pids of the children that served requests for path_prefix."""
        pids = set()
        try:
            with open(self.access_log) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 4 and parts[3].startswith(path_prefix):
                        pids.add(parts[0])
        except OSError:
            pass
        return pids

    def expect(self, *patterns):
        """Declares error-log lines (regexes) that the test provokes on purpose."""
        self.expected.extend(re.compile(p) for p in patterns)

    def bad_log_lines(self):
        bad = []
        for line in self.log_lines():
            if any(p.search(line) for p in FATAL_LOG_PATTERNS):
                bad.append(line)
            elif any(p.search(line) for p in ERROR_LOG_PATTERNS) and \
                    not any(p.search(line) for p in self.expected):
                bad.append(line)
        return bad


# --------------------------------------------------------------------------
# Twilio side

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


# --------------------------------------------------------------------------
# Reading what the module produced

def stream_envelopes(rdb, stream="{asst}:in"):
    """[(entry id, envelope dict)] of every entry in stream, oldest first."""
    out = []
    for eid, fields in rdb.xrange(stream):
        assert set(fields) == {"env"}, "stream entry %s has fields %s" % (eid, sorted(fields))
        out.append((eid, json.loads(fields["env"])))
    return out


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(labels.items())): float}."""
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)(\s+\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*')
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = line_re.match(line.strip())
        if not m:
            raise ValueError("not Prometheus text: %r" % line)
        labels = {}
        if m.group(3):
            pos = 0
            s = m.group(3)
            while pos < len(s):
                lm = label_re.match(s, pos)
                if not lm:
                    raise ValueError("bad labels in %r" % line)
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        v = m.group(4)
        out[(m.group(1), frozenset(labels.items()))] = float(v)
    return out


def metric(metrics, name, **labels):
    """Value of one series, 0.0 when absent."""
    return metrics.get((name, frozenset(labels.items())), 0.0)


def metric_series(metrics, name):
    return {k[1]: v for k, v in metrics.items() if k[0] == name}


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------
# Contract checks shared by the tests

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

ENVELOPE_KEYS = {"v", "sid", "account", "from", "to", "body", "num_media", "media",
                 "received_ms", "params"}

SMS_OUTCOMES = ("accepted", "duplicate", "bad_signature", "too_large", "bad_method",
                "bad_request", "rate_limited", "spooled", "redis_error")


def assert_twiml_ok(r):
    assert r.status_code == 200, "status %d, body %r" % (r.status_code, r.text[:300])
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "text/xml", "Content-Type %r" % ctype
    assert r.content.rstrip(b"\r\n") == TWIML_EMPTY.encode(), "body %r" % r.content[:300]


def expected_params(params):
    """The envelope's "params" for these form pairs: repeats become arrays."""
    out = {}
    for k, v in params:
        if k in out:
            if isinstance(out[k], list):
                out[k].append(v)
            else:
                out[k] = [out[k], v]
        else:
            out[k] = v
    return out


def assert_envelope(env, params, before_ms=None, after_ms=None, stream_kind="sms"):
    """env (parsed JSON) is the v1 envelope of the form pairs params."""
    first = {}
    for k, v in params:
        first.setdefault(k, v)
    assert set(env) == ENVELOPE_KEYS, "envelope keys %s" % sorted(env)
    assert env["v"] == 1 and type(env["v"]) is int
    assert env["sid"] == first["MessageSid"]
    assert env["account"] == first["AccountSid"]
    if stream_kind == "sms":
        assert env["from"] == first["From"]
        assert env["to"] == first["To"]
        assert env["body"] == first.get("Body", "")
        n = int(first.get("NumMedia", "0"))
        assert env["num_media"] == n and type(env["num_media"]) is int
        assert env["media"] == [{"url": first["MediaUrl%d" % i],
                                 "type": first["MediaContentType%d" % i]} for i in range(n)]
    assert type(env["received_ms"]) is int
    if before_ms is not None:
        # same machine clock; allow a little rounding
        assert before_ms - 5 <= env["received_ms"] <= after_ms + 5, \
            (before_ms, env["received_ms"], after_ms)
    assert env["params"] == expected_params(params)


def now_ms():
    return int(time.time() * 1000)


def main():
    """Runs Redis + Apache with the standard site until interrupted."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--mpm", default="event", choices=MPMS)
    ap.add_argument("--spool", action="store_true", help="configure AssistantSpoolDir")
    args = ap.parse_args()
    module = find_module()
    if not module:
        raise SystemExit("mod_assistant.so not found; set ASST_MODULE")
    base = make_base_dir("asst-stack-")
    redis = RedisServer(base).start()
    extra = ""
    if args.spool:
        extra = "    AssistantSpoolDir %s" % make_dir(os.path.join(base, "spool"), 0o777)
    httpd = Apache(base, module, mpm=args.mpm,
                   body=default_body(redis_addr=redis.addr, sms_extra=extra, status_extra=extra))
    try:
        httpd.start()
        print("dir      %s" % base)
        print("redis    %s (unix:%s)" % (redis.addr, redis.sock))
        print("httpd    %s  (/sms /status /metrics), error log %s" % (httpd.url, httpd.error_log))
        print("token    %s  account %s  public URL %s" % (TOKEN, ACCOUNT, PUBLIC))
        print("Ctrl-C stops it.")
        while httpd.running and redis.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.stop()
        redis.stop()
        print("left in %s" % base)


if __name__ == "__main__":
    main()
