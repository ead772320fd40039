-- 001_init: users, messages, outbox, events.
--
-- Applied by `assistant-admin -f worker.conf migrate` in one transaction and
-- recorded in schema_migrations (created by the migration runner itself,
-- worker/db/migrate.c, before the first migration). Row-level security is
-- added by 002_rls.sql. Reference: docs/schema.md.

-- updated_at follows every UPDATE, whether or not the statement sets it.
CREATE FUNCTION asst_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- People who text the assistant. phone is E.164 (+ then up to 15 digits,
-- no leading zero); timezone is an IANA name (checked by the code that sets
-- it: a CHECK cannot consult pg_timezone_names). pairing_code is set while
-- an unknown number waits for `assistant-admin users approve CODE`.
-- flagged: Twilio said the number is not a valid mobile number (21211).
CREATE TABLE users (
    id           bigserial PRIMARY KEY,
    phone        text NOT NULL UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
    name         text,
    timezone     text NOT NULL DEFAULT 'UTC' CHECK (timezone <> ''),
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('active', 'pending', 'opted_out', 'blocked')),
    pairing_code text UNIQUE,
    flagged      boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION asst_touch_updated_at();

-- Every SMS in and out. twilio_sid is Twilio's MessageSid (SM...): UNIQUE so
-- a redelivered webhook inserts nothing (ON CONFLICT DO NOTHING); NULL for
-- an outbound message until Twilio has accepted it.
CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users,
    direction   text NOT NULL CHECK (direction IN ('in', 'out')),
    twilio_sid  text UNIQUE,
    body        text NOT NULL DEFAULT '',
    status      text NOT NULL,
    error_code  integer,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_user_recent ON messages (user_id, created_at DESC);
CREATE TRIGGER messages_touch BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION asst_touch_updated_at();

-- Every external effect, written in the turn's transaction and delivered
-- after COMMIT. kind names the provider ('sms', ...); payload is what to
-- send; provider_id is the provider's id for it (Twilio's SM... sid).
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users,
    kind            text NOT NULL,
    payload         jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    provider_id     text,
    message_id      bigint REFERENCES messages,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- What the delivery loop asks for: pending rows whose time has come.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_provider_id ON outbox (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX outbox_user ON outbox (user_id);
CREATE TRIGGER outbox_touch BEFORE UPDATE ON outbox
    FOR EACH ROW EXECUTE FUNCTION asst_touch_updated_at();

-- Append-only log of every state change, for audit and replay. user_id is
-- NULL for events about no one in particular (an ignored unknown sender, a
-- dead-letter replay).
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    user_id    bigint REFERENCES users,
    kind       text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_user ON events (user_id, id);

-- Append-only for everyone, the table's owner and superusers included
-- (a REVOKE would not bind the owner, who can grant itself back). A
-- statement-level trigger fires even when no row matches.
CREATE FUNCTION asst_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION asst_events_append_only();
