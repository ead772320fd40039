/* Many people's rows at once, for the scheduler (outbox.h, asst_outbox_many_t). */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "asst_log.h"
#include "db/array.h"
#include "db/events.h"
#include "outbox_private.h"

/* One person's rows, in order; next is the next to claim. At most one is
 * being sent (busy); waiting: it is in the ready list. */
typedef struct {
    apr_array_header_t *ids;        /* of long long */
    int next;
    int busy, waiting;
} queue_t;

typedef struct asst_outbox_many many_t;

/* A send under way, then back and waiting to be recorded with others. */
typedef struct {
    many_t *mn;
    queue_t *q;
    asst_outbox_row_t row;
    asst_twilio_outcome_t outcome;
    asst_twilio_result_t r;
} send_t;

struct asst_outbox_many {
    asst_outbox_t *ob;
    asst_http_multi_t *m;
    apr_pool_t *p;
    apr_hash_t *people;             /* user id -> queue_t * */
    apr_array_header_t *ready;      /* of queue_t *: their next row may be claimed */
    apr_array_header_t *back;       /* of send_t * */
    int in_flight;
    int sent;
    int db_failed;
};

/* What asst_outbox_settle_sent records for one row, for many: guarded as
 * GUARD_SENDER guards it (outbox.c); the rows that matched come back. */
static const char settle_sent_sql[] =
    "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[]) "
    "           AS v(id, attempts, sid, status)), "
    "o AS (UPDATE outbox o SET status = 'sent', provider_id = v.sid, last_error = NULL FROM v "
    "      WHERE o.id = v.id AND o.attempts = v.attempts AND o.status IN ('sending', 'unknown', 'pending') "
    "      RETURNING o.id, o.user_id, o.message_id, o.attempts, v.sid, v.status), "
    "m AS (UPDATE messages m SET twilio_sid = o.sid, status = coalesce(o.status, 'queued') "
    "      FROM o WHERE m.id = o.message_id), "
    "e AS (" ASST_DB_EVENT_INSERT
    "      SELECT user_id, 'sms_sent', jsonb_build_object('outbox_id', id, 'sid', sid, 'attempts', attempts) "
    "      FROM o) "
    "SELECT id FROM o";

static const char unlock_sql[] = "SELECT count(pg_advisory_unlock(x)) FROM unnest($1::bigint[]) x";

static void came_back(void *baton, asst_twilio_outcome_t outcome, asst_twilio_result_t *r)
{
    send_t *s = baton;

    s->outcome = outcome;
    s->r = *r;
    s->q->busy = 0;
    s->mn->in_flight--;
    APR_ARRAY_PUSH(s->mn->back, send_t *) = s;
}

/* Starts the send of claimed row c of queue q; 0 when it was refused
 * (recorded as failed at once) and q may go on. */
static int start_one(many_t *mn, queue_t *q, const asst_outbox_row_t *c)
{
    send_t *s = apr_pcalloc(mn->p, sizeof(*s));
    const asst_deliverer_t *d;
    int rv;

    s->mn = mn;
    s->q = q;
    s->row = *c;
    if ((d = asst_outbox_deliverer_or_refuse(mn->ob, mn->p, &s->row, &rv)) == NULL)
        return 0;
    d->start(mn->ob, mn->m, mn->p, &s->row, came_back, s);
    q->busy = 1;
    mn->in_flight++;
    return 1;
}

static void push_ready(many_t *mn, queue_t *q)
{
    if (!q->busy && !q->waiting && q->next < q->ids->nelts) {
        q->waiting = 1;
        APR_ARRAY_PUSH(mn->ready, queue_t *) = q;
    }
}

/* Claims the next row of every ready queue in one statement and starts
 * the sends. A row not claimed (sent meanwhile, or not its turn) is
 * passed over, as asst_outbox_deliver_start passes it over: its queue
 * tries its next row in the next round. */
static void claim_round(many_t *mn)
{
    asst_db_array_t *ids = asst_db_array_make(mn->p);
    apr_hash_t *of = apr_hash_make(mn->p);
    apr_array_header_t *rows = apr_array_make(mn->p, mn->ready->nelts, sizeof(asst_outbox_row_t));
    apr_array_header_t *round = apr_array_copy(mn->p, mn->ready);

    mn->ready->nelts = 0;
    for (int i = 0; i < round->nelts; i++) {
        queue_t *q = APR_ARRAY_IDX(round, i, queue_t *);
        q->waiting = 0;
        const char *id = apr_psprintf(mn->p, "%" APR_INT64_T_FMT,
                                      (apr_int64_t)APR_ARRAY_IDX(q->ids, q->next++, long long));
        asst_db_array_add(ids, id);
        apr_hash_set(of, id, APR_HASH_KEY_STRING, q);
    }
    if (asst_outbox_claim_ids(mn->ob, mn->p, asst_db_array_text(ids), rows) < 0) {
        mn->db_failed = 1;      /* the rows stay pending: the scheduler's retry pass has them */
        return;
    }
    for (int i = 0; i < rows->nelts; i++) {
        const asst_outbox_row_t *c = &APR_ARRAY_IDX(rows, i, asst_outbox_row_t);
        queue_t *q = apr_hash_get(of, c->id, APR_HASH_KEY_STRING);
        apr_hash_set(of, c->id, APR_HASH_KEY_STRING, NULL);
        if (!start_one(mn, q, c))
            push_ready(mn, q);
    }
    for (apr_hash_index_t *hi = apr_hash_first(mn->p, of); hi; hi = apr_hash_next(hi))
        push_ready(mn, apr_hash_this_val(hi));
}

/* Records the sends Twilio took, in one transaction; the ids recorded go
 * to *recorded. -1 when the database failed. */
static int record_sent(many_t *mn, const apr_array_header_t *sent, apr_hash_t **recorded)
{
    asst_db_array_t *id = asst_db_array_make(mn->p), *attempts = asst_db_array_make(mn->p);
    asst_db_array_t *sid = asst_db_array_make(mn->p), *status = asst_db_array_make(mn->p);
    asst_db_t *db = mn->ob->db;
    PGresult *res = NULL;
    asst_db_rc_t rc;

    for (int i = 0; i < sent->nelts; i++) {
        const send_t *s = APR_ARRAY_IDX(sent, i, send_t *);
        asst_db_array_add(id, s->row.id);
        asst_db_array_add(attempts, s->row.attempts);
        asst_db_array_add(sid, s->r.sid);
        asst_db_array_add(status, s->r.status);
    }
    if ((rc = asst_db_begin_system(db)) == ASST_DB_OK)
        rc = asst_db_exec(db, &res, settle_sent_sql, ASST_DB_ARGS(asst_db_array_text(id),
                          asst_db_array_text(attempts), asst_db_array_text(sid), asst_db_array_text(status)));
    *recorded = apr_hash_make(mn->p);
    for (int i = 0; rc == ASST_DB_OK && i < PQntuples(res); i++)
        apr_hash_set(*recorded, asst_db_text(mn->p, res, i, 0), APR_HASH_KEY_STRING, "");
    PQclear(res);
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(db);
    if (rc != ASST_DB_OK)
        asst_db_rollback(db);
    return rc == ASST_DB_OK ? 0 : -1;
}

static void unlock_all(many_t *mn, const apr_array_header_t *sent)
{
    asst_db_array_t *ids = asst_db_array_make(mn->p);

    for (int i = 0; i < sent->nelts; i++)
        asst_db_array_add(ids, APR_ARRAY_IDX(sent, i, send_t *)->row.id);
    asst_db_exec(mn->ob->db, NULL, unlock_sql, ASST_DB_ARGS(asst_db_array_text(ids)));
}

/* The database stayed away: what came back is left 'sending' and let
 * go, and the orphan sweep (outbox_recover.c), which asks Twilio, settles
 * it. Waiting out a restart row by row would stall the scheduler for
 * minutes in a burst. */
static void let_go(many_t *mn, const apr_array_header_t *sends)
{
    if (sends->nelts == 0)
        return;
    asst_log(ASST_LOG_ERR, "ASST01310: could not record the outcome of %d sends (%s): the orphan sweep will "
             "look them up", sends->nelts, asst_db_error(mn->ob->db));
    unlock_all(mn, sends);
}

/* The successful sends of this round together, trying while the
 * database is away as any sender does. */
static void settle_sent(many_t *mn, const apr_array_header_t *sent)
{
    apr_hash_t *recorded;
    int tries = 1;

    if (sent->nelts == 0)
        return;
    while (record_sent(mn, sent, &recorded) < 0) {
        if (tries++ >= ASST_OUTBOX_SETTLE_TRIES) {
            mn->db_failed = 1;
            let_go(mn, sent);
            return;
        }
        apr_sleep(ASST_OUTBOX_SETTLE_RETRY_USEC);
    }
    for (int i = 0; i < sent->nelts; i++) {
        const send_t *s = APR_ARRAY_IDX(sent, i, send_t *);
        if (!apr_hash_get(recorded, s->row.id, APR_HASH_KEY_STRING))
            asst_outbox_log_claimed_again(&s->row, s->r.sid);
    }
    mn->sent += sent->nelts;
    unlock_all(mn, sent);
}

/* What came back this round: the sends Twilio took recorded together,
 * the others one by one as any send is; once the database has failed,
 * all let go. */
static void settle_back(many_t *mn)
{
    apr_array_header_t *sent = apr_array_make(mn->p, mn->back->nelts, sizeof(send_t *));
    apr_array_header_t *unrecorded = apr_array_make(mn->p, 1, sizeof(send_t *));

    for (int i = 0; i < mn->back->nelts; i++) {
        send_t *s = APR_ARRAY_IDX(mn->back, i, send_t *);
        if (mn->db_failed)
            APR_ARRAY_PUSH(unrecorded, send_t *) = s;
        else if (s->outcome == ASST_TWILIO_SENT)
            APR_ARRAY_PUSH(sent, send_t *) = s;
        else if (asst_outbox_conclude(mn->ob, mn->p, &s->row, s->outcome, &s->r) < 0)
            mn->db_failed = 1;
        push_ready(mn, s->q);
    }
    mn->back->nelts = 0;
    let_go(mn, unrecorded);
    if (mn->db_failed)
        let_go(mn, sent);
    else
        settle_sent(mn, sent);
}

asst_outbox_many_t *asst_outbox_many_make(asst_outbox_t *ob, asst_http_multi_t *m, apr_pool_t *p)
{
    many_t *mn = apr_pcalloc(p, sizeof(*mn));

    mn->ob = ob;
    mn->m = m;
    mn->p = p;
    mn->people = apr_hash_make(p);
    mn->ready = apr_array_make(p, 64, sizeof(queue_t *));
    mn->back = apr_array_make(p, 64, sizeof(send_t *));
    return mn;
}

/* Without a multi handle (libcurl could not make one) each row goes
 * now, one at a time, in the order added; after a database failure the
 * rest wait, pending, for the scheduler's retry pass. */
static void deliver_now(many_t *mn, apr_int64_t id)
{
    if (!mn->db_failed && asst_outbox_deliver(mn->ob, mn->p, id) < 0)
        mn->db_failed = 1;
}

void asst_outbox_many_add(asst_outbox_many_t *mn, const char *person, apr_int64_t id)
{
    queue_t *q = apr_hash_get(mn->people, person, APR_HASH_KEY_STRING);

    if (!mn->m) {
        deliver_now(mn, id);
        return;
    }
    if (!q) {
        q = apr_pcalloc(mn->p, sizeof(*q));
        q->ids = apr_array_make(mn->p, 2, sizeof(long long));
        apr_hash_set(mn->people, apr_pstrdup(mn->p, person), APR_HASH_KEY_STRING, q);
    }
    APR_ARRAY_PUSH(q->ids, long long) = id;
    push_ready(mn, q);
}

static int has_work(const many_t *mn)
{
    return (mn->ready->nelts > 0 && !mn->db_failed) || mn->in_flight > 0;
}

int asst_outbox_many_run(asst_outbox_many_t *mn, long timeout_ms)
{
    if (mn->ready->nelts > 0 && !mn->db_failed)
        claim_round(mn);
    if (mn->in_flight > 0 && asst_http_multi_run(mn->m, -1, timeout_ms) < 0)
        apr_sleep(apr_time_from_msec(10));
    settle_back(mn);
    return has_work(mn);
}

int asst_outbox_many_finish(asst_outbox_many_t *mn)
{
    while (asst_outbox_many_run(mn, 1000))
        ;
    return mn->db_failed ? -1 : mn->sent;
}
