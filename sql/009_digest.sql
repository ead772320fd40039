-- 009_digest: the daily digest, one text at a time of day the person
-- chose listing what is left of their day (today: reminders and snoozes;
-- calendar events join later).
-- Reference: docs/schema.md, docs/agent.md (the settings tool),
-- docs/worker.md (the scheduler sends it).

-- One row per person who asked for a digest; "no digest" deletes it.
-- local_time is the time of day on the person's wall clock, in their zone
-- (users.timezone): a digest is about their day, so it follows them to a
-- new zone, unlike a reminder, which keeps the zone it was made in. It
-- keeps seconds although people say minutes (tests set it to the second).
--
-- next_at is the UTC instant it is next due, derived from local_time and
-- the zone by the worker (reminders/digest_plan.c, libical), so 07:00
-- stays 07:00 across DST (a 02:30 on the spring-forward day comes at
-- 03:30). It is recomputed when the time or the person's zone changes,
-- and moved to the next day by every digest the scheduler takes, whether
-- it sent one or not (nothing scheduled, the person opted out, a day
-- missed while no scheduler ran).
CREATE TABLE digests (
    user_id       bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    local_time    time(0) NOT NULL,
    next_at       timestamptz NOT NULL,
    sent          integer NOT NULL DEFAULT 0 CHECK (sent >= 0),
    last_sent_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER digests_touch BEFORE UPDATE ON digests
    FOR EACH ROW EXECUTE FUNCTION asst_touch_updated_at();

-- What the scheduler asks for: digests whose time has come, and when the
-- next one is (worker/reminders/digest.c).
CREATE INDEX digests_due ON digests (next_at);

-- A sleeping scheduler wakes when a digest becomes due sooner than it
-- knew (007_scheduler_wake.sql): a new one, or one moved earlier (a new
-- time, a new zone, a test). Moving one later (every digest taken moves
-- to tomorrow) needs no wake-up: the scheduler looks when it planned to.
CREATE TRIGGER digests_wake_scheduler_insert
    AFTER INSERT ON digests
    FOR EACH STATEMENT EXECUTE FUNCTION asst_wake_scheduler();

CREATE TRIGGER digests_wake_scheduler_sooner
    AFTER UPDATE OF next_at ON digests
    FOR EACH ROW WHEN (NEW.next_at < OLD.next_at)
    EXECUTE FUNCTION asst_wake_scheduler();

-- Row-level security as in 002_rls.sql (008_firings.sql's asst_own_rows).
SELECT asst_own_rows('digests');
