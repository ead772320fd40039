#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "outbox.h"

struct asst_outbox {
    asst_db_t *db;
    asst_twilio_t *twilio;
};

typedef struct {
    const char *id;
    const char *user_id;
    const char *message_id;
    const char *to;
    const char *body;
    const char *user_status;
    int attempts;
} claimed_t;

asst_outbox_t *asst_outbox_create(apr_pool_t *p, asst_db_t *db, asst_twilio_t *twilio)
{
    asst_outbox_t *ob = apr_pcalloc(p, sizeof(*ob));

    ob->db = db;
    ob->twilio = twilio;
    return ob;
}

/* The rows picked by `which` (a subquery over outbox taking $1), locked
 * with SKIP LOCKED so two processes never claim the same row. */
#define CLAIM_SQL(which)                                                               \
    "UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1 "               \
    "FROM users u WHERE u.id = o.user_id AND o.id IN (" which ") "                     \
    "RETURNING o.id, o.user_id, o.message_id, o.payload->>'to', o.payload->>'body', "  \
    "          u.status, o.attempts"

/* Texts to one person leave in the order they were queued: a row waits
 * while an earlier one to the same user is still pending or sending, so
 * the parts of a long reply, or two replies, never overtake each other
 * when one of them is being retried. */
#define IN_ORDER                                                                       \
    " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.user_id = outbox.user_id "        \
    "     AND e.kind = 'sms' AND e.id < outbox.id AND e.status IN ('pending', 'sending'))"

static const char claim_one_sql[] = CLAIM_SQL(
    "SELECT id FROM outbox WHERE id = $1 AND status = 'pending' AND kind = 'sms'" IN_ORDER
    " FOR UPDATE SKIP LOCKED");
static const char claim_due_sql[] = CLAIM_SQL(
    "SELECT id FROM outbox WHERE status = 'pending' AND kind = 'sms' AND next_attempt_at <= now()"
    IN_ORDER " ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED");

static const char *col(apr_pool_t *p, const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? NULL : apr_pstrdup(p, PQgetvalue(res, row, c));
}

static int by_id(const void *a, const void *b)
{
    apr_int64_t x = apr_atoi64(((const claimed_t *)a)->id), y = apr_atoi64(((const claimed_t *)b)->id);
    return x < y ? -1 : x > y;
}

/* Claims in one system-scope transaction; -1 when the database failed. */
static int claim(asst_outbox_t *ob, apr_pool_t *p, const char *sql, const char *arg,
                 apr_array_header_t *rows)
{
    PGresult *res = NULL;
    asst_db_rc_t rc = asst_db_begin_system(ob->db);

    if (rc == ASST_DB_OK)
        rc = asst_db_exec(ob->db, &res, sql, ASST_DB_ARGS(arg));
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(ob->db);
    if (rc != ASST_DB_OK) {
        asst_db_rollback(ob->db);
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        claimed_t *c = apr_array_push(rows);
        c->id = col(p, res, i, 0);
        c->user_id = col(p, res, i, 1);
        c->message_id = col(p, res, i, 2);
        c->to = col(p, res, i, 3);
        c->body = col(p, res, i, 4);
        c->user_status = col(p, res, i, 5);
        c->attempts = atoi(PQgetvalue(res, i, 6));
    }
    PQclear(res);
    /* Parts of one reply were queued in id order: send them in that order. */
    qsort(rows->elts, (size_t)rows->nelts, sizeof(claimed_t), by_id);
    return rows->nelts;
}

typedef struct {
    const char *sql;
    int nparams;
    const char *const *params;
} stmt_t;

#define STMT(sql, ...) { sql, ASST_DB_ARGS(__VA_ARGS__) }

/* Runs the statements in one system-scope transaction. */
static int settle(asst_outbox_t *ob, const stmt_t *stmts, int n)
{
    asst_db_rc_t rc = asst_db_begin_system(ob->db);

    for (int i = 0; i < n && rc == ASST_DB_OK; i++)
        rc = asst_db_exec(ob->db, NULL, stmts[i].sql, stmts[i].nparams, stmts[i].params);
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(ob->db);
    if (rc != ASST_DB_OK) {
        asst_log(ASST_LOG_ERR, "ASST01301: could not record the outcome of outbox row: %s",
                 asst_db_error(ob->db));
        asst_db_rollback(ob->db);
        return -1;
    }
    return 0;
}

static int settle_sent(asst_outbox_t *ob, apr_pool_t *p, const claimed_t *c, const asst_twilio_result_t *r)
{
    const char *status = r->status ? r->status : "queued";
    const stmt_t stmts[] = {
        STMT("UPDATE outbox SET status = 'sent', provider_id = $2, last_error = NULL WHERE id = $1",
             c->id, r->sid),
        STMT("UPDATE messages SET twilio_sid = $2, status = $3 WHERE id = $1", c->message_id, r->sid, status),
        STMT("INSERT INTO events (user_id, kind, data) VALUES ($1, 'sms_sent', "
             "jsonb_build_object('outbox_id', $2::bigint, 'sid', $3::text, 'attempts', $4::int))",
             c->user_id, c->id, r->sid, apr_itoa(p, c->attempts)),
    };
    return settle(ob, stmts, 3);
}

/* 21610: the person texted STOP to Twilio; 21211: not a number we can text. */
static int settle_failed(asst_outbox_t *ob, apr_pool_t *p, const claimed_t *c, const char *why, int code)
{
    const char *code_text = apr_itoa(p, code);
    const stmt_t stmts[] = {
        STMT("UPDATE outbox SET status = 'failed', last_error = $2 WHERE id = $1", c->id, why),
        STMT("UPDATE messages SET status = 'failed', error_code = nullif($2, '0')::int WHERE id = $1",
             c->message_id, code_text),
        STMT("UPDATE users SET status = CASE WHEN $2 = '21610' THEN 'opted_out' ELSE status END, "
             "                 flagged = flagged OR $2 = '21211' WHERE id = $1", c->user_id, code_text),
        STMT("INSERT INTO events (user_id, kind, data) VALUES ($1, 'sms_failed', "
             "jsonb_build_object('outbox_id', $2::bigint, 'error', $3::text, 'code', $4::int))",
             c->user_id, c->id, why, code_text),
    };

    asst_log(ASST_LOG_WARN, "ASST01302: outbox row %s to %s failed for good: %s", c->id, c->to, why);
    return settle(ob, stmts, 4);
}

static int settle_retry(asst_outbox_t *ob, apr_pool_t *p, const claimed_t *c, const asst_twilio_result_t *r)
{
    apr_int64_t delay = asst_http_backoff_ms(ASST_OUTBOX_BACKOFF_BASE_MS, ASST_OUTBOX_BACKOFF_CAP_MS,
                                             (unsigned)c->attempts, r->retry_after_ms, asst_http_random());
    const char *why = r->error_message ? r->error_message : "temporary failure";
    const stmt_t stmts[] = {
        STMT("UPDATE outbox SET status = 'pending', last_error = $2, "
             "next_attempt_at = now() + $3::bigint * interval '1 millisecond' WHERE id = $1",
             c->id, why, apr_psprintf(p, "%" APR_INT64_T_FMT, delay)),
    };

    if (c->attempts >= ASST_OUTBOX_MAX_ATTEMPTS)
        return settle_failed(ob, p, c, apr_psprintf(p, "gave up after %d attempts: %s", c->attempts, why),
                             r->error_code);
    asst_log(ASST_LOG_INFO, "ASST01303: outbox row %s: %s; retry %d in %" APR_INT64_T_FMT " ms",
             c->id, why, c->attempts, delay);
    return settle(ob, stmts, 1);
}

static int send_one(asst_outbox_t *ob, apr_pool_t *p, const claimed_t *c)
{
    asst_twilio_result_t r;

    if (strcmp(c->user_status, "opted_out") == 0 || strcmp(c->user_status, "blocked") == 0)
        return settle_failed(ob, p, c, apr_pstrcat(p, "recipient is ", c->user_status, NULL), 0);
    if (!c->to || !c->body)
        return settle_failed(ob, p, c, "payload lacks to or body", 0);
    switch (asst_twilio_send(ob->twilio, p, c->to, c->body, &r)) {
    case ASST_TWILIO_SENT:
        return settle_sent(ob, p, c, &r);
    case ASST_TWILIO_RETRY:
        return settle_retry(ob, p, c, &r);
    default:
        return settle_failed(ob, p, c, r.error_message ? r.error_message : "refused", r.error_code);
    }
}

static int send_all(asst_outbox_t *ob, apr_pool_t *p, const apr_array_header_t *rows)
{
    int rv = 0;

    for (int i = 0; i < rows->nelts; i++)
        if (send_one(ob, p, &APR_ARRAY_IDX(rows, i, claimed_t)) != 0)
            rv = -1;
    return rv;
}

int asst_outbox_deliver(asst_outbox_t *ob, apr_pool_t *p, apr_int64_t id)
{
    apr_array_header_t *rows = apr_array_make(p, 1, sizeof(claimed_t));

    if (!ob->twilio)
        return 0;
    if (claim(ob, p, claim_one_sql, apr_psprintf(p, "%" APR_INT64_T_FMT, id), rows) < 0)
        return -1;
    return send_all(ob, p, rows);
}

int asst_outbox_deliver_due(asst_outbox_t *ob, apr_pool_t *p, int limit)
{
    apr_array_header_t *rows = apr_array_make(p, limit, sizeof(claimed_t));

    if (!ob->twilio)
        return 0;
    if (claim(ob, p, claim_due_sql, apr_itoa(p, limit), rows) < 0)
        return -1;
    return send_all(ob, p, rows) < 0 ? -1 : rows->nelts;
}

int asst_outbox_requeue_stale(asst_outbox_t *ob, apr_pool_t *p, long stale_s)
{
    asst_db_rc_t rc;
    const char *n;

    rc = asst_db_begin_system(ob->db);
    n = rc == ASST_DB_OK ? asst_db_value(ob->db, p, &rc,
        "WITH r AS (UPDATE outbox SET status = 'pending', next_attempt_at = now(), "
        "                  last_error = 'requeued: a process died while sending' "
        "           WHERE status = 'sending' AND updated_at < now() - $1::int * interval '1 second' "
        "           RETURNING id, user_id), "
        "     e AS (INSERT INTO events (user_id, kind, data) "
        "           SELECT user_id, 'outbox_requeued', jsonb_build_object('outbox_id', id) FROM r) "
        "SELECT count(*) FROM r", ASST_DB_ARGS(apr_ltoa(p, stale_s))) : NULL;
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(ob->db);
    if (rc != ASST_DB_OK) {
        asst_db_rollback(ob->db);
        return -1;
    }
    if (n && atoi(n) > 0)
        asst_log(ASST_LOG_WARN, "ASST01304: %s outbox rows were left sending by a process that died; "
                 "sending again (a reply may arrive twice)", n);
    return n ? atoi(n) : 0;
}
