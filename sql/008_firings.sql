-- 008_firings: each time a reminder fired, and what became of its text.
-- Reference: docs/schema.md, docs/worker.md (firing).
--
-- One row per firing (worker/reminders/fire.c writes it in the firing's
-- transaction): the occurrence or snooze it was (due, snoozed), when it
-- fired, whether it was late, and either the text it sent (message_id:
-- its first part) or why it sent none (skipped: 'missed', 'not_active').
-- Twilio's status callbacks move messages.status (queued, sent,
-- delivered, undelivered, failed: worker/outbox/status.c), so a firing's
-- delivery status is its message's: reminder_firing_status shows both.
CREATE TABLE reminder_firings (
    id           bigserial PRIMARY KEY,
    reminder_id  bigint NOT NULL REFERENCES reminders ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    due          timestamptz NOT NULL,
    fired_at     timestamptz NOT NULL DEFAULT now(),
    snoozed      boolean NOT NULL DEFAULT false,
    late         boolean NOT NULL DEFAULT false,
    message_id   bigint REFERENCES messages,
    skipped      text,
    CONSTRAINT reminder_firings_sent_or_skipped CHECK ((message_id IS NULL) <> (skipped IS NULL))
);
CREATE INDEX reminder_firings_reminder ON reminder_firings (reminder_id, fired_at);
CREATE INDEX reminder_firings_message ON reminder_firings (message_id) WHERE message_id IS NOT NULL;

CREATE VIEW reminder_firing_status WITH (security_invoker = true) AS
    SELECT f.id, f.reminder_id, f.user_id, f.due, f.fired_at, f.snoozed, f.late, f.skipped, f.message_id,
           m.twilio_sid, coalesce(m.status, 'skipped') AS delivery, m.error_code, m.updated_at AS status_at
    FROM reminder_firings f LEFT JOIN messages m ON m.id = f.message_id;

-- Row-level security as in 002_rls.sql, one call per table from here on
-- (004 and 006 spell the same out in a loop).
CREATE FUNCTION asst_own_rows(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %s '
                   'USING (asst_system_scope() OR user_id = asst_current_user_id()) '
                   'WITH CHECK (asst_system_scope() OR user_id = asst_current_user_id())',
                   t::text || '_own', t);
END
$$;

SELECT asst_own_rows('reminder_firings');

-- urgent: the person asked for it to come even in their quiet hours
-- (users.quiet_start/quiet_end). Any other reminder due then is held: it
-- fires when they end (snooze_at), and its series moves on as usual.
ALTER TABLE reminders ADD COLUMN urgent boolean NOT NULL DEFAULT false;
