#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "db/events.h"
#include "outbox_private.h"


asst_outbox_t *asst_outbox_create(apr_pool_t *p, asst_db_t *db, asst_twilio_t *twilio)
{
    asst_outbox_t *ob = apr_pcalloc(p, sizeof(*ob));

    ob->db = db;
    ob->twilio = twilio;
    return ob;
}

/* ---- claiming ---- */

/* The rows picked by `which` (a subquery over outbox taking $1), locked
 * with SKIP LOCKED so two processes never claim the same row. Each claimed
 * row's session-level advisory lock says its sender is alive: it dies with
 * the connection, and the orphan sweep (outbox_recover.c) watches for that.
 * It is taken while the row is still locked by this UPDATE, so the sweep
 * never sees a claimed row without it. */
#define CLAIM_SQL(which)                                                               \
    "UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1, claimed_at = now() " \
    "FROM users u WHERE u.id = o.user_id AND o.id IN (" which ") "                     \
    "RETURNING o.id, o.user_id, o.message_id, o.payload->>'to', o.payload->>'body', "  \
    "          u.status, o.attempts, pg_try_advisory_lock(o.id), o.kind"

/* Texts to one person leave in order, with one exception (docs/decisions.md):
 * a row waits while an earlier one to the same person is in flight
 * (sending, or unknown while it is looked up), is due and has never been
 * tried, or is an earlier part of the same reply. A later reply may go
 * ahead of an earlier one that failed an attempt and waits for its retry,
 * so one failing text holds up the next ones for one attempt, not for its
 * whole backoff. */
#define IN_ORDER                                                                        \
    " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.user_id = outbox.user_id "         \
    "     AND e.kind = outbox.kind AND e.id < outbox.id "                                     \
    "     AND e.status IN ('pending', 'sending', 'unknown') "                           \
    "     AND (e.status <> 'pending' OR (e.attempts = 0 AND e.next_attempt_at <= now()) " \
    "          OR e.in_reply_to = outbox.in_reply_to))"

static const char claim_one_sql[] = CLAIM_SQL(
    "SELECT id FROM outbox WHERE id = $1 AND status = 'pending' AND kind = ANY($2::text[])" IN_ORDER
    " FOR UPDATE SKIP LOCKED");
static const char claim_ids_sql[] = CLAIM_SQL(
    "SELECT id FROM outbox WHERE id = ANY($1::bigint[]) AND status = 'pending' AND kind = ANY($2::text[])"
    IN_ORDER " FOR UPDATE SKIP LOCKED");
/* A row never tried is its turn's to send (the agent claims it right
 * after the commit); the scheduler takes it only if that has not happened
 * within ASST_OUTBOX_AGENT_GRACE, so the two do not race for fresh rows. */
static const char claim_due_sql[] = CLAIM_SQL(
    "SELECT id FROM outbox WHERE status = 'pending' AND kind = ANY($2::text[]) AND next_attempt_at <= now() "
    "  AND (attempts > 0 OR created_at <= now() - " ASST_OUTBOX_AGENT_GRACE ")"
    IN_ORDER " ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED");

/* Only if another session holds a row's lock (it cannot, unless it leaked
 * one): that row is handed back untouched rather than sent unwatched. */
static const char unclaim_sql[] =
    "UPDATE outbox SET status = 'pending', attempts = attempts - 1 WHERE id = $1";

static int by_id(const void *a, const void *b)
{
    apr_int64_t x = apr_atoi64(((const asst_outbox_row_t *)a)->id);
    apr_int64_t y = apr_atoi64(((const asst_outbox_row_t *)b)->id);
    return x < y ? -1 : x > y;
}

static void release(asst_outbox_t *ob, const char *id)
{
    asst_db_exec(ob->db, NULL, "SELECT pg_advisory_unlock($1::bigint)", ASST_DB_ARGS(id));
}

/* After a failed transaction on a live connection the session locks it
 * took are still held (they outlive a rollback): let go of them. */
static void release_all(asst_outbox_t *ob, asst_db_rc_t rc, const apr_array_header_t *rows)
{
    if (rc == ASST_DB_ESTMT)
        for (int i = 0; i < rows->nelts; i++)
            release(ob, APR_ARRAY_IDX(rows, i, asst_outbox_row_t).id);
}

static asst_db_rc_t take_rows(asst_outbox_t *ob, apr_pool_t *p, PGresult *res, apr_array_header_t *rows)
{
    asst_db_rc_t rc = ASST_DB_OK;

    for (int i = 0; i < PQntuples(res) && rc == ASST_DB_OK; i++) {
        asst_outbox_row_t *c;
        if (strcmp(PQgetvalue(res, i, 7), "t") != 0) {
            rc = asst_db_exec(ob->db, NULL, unclaim_sql, ASST_DB_ARGS(PQgetvalue(res, i, 0)));
            continue;
        }
        c = apr_array_push(rows);
        c->id = asst_db_text(p, res, i, 0);
        c->user_id = asst_db_text(p, res, i, 1);
        c->message_id = asst_db_text(p, res, i, 2);
        c->to = asst_db_text(p, res, i, 3);
        c->body = asst_db_text(p, res, i, 4);
        c->user_status = asst_db_text(p, res, i, 5);
        c->attempts = asst_db_text(p, res, i, 6);
        c->kind = asst_db_text(p, res, i, 8);
    }
    return rc;
}

/* Claims rows of the kinds whose deliverer is ready, in one system-scope
 * transaction; -1 when the database failed. */
static int claim(asst_outbox_t *ob, apr_pool_t *p, const char *sql, const char *arg,
                 apr_array_header_t *rows)
{
    const char *kinds = asst_deliverer_ready_kinds(ob, p);
    PGresult *res = NULL;
    asst_db_rc_t rc;

    if (!kinds)
        return 0;
    if ((rc = asst_db_begin_system(ob->db)) == ASST_DB_OK)
        rc = asst_db_exec(ob->db, &res, sql, ASST_DB_ARGS(arg, kinds));
    if (rc == ASST_DB_OK)
        rc = take_rows(ob, p, res, rows);
    PQclear(res);
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(ob->db);
    if (rc != ASST_DB_OK) {
        asst_db_rollback(ob->db);
        release_all(ob, rc, rows);
        return -1;
    }
    /* Parts of one reply were queued in id order: send them in that order. */
    qsort(rows->elts, (size_t)rows->nelts, sizeof(asst_outbox_row_t), by_id);
    return rows->nelts;
}

/* ---- settling ---- */

static int guard_matched(asst_outbox_t *ob, const asst_outbox_stmt_t *guard)
{
    PGresult *res = NULL;
    asst_db_rc_t rc = asst_db_exec(ob->db, &res, guard->sql, guard->nparams, guard->params);
    int matched = rc == ASST_DB_OK && strcmp(PQcmdTuples(res), "1") == 0;

    PQclear(res);
    return rc != ASST_DB_OK ? -1 : matched;
}

int asst_outbox_settle(asst_outbox_t *ob, const asst_outbox_row_t *row, const asst_outbox_stmt_t *stmts,
                       int n)
{
    asst_db_rc_t rc = asst_db_begin_system(ob->db);
    int matched = rc == ASST_DB_OK ? guard_matched(ob, &stmts[0]) : -1;

    for (int i = 1; i < n && matched == 1 && rc == ASST_DB_OK; i++)
        rc = asst_db_exec(ob->db, NULL, stmts[i].sql, stmts[i].nparams, stmts[i].params);
    if (matched < 0 && rc == ASST_DB_OK)
        rc = ASST_DB_ESTMT;
    if (rc == ASST_DB_OK && matched)
        rc = asst_db_commit(ob->db);
    if (rc != ASST_DB_OK || !matched)
        asst_db_rollback(ob->db);
    if (rc != ASST_DB_OK) {
        asst_log(ASST_LOG_DEBUG, "ASST01308: outbox row %s: %s", row->id, asst_db_error(ob->db));
        return -1;
    }
    return matched ? 0 : 1;
}

/* The row may have been found orphaned meanwhile (this process lost its
 * database session, e.g. a server restart, while Twilio was answering):
 * what this sender learnt first-hand still wins unless the row was claimed
 * again (attempts moved on). */
#define GUARD_SENDER " WHERE id = $1 AND attempts = $2::int AND status IN ('sending', 'unknown', 'pending')"

int asst_outbox_settle_sent(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *row,
                            const char *guard_status, const char *sid, const char *status,
                            const char *event_kind)
{
    const char *guard = apr_pstrcat(p, "UPDATE outbox SET status = 'sent', provider_id = $3, "
                                    "last_error = NULL", guard_status, NULL);
    const asst_outbox_stmt_t stmts[] = {
        ASST_OUTBOX_STMT(guard, row->id, row->attempts, sid),
        ASST_OUTBOX_STMT("UPDATE messages SET twilio_sid = $2, status = $3 WHERE id = $1",
                         row->message_id, sid, status ? status : "queued"),
        ASST_OUTBOX_STMT(ASST_DB_EVENT_INSERT "VALUES ($1, $5, "
                         "jsonb_build_object('outbox_id', $2::bigint, 'sid', $3::text, 'attempts', $4::int))",
                         row->user_id, row->id, sid, row->attempts, event_kind),
    };
    return asst_outbox_settle(ob, row, stmts, 3);
}

/* 21610: the person texted STOP to Twilio; 21211: not a number we can text. */
static int settle_failed(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c, const char *why,
                         int code)
{
    const char *code_text = apr_itoa(p, code);
    const asst_outbox_stmt_t stmts[] = {
        ASST_OUTBOX_STMT("UPDATE outbox SET status = 'failed', last_error = $3" GUARD_SENDER,
                         c->id, c->attempts, why),
        ASST_OUTBOX_STMT("UPDATE messages SET status = 'failed', error_code = nullif($2, '0')::int WHERE id = $1",
                         c->message_id, code_text),
        ASST_OUTBOX_STMT("UPDATE users SET status = CASE WHEN $2 = '21610' THEN 'opted_out' ELSE status END, "
                         "                 flagged = flagged OR $2 = '21211' WHERE id = $1", c->user_id, code_text),
        ASST_OUTBOX_STMT(ASST_DB_EVENT_INSERT "VALUES ($1, 'sms_failed', "
                         "jsonb_build_object('outbox_id', $2::bigint, 'error', $3::text, 'code', $4::int))",
                         c->user_id, c->id, why, code_text),
    };
    int rv = asst_outbox_settle(ob, c, stmts, 4);

    /* once recorded: record() may try several times while the database is away */
    if (rv == 0)
        asst_log(ASST_LOG_WARN, "ASST01302: outbox row %s to %s failed for good: %s", c->id, c->to, why);
    return rv;
}

static int settle_retry(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c,
                        const asst_twilio_result_t *r)
{
    int attempts = atoi(c->attempts);
    apr_int64_t cap = attempts <= ASST_OUTBOX_QUICK_ATTEMPTS ? ASST_OUTBOX_QUICK_CAP_MS
                                                             : ASST_OUTBOX_BACKOFF_CAP_MS;
    apr_int64_t delay = asst_http_backoff_ms(ASST_OUTBOX_BACKOFF_BASE_MS, cap, (unsigned)attempts,
                                             r->retry_after_ms, asst_http_random());
    const char *why = r->error_message ? r->error_message : "temporary failure";
    const asst_outbox_stmt_t stmts[] = {
        ASST_OUTBOX_STMT("UPDATE outbox SET status = 'pending', last_error = $3, "
                         "next_attempt_at = now() + $4::bigint * interval '1 millisecond'" GUARD_SENDER,
                         c->id, c->attempts, why, apr_psprintf(p, "%" APR_INT64_T_FMT, delay)),
    };
    int rv;

    if (attempts >= ASST_OUTBOX_MAX_ATTEMPTS)
        return settle_failed(ob, p, c, apr_psprintf(p, "gave up after %d attempts: %s", attempts, why),
                             r->error_code);
    if ((rv = asst_outbox_settle(ob, c, stmts, 1)) == 0)
        asst_log(ASST_LOG_INFO, "ASST01303: outbox row %s: %s; retry %d in %" APR_INT64_T_FMT " ms",
                 c->id, why, attempts, delay);
    return rv;
}

/* The circuit was open: nothing went out, so it is no attempt. The row
 * waits for the end of the cool-down (a quarter second while the probes
 * are out), spread over another quarter second. */
static int settle_not_sent(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c,
                           const asst_twilio_result_t *r)
{
    apr_int64_t wait = (r->retry_after_ms > 250 ? r->retry_after_ms : 250) + asst_http_random() % 250;
    const asst_outbox_stmt_t stmts[] = {
        ASST_OUTBOX_STMT("UPDATE outbox SET status = 'pending', attempts = attempts - 1, last_error = $3, "
                         "next_attempt_at = now() + $4::bigint * interval '1 millisecond'" GUARD_SENDER,
                         c->id, c->attempts, "circuit open: not sent", apr_psprintf(p, "%" APR_INT64_T_FMT, wait)),
    };
    return asst_outbox_settle(ob, c, stmts, 1);
}

void asst_outbox_log_claimed_again(const asst_outbox_row_t *row, const char *sid)
{
    asst_log(ASST_LOG_WARN, "ASST01305: outbox row %s was claimed again while this process "
             "sent it as %s: the person may get it twice", row->id, sid ? sid : "?");
}

static int settle_outcome(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c,
                          asst_twilio_outcome_t outcome, const asst_twilio_result_t *r)
{
    int rv;

    switch (outcome) {
    case ASST_TWILIO_SENT:
        rv = asst_outbox_settle_sent(ob, p, c, GUARD_SENDER, r->sid, r->status, "sms_sent");
        if (rv == 1)
            asst_outbox_log_claimed_again(c, r->sid);
        return rv;
    case ASST_TWILIO_RETRY:
        if (r->transport == ASST_HTTP_CIRCUIT_OPEN)
            return settle_not_sent(ob, p, c, r);
        return settle_retry(ob, p, c, r);
    default:
        return settle_failed(ob, p, c, r->error_message ? r->error_message : "refused", r->error_code);
    }
}

/* This sender knows the outcome first-hand: while the database is away
 * (a restart takes a few seconds) it keeps trying to record it, rather than
 * leave the row to a lookup in Twilio's log. */
static void log_unrecorded(asst_outbox_t *ob, const asst_outbox_row_t *c, asst_twilio_outcome_t outcome)
{
    asst_log(ASST_LOG_ERR, "ASST01301: could not record the outcome of outbox row %s (%s): %s",
             c->id, asst_twilio_outcome_name(outcome), asst_db_error(ob->db));
}

static int record(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c,
                  asst_twilio_outcome_t outcome, const asst_twilio_result_t *r)
{
    int rv;

    for (int tries = 1; (rv = settle_outcome(ob, p, c, outcome, r)) < 0 && tries < ASST_OUTBOX_SETTLE_TRIES; tries++)
        apr_sleep(ASST_OUTBOX_SETTLE_RETRY_USEC);
    if (rv < 0)
        log_unrecorded(ob, c, outcome);
    return rv;
}

/* Recorded or not, this process is done with the row: if the outcome was
 * not recorded the row is still 'sending' and, unlocked, goes to the
 * orphan sweep, which asks Twilio. */
int asst_outbox_conclude(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c,
                    asst_twilio_outcome_t outcome, const asst_twilio_result_t *r)
{
    int rv = record(ob, p, c, outcome, r);

    release(ob, c->id);
    return rv < 0 ? -1 : 0;
}

static const char *refusal(apr_pool_t *p, const asst_outbox_row_t *c, const asst_deliverer_t *d)
{
    if (strcmp(c->user_status, "opted_out") == 0 || strcmp(c->user_status, "blocked") == 0)
        return apr_pstrcat(p, "recipient is ", c->user_status, NULL);
    if (!d)
        return apr_pstrcat(p, "no deliverer for kind ", c->kind, NULL);
    return d->unsendable(c);
}

/* The deliverer to send claimed row c with; NULL when c can never go out,
 * which is then recorded as a permanent failure (*rv: conclude's). */
const asst_deliverer_t *asst_outbox_deliverer_or_refuse(asst_outbox_t *ob, apr_pool_t *p,
                                                   const asst_outbox_row_t *c, int *rv)
{
    const asst_deliverer_t *d = asst_deliverer_for(c->kind);
    asst_twilio_result_t r;

    memset(&r, 0, sizeof(r));
    *rv = 0;
    if ((r.error_message = refusal(p, c, d)) == NULL)
        return d;
    *rv = asst_outbox_conclude(ob, p, c, ASST_TWILIO_PERMANENT, &r);
    return NULL;
}

static int send_one(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c)
{
    asst_twilio_result_t r;
    asst_twilio_outcome_t outcome;
    int rv;
    const asst_deliverer_t *d = asst_outbox_deliverer_or_refuse(ob, p, c, &rv);

    if (!d)
        return rv;
    outcome = d->send(ob, p, c, &r);
    return asst_outbox_conclude(ob, p, c, outcome, &r);
}

static int send_all(asst_outbox_t *ob, apr_pool_t *p, const apr_array_header_t *rows)
{
    int rv = 0;

    for (int i = 0; i < rows->nelts; i++)
        if (send_one(ob, p, &APR_ARRAY_IDX(rows, i, asst_outbox_row_t)) != 0)
            rv = -1;
    return rv;
}

/* Claims row id if it is still pending (into *row): 1, 0 when it is not,
 * -1 when the database failed. */
static int claim_id(asst_outbox_t *ob, apr_pool_t *p, apr_int64_t id, asst_outbox_row_t *row)
{
    apr_array_header_t *rows = apr_array_make(p, 1, sizeof(asst_outbox_row_t));
    int n = claim(ob, p, claim_one_sql, apr_psprintf(p, "%" APR_INT64_T_FMT, id), rows);

    if (n > 0)
        *row = APR_ARRAY_IDX(rows, 0, asst_outbox_row_t);
    return n;
}

int asst_outbox_claim_ids(asst_outbox_t *ob, apr_pool_t *p, const char *ids, apr_array_header_t *rows)
{
    return claim(ob, p, claim_ids_sql, ids, rows);
}

int asst_outbox_deliver(asst_outbox_t *ob, apr_pool_t *p, apr_int64_t id)
{
    asst_outbox_row_t row;
    int rv = claim_id(ob, p, id, &row);

    return rv > 0 ? send_one(ob, p, &row) : rv;
}

int asst_outbox_deliver_due(asst_outbox_t *ob, apr_pool_t *p, int limit)
{
    apr_array_header_t *rows = apr_array_make(p, limit, sizeof(asst_outbox_row_t));

    if (claim(ob, p, claim_due_sql, apr_itoa(p, limit), rows) < 0)
        return -1;
    return send_all(ob, p, rows) < 0 ? -1 : rows->nelts;
}

/* ---- one turn's rows on a multi handle ---- */

/* The rows go out one after another, as send_all sends them: a person's
 * texts in order. */
typedef struct {
    asst_outbox_t *ob;
    asst_http_multi_t *m;
    apr_pool_t *p;
    const apr_array_header_t *ids;   /* of long long */
    int next;                        /* ids[next] is the next to claim */
    asst_outbox_row_t row;           /* the one being sent */
    asst_twilio_outcome_t outcome;   /* how its send went, while that is recorded */
    asst_twilio_result_t result;
    int tries;                       /* to record it */
    void (*done)(void *baton);
    void *baton;
} delivery_t;

static void delivered(void *baton)
{
    delivery_t *dl = baton;

    dl->done(dl->baton);
}

static void sent(void *baton, asst_twilio_outcome_t outcome, asst_twilio_result_t *r);

/* Claims the next of dl's rows still pending and starts its send; 0 when
 * none is left. */
static int start_next(delivery_t *dl)
{
    while (dl->next < dl->ids->nelts) {
        apr_int64_t id = APR_ARRAY_IDX(dl->ids, dl->next++, long long);
        const asst_deliverer_t *d;
        int rv;

        if (claim_id(dl->ob, dl->p, id, &dl->row) > 0
            && (d = asst_outbox_deliverer_or_refuse(dl->ob, dl->p, &dl->row, &rv)) != NULL) {
            d->start(dl->ob, dl->m, dl->p, &dl->row, sent, dl);
            return 1;
        }
    }
    return 0;
}

static void record_again(void *baton);

/* Records how the row's send went, as record() does, but while the
 * database is away the retries wait on a timer of the loop, not in a
 * sleep: the other turns of the agent child go on meanwhile. Then the
 * next row. From asst_http_multi_run: done may be called right here. */
static void record_in_loop(delivery_t *dl)
{
    int rv = settle_outcome(dl->ob, dl->p, &dl->row, dl->outcome, &dl->result);

    if (rv < 0 && ++dl->tries < ASST_OUTBOX_SETTLE_TRIES) {
        asst_http_multi_at(dl->m, asst_clock_monotonic_ms(NULL) + ASST_OUTBOX_SETTLE_RETRY_USEC / 1000,
                           record_again, dl);
        return;
    }
    if (rv < 0)
        log_unrecorded(dl->ob, &dl->row, dl->outcome);
    release(dl->ob, dl->row.id);
    if (!start_next(dl))
        delivered(dl);
}

static void record_again(void *baton)
{
    record_in_loop(baton);
}

static void sent(void *baton, asst_twilio_outcome_t outcome, asst_twilio_result_t *r)
{
    delivery_t *dl = baton;

    dl->outcome = outcome;
    dl->result = *r;
    dl->tries = 0;
    record_in_loop(dl);
}

void asst_outbox_deliver_start(asst_outbox_t *ob, asst_http_multi_t *m, apr_pool_t *p,
                               const apr_array_header_t *ids, void (*done)(void *baton), void *baton)
{
    delivery_t *dl = apr_pcalloc(p, sizeof(*dl));

    dl->ob = ob;
    dl->m = m;
    dl->p = p;
    dl->ids = ids;
    dl->done = done;
    dl->baton = baton;
    if (!start_next(dl))
        asst_http_multi_at(m, 0, delivered, dl);
}
