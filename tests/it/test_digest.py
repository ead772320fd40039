"""The daily digest end to end: set by text through Apache and the worker
(the rules planner), sent by the scheduler child to the fake Twilio as one
text listing the rest of the person's day, in time order.

The person lives in whichever zone is nearest midday now, so "the rest of
today" holds the next few hours whenever the tests run. A digest is set
by SMS at a time of day in minutes; waiting for it is avoided by the
test-only path of moving it in the database to a few seconds ahead, to
the second (digests.local_time keeps seconds): the scheduler sends
whatever is due, however it came to be due, and the UPDATE wakes it."""

import json
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from harness.util import wait_for
from stack import new_phone

# about every three hours around the globe: one is near midday
ZONES = ["Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/New_York",
         "America/Sao_Paulo", "Atlantic/Azores", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Asia/Dubai",
         "Asia/Kolkata", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland"]


def midday_zone():
    now = datetime.now(timezone.utc)

    def from_noon(name):
        local = now.astimezone(ZoneInfo(name))
        return abs(local.hour * 60 + local.minute - 12 * 60)
    return min(ZONES, key=from_noon)


def clock(at):
    """An item's time as the digest says it: "9:00 AM"."""
    return "%d:%02d %s" % (at.hour % 12 or 12, at.minute, "AM" if at.hour < 12 else "PM")


class Person:
    """Someone who texts the assistant (rules planner) from a zone near midday."""

    def __init__(self, path, phone=None):
        self.path = path
        self.phone = phone or new_phone()
        self.zone = midday_zone()
        self.tz = ZoneInfo(self.zone)
        path.admin("users", "add", self.phone, "--tz", self.zone)
        self.uid = path.value("SELECT id FROM users WHERE phone = :'p'", variables={"p": self.phone})
        self.seen = 0

    def say(self, body):
        """Texts body; the reply it caused."""
        self.path.text(self.phone, body)
        reps = self.path.wait_replies(self.seen + 1, to=self.phone)
        self.seen += 1
        return reps[self.seen - 1]["form"]["Body"]

    def remind(self, text, at):
        """A one-off reminder at `at` (aware), stored directly."""
        self.path.sql("INSERT INTO reminders (user_id, body, zone, dtstart, next_at) "
                      "VALUES (:'u', :'body', :'zone', :'dtstart', to_timestamp(:'at'::double precision))",
                      variables={"u": self.uid, "body": text, "zone": self.zone,
                                 "dtstart": at.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M:%S"),
                                 "at": str(at.timestamp())})

    def digest_in(self, seconds):
        """The test-only path: the digest's time of day becomes `seconds`
        from now (to the second) and it is due then. Returns when (aware, local)."""
        due = (datetime.now(self.tz) + timedelta(seconds=seconds + 1)).replace(microsecond=0)
        self.path.sql("INSERT INTO digests (user_id, local_time, next_at) "
                      "VALUES (:'u', :'t'::time, to_timestamp(:'at'::double precision)) "
                      "ON CONFLICT (user_id) DO UPDATE SET local_time = EXCLUDED.local_time, "
                      "next_at = EXCLUDED.next_at",
                      variables={"u": self.uid, "t": due.strftime("%H:%M:%S"), "at": str(due.timestamp())})
        return due

    def digest(self, columns):
        rows = self.path.sql("SELECT %s FROM digests WHERE user_id = %s" % (columns, self.uid))
        return rows[0] if rows else None

    def next_at(self):
        v = self.digest("extract(epoch FROM next_at)")
        return datetime.fromtimestamp(float(v[0]), self.tz) if v else None

    def digests_received(self):
        return [r for r in self.path.replies(to=self.phone) if r["form"]["Body"].startswith("Today:")]

    def events(self, kind):
        return [json.loads(r[0]) for r in self.path.sql(
            "SELECT data::text FROM events WHERE user_id = %s AND kind = '%s' ORDER BY id" % (self.uid, kind))]


def tomorrow_same_clock(due):
    """zoneinfo adds a day on the wall clock: the same local time tomorrow."""
    return due + timedelta(days=1)


def test_set_by_text_then_one_text_with_todays_reminders_in_order(assistant):
    p = Person(assistant)
    assert p.say("digest at 06:15").startswith("OK: every day at 06:15 ")
    # a new time replaces it
    said = p.say("daily digest at 7am")
    assert said.startswith("OK: every day at 07:00 I'll text you the rest of the day's reminders, next "), said
    assert said.endswith("(%s). A day with nothing scheduled gets no text." % p.zone)
    assert p.digest("local_time") == ["07:00:00"]
    first = p.next_at()
    assert (first.hour, first.minute, first.second) == (7, 0, 0)
    assert timedelta(0) < first - datetime.now(p.tz) <= timedelta(days=1)
    assert p.say("my settings").endswith("\nDaily digest: 07:00")

    now = datetime.now(p.tz)
    later, sooner = now + timedelta(hours=2), now + timedelta(hours=1)
    p.remind("call mom", later)              # stored first, listed second
    p.remind("dentist", sooner)
    p.remind("pay rent", now + timedelta(days=2))    # another day: not in it
    due = p.digest_in(2)

    assert wait_for(lambda: p.digests_received(), 15, 0.05), \
        "no digest:\n%s" % assistant.worker_log_tail()
    sms = p.digests_received()[0]
    assert sms["form"]["Body"] == "Today: %s dentist; %s call mom" % (clock(sooner), clock(later))
    lateness = sms["time"] - due.timestamp()
    print("lateness %.3f s" % lateness)
    assert 0 <= lateness <= 1.5, "arrived %.3f s after its time" % lateness

    # tomorrow at the same local time; counted; an event without the text
    assert p.next_at() == tomorrow_same_clock(due)
    assert p.digest("sent, last_sent_at IS NOT NULL") == ["1", "t"]
    [event] = p.events("digest_sent")
    assert event["items"] == {"reminders": 2} and event["shown"] == 2 and event["late"] is False
    assert "mom" not in json.dumps(event)
    # an ordinary outbound message, answering no inbound one
    assert assistant.sql("SELECT o.in_reply_to IS NULL, o.status FROM outbox o JOIN messages m ON m.id = o.message_id "
                         "WHERE o.user_id = %s AND m.body LIKE 'Today:%%'" % p.uid) == [["t", "sent"]]
    time.sleep(1.5)
    assert len(p.digests_received()) == 1


def test_nothing_scheduled_sends_nothing_and_moves_on(assistant):
    p = Person(assistant)
    assert p.say("digest at 07:00").startswith("OK: every day at 07:00 ")
    p.remind("pay rent", datetime.now(p.tz) + timedelta(days=2))
    due = p.digest_in(2)

    assert wait_for(lambda: p.events("digest_empty"), 15, 0.05), assistant.worker_log_tail()
    assert p.next_at() == tomorrow_same_clock(due)
    assert p.digest("sent, last_sent_at IS NULL") == ["0", "t"]
    assert p.events("digest_empty")[0]["items"] == {"reminders": 0}
    time.sleep(1.0)
    assert p.digests_received() == []
    assert assistant.replies(to=p.phone)[-1]["form"]["Body"].startswith("OK: every day at 07:00 ")


def test_stop_the_digest_and_a_person_who_opted_out_gets_none(assistant):
    # "no digest" removes it
    p = Person(assistant)
    p.say("daily digest at 7am")
    assert p.say("stop the digest") == "The daily digest is off."
    assert p.digest("1") is None
    assert p.say("digest off") == "You have no daily digest."
    assert p.say("my settings").endswith("\nDaily digest: off")

    # STOP: opted out; the digest comes due, nothing is sent, it moves on
    q = Person(assistant)
    q.say("daily digest at 7am")
    q.remind("call mom", datetime.now(q.tz) + timedelta(hours=1))
    assistant.text(q.phone, "STOP")
    assert wait_for(lambda: assistant.user(q.phone)["status"] == "opted_out", 10, 0.05)
    due = q.digest_in(2)
    assert wait_for(lambda: q.events("digest_skipped"), 15, 0.05), assistant.worker_log_tail()
    assert q.events("digest_skipped")[0]["skipped"] == "not_active"
    assert q.next_at() == tomorrow_same_clock(due)
    time.sleep(1.0)
    assert q.digests_received() == []


def test_a_new_zone_moves_the_digest_to_its_time_there(assistant):
    p = Person(assistant)
    p.say("daily digest at 07:30")
    other = "Asia/Tokyo" if p.zone != "Asia/Tokyo" else "Europe/Berlin"
    said = p.say("set my timezone to %s" % other)
    if "YES" in said:                        # a zone change may ask first
        said = p.say("YES")
    assert other in said, said
    next_at = datetime.fromtimestamp(float(p.digest("extract(epoch FROM next_at)")[0]), ZoneInfo(other))
    assert (next_at.hour, next_at.minute) == (7, 30)
    assert timedelta(0) < next_at - datetime.now(ZoneInfo(other)) <= timedelta(days=1)


def test_a_person_whose_zone_nobody_confirmed_is_asked_first(assistant):
    """A time of day means nothing in the wrong zone: as for reminders, the
    question first (tools/zone.h), then the stored call on YES."""
    phone = new_phone()                      # +1: the guess is New York
    assistant.text(phone, "daily digest at 7am")
    asked = assistant.wait_replies(1, to=phone)[0]["form"]["Body"]
    assert asked.startswith("Before I set that: are you on New York time (America/New_York, now "), asked
    uid = assistant.value("SELECT id FROM users WHERE phone = :'p'", variables={"p": phone})
    assert assistant.value("SELECT count(*) FROM digests WHERE user_id = %s" % uid) == "0"
    assistant.text(phone, "YES")
    said = assistant.wait_replies(2, to=phone)[1]["form"]["Body"]
    assert said.startswith("Your time zone is now America/New_York. OK: every day at 07:00 "), said
    assert said.endswith("(America/New_York). A day with nothing scheduled gets no text."), said
    nxt = datetime.fromtimestamp(float(assistant.value(
        "SELECT extract(epoch FROM next_at) FROM digests WHERE user_id = %s" % uid)), ZoneInfo("America/New_York"))
    assert (nxt.hour, nxt.minute) == (7, 0)


def test_after_downtime_one_digest_on_its_day_none_on_a_later_day(assistant):
    path = assistant
    p, q = Person(path), Person(path)
    for person in (p, q):
        person.say("daily digest at 7am")
        person.remind("call mom", datetime.now(person.tz) + timedelta(hours=1))
    path.worker.stop()
    # p's was due 2 minutes ago, today; q's three days ago, at a time of day past today too
    p_due, q_due = p.digest_in(-120), q.digest_in(-3 * 86400 - 120)
    path.worker.start()

    assert wait_for(lambda: p.digests_received() and q.events("digest_skipped"), 15, 0.05), path.worker_log_tail()
    assert p.events("digest_sent")[0]["late"] is True
    assert q.events("digest_skipped")[0]["skipped"] == "missed"
    # both next tomorrow at their time: one digest for any downtime
    for person, due in ((p, p_due), (q, q_due)):
        nxt = person.next_at()
        assert nxt.time() == due.time() and nxt.date() == datetime.now(person.tz).date() + timedelta(days=1)
    assert path.worker.log_lines("ASST01753")
    time.sleep(1.0)
    assert len(p.digests_received()) == 1 and q.digests_received() == []


def other_people(path, n, zone, due):
    """n more people in zone, each with a reminder in an hour and a digest
    due at `due`, stored directly; returns their phones."""
    phones = [new_phone() for _ in range(n)]
    path.sql("WITH u AS (INSERT INTO users (phone, timezone, status) "
             "           SELECT unnest(string_to_array(:'phones', ',')), :'zone', 'active' RETURNING id, phone), "
             "r AS (INSERT INTO reminders (user_id, body, zone, dtstart, next_at) "
             "      SELECT id, 'ping ' || phone, :'zone', :'dtstart', now() + interval '1 hour' FROM u) "
             "INSERT INTO digests (user_id, local_time, next_at) "
             "SELECT id, :'clock'::time, to_timestamp(:'due'::double precision) FROM u",
             variables={"phones": ",".join(phones), "zone": zone,
                        "dtstart": (due + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                        "clock": due.strftime("%H:%M:%S"), "due": str(due.timestamp())})
    return phones


def test_two_worker_daemons_send_each_digest_once(assistant, worker_factory):
    path = assistant
    same = {k: v for k, v in path.worker.directives.items() if k not in ("LogFile", "PidFile")}
    second = worker_factory(name="second-worker", **same)
    assert len(second.schedulers()) == 1 and len(path.schedulers()) == 1
    zone = midday_zone()
    due = (datetime.now(ZoneInfo(zone)) + timedelta(seconds=4)).replace(microsecond=0)
    # more than a batch (100), so both schedulers have some to take
    phones = other_people(path, 250, zone, due)

    assert wait_for(lambda: len([r for r in path.replies() if r["form"]["Body"].startswith("Today:")]) >= 250,
                    40, 0.1), path.worker_log_tail()
    time.sleep(1.5)
    sent = sorted(r["form"]["To"] for r in path.replies() if r["form"]["Body"].startswith("Today:"))
    assert sent == sorted(phones)
    assert path.value("SELECT count(*) FROM events WHERE kind = 'digest_sent'") == "250"
    assert path.sql("SELECT sent, count(*) FROM digests GROUP BY 1") == [["1", "250"]]
    by_worker = [len(w.log_lines("ASST01751")) for w in (path.worker, second)]
    print("digests taken by each worker: %s" % by_worker)
    assert sum(by_worker) == 250 and min(by_worker) > 0, by_worker


@pytest.mark.parametrize("text", ["digest at 7", "daily digest at 25:00"])
def test_a_time_that_is_not_one_sets_nothing(assistant, text):
    p = Person(assistant)
    assert p.say(text).startswith("Sorry, I didn't understand")
    assert p.digest("1") is None
