/* The scheduler's part of reminders: claim what is due, fire it, move the
 * series on, deliver the texts (fire.h). */
#include <apr_hash.h>
#include <apr_strings.h>

#include "asst_log.h"
#include "db/events.h"
#include "db/tx.h"
#include "db/usec.h"
#include "fire.h"
#include "firing.h"
#include "net/http.h"
#include "turn/reply.h"
#include "when.h"

/* A reminder that cannot be fired (a statement fails on it) is tried
 * again this much later, so it does not hold up the others. */
#define POSTPONE "1 minute"

struct asst_reminders {
    asst_db_t *db;
    asst_outbox_t *ob;
    int missed_policy;
    asst_http_multi_t *multi;      /* the texts go out on it, people at once */
};

/* The texts a pass queued, with whom each is to, in firing order. */
typedef struct {
    apr_array_header_t *ids;       /* of long long: outbox rows */
    apr_array_header_t *owners;    /* of const char *: the user id of each */
} texts_t;

/* One due reminder, as claimed. snoozed: this firing is its snooze, not
 * the series (the earlier of the two when both are due). */
typedef struct {
    const char *id, *user_id, *phone, *user_status, *body, *zone, *dtstart, *rrule;
    int snoozed;
    apr_time_t due;
} due_t;

/* The clock (not the row) decides what is due, so only a data-independent
 * filter runs here: one bad row cannot make the claim fail for all. */
static const char claim_sql[] =
    "SELECT r.id, r.user_id, u.phone, u.status, r.body, r.zone, r.dtstart, r.rrule, d.snoozed, "
    "       " ASST_SQL_USEC("d.due") " "
    "FROM reminders r JOIN users u ON u.id = r.user_id "
    "CROSS JOIN LATERAL (SELECT s.snoozed, CASE WHEN s.snoozed THEN r.snooze_at ELSE r.next_at END AS due "
    "    FROM (SELECT coalesce(r.snooze_at <= now() "
    "                          AND (r.status <> 'active' OR r.snooze_at <= r.next_at), false) AS snoozed) s) d "
    "WHERE (r.status = 'active' AND r.next_at <= now()) OR r.snooze_at <= now() "
    "ORDER BY d.due, r.id LIMIT $1 "
    "FOR UPDATE OF r SKIP LOCKED";

/* $1 id, $2 snoozed, $3 the series' next instant (NULL: none left; ignored
 * for a snooze), $4 texts sent (0 or 1), $5 event kind, $6 due, $7 late,
 * $8 why nothing was sent. */
static const char advance_sql[] =
    "WITH r AS (UPDATE reminders SET "
    "    snooze_at = CASE WHEN $2::bool THEN NULL ELSE snooze_at END, "
    "    next_at = CASE WHEN $2::bool THEN next_at ELSE " ASST_SQL_TS("$3") " END, "
    "    status = CASE WHEN $2::bool OR $3::bigint IS NOT NULL THEN status ELSE 'done' END, "
    "    fired = fired + $4::int, "
    "    last_fired_at = CASE WHEN $4::int > 0 THEN now() ELSE last_fired_at END "
    "  WHERE id = $1 RETURNING id, user_id) "
    ASST_DB_EVENT_INSERT
    "SELECT user_id, $5, jsonb_strip_nulls(jsonb_build_object('reminder_id', id, "
    "    'due', " ASST_SQL_TS("$6") ", 'fired_at', CASE WHEN $4::int > 0 THEN now() END, "
    "    'snoozed', $2::bool, 'late', $7::bool, 'skipped', $8::text)) FROM r";

/* The due time in the person's zone: "9:00 AM" today, else with the day. */
static const char due_label_sql[] =
    "SELECT to_char(t, CASE WHEN t::date = (now() AT TIME ZONE $2)::date THEN 'FMHH12:MI AM' "
    "                       ELSE 'Dy FMDD Mon, FMHH12:MI AM' END) "
    "FROM (SELECT " ASST_SQL_TS("$1") " AT TIME ZONE $2 AS t) x";

static const char postpone_sql[] =
    "UPDATE reminders SET "
    "    next_at = CASE WHEN status = 'active' THEN greatest(next_at, now() + interval '" POSTPONE "') END, "
    "    snooze_at = CASE WHEN snooze_at IS NOT NULL THEN greatest(snooze_at, now() + interval '" POSTPONE "') END "
    "WHERE id = $1";

static const char next_due_sql[] =
    "SELECT " ASST_SQL_USEC("least((SELECT min(next_at) FROM reminders WHERE status = 'active'), "
                            "(SELECT min(snooze_at) FROM reminders WHERE snooze_at IS NOT NULL))");

asst_reminders_t *asst_reminders_create(apr_pool_t *p, asst_db_t *db, asst_outbox_t *ob, int missed_policy)
{
    asst_reminders_t *r = apr_pcalloc(p, sizeof(*r));

    r->db = db;
    r->ob = ob;
    r->missed_policy = missed_policy;
    r->multi = asst_http_multi_create(p);     /* NULL: sent one at a time */
    return r;
}

static const char *usec_text(apr_pool_t *p, apr_time_t t)
{
    return apr_psprintf(p, "%" APR_TIME_T_FMT, t);
}

static void read_due(apr_pool_t *p, const PGresult *res, int i, due_t *d)
{
    d->id = asst_db_text(p, res, i, 0);
    d->user_id = asst_db_text(p, res, i, 1);
    d->phone = asst_db_text(p, res, i, 2);
    d->user_status = asst_db_text(p, res, i, 3);
    d->body = asst_db_text(p, res, i, 4);
    d->zone = asst_db_text(p, res, i, 5);
    d->dtstart = asst_db_text(p, res, i, 6);
    d->rrule = asst_db_text(p, res, i, 7);
    d->snoozed = PQgetvalue(res, i, 8)[0] == 't';
    d->due = apr_atoi64(PQgetvalue(res, i, 9));
}

/* The series' next instant after this firing, as text; NULL when it has
 * none left (or its rule stopped working: it ends rather than fire wrong).
 * A single time has fired once: that is all of it. */
static const char *next_of(apr_pool_t *p, const due_t *d, apr_time_t now)
{
    apr_time_t next;
    const char *err = NULL;
    int rc;

    if (!d->rrule)
        return NULL;
    rc = asst_when_next(d->dtstart, d->rrule, d->zone, asst_firing_resume_after(d->due, now), &next, &err);
    if (rc < 0)
        asst_log(ASST_LOG_WARN, "ASST01702: reminder %s: its time no longer works (%s): it is done", d->id,
                 err ? err : "?");
    return rc == 0 ? usec_text(p, next) : NULL;
}

static const char *due_label(asst_tx_t *tx, const due_t *d, apr_time_t now)
{
    if (!asst_firing_is_late(d->due, now))
        return "";
    return asst_tx_value(tx, due_label_sql, ASST_DB_ARGS(usec_text(tx->p, d->due), d->zone));
}

/* What a firing did, logged once it committed. */
typedef struct {
    const due_t *due;
    asst_firing_t firing;
    apr_time_t now;
} fired_t;

static void log_fired(const fired_t *f)
{
    const due_t *d = f->due;

    if (f->firing.late)
        asst_log(ASST_LOG_INFO, "ASST01704: reminder %s was due %" APR_TIME_T_FMT " s before it could fire: %s",
                 d->id, apr_time_sec(f->now - d->due), f->firing.send ? "sent, saying so" : f->firing.skipped);
    asst_log(ASST_LOG_DEBUG, "ASST01701: reminder %s of user %s %s, %" APR_TIME_T_FMT " ms after it was due",
             d->id, d->user_id, f->firing.send ? "fired" : "skipped", apr_time_as_msec(f->now - d->due));
}

/* The firing's text (queued), the reminder moved on and its event, in tx. */
static void fire_one(asst_reminders_t *r, asst_tx_t *tx, fired_t *out, apr_array_header_t *outbox_ids)
{
    const due_t *d = out->due;
    asst_firing_in_t in = { d->body, d->user_status, d->due, out->now, due_label(tx, d, out->now),
                            r->missed_policy };
    asst_firing_t *f = &out->firing;

    if (!in.due_label)
        return;   /* the statement failed: tx says so */
    asst_firing_decide(tx->p, &in, f);
    if (f->send)
        asst_reply_queue(tx, d->user_id, d->phone, NULL, f->text, outbox_ids);
    asst_tx_exec(tx, advance_sql,
                 ASST_DB_ARGS(d->id, d->snoozed ? "t" : "f", d->snoozed ? NULL : next_of(tx->p, d, out->now),
                              f->send ? "1" : "0", f->send ? "reminder_fired" : "reminder_skipped",
                              usec_text(tx->p, d->due), f->late ? "t" : "f", f->skipped));
}

/* One transaction: claims up to limit due reminders and fires them. The
 * texts queued are added to outbox_ids once committed. Returns how many,
 * or -1 with *rc; *first: the first one claimed (NULL: none). */
static int fire_batch(asst_reminders_t *r, apr_pool_t *p, int limit, texts_t *texts,
                      asst_db_rc_t *rc, const char **first)
{
    apr_array_header_t *queued = apr_array_make(p, limit, sizeof(long long));
    apr_array_header_t *owners = apr_array_make(p, limit, sizeof(const char *));
    fired_t *fired = apr_pcalloc(p, sizeof(*fired) * (size_t)limit);
    apr_time_t now = apr_time_now();
    asst_tx_t tx;
    PGresult *res;
    int n = 0;

    *first = NULL;
    asst_tx_begin(&tx, r->db, p, NULL);
    res = asst_tx_query(&tx, claim_sql, ASST_DB_ARGS(apr_itoa(p, limit)));
    for (; res && n < PQntuples(res) && !ASST_TX_FAILED(&tx); n++) {
        due_t *d = apr_palloc(p, sizeof(*d));
        read_due(p, res, n, d);
        *first = *first ? *first : d->id;
        fired[n].due = d;
        fired[n].now = now;
        fire_one(r, &tx, &fired[n], queued);
        while (owners->nelts < queued->nelts)
            APR_ARRAY_PUSH(owners, const char *) = d->user_id;
    }
    PQclear(res);
    if ((*rc = asst_tx_finish(&tx)) != ASST_DB_OK)
        return -1;
    for (int i = 0; i < n; i++)
        log_fired(&fired[i]);
    apr_array_cat(texts->ids, queued);
    apr_array_cat(texts->owners, owners);
    return n;
}

static void postpone(asst_reminders_t *r, apr_pool_t *p, const char *id)
{
    const char *why = apr_pstrdup(p, asst_db_error(r->db));
    asst_tx_t tx;

    asst_tx_begin(&tx, r->db, p, NULL);
    asst_tx_exec(&tx, postpone_sql, ASST_DB_ARGS(id));
    if (asst_tx_finish(&tx) == ASST_DB_OK)
        asst_log(ASST_LOG_ERR, "ASST01703: reminder %s could not be fired (%s); trying again in " POSTPONE, id, why);
}

/* After a batch failed on a statement: one reminder per transaction, and
 * the one that fails alone is postponed. */
static int fire_singly(asst_reminders_t *r, apr_pool_t *p, int limit, texts_t *texts)
{
    int n = 0;

    while (n < limit) {
        asst_db_rc_t rc;
        const char *id;
        int got = fire_batch(r, p, 1, texts, &rc, &id);

        if (got == 0)
            break;
        if (got < 0 && (rc != ASST_DB_ESTMT || !id))
            return n ? n : -1;
        if (got < 0)
            postpone(r, p, id);
        n++;
    }
    return n;
}

/* Each person's texts in order, as lists of their outbox rows. */
static apr_array_header_t *per_person(apr_pool_t *p, const texts_t *texts)
{
    apr_array_header_t *lists = apr_array_make(p, 8, sizeof(apr_array_header_t *));
    apr_hash_t *of = apr_hash_make(p);

    for (int i = 0; i < texts->ids->nelts; i++) {
        const char *who = APR_ARRAY_IDX(texts->owners, i, const char *);
        apr_array_header_t *list = apr_hash_get(of, who, APR_HASH_KEY_STRING);
        if (!list) {
            list = apr_array_make(p, 2, sizeof(long long));
            apr_hash_set(of, who, APR_HASH_KEY_STRING, list);
            APR_ARRAY_PUSH(lists, apr_array_header_t *) = list;
        }
        APR_ARRAY_PUSH(list, long long) = APR_ARRAY_IDX(texts->ids, i, long long);
    }
    return lists;
}

static void one_person_done(void *baton)
{
    (*(int *)baton)--;
}

/* Different people's texts go out at once on the multi handle, each
 * person's one after another (their order); this waits for all. Without
 * a multi handle they go one at a time. A row the database could not
 * claim waits, pending, for the scheduler's retry pass. */
static void deliver(asst_reminders_t *r, apr_pool_t *p, const texts_t *texts)
{
    apr_array_header_t *lists;
    int left;

    if (!r->multi) {
        for (int i = 0; i < texts->ids->nelts; i++)
            if (asst_outbox_deliver(r->ob, p, APR_ARRAY_IDX(texts->ids, i, long long)) < 0)
                return;
        return;
    }
    lists = per_person(p, texts);
    left = lists->nelts;
    for (int i = 0; i < lists->nelts; i++)
        asst_outbox_deliver_start(r->ob, r->multi, p, APR_ARRAY_IDX(lists, i, apr_array_header_t *),
                                  one_person_done, &left);
    while (left > 0)
        if (asst_http_multi_run(r->multi, -1, 1000) < 0)
            apr_sleep(apr_time_from_msec(10));
}

int asst_reminders_fire_due(asst_reminders_t *r, apr_pool_t *p, int limit)
{
    texts_t texts = { apr_array_make(p, limit, sizeof(long long)), apr_array_make(p, limit, sizeof(const char *)) };
    asst_db_rc_t rc;
    const char *first;
    int n = fire_batch(r, p, limit, &texts, &rc, &first);

    if (n < 0 && rc == ASST_DB_ESTMT)
        n = fire_singly(r, p, limit, &texts);
    deliver(r, p, &texts);
    return n;
}

int asst_reminders_next_due(asst_reminders_t *r, apr_pool_t *p, apr_time_t *at)
{
    asst_tx_t tx;
    const char *v;

    asst_tx_begin(&tx, r->db, p, NULL);
    v = asst_tx_value(&tx, next_due_sql, 0, NULL);
    if (asst_tx_finish(&tx) != ASST_DB_OK)
        return -1;
    if (!v)
        return 1;
    *at = apr_atoi64(v);
    return 0;
}
