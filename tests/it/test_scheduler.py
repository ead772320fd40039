"""The scheduler sleeps until something is due (worker/child/scheduler.c,
sql/007_scheduler_wake.sql): with 100,000 future reminders it uses no CPU
while idle, and a reminder or an outbox retry added meanwhile wakes it at
once through NOTIFY, not at the next poll."""

import os
import time

import pytest

from stack import new_phone, wait_for


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def add_user(path):
    phone = new_phone()
    return phone, path.value("INSERT INTO users (phone, status, timezone) VALUES ('%s', 'active', "
                             "'Europe/Berlin') RETURNING id" % phone)


def add_reminder(path, user_id, seconds, body="stretch"):
    """A one-off reminder about `seconds` from now (a whole second, wall
    clock in Berlin); returns when it is due (epoch seconds)."""
    rid = path.value(
        "INSERT INTO reminders (user_id, body, zone, dtstart, next_at) "
        "SELECT %s, '%s', 'Europe/Berlin', to_char(t AT TIME ZONE 'Europe/Berlin', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS'), t FROM (SELECT date_trunc('second', now()) "
        "+ interval '%d seconds' AS t) x RETURNING id" % (user_id, body, seconds))
    return float(path.value("SELECT extract(epoch FROM next_at) FROM reminders WHERE id = %s" % rid))


@pytest.mark.slow
def test_idle_with_100000_future_reminders_costs_nothing(assistant_factory):
    path = assistant_factory(Workers=1)
    _, uid = add_user(path)
    path.sql("INSERT INTO reminders (user_id, body, zone, dtstart, next_at) "
             "SELECT %s, 'later ' || i, 'Europe/Berlin', '2099-01-01T09:00:00', "
             "timestamptz '2099-01-01 08:00Z' + i * interval '1 minute' "
             "FROM generate_series(1, 100000) i" % uid)
    [scheduler] = path.schedulers()
    time.sleep(1.0)                                   # the insert's wake-up is over
    before, t = cpu_ticks(scheduler), time.monotonic()
    time.sleep(6.0)
    used = cpu_ticks(scheduler) - before
    hz = os.sysconf("SC_CLK_TCK")
    assert used <= 1, "the idle scheduler used %d ms of CPU in %.1f s" % (
        used * 1000 // hz, time.monotonic() - t)


def test_a_new_reminder_wakes_the_sleeping_scheduler(assistant_factory):
    """Asleep with nothing due for 5 minutes, the scheduler still fires a
    reminder added for 2 s ahead on time: the insert notified it."""
    path = assistant_factory(Workers=1)
    phone, uid = add_user(path)
    time.sleep(1.5)                                   # asleep: nothing is due
    due = add_reminder(path, uid, 2)
    [rep] = path.wait_replies(1, to=phone, timeout=10)
    assert rep["form"]["Body"].endswith("stretch")
    assert rep["time"] - due < 1.0, "fired %.2f s after it was due" % (rep["time"] - due)


def test_a_retry_is_sent_at_its_time_not_at_the_next_poll(assistant):
    """A failed send waits for its retry; the scheduler, woken by the row
    going back to pending, sleeps exactly until then."""
    path = assistant
    phone = new_phone()
    path.fake.faults({"fail_bodies": {"retry me": 503}})
    path.text(phone, "zzz retry me")                 # not understood: the reply quotes it
    assert wait_for(lambda: path.value("SELECT count(*) FROM outbox WHERE status = 'pending' "
                                       "AND attempts > 0") == "1", 10), path.outbox_rows()
    path.fake.faults({})
    due = float(path.value("SELECT extract(epoch FROM next_attempt_at) FROM outbox WHERE attempts > 0"))
    [rep] = path.wait_replies(1, to=phone, timeout=15)
    assert rep["time"] - due < 0.5, "retried %.2f s after its time" % (rep["time"] - due)


def test_a_reminder_is_not_stuck_behind_a_text_still_retrying(assistant):
    """The ordering rule (docs/decisions.md): a person's texts leave in
    order, but one that failed and waits for its retry holds the next ones
    up for one attempt, not for its whole backoff. A reminder due while an
    earlier reply keeps failing still arrives on time."""
    path = assistant
    phone = new_phone()
    path.fake.faults({"fail_bodies": {"doomed": 503}})
    path.text(phone, "zzz doomed")                   # not understood: the reply quotes it, and fails
    assert wait_for(lambda: path.value("SELECT count(*) FROM outbox WHERE status = 'pending' "
                                       "AND attempts > 0") == "1", 10), path.outbox_rows()
    uid = path.value("SELECT id FROM users WHERE phone = '%s'" % phone)
    due = add_reminder(path, uid, 2, body="on time anyway")
    [rep] = path.wait_replies(1, to=phone, timeout=10)
    assert rep["form"]["Body"].endswith("on time anyway")
    assert rep["time"] - due < 1.0, "the reminder came %.2f s after its time" % (rep["time"] - due)
    assert path.value("SELECT status FROM outbox WHERE attempts > 0 ORDER BY id LIMIT 1") in ("pending", "sending")
