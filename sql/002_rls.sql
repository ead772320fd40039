-- 002_rls: per-user isolation by row-level security.
--
-- A row of a user-owned table is visible and writable only when
--   * its user is the one the transaction works for:
--       SELECT set_config('asst.user_id', '<users.id>', true)   -- SET LOCAL
--   * or the transaction spans users on purpose (sign-up lookup by phone,
--     delivery, status callbacks, assistant-admin):
--       SELECT set_config('asst.scope', 'system', true)
-- With neither set, these tables look empty and refuse every write.
--
-- FORCE makes the policies bind the tables' owner too, so the worker may
-- connect as the role that owns the schema. They never bind a superuser or
-- a role with BYPASSRLS: the worker must connect as an ordinary role
-- (CREATE ROLE assistant LOGIN; the end-to-end tests do exactly that).

-- After a SET LOCAL ends, a custom setting reads back as '' (not NULL) for
-- the rest of the session: NULLIF keeps that from being a cast error.
CREATE FUNCTION asst_current_user_id() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('asst.user_id', true), '')::bigint
$$;

CREATE FUNCTION asst_system_scope() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('asst.scope', true), '') = 'system'
$$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own ON users
    USING (asst_system_scope() OR id = asst_current_user_id())
    WITH CHECK (asst_system_scope() OR id = asst_current_user_id());

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY messages_own ON messages
    USING (asst_system_scope() OR user_id = asst_current_user_id())
    WITH CHECK (asst_system_scope() OR user_id = asst_current_user_id());

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY outbox_own ON outbox
    USING (asst_system_scope() OR user_id = asst_current_user_id())
    WITH CHECK (asst_system_scope() OR user_id = asst_current_user_id());

-- Events about no one (user_id NULL) are system-scope only.
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_own ON events
    USING (asst_system_scope() OR user_id = asst_current_user_id())
    WITH CHECK (asst_system_scope() OR user_id = asst_current_user_id());
