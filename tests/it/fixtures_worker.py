"""Fixtures for assistant-worker's master (the Worker is harness.worker's):
a worker.conf written into the test's directory and the daemon started on it.

    def test_x(worker_factory):
        w = worker_factory(Workers=3)          # started with -F, waits for its children
        w.wait_for(lambda: len(w.agents()) == 3)
        w.signal(signal.SIGHUP)

Directives are keyword arguments (value None leaves a default out).  Every
worker is stopped after the test (TERM, then KILL of the master and of any
child left), and its log is checked for crashes and sanitizer reports.

The binary: $ASST_WORKER, else the newest build*/worker/assistant-worker
under the repository (or beside it).
"""

import os
import subprocess

import pytest

import stack  # noqa: F401  (puts tests/ on sys.path)
from harness.server import stop_all_and_scan_logs
from harness.util import (alive, children_of, find_worker, pid_gone, proc_stat,  # noqa: F401
                          wait_gone)
from harness.worker import LOG_LINE, Worker, conf_text  # noqa: F401

# conftest.py does `from fixtures_worker import *`: export the fixtures only;
# tests import the helpers from this module by name.
__all__ = ["worker_binary", "worker_factory", "worker"]

WORKER = find_worker()


@pytest.fixture
def worker_binary():
    if not WORKER or not os.access(WORKER, os.X_OK):
        pytest.skip("assistant-worker not found: set ASST_WORKER or build into build*/")
    return WORKER


@pytest.fixture
def worker_factory(test_dir, worker_binary):
    """make(name=None, start=True, foreground=True, **directives) -> Worker.

    Every worker made is stopped after the test and its log checked."""
    made = []

    def make(name=None, start=True, foreground=True, **directives):
        w = Worker(test_dir, worker_binary, name=name or "worker%d" % len(made), **directives)
        made.append(w)
        if start:
            w.start(foreground=foreground)
        return w

    yield make

    errors = stop_all_and_scan_logs(made)
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def worker(worker_factory):
    """A started worker with the default directives (Workers 2)."""
    return worker_factory()


def dead_pid():
    """A pid that names no process: a child that was reaped."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid
