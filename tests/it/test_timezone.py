"""A person's time zone end to end (issue 15): someone whose zone nobody
confirmed is asked on their first time-dependent request, with a guess
from their number's country code, and nothing is stored until they answer
YES, a city or a zone; a person whose zone is confirmed is never asked;
changing zone moves their active reminders to the same local time there.
By SMS through Apache and the worker, with the rules planner, and once with
the model planner (the same tool, the same confirmation).

Times are computed here with zoneinfo and compared with what the worker
says and stores (docs/agent.md, "Time zones")."""

import itertools
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from test_agent import Chat
from test_admin import admin, migrated  # noqa: F401  (fixtures)
from test_llm import call, llm_path  # noqa: F401  (llm_path is a fixture)

NEW_YORK, LONDON, BERLIN, CHICAGO = "America/New_York", "Europe/London", "Europe/Berlin", "America/Chicago"
QUESTION = re.compile(r"^(?P<again>.*)Before I set that: are you on (?P<place>[A-Za-z ]+) time "
                      r"\((?P<zone>[A-Za-z_/]+), now (?P<clock>\d{1,2}:\d\d [AP]M)\)\? "
                      r"Reply YES, or tell me your city or time zone\.$")
NO_ZONE = 'OK, nothing was set. Tell me your time zone, e.g. "my timezone is Europe/Berlin".'
_uk = itertools.count(1)


def uk_phone():
    return "+447700%06d" % (900000 + next(_uk))


def clock(dt):
    return "%d:%02d %s" % (dt.hour % 12 or 12, dt.minute, "AM" if dt.hour < 12 else "PM")


def describe(at, zone):
    """asst_when_describe: "today, Tue 3 Mar, 5:00 PM (America/New_York)"."""
    tz = ZoneInfo(zone)
    at, now = at.astimezone(tz), datetime.now(tz)
    lead = {0: "today, ", 1: "tomorrow, "}.get((at.date() - now.date()).days, "")
    return "%s%s %d %s, %s (%s)" % (lead, at.strftime("%a"), at.day, at.strftime("%b"), clock(at), zone)


def next_clock(zone, hour, minute=0):
    """The next hour:minute on zone's wall clock, as "at 5pm" means it."""
    now = datetime.now(ZoneInfo(zone))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > now else (at + timedelta(days=1)).replace(hour=hour, minute=minute)


def assert_question(reply, zone, place):
    m = QUESTION.match(reply)
    assert m, reply
    assert (m.group("zone"), m.group("place")) == (zone, place), reply
    local = datetime.now(ZoneInfo(zone))
    assert m.group("clock") in (clock(local), clock(local - timedelta(minutes=1))), reply
    return m.group("again")


class Person(Chat):
    def uid(self):
        return self.user_id()

    def reminders(self, columns="body, zone, dtstart, rrule, status"):
        return self.path.sql("SELECT %s FROM reminders WHERE user_id = %s ORDER BY id" % (columns, self.uid()))

    def next_at(self):
        return float(self.path.value("SELECT extract(epoch FROM next_at) FROM reminders WHERE user_id = %s "
                                     "ORDER BY id LIMIT 1" % self.uid()))

    def zone(self):
        return self.path.sql("SELECT timezone, timezone_confirmed FROM users WHERE id = %s" % self.uid())[0]

    def pending(self):
        return self.path.sql("SELECT pending->>'name', pending->>'zone' FROM agent_state WHERE user_id = %s"
                             % self.uid())


def local(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


# --------------------------------------------------------------------------
# the question, and its answers


def test_a_plus1_number_is_asked_new_york_and_yes_sets_it_there(assistant):
    p = Person(assistant)
    assert p.phone.startswith("+1")
    assert_question(p.say("remind me at 5pm to call mom"), NEW_YORK, "New York")
    assert p.reminders() == []
    assert p.zone() == ["UTC", "f"]
    assert p.pending() == [["reminders", NEW_YORK]]

    due = next_clock(NEW_YORK, 17)
    assert p.say("YES") == "Your time zone is now %s. OK: %s: call mom" % (NEW_YORK, describe(due, NEW_YORK))
    assert p.reminders() == [["call mom", NEW_YORK, local(due), "", "active"]]
    assert p.next_at() == due.timestamp()
    assert p.zone() == [NEW_YORK, "t"]
    assert p.pending() == [["", ""]]
    # confirmed now: the next one is set at once
    assert p.say("remind me tomorrow at 9 to stretch").startswith("OK: tomorrow, ")
    assert len(p.reminders()) == 2


def test_a_plus44_number_answering_europe_berlin_gets_berlin_time(assistant):
    p = Person(assistant, phone=uk_phone())
    assert_question(p.say("remind me at 5pm to call mom"), LONDON, "London")
    due = next_clock(BERLIN, 17)
    assert p.say("Europe/Berlin") == "Your time zone is now %s. OK: %s: call mom" % (BERLIN, describe(due, BERLIN))
    assert p.reminders() == [["call mom", BERLIN, local(due), "", "active"]]
    assert p.next_at() == due.timestamp()
    assert p.zone() == [BERLIN, "t"]
    event = assistant.value("SELECT data->>'setting' FROM events WHERE kind = 'setting_changed' AND user_id = %s"
                            % p.uid())
    assert event == "timezone"


@pytest.mark.parametrize("answer", ["London", "I'm in London", "london time", "my timezone is Europe/London"])
def test_a_city_or_a_zone_answers_the_question(assistant, answer):
    p = Person(assistant)
    assert_question(p.say("remind me every day at 8 to take my pills"), NEW_YORK, "New York")
    due = next_clock(LONDON, 8)
    assert p.say(answer) == "Your time zone is now %s. OK: every day, next %s: take my pills" % (
        LONDON, describe(due, LONDON))
    assert p.reminders("zone, dtstart, rrule") == [[LONDON, local(due), "FREQ=DAILY"]]


def test_in_20_minutes_means_20_minutes_after_the_request(assistant):
    p = Person(assistant)
    asked = time.time()
    assert_question(p.say("remind me in 20 minutes to check the oven"), NEW_YORK, "New York")
    time.sleep(2.5)
    assert p.say("I'm in Chicago").startswith("Your time zone is now %s. OK: " % CHICAGO)
    [[zone]] = p.reminders("zone")
    assert zone == CHICAGO
    # not five hours off (its wall clock was UTC's), nor 20 minutes from the answer
    assert asked + 1200 - 1 <= p.next_at() <= asked + 1200 + 1.5, p.next_at() - asked


def test_no_sets_nothing_and_says_how(assistant):
    p = Person(assistant)
    assert_question(p.say("remind me at 5pm to call mom"), NEW_YORK, "New York")
    assert p.say("no") == NO_ZONE
    assert p.reminders() == [] and p.zone() == ["UTC", "f"]
    assert p.say("yes") == "There is nothing waiting for a YES."
    # said on its own, a city sets the zone
    assert re.match(r"^Your time zone is now Europe/London \(it is \d\d:\d\d there\)\.$", p.say("London"))
    assert p.zone() == [LONDON, "t"]


def test_an_unknown_zone_is_said_and_asked_again(assistant):
    p = Person(assistant)
    assert_question(p.say("remind me at 5pm to call mom"), NEW_YORK, "New York")
    again = assert_question(p.say("Mars/Olympus"), NEW_YORK, "New York")
    assert again == 'I don\'t know the time zone "Mars/Olympus". '
    assert p.reminders() == [] and p.zone() == ["UTC", "f"]
    assert p.say("yes").startswith("Your time zone is now %s. OK: " % NEW_YORK)
    assert p.reminders("zone") == [[NEW_YORK]]


def test_another_request_replaces_the_waiting_one(assistant):
    p = Person(assistant)
    assert_question(p.say("remind me at 5pm to call mom"), NEW_YORK, "New York")
    assert_question(p.say("remind me at 6pm to call dad"), NEW_YORK, "New York")
    assert p.say("yes").endswith(": call dad")
    assert p.reminders("body") == [["call dad"]]


def test_quiet_hours_ask_too(assistant):
    p = Person(assistant)
    assert_question(p.say("quiet hours 22:00 to 07:00"), NEW_YORK, "New York")
    assert assistant.value("SELECT quiet_start IS NULL FROM users WHERE id = %s" % p.uid()) == "t"
    assert p.say("yes") == ("Your time zone is now %s. Quiet hours: 22:00 to 07:00 (%s). "
                            "I'll hold non-urgent texts then." % (NEW_YORK, NEW_YORK))


# --------------------------------------------------------------------------
# people whose zone is known


def test_a_person_with_a_confirmed_zone_is_not_asked(assistant):
    p = Person(assistant)
    assistant.admin("users", "add", p.phone, "--tz", BERLIN)      # the operator named it
    due = next_clock(BERLIN, 17)
    assert p.say("remind me at 5pm to call mom") == "OK: %s: call mom" % describe(due, BERLIN)

    q = Person(assistant)
    assert p.phone != q.phone
    assert q.say("my timezone is Europe/Paris").startswith("Your time zone is now Europe/Paris")
    assert q.say("remind me at 5pm to call mom").startswith("OK: ")
    assert q.zone() == ["Europe/Paris", "t"]


def test_changing_zone_moves_an_active_daily_reminder_to_the_same_local_time(assistant):
    p = Person(assistant)
    assistant.admin("users", "add", p.phone, "--tz", BERLIN)
    p.say("remind me every day at 8 to take my pills")
    p.say("remind me at 5pm to call mom")
    [[daily]] = assistant.sql("SELECT dtstart FROM reminders WHERE user_id = %s AND rrule IS NOT NULL" % p.uid())
    reply = p.say("set my timezone to Europe/London")
    assert re.match(r"^Your time zone is now Europe/London \(it is \d\d:\d\d there\)\. "
                    r"Your 2 reminders moved to Europe/London time\.$", reply), reply
    assert assistant.sql("SELECT zone, dtstart FROM reminders WHERE user_id = %s AND rrule IS NOT NULL"
                         % p.uid()) == [[LONDON, daily]]
    eight = next_clock(LONDON, 8)
    assert float(assistant.value("SELECT extract(epoch FROM next_at) FROM reminders WHERE user_id = %s "
                                 "AND rrule IS NOT NULL" % p.uid())) == eight.timestamp()
    listed = p.say("my reminders")
    assert "every day, next %s: take my pills" % describe(eight, LONDON) in listed
    assert assistant.value("SELECT data->>'reminders_moved' FROM events WHERE kind = 'setting_changed' "
                           "AND user_id = %s ORDER BY id DESC LIMIT 1" % p.uid()) == "2"
    # the same zone again moves nothing
    assert p.say("set my timezone to Europe/London").endswith("there).")


# --------------------------------------------------------------------------
# the model planner: the same tool asks, the same confirmation answers


def test_the_model_planner_passes_the_question_on_and_yes_runs_the_stored_call(llm_path):
    path = llm_path()
    p = Person(path)
    utc_five = next_clock("UTC", 17)   # the model works on the clock it was shown: UTC, not confirmed
    path.llm.script([{"tool_calls": [call("reminders", action="create", text="call mom",
                                          at=utc_five.strftime("%Y-%m-%dT%H:%M"), wording="at 5pm")]},
                     {"content": "Are you on New York time? Reply YES or tell me your city."}])
    assert p.say("remind me at 5pm to call mom") == "Are you on New York time? Reply YES or tell me your city."
    seen = [m["content"] for m in path.llm.completions()[-1]["messages"] if m["role"] == "tool"]
    assert_question(seen[-1], NEW_YORK, "New York")
    assert p.reminders() == []

    asked = len(path.llm.completions())
    path.llm.script([{"content": "Done: 5 PM New York time."}])
    assert p.say("yes") == "Done: 5 PM New York time."
    assert len(path.llm.completions()) == asked + 1        # the YES itself asked no model
    due = next_clock(NEW_YORK, 17)
    assert p.reminders("zone, dtstart") == [[NEW_YORK, local(due)]]
    seen = [m["content"] for m in path.llm.completions()[-1]["messages"] if m["role"] == "tool"]
    assert seen[-1] == "Your time zone is now %s. OK: %s: call mom" % (NEW_YORK, describe(due, NEW_YORK))


# --------------------------------------------------------------------------
# the migration's backfill (sql/010_timezone_confirmed.sql)


def test_the_migration_confirms_whoever_set_a_zone(migrated, pg):  # noqa: F811
    def user(phone, zone):
        return pg.value("INSERT INTO users (phone, status, timezone) VALUES (:'p', 'active', :'z') RETURNING id",
                        scope="system", variables={"p": phone, "z": zone})
    told_utc, default_berlin, never = user("+15551239001", "UTC"), user("+15551239002", BERLIN), \
        user("+15551239003", "UTC")
    pg.execute("INSERT INTO events (user_id, kind, data) VALUES (%s, 'setting_changed', '{\"setting\":\"timezone\"}'), "
               "(%s, 'setting_changed', '{\"setting\":\"name\"}')" % (told_utc, never), scope="system")
    # as it was before 010
    pg.execute("ALTER TABLE users DROP COLUMN timezone_confirmed; DELETE FROM schema_migrations WHERE version = 10")
    migrated.run("migrate")
    rows = pg.query("SELECT id, timezone_confirmed FROM users ORDER BY id", scope="system")
    assert rows == [[told_utc, "t"], [default_berlin, "f"], [never, "f"]]
