-- 010_timezone_confirmed: whether the person's time zone is one they (or
-- the operator) said, rather than DefaultTimezone given at sign-up.
-- Reference: docs/schema.md, docs/agent.md ("Time zones").
--
-- Until it is true, the first time-dependent request (a reminder, quiet
-- hours) asks them, with a guess from their number's country code,
-- instead of acting in a zone nobody chose (worker/tools/zone.c). The
-- settings tool's set_timezone sets it, and so does their answer to that
-- question; `assistant-admin users add --tz` too, as the operator named
-- the zone.
ALTER TABLE users ADD COLUMN timezone_confirmed boolean NOT NULL DEFAULT false;

-- Who already told us: everyone with a setting_changed event for their
-- time zone (set_timezone records one). Not "timezone <> 'UTC'": a zone
-- other than UTC may be only DefaultTimezone, which nobody confirmed, and
-- someone who chose UTC did confirm it. Asking once too often costs one
-- text; not asking someone whose zone is wrong costs every reminder.
-- Events are under row-level security (002_rls): read them in system
-- scope, for this transaction only.
SELECT set_config('asst.scope', 'system', true);

UPDATE users u SET timezone_confirmed = true
WHERE EXISTS (SELECT 1 FROM events e
              WHERE e.user_id = u.id AND e.kind = 'setting_changed' AND e.data->>'setting' = 'timezone');

SELECT set_config('asst.scope', '', true);
