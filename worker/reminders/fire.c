/* The scheduler's part of reminders: claim what is due, fire it, move the
 * series on, deliver the texts (fire.h). */
#include <apr_strings.h>

#include "asst_log.h"
#include "batches.h"
#include "db/array.h"
#include "db/tx.h"
#include "db/usec.h"
#include "fire.h"
#include "fired.h"
#include "firing.h"
#include "quiet.h"
#include "net/http.h"
#include "when.h"

/* A reminder that cannot be fired (a statement fails on it) is tried
 * again this much later, so it does not hold up the others. */
#define POSTPONE "1 minute"
/* A pass fires this many batches at most, each one's texts going out
 * while the next is fired; then the scheduler's other work gets a turn. */
#define BATCHES_PER_PASS 20

struct asst_reminders {
    asst_db_t *db;
    asst_outbox_t *ob;
    int missed_policy;
    asst_http_multi_t *multi;      /* the texts go out on it, people at once */
};

/* The texts a batch queued, with whom each is to, in firing order. */
typedef struct {
    apr_array_header_t *ids;       /* of long long: outbox rows */
    apr_array_header_t *owners;    /* of const char *: the user id of each */
} texts_t;

/* One due reminder, as claimed. snoozed: this firing is its snooze, not
 * the series (the earlier of the two when both are due). */
typedef struct {
    const char *id, *user_id, *phone, *user_status, *body, *zone, *dtstart, *rrule;
    int snoozed, urgent;
    apr_time_t due, quiet_until;
    apr_time_t held_due;           /* this snooze releases an occurrence held for quiet hours: its due */
} due_t;

/* The clock (not the row) decides what is due, so only a data-independent
 * filter runs here: one bad row cannot make the claim fail for all. The
 * candidates come from the two due indexes, each already in time order,
 * locked (skipping what another host holds) and cut to the batch, so a
 * claim costs the batch, not the backlog, and a second host takes the
 * next batch while the first fires its own. */
static const char claim_sql[] =
    "SELECT r.id, r.user_id, u.phone, u.status, r.body, r.zone, r.dtstart, r.rrule, d.snoozed, "
    "       " ASST_SQL_USEC("d.due") ", r.urgent, " ASST_SQL_USEC("q.quiet_until") ", "
    "       " ASST_SQL_USEC("CASE WHEN d.snoozed THEN h.held_due END") " "
    "FROM (SELECT id FROM (SELECT id FROM reminders WHERE status = 'active' AND next_at <= now() "
    "                      ORDER BY next_at LIMIT $1 FOR UPDATE SKIP LOCKED) a "
    "      UNION SELECT id FROM (SELECT id FROM reminders WHERE snooze_at <= now() "
    "                            ORDER BY snooze_at LIMIT $1 FOR UPDATE SKIP LOCKED) s) c "
    "JOIN reminders r ON r.id = c.id JOIN users u ON u.id = r.user_id "
    "CROSS JOIN LATERAL (SELECT s.snoozed, CASE WHEN s.snoozed THEN r.snooze_at ELSE r.next_at END AS due "
    "    FROM (SELECT coalesce(r.snooze_at <= now() "
    "                          AND (r.status <> 'active' OR r.snooze_at <= r.next_at), false) AS snoozed) s) d "
    "CROSS JOIN LATERAL (" ASST_SQL_QUIET_UNTIL("now()") ") q "
    "LEFT JOIN LATERAL (SELECT CASE WHEN f.skipped = 'quiet_hours' THEN f.due END AS held_due "
    "    FROM reminder_firings f WHERE f.reminder_id = r.id ORDER BY f.fired_at DESC, f.id DESC LIMIT 1) h ON true "
    "WHERE (r.status = 'active' AND r.next_at <= now()) OR r.snooze_at <= now() "
    "ORDER BY d.due, r.id LIMIT $1 "
    "FOR UPDATE OF r SKIP LOCKED";

/* Each due time in the person's zone, in the order given: "9:00 AM"
 * today, else with the day (what late and held firings say). */
static const char due_labels_sql[] =
    "SELECT to_char(t, CASE WHEN t::date = (now() AT TIME ZONE x.zone)::date THEN 'FMHH12:MI AM' "
    "                       ELSE 'Dy FMDD Mon, FMHH12:MI AM' END) "
    "FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS x(due, zone, n) "
    "CROSS JOIN LATERAL (SELECT " ASST_SQL_TS("x.due") " AT TIME ZONE x.zone AS t) l ORDER BY x.n";

static const char postpone_sql[] =
    "UPDATE reminders SET "
    "    next_at = CASE WHEN status = 'active' THEN greatest(next_at, now() + interval '" POSTPONE "') END, "
    "    snooze_at = CASE WHEN snooze_at IS NOT NULL THEN greatest(snooze_at, now() + interval '" POSTPONE "') END "
    "WHERE id = $1";

static const char next_due_sql[] =
    "SELECT " ASST_SQL_USEC("least((SELECT min(next_at) FROM reminders WHERE status = 'active'), "
                            "(SELECT min(snooze_at) FROM reminders WHERE snooze_at IS NOT NULL))");

asst_reminders_t *asst_reminders_create(apr_pool_t *p, asst_db_t *db, asst_outbox_t *ob, int missed_policy,
                                        asst_http_multi_t *multi)
{
    asst_reminders_t *r = apr_pcalloc(p, sizeof(*r));

    r->db = db;
    r->ob = ob;
    r->missed_policy = missed_policy;
    r->multi = multi;
    return r;
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
    d->urgent = PQgetvalue(res, i, 10)[0] == 't';
    d->quiet_until = PQgetisnull(res, i, 11) ? 0 : apr_atoi64(PQgetvalue(res, i, 11));
    d->held_due = PQgetisnull(res, i, 12) ? 0 : apr_atoi64(PQgetvalue(res, i, 12));
}

/* The series' next instant after this firing (*next); 0 when it has
 * none left (or its rule stopped working: it ends rather than fire
 * wrong). A single time has fired once: that is all of it. */
static int next_of(const due_t *d, apr_time_t now, apr_time_t *next)
{
    const char *err = NULL;
    int rc;

    if (!d->rrule || d->snoozed)
        return 0;
    rc = asst_when_next(d->dtstart, d->rrule, d->zone, asst_firing_resume_after(d->due, now), next, &err);
    if (rc < 0)
        asst_log(ASST_LOG_WARN, "ASST01702: reminder %s: its time no longer works (%s): it is done", d->id,
                 err ? err : "?");
    return rc == 0;
}

/* What a firing did, logged once it committed. */
typedef struct {
    const due_t *due;
    asst_firing_t firing;
    apr_time_t now;
    apr_time_t next;
    int has_next;
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

/* The due time a firing's text names, if any: the occurrence a
 * quiet-hours hold let through now, or its own when it is late; 0 when
 * the text names none. */
static apr_time_t labelled(const fired_t *f)
{
    if (f->due->held_due)
        return f->due->held_due;
    return asst_firing_is_late(f->due->due, f->now) ? f->due->due : 0;
}

/* Those times in their people's zones, one query for the batch;
 * labels[i] is "" for a firing whose text names none. NULL when the
 * query failed. */
static const char **due_labels(asst_tx_t *tx, const fired_t *fired, int n)
{
    asst_db_array_t *dues = asst_db_array_make(tx->p), *zones = asst_db_array_make(tx->p);
    const char **labels = apr_pcalloc(tx->p, sizeof(*labels) * (size_t)(n ? n : 1));
    PGresult *res;
    int named = 0;

    for (int i = 0; i < n; i++) {
        labels[i] = "";
        if (labelled(&fired[i])) {
            asst_db_array_add_int(dues, labelled(&fired[i]));
            asst_db_array_add(zones, fired[i].due->zone);
            named++;
        }
    }
    if (!named)
        return labels;
    res = asst_tx_query(tx, due_labels_sql, ASST_DB_ARGS(asst_db_array_text(dues), asst_db_array_text(zones)));
    for (int i = 0, k = 0; res && i < n && k < PQntuples(res); i++)
        if (labelled(&fired[i]))
            labels[i] = asst_db_text(tx->p, res, k++, 0);
    PQclear(res);
    return ASST_TX_FAILED(tx) ? NULL : labels;
}

/* Decides each firing (its text, its next occurrence) and adds it to the
 * batch. */
static void decide_all(asst_reminders_t *r, apr_pool_t *p, fired_t *fired, int n, const char **labels,
                       asst_fired_batch_t *batch)
{
    for (int i = 0; i < n; i++) {
        fired_t *f = &fired[i];
        const due_t *d = f->due;
        asst_firing_in_t in = { d->body, d->user_status, d->due, f->now, labels[i], r->missed_policy,
                                d->quiet_until, d->urgent, d->held_due };
        asst_fired_t row = { d->id, d->user_id, d->phone, d->snoozed, d->due, NULL, &f->firing };

        asst_firing_decide(p, &in, &f->firing);
        f->has_next = next_of(d, f->now, &f->next);
        row.next = f->has_next ? &f->next : NULL;
        asst_fired_batch_add(batch, &row);
    }
}

/* The batches' baton: whose, and where their texts go. */
typedef struct {
    asst_reminders_t *r;
    texts_t *texts;
} firing_run_t;

/* One transaction: claims up to limit due reminders and fires them. The
 * texts queued are added to texts once committed. Returns how many, or
 * -1 with *rc; *first: the first one claimed (NULL: none). */
static int fire_batch(void *baton, apr_pool_t *p, int limit, asst_db_rc_t *rc, const char **first)
{
    asst_reminders_t *r = ((firing_run_t *)baton)->r;
    texts_t *texts = ((firing_run_t *)baton)->texts;
    apr_array_header_t *queued = apr_array_make(p, limit, sizeof(long long));
    apr_array_header_t *owners = apr_array_make(p, limit, sizeof(const char *));
    fired_t *fired = apr_pcalloc(p, sizeof(*fired) * (size_t)limit);
    apr_time_t now = apr_time_now();
    const char **labels;
    asst_tx_t tx;
    PGresult *res;
    int n = 0;

    asst_tx_begin(&tx, r->db, p, NULL);
    res = asst_tx_query(&tx, claim_sql, ASST_DB_ARGS(apr_itoa(p, limit)));
    for (; res && n < PQntuples(res) && n < limit; n++) {
        due_t *d = apr_palloc(p, sizeof(*d));
        read_due(p, res, n, d);
        fired[n].due = d;
        fired[n].now = now;
    }
    PQclear(res);
    *first = n ? fired[0].due->id : NULL;
    if (n && (labels = due_labels(&tx, fired, n)) != NULL) {
        asst_fired_batch_t *batch = asst_fired_batch_make(p);
        decide_all(r, p, fired, n, labels, batch);
        asst_fired_batch_write(batch, &tx, queued, owners);
    }
    if ((*rc = asst_tx_finish(&tx)) != ASST_DB_OK)
        return -1;
    for (int i = 0; i < n; i++)
        log_fired(&fired[i]);
    apr_array_cat(texts->ids, queued);
    apr_array_cat(texts->owners, owners);
    return n;
}

static void postpone(void *baton, apr_pool_t *p, const char *id)
{
    asst_reminders_t *r = ((firing_run_t *)baton)->r;
    const char *why = apr_pstrdup(p, asst_db_error(r->db));
    asst_tx_t tx;

    asst_tx_begin(&tx, r->db, p, NULL);
    asst_tx_exec(&tx, postpone_sql, ASST_DB_ARGS(id));
    if (asst_tx_finish(&tx) == ASST_DB_OK)
        asst_log(ASST_LOG_ERR, "ASST01703: reminder %s could not be fired (%s); trying again in " POSTPONE, id, why);
}

/* The texts go to the delivery under way: a person's in order. */
static void hand_over(asst_outbox_many_t *mn, const texts_t *texts)
{
    for (int i = 0; i < texts->ids->nelts; i++)
        asst_outbox_many_add(mn, APR_ARRAY_IDX(texts->owners, i, const char *),
                             APR_ARRAY_IDX(texts->ids, i, long long));
}

/* One batch fired (one per transaction after a failed statement); its
 * texts handed over. How many, or -1 when the database failed. */
static int fire_and_hand_over(asst_reminders_t *r, asst_outbox_many_t *mn, apr_pool_t *p, int limit)
{
    static const asst_batches_t batches = { fire_batch, postpone };
    apr_pool_t *bp;
    texts_t texts;
    firing_run_t run = { r, &texts };
    int n;

    apr_pool_create(&bp, p);
    texts.ids = apr_array_make(bp, limit, sizeof(long long));
    texts.owners = apr_array_make(bp, limit, sizeof(const char *));
    n = asst_batches_take(&batches, &run, bp, limit);
    hand_over(mn, &texts);
    apr_pool_destroy(bp);
    return n;
}

int asst_reminders_fire_due(asst_reminders_t *r, apr_pool_t *p, int limit)
{
    asst_outbox_many_t *mn = asst_outbox_many_make(r->ob, r->multi, p);
    int total = 0;

    for (int b = 0; b < BATCHES_PER_PASS; b++) {
        int n = fire_and_hand_over(r, mn, p, limit);
        if (n < 0) {
            total = total ? total : -1;
            break;
        }
        total += n;
        if (n < limit)
            break;
        asst_outbox_many_run(mn, 0);   /* this batch's texts leave while the next is fired */
    }
    asst_outbox_many_finish(mn);
    return total;
}

int asst_reminders_next_due(asst_reminders_t *r, apr_pool_t *p, apr_time_t *at)
{
    return asst_db_instant(r->db, p, next_due_sql, 0, NULL, at);
}
