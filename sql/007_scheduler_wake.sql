-- 007_scheduler_wake: the scheduler sleeps until something is due.
-- Reference: docs/worker.md (the scheduler), worker/child/scheduler.c.
--
-- The scheduler child LISTENs on asst_scheduler and otherwise sleeps until
-- the next due time it computed. Whatever can make something due sooner
-- notifies it at commit: a reminder added or moved (the tool, a firing,
-- assistant-admin), an outbox row queued, or one put back to pending or
-- unknown (a failed send waiting for its retry, assistant-admin outbox
-- retry). Triggers rather than NOTIFYs in the code, so no path that
-- writes these tables can forget one; PostgreSQL folds identical
-- notifications of one transaction into one.

-- The payload says why: 'fresh' for a row just queued (the agent sends it
-- itself; the scheduler only has to look within the 2 s grace, so it does
-- not run a pass for each), '' for anything else.
CREATE FUNCTION asst_wake_scheduler() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('asst_scheduler', coalesce(TG_ARGV[0], ''));
    RETURN NULL;
END
$$;

CREATE TRIGGER reminders_wake_scheduler
    AFTER INSERT OR UPDATE OF next_at, snooze_at, status ON reminders
    FOR EACH STATEMENT EXECUTE FUNCTION asst_wake_scheduler();

CREATE TRIGGER outbox_wake_scheduler_insert
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION asst_wake_scheduler('fresh');

CREATE TRIGGER outbox_wake_scheduler_retry
    AFTER UPDATE OF status, next_attempt_at ON outbox
    FOR EACH ROW WHEN (NEW.status IN ('pending', 'unknown'))
    EXECUTE FUNCTION asst_wake_scheduler();
