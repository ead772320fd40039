-- 003_outbox_claims: sends whose outcome is unknown, claims that die with
-- the sender's session, and the order of replies. Reference: docs/schema.md,
-- docs/worker.md (Delivery).
--
-- A sender claims a row ('pending' -> 'sending', attempts + 1, claimed_at)
-- and holds the session-level advisory lock pg_advisory_lock(outbox.id)
-- (the bigint key space is outbox row ids; everything else uses the
-- two-integer form) until it has recorded the outcome. A row 'sending'
-- whose lock nobody holds was left by a session that ended: its process
-- died, or the server restarted. It becomes 'unknown' and is looked up in
-- the provider's own log before it is sent again.

ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sending', 'unknown', 'sent', 'failed'));

-- When the current (or last) attempt was claimed: the earliest moment the
-- provider can have created the message, for the lookup.
ALTER TABLE outbox ADD COLUMN claimed_at timestamptz;

-- The inbound message this row answers: the parts of one reply share it
-- and leave in id order. NULL for a message nobody asked for.
ALTER TABLE outbox ADD COLUMN in_reply_to bigint REFERENCES messages;

-- Rows still on their way, per person, for the ordering rule of the claim.
CREATE INDEX outbox_open ON outbox (user_id, id)
    WHERE status IN ('pending', 'sending', 'unknown');
-- Rows in flight, for the sweep that finds orphans every second.
CREATE INDEX outbox_in_flight ON outbox (id) WHERE status IN ('sending', 'unknown');
