"""Many turns in flight: a slow model must not make a slow pool.  One
agent child drives up to TurnsInFlight turns at once (the model requests
on a libcurl multi handle, the database steps short transactions on the
child's one connection), a person's texts still run one at a time and in
order, and nothing is lost when PostgreSQL goes away while turns wait."""

import signal
import threading
import time

import pytest

from stack import new_phone, wait_for
from test_agent import Chat
from test_llm import llm_path  # noqa: F401  (fixture)


class InflightSampler(threading.Thread):
    """The fake model's requests open at once, sampled every 50 ms."""

    def __init__(self, llm):
        super().__init__(daemon=True)
        self.llm, self.samples = llm, [0]
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            self.samples.append(len(self.llm.inflight()))

    def stop(self):
        self.done.set()
        self.join()
        return max(self.samples)


def text_all(path, bodies):
    """Each (phone, body) sent from a thread of its own, all at once."""
    threads = [threading.Thread(target=path.text, args=(phone, body)) for phone, body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def worker_connections(path):
    return int(path.value("SELECT count(*) FROM pg_stat_activity "
                          "WHERE application_name = 'assistant-worker'"))


def test_one_child_drives_many_slow_turns_at_once(llm_path):
    path = llm_path(Workers=1, TurnDeadline=20000, LLMTimeout=10000)
    path.llm.faults({"delay_ms": 1500})
    people = [new_phone() for _ in range(20)]
    sampler = InflightSampler(path.llm)
    sampler.start()
    t = time.monotonic()
    text_all(path, [(p, "hello %d" % i) for i, p in enumerate(people)])
    for p in people:
        path.wait_replies(1, to=p, timeout=20)
    took = time.monotonic() - t
    most = sampler.stop()
    # One at a time would take 20 x 1.5 s = 30 s.
    assert took < 8, "20 turns of a 1.5 s model took %.1f s in one child" % took
    assert most >= 10, "at most %d model requests were open at once" % most
    assert all(r["form"]["Body"] == "OK" for r in path.replies())
    assert worker_connections(path) <= 3     # the agent child, the scheduler, the master's check


def test_turns_in_flight_caps_a_child(llm_path):
    path = llm_path(Workers=1, TurnsInFlight=2, TurnDeadline=20000, LLMTimeout=10000)
    path.llm.faults({"delay_ms": 800})
    people = [new_phone() for _ in range(6)]
    sampler = InflightSampler(path.llm)
    sampler.start()
    text_all(path, [(p, "hi") for p in people])
    for p in people:
        path.wait_replies(1, to=p, timeout=20)
    assert sampler.stop() == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_a_persons_texts_run_one_at_a_time_in_order(llm_path, workers):
    """Three texts sent at once by one person, with a slow two-call model:
    one child orders them by arrival; two children by the session lock."""
    path = llm_path(Workers=workers, TurnDeadline=20000, LLMTimeout=10000)
    path.llm.faults({"delay_ms": 300, "tool_loop": 1})
    chat = Chat(path)
    for body in ("note: one", "note: two", "note: three"):
        path.text(chat.phone, body)
    path.wait_replies(3, to=chat.phone, timeout=20)
    notes = chat.rows("notes")
    if workers == 1:
        assert notes == ["note: one", "note: two", "note: three"]
    else:
        assert sorted(notes) == ["note: one", "note: three", "note: two"]
    spans = path.sql("SELECT t.created_at, e.created_at FROM turns t JOIN events e ON e.kind = 'turn_done' "
                     "AND (e.data->>'turn_id')::bigint = t.id ORDER BY t.created_at")
    assert len(spans) == 3
    for (_, done), (start, _) in zip(spans, spans[1:]):
        assert start >= done, "two turns of one person overlapped: %s" % spans
    path.assert_no_more(3, to=chat.phone, seconds=0.5)


@pytest.mark.slow
def test_postgres_restart_while_turns_wait(llm_path, pg_server):
    """The connection (and with it the persons' locks) goes while models
    think: every text is still answered exactly once, its tool run once."""
    path = llm_path(Workers=1, TurnDeadline=30000, LLMTimeout=20000)
    path.expect_worker(r"ASST01005", r"ASST02001", r"ASST02004")
    path.llm.faults({"delay_ms": 2500, "tool_loop": 1})
    people = [Chat(path) for _ in range(4)]
    text_all(path, [(c.phone, "note: kept %d" % i) for i, c in enumerate(people)])
    time.sleep(1.0)                       # the model is thinking about all four
    pg_server.stop()
    time.sleep(1.0)
    pg_server.start()
    for c in people:
        path.wait_replies(1, to=c.phone, timeout=40)
    for i, c in enumerate(people):
        path.assert_no_more(1, to=c.phone, seconds=0.2)
        assert c.rows("notes") == ["note: kept %d" % i]


def test_a_reload_lets_waiting_turns_finish(llm_path):
    """HUP replaces the children: the old one stops reading but finishes
    the turns whose model is still thinking, so their replies come at
    once, not a ClaimIdle later."""
    path = llm_path(Workers=1, TurnDeadline=20000, LLMTimeout=10000)
    path.llm.faults({"delay_ms": 2000})
    people = [new_phone() for _ in range(5)]
    old = path.agents()
    text_all(path, [(p, "hi") for p in people])
    assert wait_for(lambda: len(path.llm.inflight()) == 5, 5), "the model was not asked five times at once"
    t = time.monotonic()
    path.worker.signal(signal.SIGHUP)
    for p in people:
        path.wait_replies(1, to=p, timeout=10)
    assert time.monotonic() - t < 4
    assert not set(old) & set(path.agents())
    for p in people:
        path.assert_no_more(1, to=p, seconds=0.2)
