-- 006_reminders: what the person asked to be reminded of, and when.
-- Reference: docs/schema.md, docs/agent.md (the tool), docs/worker.md (firing).

-- A reminder is kept as the person said it: the wall-clock dtstart in
-- their IANA zone plus an optional RFC 5545 RRULE (worker/reminders/when.h
-- turns them into instants, so a recurring 09:00 stays 09:00 across DST),
-- and next_at, the UTC instant of its next occurrence, which the scheduler
-- fires. next_at is NULL exactly when the reminder is no longer active:
-- done (a single time that fired, a series with nothing left) or
-- cancelled.
--
-- snooze_at: one extra firing the person asked for ("snooze 10") after a
-- reminder fired, apart from the series: the scheduler fires it too, then
-- clears it; next_at does not move. A done reminder can be snoozed; a
-- cancelled one cannot.
--
-- fired counts the texts sent; last_fired_at is when the last went out
-- (what "snooze" refers to). A firing that sends nothing (MissedPolicy
-- skip, the person opted out) moves next_at on and records an event only.
CREATE TABLE reminders (
    id             bigserial PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    body           text NOT NULL CHECK (body <> ''),
    wording        text,
    zone           text NOT NULL CHECK (zone <> ''),
    dtstart        text NOT NULL
                   CHECK (dtstart ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$'),
    rrule          text CHECK (rrule <> ''),
    next_at        timestamptz,
    snooze_at      timestamptz,
    status         text NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'done', 'cancelled')),
    fired          integer NOT NULL DEFAULT 0 CHECK (fired >= 0),
    last_fired_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reminders_next_iff_active CHECK ((status = 'active') = (next_at IS NOT NULL)),
    CONSTRAINT reminders_cancelled_unsnoozed CHECK (status <> 'cancelled' OR snooze_at IS NULL)
);
CREATE TRIGGER reminders_touch BEFORE UPDATE ON reminders
    FOR EACH ROW EXECUTE FUNCTION asst_touch_updated_at();

-- What the scheduler asks for: active reminders whose time has come, and
-- snoozes whose time has come (worker/reminders/fire.c).
CREATE INDEX reminders_due ON reminders (next_at) WHERE status = 'active';
CREATE INDEX reminders_snoozed ON reminders (snooze_at) WHERE snooze_at IS NOT NULL;
-- A person's list (soonest first) and the one that fired last (snooze).
CREATE INDEX reminders_user_next ON reminders (user_id, next_at) WHERE status = 'active';
CREATE INDEX reminders_user_fired ON reminders (user_id, last_fired_at) WHERE last_fired_at IS NOT NULL;

-- Row-level security as in 002_rls.sql and 004_agent.sql.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['reminders'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I '
                       'USING (asst_system_scope() OR user_id = asst_current_user_id()) '
                       'WITH CHECK (asst_system_scope() OR user_id = asst_current_user_id())',
                       t || '_own', t);
    END LOOP;
END
$$;
