-- 005_llm: what a person's turns cost in model tokens, per day, so an
-- operator can cap it (LLMDailyTokens) and see it (assistant-admin usage).
-- Reference: docs/schema.md, docs/llm.md.

-- day is the UTC date. notified: the person was told today that their
-- turns use the simple planner until tomorrow (one SMS a day).
CREATE TABLE llm_usage (
    user_id            bigint NOT NULL REFERENCES users,
    day                date NOT NULL,
    requests           integer NOT NULL DEFAULT 0,
    prompt_tokens      bigint NOT NULL DEFAULT 0,
    completion_tokens  bigint NOT NULL DEFAULT 0,
    notified           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, day)
);

ALTER TABLE llm_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE llm_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY llm_usage_own ON llm_usage
    USING (asst_system_scope() OR user_id = asst_current_user_id())
    WITH CHECK (asst_system_scope() OR user_id = asst_current_user_id());

-- The segments each outbound SMS costs (GSM-7: 160 per single message, 153
-- per part; UCS-2: 70 / 67), recorded when it is queued.
ALTER TABLE messages ADD COLUMN segments integer;
