"""assistant-worker's master: options, configtest, supervision, signals,
pid file, privileges and log format.  The children wait for a database
schema that never comes (they idle until told to stop), so nothing here
needs PostgreSQL or Redis."""

import os
import pwd
import re
import signal
import time

import pytest

import stack
from fixtures_worker import LOG_LINE, alive, dead_pid, pid_gone, proc_stat, wait_gone

CONF_EXAMPLE = os.path.join(stack.REPO_ROOT, "conf", "worker.conf")


# ---- options and -t ------------------------------------------------------


def replaced(pids, victim):
    """One snapshot of the children: a child that dies between two reads
    of the list must not make the check itself fail."""
    return bool(pids) and pids[0] != victim

def test_configtest_ok(worker_factory):
    w = worker_factory(start=False, Workers=3, MaxTurnsPerChild=100, SignupPolicy="open")
    rc, out = w.check()
    assert rc == 0 and "Syntax OK" in out, out
    assert not os.path.exists(w.pid_file) and not os.path.exists(w.log)


def test_configtest_shipped_example(worker_factory):
    w = worker_factory(start=False)
    rc, out = w.run("-t", "-f", CONF_EXAMPLE)
    assert rc == 0 and "Syntax OK" in out, out


@pytest.mark.parametrize("line, message", [
    ("Wrokers 2", "unknown directive"),
    ("Workers two", "Workers: is not an integer"),
    ("Workers 0", "Workers: must be a positive integer"),
    ("ShutdownTimeout -1", "ShutdownTimeout"),
    ("LogLevel loud", "LogLevel: must be one of error|warn|info|debug"),
    ("SignupPolicy maybe", "SignupPolicy: must be one of"),
    ("PidFile relative.pid", "PidFile"),
    ("Redis ::1", "Redis: IPv6 addresses (and any host with ':') need brackets: [::1]:6379"),
])
def test_configtest_errors_name_file_and_line(worker_factory, line, message):
    w = worker_factory(start=False)
    w.write_conf(text="# a comment\nWorkers 1\n\n%s\nLogLevel info\n" % line)
    rc, out = w.check()
    assert rc == 1, out
    assert "%s:4: " % w.conf in out and message in out, out
    assert "Syntax OK" not in out


def test_configtest_long_lines_stay_whole(worker_factory):
    """A line longer than any buffer is one line: the tail of a long comment
    is not read as a directive (found by fuzzing: 8 KiB used to split it),
    and line numbers after it stay right."""
    w = worker_factory(start=False)
    w.write_conf(text="#" + "x" * 20000 + " Workers 0\nWorkers 1\nWorkers two\n")
    rc, out = w.check()
    assert rc == 1, out
    assert "%s:3: Workers: is not an integer" % w.conf in out, out


def test_configtest_unknown_user(worker_factory):
    w = worker_factory(start=False, User="no-such-user-here")
    rc, out = w.check()
    assert rc == 1 and "no-such-user-here" in out and w.conf in out, out


def test_configtest_missing_file(worker_factory):
    w = worker_factory(start=False)
    rc, out = w.run("-t", "-f", w.conf + ".missing")
    assert rc == 1 and w.conf + ".missing" in out, out


@pytest.mark.parametrize("args", [[], ["-t"], ["-x", "-f", "/dev/null"],
                                  ["-f", "/dev/null", "extra"], ["-f"]])
def test_usage_errors_exit_2(worker_factory, args):
    w = worker_factory(start=False)
    rc, out = w.run(*args)
    assert rc == 2 and "usage:" in out, out


def test_help_and_print_directives(worker_factory):
    w = worker_factory(start=False)
    rc, out = w.run("-h")
    assert rc == 0 and "usage:" in out and "HUP" in out
    rc, out = w.run("--print-directives")
    assert rc == 0 and "## Workers" in out and "## ShutdownTimeout" in out, out


def test_start_with_bad_config_exits_1(worker_factory):
    w = worker_factory(start=False)
    w.write_conf(text="Workers 1\nBogus 1\n")
    rc, out = w.run("-F", "-f", w.conf)
    assert rc == 1 and "%s:2:" % w.conf in out, out
    assert not os.path.exists(w.pid_file)


# ---- children ------------------------------------------------------------

def test_workers_n_agents_and_one_scheduler(worker_factory):
    w = worker_factory(Workers=3)
    assert w.wait_children(3)
    assert len(w.children()) == 4
    assert w.read_pid() == w.pid
    assert w.wait_log(r"ASST01501: master started")


def test_log_lines_carry_ids(worker_factory):
    w = worker_factory(Workers=2)
    assert w.wait_for(lambda: len(w.log_lines("ASST01001")) == 3)
    lines = w.log_lines()
    assert lines
    pids = set()
    for ln in lines:
        m = LOG_LINE.match(ln)
        assert m, "malformed log line: %r" % ln
        pids.add(int(m.group(2)))
    assert w.pid in pids and len(pids) == 4     # master and its three children


def test_kill9_child_is_replaced_at_once(worker):
    """kill -9 is an outside hand (operator, OOM killer), not a child failing
    to start: one that had got going is replaced without backoff."""
    assert worker.wait_children(2)
    time.sleep(1.1)                     # ASST_BACKOFF_KILLED_MIN_MS
    victim = worker.agents()[0]
    t0 = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    assert worker.wait_for(lambda: len(worker.agents()) == 2 and victim not in worker.agents())
    assert time.monotonic() - t0 < 0.9
    line = worker.wait_log(r"ASST01525: agent child \d \(pid %d\) was killed by signal 9" % victim)
    assert line and "restarting it now" in line, worker.log_text()


def test_scheduler_is_replaced(worker):
    victim = worker.schedulers()[0]
    os.kill(victim, signal.SIGKILL)
    assert worker.wait_for(lambda: replaced(worker.schedulers(), victim))
    assert worker.wait_log(r"ASST01525: scheduler child 0 \(pid %d\)" % victim)


def test_child_that_exits_cleanly_comes_back_at_once(worker):
    """A child that returns ASST_CHILD_EXIT_DONE (MaxTurnsPerChild retirement;
    here: TERM sent to it directly) is replaced without backoff."""
    for _ in range(3):
        victim = worker.agents()[0]
        t0 = time.monotonic()
        os.kill(victim, signal.SIGTERM)
        assert worker.wait_for(lambda: len(worker.agents()) == 2 and victim not in worker.agents())
        assert time.monotonic() - t0 < 0.9
        assert worker.wait_log(r"ASST01524: agent child \d \(pid %d\) retired" % victim)


@pytest.mark.slow
def test_crash_loop_is_throttled(worker_factory):
    """A child that dies young of anything but an outside SIGKILL is
    restarted after 1 s, then 2 s, then 4 s (SIGALRM: fatal, no core file)."""
    w = worker_factory(Workers=1)
    gaps = []
    for _ in range(3):
        victim = w.agents()[0]
        os.kill(victim, signal.SIGALRM)
        t0 = time.monotonic()
        assert w.wait_for(lambda: replaced(w.agents(), victim), 10)
        gaps.append(time.monotonic() - t0)
    assert 0.8 <= gaps[0] < 1.8, gaps
    assert 1.8 <= gaps[1] < 2.8, gaps
    assert 3.8 <= gaps[2] < 4.8, gaps
    delays = [re.search(r"restarting it in (\d+) s", ln).group(1)
              for ln in w.log_lines("ASST01525")]
    assert delays == ["1", "2", "4"], w.log_text()


def test_master_kill9_children_exit(worker_factory):
    w = worker_factory(Workers=3)
    kids = list(w.children())
    assert len(kids) == 4
    w.signal(signal.SIGKILL)
    w.wait_exit(5)
    assert wait_gone(kids, 3), [proc_stat(p) for p in kids]


# ---- HUP -----------------------------------------------------------------

def test_hup_with_broken_config_keeps_running(worker_factory):
    w = worker_factory(Workers=2)
    before = set(w.children())
    w.write_conf(text=open(w.conf).read() + "Workers 5\nNoSuchDirective on\n")
    bad_line = len(open(w.conf).read().splitlines())
    w.signal(signal.SIGHUP)
    line = w.wait_log(r"ASST01513: HUP: ")
    assert line and "%s:%d: unknown directive" % (w.conf, bad_line) in line, w.log_text()
    assert "[error]" in line and "previous configuration" in line
    time.sleep(0.5)
    assert w.running and set(w.children()) == before
    # fixed: the next HUP applies it
    w.write_conf(text=open(w.conf).read().replace("NoSuchDirective on\n", ""))
    w.signal(signal.SIGHUP)
    assert w.wait_children(5)
    assert not (set(w.children()) & before)


def test_hup_with_unknown_user_keeps_running(worker_factory):
    w = worker_factory(Workers=1)
    before = set(w.children())
    w.write_conf(User="no-such-user-here")
    w.signal(signal.SIGHUP)
    line = w.wait_log(r"ASST01513: ")
    assert line and "no-such-user-here" in line
    assert set(w.children()) == before


def test_hup_changes_workers(worker_factory):
    w = worker_factory(Workers=2)
    old = set(w.children())
    w.write_conf(Workers=4)
    w.signal(signal.SIGHUP)
    assert w.wait_children(4), w.children()
    assert not (set(w.children()) & old)
    assert wait_gone(old, 5)
    assert w.wait_log(r"ASST01515: HUP: .* reloaded: starting 4 agent children")
    w.write_conf(Workers=1)
    w.signal(signal.SIGHUP)
    assert w.wait_children(1), w.children()


def test_hup_reopens_log(worker):
    rotated = worker.log + ".1"
    os.rename(worker.log, rotated)
    worker.signal(signal.SIGHUP)
    assert worker.wait_for(lambda: os.path.exists(worker.log))
    assert worker.wait_log(r"ASST01515: ")


def test_usr1_reopens_log_only(worker):
    kids = set(worker.children())
    rotated = worker.log + ".1"
    os.rename(worker.log, rotated)
    worker.signal(signal.SIGUSR1)
    assert worker.wait_for(lambda: os.path.exists(worker.log))
    victim = worker.agents()[0]
    os.kill(victim, signal.SIGKILL)
    assert worker.wait_log(r"ASST01525: .*\(pid %d\)" % victim)
    assert kids - {victim} <= set(worker.children())


# ---- TERM, INT, QUIT -----------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_term_stops(worker_factory, sig):
    w = worker_factory(Workers=2, ShutdownTimeout=3)
    kids = list(w.children())
    t0 = time.monotonic()
    w.signal(sig)
    assert w.wait_exit(3 + 3) == 0
    assert time.monotonic() - t0 < 3
    assert not os.path.exists(w.pid_file)
    assert wait_gone(kids, 2)
    assert w.log_lines("ASST01511") and w.log_lines("ASST01502")
    assert not w.log_lines("ASST01528")


@pytest.mark.slow
def test_term_kills_children_stuck_past_shutdown_timeout(worker_factory):
    w = worker_factory(Workers=2, ShutdownTimeout=2)
    stuck = w.agents()[0]
    os.kill(stuck, signal.SIGSTOP)        # cannot act on TERM
    t0 = time.monotonic()
    w.signal(signal.SIGTERM)
    assert w.wait_exit(2 + 4) == 0
    took = time.monotonic() - t0
    assert 1.8 <= took < 4, took
    assert pid_gone(stuck)
    assert w.wait_log(r"ASST01528: agent child \d \(pid %d\) still running" % stuck)
    assert not os.path.exists(w.pid_file)


@pytest.mark.slow
def test_quit_drains_without_deadline(worker_factory):
    w = worker_factory(Workers=2, ShutdownTimeout=1)
    stuck = w.agents()[0]
    os.kill(stuck, signal.SIGSTOP)
    w.signal(signal.SIGQUIT)
    assert w.wait_log(r"ASST01510: QUIT: draining")
    time.sleep(2.5)                       # well past ShutdownTimeout: nobody is killed
    assert w.running and alive(stuck)
    assert list(w.children()) == [stuck]
    os.kill(stuck, signal.SIGCONT)        # it finishes its "turn" and exits
    assert w.wait_exit(5) == 0
    assert not w.log_lines("ASST01528")
    assert not os.path.exists(w.pid_file)


@pytest.mark.slow
def test_term_during_drain_sets_the_deadline(worker_factory):
    w = worker_factory(Workers=1, ShutdownTimeout=1)
    stuck = w.agents()[0]
    os.kill(stuck, signal.SIGSTOP)
    w.signal(signal.SIGQUIT)
    assert w.wait_log(r"ASST01510: ")
    time.sleep(1.5)
    assert w.running
    w.signal(signal.SIGTERM)
    assert w.wait_exit(4) == 0
    assert w.log_lines("ASST01528") and pid_gone(stuck)


def test_hup_while_stopping_is_ignored(worker_factory):
    w = worker_factory(Workers=1, ShutdownTimeout=3)
    stuck = w.agents()[0]
    os.kill(stuck, signal.SIGSTOP)
    w.signal(signal.SIGQUIT)
    assert w.wait_log(r"ASST01510: ")
    w.signal(signal.SIGHUP)
    assert w.wait_log(r"ASST01516: HUP ignored")
    assert list(w.children()) == [stuck]
    os.kill(stuck, signal.SIGCONT)
    assert w.wait_exit(5) == 0


# ---- daemon mode and pid file ----------------------------------------------

def test_daemon_mode(worker_factory):
    w = worker_factory(foreground=False, Workers=2)
    pid = w.read_pid()
    assert pid == w.pid and alive(pid)
    assert os.getsid(pid) == pid                          # setsid
    assert os.readlink("/proc/%d/cwd" % pid) == "/"
    for fd in (0, 1, 2):
        assert os.readlink("/proc/%d/fd/%d" % (pid, fd)) == "/dev/null"
    assert proc_stat(pid)[1] != os.getpid()               # not our child
    w.signal(signal.SIGTERM)
    w.wait_exit(8)
    assert not os.path.exists(w.pid_file)


def test_pid_file_refuses_second_instance(worker_factory):
    a = worker_factory(foreground=False, Workers=1)
    b = worker_factory(name="second", start=False, Workers=1, PidFile=a.pid_file)
    for args in (["-f", b.conf], ["-F", "-f", b.conf]):
        rc, out = b.run(*args)
        assert rc == 1, out
        assert "already running" in out and str(a.pid) in out, out
    assert a.read_pid() == a.pid and a.running
    assert len(a.children()) == 2


def test_stale_pid_file_is_replaced(worker_factory):
    w = worker_factory(start=False, Workers=1)
    stale = dead_pid()
    stack.write_file(w.pid_file, "%d\n" % stale)
    w.start()
    assert w.read_pid() == w.pid != stale
    assert w.wait_log(r"ASST01520: removed stale pid file .*pid %d" % stale)


def test_garbage_pid_file_is_replaced(worker_factory):
    w = worker_factory(start=False, Workers=1)
    stack.write_file(w.pid_file, "garbage")
    w.start(foreground=False)
    assert w.read_pid() == w.pid


def test_pid_file_in_missing_dir_fails(worker_factory):
    w = worker_factory(start=False, Workers=1)
    w.write_conf(PidFile=os.path.join(w.dir, "nope", "w.pid"))
    rc, out = w.run("-f", w.conf)
    assert rc == 1 and "cannot create pid file" in out, out


# ---- privileges ------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_children_drop_to_user(worker_factory):
    user = stack.run_user()[0]
    pw = pwd.getpwnam(user)
    w = worker_factory(Workers=1, User=user)
    assert os.stat("/proc/%d" % w.pid).st_uid == 0           # the master stays root
    for kid in w.children():
        with open("/proc/%d/status" % kid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
        assert uids == [str(pw.pw_uid)] * 4, status
        assert gids == [str(pw.pw_gid)] * 4, status
        assert re.search(r"^CapEff:\s+0+$", status, re.M), status
    assert not w.log_lines("ASST01505")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_root_without_user_warns(worker):
    line = worker.wait_log(r"ASST01505: ")
    assert line and "[warn]" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="needs a non-root user")
def test_user_ignored_when_not_root(worker_factory):
    me = pwd.getpwuid(os.geteuid()).pw_name
    w = worker_factory(Workers=1, User=me)
    assert w.wait_log(r"ASST01504: User %s ignored" % me)
