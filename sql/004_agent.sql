-- 004_agent: durable turns, the agent's per-person state, notes and
-- long-term memory. Reference: docs/schema.md, docs/agent.md.

-- Quiet hours are a preference like name and timezone: local wall-clock
-- times in the person's zone (both NULL: none). The reminders issue reads
-- them; the settings tool writes them.
ALTER TABLE users ADD COLUMN quiet_start time;
ALTER TABLE users ADD COLUMN quiet_end time;
ALTER TABLE users ADD CONSTRAINT users_quiet_both
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL));

-- One turn per inbound text that reached a planner (compliance keywords
-- and sign-up answer without one). 'running' while steps are added; the
-- reply's outbox rows commit together with 'done'.
CREATE TABLE turns (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users,
    message_id  bigint NOT NULL UNIQUE REFERENCES messages,
    planner     text NOT NULL,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    steps       integer NOT NULL DEFAULT 0 CHECK (steps >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX turns_user ON turns (user_id, id);
CREATE TRIGGER turns_touch BEFORE UPDATE ON turns
    FOR EACH ROW EXECUTE FUNCTION asst_touch_updated_at();

-- The journal: every planner decision and every tool result, each
-- committed on its own (a tool's result with its effect), so a turn
-- interrupted anywhere resumes from here: a recorded decision is reused,
-- a recorded tool call is not run again.
--   decision: {"reply": text} or {"calls": [{"id","name","arguments"}], "source": ...}
--   tool:     {"call_id", "name", "ok": bool, "text"}
CREATE TABLE turn_steps (
    turn_id     bigint NOT NULL REFERENCES turns,
    n           integer NOT NULL CHECK (n >= 1),
    user_id     bigint NOT NULL REFERENCES users,
    kind        text NOT NULL CHECK (kind IN ('decision', 'tool')),
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (turn_id, n)
);

-- What the agent carries from one text to the next, per person:
--   pending: an action waiting for YES, stored exactly as it will run
--            {"name", "arguments", "prompt"}, until pending_expires_at;
--   last_list: the list the person was last shown {"kind", "ids": [...]},
--            so "delete 2" means its second item.
-- The conversation window is the messages table itself.
CREATE TABLE agent_state (
    user_id             bigint PRIMARY KEY REFERENCES users,
    pending             jsonb,
    pending_expires_at  timestamptz,
    last_list           jsonb,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER agent_state_touch BEFORE UPDATE ON agent_state
    FOR EACH ROW EXECUTE FUNCTION asst_touch_updated_at();

-- Notes and memories are searched by full-text rank ('english': "sisters"
-- finds "sister"; words like "my" are ignored) plus recency.
CREATE TABLE notes (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users,
    body        text NOT NULL CHECK (body <> ''),
    tsv         tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_user ON notes (user_id, id);
CREATE INDEX notes_tsv ON notes USING gin (tsv);

-- Facts the person asked to be remembered. source says where a fact came
-- from ('sms': they texted it); last_used_at moves when a fact is recalled
-- (the agent's context ranks by it too). forget deletes the row: the events log
-- keeps that it happened, never the text.
CREATE TABLE memories (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users,
    body          text NOT NULL CHECK (body <> ''),
    source        text NOT NULL DEFAULT 'sms',
    tsv           tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memories_user ON memories (user_id, last_used_at DESC);
CREATE INDEX memories_tsv ON memories USING gin (tsv);

-- Row-level security as in 002_rls.sql, one policy per table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['turns', 'turn_steps', 'agent_state', 'notes', 'memories'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON %I '
                       'USING (asst_system_scope() OR user_id = asst_current_user_id()) '
                       'WITH CHECK (asst_system_scope() OR user_id = asst_current_user_id())',
                       t || '_own', t);
    END LOOP;
END
$$;
