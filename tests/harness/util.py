"""Helpers the servers share: directories, ports, processes, waiting, and
finding the binaries under test.

Binaries (each $VAR wins when set; else the newest build under the
repository or beside it):
  ASST_MODULE   mod_assistant.so    (build*/mod_assistant/.libs/)
  ASST_WORKER   assistant-worker    (build*/worker/)
  ASST_ADMIN    assistant-admin     (beside the worker, else build*/admin/ or build*/worker/)
  APACHE2, REDIS_SERVER, APACHE_MODULES_DIR, PG_BINDIR: the servers themselves.
"""

import glob
import grp
import os
import pwd
import shutil
import socket
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
IS_ROOT = os.geteuid() == 0
PYTHON = "/usr/bin/python3"

APACHE2 = os.environ.get("APACHE2") or "/usr/sbin/apache2"
REDIS_SERVER = os.environ.get("REDIS_SERVER") or "/usr/bin/redis-server"
APACHE_MODULES_DIR = os.environ.get("APACHE_MODULES_DIR") or "/usr/lib/apache2/modules"


# ---- files and directories -------------------------------------------------

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


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)


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


# ---- ports ------------------------------------------------------------------

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


# ---- processes ----------------------------------------------------------------

def proc_stat(pid):
    """(state, ppid, comm) of pid from /proc, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), comm


def alive(pid):
    """True while pid exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


pid_alive = alive


def pid_gone(pid):
    return not alive(pid)


def children_of(pid):
    """{child pid: comm} of the live (non-zombie) children of pid."""
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = proc_stat(int(entry))
        if st and st[1] == pid and st[0] != "Z":
            kids[int(entry)] = st[2]
    return kids


def cpu_seconds(pids):
    """utime + stime of these processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wait_for(pred, timeout, interval=0.02):
    """pred()'s first true value within timeout seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def wait_gone(pids, timeout=10):
    return wait_for(lambda: all(pid_gone(p) for p in pids), timeout, 0.05)


# ---- the binaries under test ---------------------------------------------------

def _newest(paths, mode=os.X_OK):
    paths = [p for p in paths if os.access(p, mode)]
    return max(paths, key=os.path.getmtime) if paths else None


def _in_builds(*rel):
    hits = []
    for root in (REPO_ROOT, os.path.dirname(REPO_ROOT)):
        hits += glob.glob(os.path.join(root, "build*", *rel))
    return hits


def find_module():
    """Path of mod_assistant.so, or None.  $ASST_MODULE wins when set."""
    env = os.environ.get("ASST_MODULE")
    if env:
        return os.path.abspath(env)
    return _newest(_in_builds("mod_assistant", ".libs", "mod_assistant.so")
                   + glob.glob(os.path.join(REPO_ROOT, "mod_assistant", ".libs",
                                            "mod_assistant.so")), os.R_OK)


def find_worker():
    """Path of assistant-worker, or None.  $ASST_WORKER wins when set."""
    env = os.environ.get("ASST_WORKER")
    if env:
        return os.path.abspath(env)
    return _newest(_in_builds("worker", "assistant-worker"))


def find_admin(worker=None):
    """Path of assistant-admin, or None.  $ASST_ADMIN wins, then the one
    beside the worker's build, then the newest build, then $PATH."""
    env = os.environ.get("ASST_ADMIN")
    if env:
        return os.path.abspath(env)
    worker = worker or find_worker()
    if worker:
        build = os.path.dirname(os.path.dirname(worker))
        for sub in ("admin", "worker"):
            beside = os.path.join(build, sub, "assistant-admin")
            if os.access(beside, os.X_OK):
                return beside
    return (_newest(_in_builds("admin", "assistant-admin")
                    + _in_builds("worker", "assistant-admin")) or shutil.which("assistant-admin"))


class Binaries:
    """The three files under test: module, worker and admin given, else
    from a build directory (build/), else found as above."""

    def __init__(self, build=None, module=None, worker=None, admin=None):
        if build:
            build = os.path.abspath(build)
            module = module or os.path.join(build, "mod_assistant", ".libs", "mod_assistant.so")
            worker = worker or os.path.join(build, "worker", "assistant-worker")
            admin = admin or next((p for p in (os.path.join(build, "admin", "assistant-admin"),
                                               os.path.join(build, "worker", "assistant-admin"))
                                   if os.path.exists(p)),
                                  os.path.join(build, "admin", "assistant-admin"))
        self.module = module or find_module()
        self.worker = worker or find_worker()
        self.admin = admin or find_admin(self.worker)

    def missing(self):
        """What is not there, as a list of strings."""
        miss = [p or name for name, p in (("mod_assistant.so", self.module),
                                          ("assistant-worker", self.worker),
                                          ("assistant-admin", self.admin))
                if not p or not os.path.exists(p)]
        for exe in (APACHE2, REDIS_SERVER, PYTHON):
            if not os.access(exe, os.X_OK):
                miss.append(exe)
        return miss
