/* Rows whose sender went away mid-send. A sender holds its row's
 * session-level advisory lock from the claim until the outcome is recorded;
 * a row still 'sending' whose lock is free was left by a session that
 * ended: the process died (kill -9, crash, OOM) or the server restarted.
 * Twilio may or may not have the message, so the row becomes 'unknown' and
 * is looked up in Twilio's own log before it is sent again. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "db/events.h"
#include "outbox_private.h"

/* A send that reached Twilio just before its process died has had this
 * long to show up in Twilio's log before we look. */
#define LOOKUP_DELAY_MS 1000
/* Twilio's log could not be read: ask again after this long. */
#define LOOKUP_RETRY_MS 2000
/* Clock skew allowed between this database and Twilio's date_created. */
#define CLOCK_SKEW_S 60

/* Row locks first (SKIP LOCKED: a sender settling its row holds it), then
 * the advisory lock without waiting: free means nobody is sending. */
static const char sweep_sql[] =
    "WITH s AS MATERIALIZED (SELECT id FROM outbox WHERE status = 'sending' ORDER BY id LIMIT 500 "
    "                        FOR UPDATE SKIP LOCKED), "
    "     orphan AS MATERIALIZED (SELECT id FROM s WHERE pg_try_advisory_xact_lock(id)), "
    "     o AS (UPDATE outbox SET status = 'unknown', "
    "                  next_attempt_at = now() + $1::int * interval '1 millisecond', "
    "                  last_error = 'the process sending it went away' "
    "           FROM orphan WHERE outbox.id = orphan.id RETURNING outbox.id, outbox.user_id), "
    "     e AS (" ASST_DB_EVENT_INSERT
    "           SELECT user_id, 'outbox_orphaned', jsonb_build_object('outbox_id', id) FROM o) "
    "SELECT count(*) FROM o";

int asst_outbox_sweep_orphans(asst_outbox_t *ob, apr_pool_t *p)
{
    asst_db_rc_t rc = asst_db_begin_system(ob->db);
    const char *n = rc == ASST_DB_OK
        ? asst_db_value(ob->db, p, &rc, sweep_sql, ASST_DB_ARGS(apr_itoa(p, LOOKUP_DELAY_MS))) : NULL;

    if (rc == ASST_DB_OK)
        rc = asst_db_commit(ob->db);
    if (rc != ASST_DB_OK) {
        asst_db_rollback(ob->db);
        return -1;
    }
    if (n && atoi(n) > 0)
        asst_log(ASST_LOG_WARN, "ASST01304: %s outbox rows were left sending by a process that went "
                 "away; asking Twilio whether it has them before sending again", n);
    return n ? atoi(n) : 0;
}

/* ---- looking rows up ---- */

typedef struct {
    asst_outbox_row_t row;
    apr_time_t claimed_at;      /* when the lost attempt was claimed */
    int server_restarted;       /* since the claim: the sender may be alive */
    apr_int64_t age_ms;         /* of the claim */
} unknown_t;

static const char due_sql[] =
    "SELECT o.id, o.user_id, o.message_id, o.payload->>'to', o.payload->>'body', o.attempts, "
    "       (extract(epoch FROM c.at) * 1000000)::bigint, pg_postmaster_start_time() > c.at, "
    "       (extract(epoch FROM now() - c.at) * 1000)::bigint "
    "FROM outbox o, LATERAL (SELECT coalesce(o.claimed_at, o.updated_at) AS at) c "
    "WHERE o.status = 'unknown' AND o.next_attempt_at <= now() "
    "ORDER BY o.next_attempt_at, o.id LIMIT $1";

static int due_rows(asst_outbox_t *ob, apr_pool_t *p, int limit, apr_array_header_t *rows)
{
    PGresult *res = NULL;
    asst_db_rc_t rc = asst_db_begin_system(ob->db);

    if (rc == ASST_DB_OK)
        rc = asst_db_exec(ob->db, &res, due_sql, ASST_DB_ARGS(apr_itoa(p, limit)));
    asst_db_rollback(ob->db);
    if (rc != ASST_DB_OK)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        unknown_t *u = apr_array_push(rows);
        u->row.id = asst_db_text(p, res, i, 0);
        u->row.user_id = asst_db_text(p, res, i, 1);
        u->row.message_id = asst_db_text(p, res, i, 2);
        u->row.to = asst_db_text(p, res, i, 3);
        u->row.body = asst_db_text(p, res, i, 4);
        u->row.attempts = asst_db_text(p, res, i, 5);
        u->claimed_at = (apr_time_t)apr_atoi64(PQgetvalue(res, i, 6));
        u->server_restarted = strcmp(PQgetvalue(res, i, 7), "t") == 0;
        u->age_ms = apr_atoi64(PQgetvalue(res, i, 8));
    }
    PQclear(res);
    return rows->nelts;
}

#define GUARD_UNKNOWN " WHERE id = $1 AND attempts = $2::int AND status = 'unknown'"

static int look_again(asst_outbox_t *ob, apr_pool_t *p, const unknown_t *u, apr_int64_t in_ms,
                      const char *why)
{
    const asst_outbox_stmt_t stmts[] = {
        ASST_OUTBOX_STMT("UPDATE outbox SET next_attempt_at = now() + $3::bigint * interval '1 millisecond', "
                         "last_error = $4" GUARD_UNKNOWN,
                         u->row.id, u->row.attempts, apr_psprintf(p, "%" APR_INT64_T_FMT, in_ms), why),
    };
    return asst_outbox_settle(ob, &u->row, stmts, 1);
}

static int send_again(asst_outbox_t *ob, const unknown_t *u)
{
    const asst_outbox_stmt_t stmts[] = {
        ASST_OUTBOX_STMT("UPDATE outbox SET status = 'pending', next_attempt_at = now(), "
                         "last_error = 'not in Twilio''s log: sent again'" GUARD_UNKNOWN,
                         u->row.id, u->row.attempts),
        ASST_OUTBOX_STMT(ASST_DB_EVENT_INSERT "VALUES ($1, 'outbox_resent', "
                         "jsonb_build_object('outbox_id', $2::bigint))", u->row.user_id, u->row.id),
    };

    asst_log(ASST_LOG_WARN, "ASST01307: outbox row %s: Twilio has no such message to %s; sending it again",
             u->row.id, u->row.to);
    return asst_outbox_settle(ob, &u->row, stmts, 2);
}

/* The oldest message found whose sid no outbox row has yet: two lost rows
 * with the same text to the same person each get one. */
static const asst_twilio_logged_t *unclaimed(asst_outbox_t *ob, apr_pool_t *p, const apr_array_header_t *found)
{
    for (int i = found->nelts - 1; i >= 0; i--) {
        const asst_twilio_logged_t *m = &APR_ARRAY_IDX(found, i, asst_twilio_logged_t);
        asst_db_rc_t rc = asst_db_begin_system(ob->db);
        const char *taken = rc == ASST_DB_OK && m->sid
            ? asst_db_value(ob->db, p, &rc, "SELECT 1 FROM outbox WHERE provider_id = $1", ASST_DB_ARGS(m->sid))
            : NULL;
        asst_db_rollback(ob->db);
        if (rc != ASST_DB_OK)
            return NULL;
        if (m->sid && !taken)
            return m;
    }
    return NULL;
}

/* Not in Twilio's log. If the server restarted since the claim, the sender
 * may be alive and still waiting for Twilio's answer: give it until its
 * request must have timed out. Otherwise its session ended while the
 * server ran on, so the process is gone. */
static int not_found(asst_outbox_t *ob, apr_pool_t *p, const unknown_t *u)
{
    apr_int64_t grace = asst_twilio_timeout_ms(ob->twilio) + LOOKUP_DELAY_MS;

    if (u->server_restarted && u->age_ms < grace)
        return look_again(ob, p, u, grace - u->age_ms, "the server restarted while it was sent");
    return send_again(ob, u);
}

static int resolve(asst_outbox_t *ob, apr_pool_t *p, const unknown_t *u)
{
    apr_array_header_t *found;
    const asst_twilio_logged_t *m;
    asst_twilio_result_t r;
    apr_time_t since = u->claimed_at - apr_time_from_sec(CLOCK_SKEW_S);

    if (asst_twilio_find_sent(ob->twilio, p, u->row.to, u->row.body, since, &found, &r) != 0)
        return look_again(ob, p, u, r.retry_after_ms > LOOKUP_RETRY_MS ? r.retry_after_ms : LOOKUP_RETRY_MS,
                          r.error_message ? r.error_message : "Twilio's log could not be read");
    if (!(m = unclaimed(ob, p, found)))
        return not_found(ob, p, u);
    asst_log(ASST_LOG_INFO, "ASST01306: outbox row %s: Twilio already has it as %s; not sending it again",
             u->row.id, m->sid);
    return asst_outbox_settle_sent(ob, p, &u->row, GUARD_UNKNOWN, m->sid, m->status, "sms_reconciled");
}

int asst_outbox_reconcile_due(asst_outbox_t *ob, apr_pool_t *p, int limit)
{
    apr_array_header_t *rows = apr_array_make(p, limit, sizeof(unknown_t));
    int rv;

    if (!ob->twilio)
        return 0;
    if ((rv = due_rows(ob, p, limit, rows)) <= 0)
        return rv;
    for (int i = 0; i < rows->nelts; i++)
        if (resolve(ob, p, &APR_ARRAY_IDX(rows, i, unknown_t)) < 0) {
            asst_log(ASST_LOG_WARN, "ASST01309: could not record the lookup of outbox row %s: %s; "
                     "it is looked up again", APR_ARRAY_IDX(rows, i, unknown_t).row.id, asst_db_error(ob->db));
            return -1;
        }
    return rows->nelts;
}
