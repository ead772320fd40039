/* The scheduler's part of the daily digest (digest.h): claim what is due,
 * gather the rest of the person's day, queue the text, move the digest to
 * its next day, deliver. */
#include <apr_strings.h>

#include "asst_log.h"
#include "batches.h"
#include "db/events.h"
#include "db/tx.h"
#include "db/usec.h"
#include "digest.h"
#include "digest_plan.h"
#include "digest_sources.h"
#include "firing.h"
#include "net/http.h"
#include "turn/reply.h"

/* A digest that cannot be taken (a statement fails on it) is tried again
 * this much later, so it holds up no other. */
#define POSTPONE "1 minute"

struct asst_digests {
    asst_db_t *db;
    asst_outbox_t *ob;
    asst_http_multi_t *multi;       /* the texts go out on it, people at once */
};

/* One due digest as claimed, then what taking it did. */
typedef struct {
    const char *user_id, *phone, *user_status, *zone, *clock;
    apr_time_t due;
    const char *skipped;              /* why nothing was sent, for digest_skipped */
    int items, shown;
    apr_array_header_t *outbox_ids;   /* of long long: its text, once committed */
} digest_t;

/* The clock decides what is due; the order is the oldest first. */
static const char claim_sql[] =
    "SELECT d.user_id, u.phone, u.status, u.timezone, to_char(d.local_time, 'HH24:MI:SS'), "
    "       " ASST_SQL_USEC("d.next_at") " "
    "FROM digests d JOIN users u ON u.id = d.user_id "
    "WHERE d.next_at <= now() "
    "ORDER BY d.next_at, d.user_id LIMIT $1 "
    "FOR UPDATE OF d SKIP LOCKED";

/* $1 user, $2 next instant, $3 texts sent (0 or 1), $4 event kind, $5 due,
 * $6 late, $7 items per source (JSON), $8 items named, $9 why nothing. */
static const char advance_sql[] =
    "WITH d AS (UPDATE digests SET next_at = " ASST_SQL_TS("$2") ", sent = sent + $3::int, "
    "    last_sent_at = CASE WHEN $3::int > 0 THEN now() ELSE last_sent_at END "
    "  WHERE user_id = $1 RETURNING user_id) "
    ASST_DB_EVENT_INSERT
    "SELECT user_id, $4, jsonb_strip_nulls(jsonb_build_object('due', " ASST_SQL_TS("$5") ", "
    "    'late', $6::bool, 'items', $7::jsonb, 'shown', $8::int, 'skipped', $9::text)) FROM d";

static const char postpone_sql[] =
    "UPDATE digests SET next_at = greatest(next_at, now() + interval '" POSTPONE "') WHERE user_id = $1";

static const char next_due_sql[] = "SELECT " ASST_SQL_USEC("min(next_at)") " FROM digests";

asst_digests_t *asst_digests_create(apr_pool_t *p, asst_db_t *db, asst_outbox_t *ob, asst_http_multi_t *multi)
{
    asst_digests_t *d = apr_pcalloc(p, sizeof(*d));

    d->db = db;
    d->ob = ob;
    d->multi = multi;
    return d;
}

static void read_due(apr_pool_t *p, const PGresult *res, int i, digest_t *g)
{
    g->user_id = asst_db_text(p, res, i, 0);
    g->phone = asst_db_text(p, res, i, 1);
    g->user_status = asst_db_text(p, res, i, 2);
    g->zone = asst_db_text(p, res, i, 3);
    g->clock = asst_db_text(p, res, i, 4);
    g->due = apr_atoi64(PQgetvalue(res, i, 5));
    g->outbox_ids = apr_array_make(p, 1, sizeof(long long));
}

/* The rest of the person's day from `from`, from every source; *counts:
 * how many each gave, as JSON ({"reminders":2}). */
static apr_array_header_t *gather(asst_tx_t *tx, const digest_t *g, apr_time_t from, const char **counts)
{
    apr_array_header_t *items = apr_array_make(tx->p, 8, sizeof(asst_digest_item_t));
    apr_time_t until = asst_digest_day_end(g->zone, from);
    const char *json = "";

    for (int i = 0; i < asst_digest_source_count; i++) {
        int before = items->nelts;
        asst_digest_sources[i].collect(tx, g->user_id, from, until, items);
        json = apr_psprintf(tx->p, "%s%s\"%s\":%d", json, i ? "," : "", asst_digest_sources[i].name,
                            items->nelts - before);
    }
    *counts = apr_pstrcat(tx->p, "{", json, "}", NULL);
    return items;
}

/* Its first time after this one (after now when it is late: at most one
 * digest for any downtime). */
static apr_time_t next_time(const digest_t *g, apr_time_t after)
{
    apr_time_t next;

    if (asst_digest_next(g->clock, g->zone, after, &next) != 0)
        next = after + apr_time_from_sec(24 * 60 * 60);   /* not reached: the column is a time */
    return next;
}

/* The text (queued), the digest moved on and its event, in tx. */
static void take_one(asst_tx_t *tx, digest_t *g, apr_time_t now)
{
    asst_digest_in_t in = { g->user_status, g->zone, g->due, now };
    /* never before it was due, whatever this host's clock says */
    apr_time_t at = asst_firing_resume_after(g->due, now);
    apr_array_header_t *items = NULL;
    const char *text = NULL, *counts = NULL, *kind;

    g->skipped = asst_digest_skip_reason(&in);
    if (!g->skipped) {
        items = gather(tx, g, at, &counts);
        text = asst_digest_text(tx->p, items, g->zone, &g->shown);
        g->items = items->nelts;
    }
    if (text)
        asst_reply_queue(tx, g->user_id, g->phone, NULL, text, g->outbox_ids);
    kind = g->skipped ? "digest_skipped" : text ? "digest_sent" : "digest_empty";
    asst_tx_exec(tx, advance_sql,
                 ASST_DB_ARGS(g->user_id, asst_db_usec(tx->p, next_time(g, at)), text ? "1" : "0", kind,
                              asst_db_usec(tx->p, g->due), asst_firing_is_late(g->due, now) ? "t" : "f", counts,
                              text ? apr_itoa(tx->p, g->shown) : NULL, g->skipped));
}

static void log_taken(const digest_t *g, apr_time_t now)
{
    if (asst_firing_is_late(g->due, now))
        asst_log(ASST_LOG_INFO, "ASST01753: the digest of user %s was due %" APR_TIME_T_FMT " s before it "
                 "could be sent: %s%s", g->user_id, apr_time_sec(now - g->due),
                 g->skipped ? "skipped: " : "still its day, taken", g->skipped ? g->skipped : "");
    asst_log(ASST_LOG_DEBUG, "ASST01751: digest of user %s %s%s (%d items, %d named), %" APR_TIME_T_FMT
             " ms after it was due", g->user_id, g->skipped ? "skipped: " : g->shown ? "sent" : "empty",
             g->skipped ? g->skipped : "", g->items, g->shown, apr_time_as_msec(now - g->due));
}

/* The batches' baton: whose, and where the digests taken go. */
typedef struct {
    asst_digests_t *d;
    apr_array_header_t *taken;      /* of digest_t * */
} taking_t;

/* One transaction: claims up to limit due digests and takes them; once
 * committed they are added to taken. Returns how many, or -1 with *rc;
 * *first: the user of the first one claimed (NULL: none). */
static int take_batch(void *baton, apr_pool_t *p, int limit, asst_db_rc_t *rc, const char **first)
{
    asst_digests_t *d = ((taking_t *)baton)->d;
    apr_array_header_t *taken = ((taking_t *)baton)->taken;
    digest_t *batch = apr_pcalloc(p, sizeof(*batch) * (size_t)limit);
    apr_time_t now = apr_time_now();
    asst_tx_t tx;
    PGresult *res;
    int n = 0;

    *first = NULL;
    asst_tx_begin(&tx, d->db, p, NULL);
    res = asst_tx_query(&tx, claim_sql, ASST_DB_ARGS(apr_itoa(p, limit)));
    for (; res && n < PQntuples(res) && !ASST_TX_FAILED(&tx); n++) {
        read_due(p, res, n, &batch[n]);
        *first = *first ? *first : batch[n].user_id;
        take_one(&tx, &batch[n], now);
    }
    PQclear(res);
    if ((*rc = asst_tx_finish(&tx)) != ASST_DB_OK)
        return -1;
    for (int i = 0; i < n; i++) {
        log_taken(&batch[i], now);
        APR_ARRAY_PUSH(taken, digest_t *) = &batch[i];
    }
    return n;
}

static void postpone(void *baton, apr_pool_t *p, const char *user_id)
{
    asst_digests_t *d = ((taking_t *)baton)->d;
    const char *why = apr_pstrdup(p, asst_db_error(d->db));
    asst_tx_t tx;

    asst_tx_begin(&tx, d->db, p, NULL);
    asst_tx_exec(&tx, postpone_sql, ASST_DB_ARGS(user_id));
    if (asst_tx_finish(&tx) == ASST_DB_OK)
        asst_log(ASST_LOG_ERR, "ASST01752: the digest of user %s could not be sent (%s); trying again in "
                 POSTPONE, user_id, why);
}

/* Each digest is one person's one text: they all go out at once on the
 * multi handle, and this waits for them. A row the database could not
 * claim waits, pending, for the scheduler's retry pass. */
static void deliver(asst_digests_t *d, apr_pool_t *p, const apr_array_header_t *taken)
{
    asst_outbox_many_t *mn = asst_outbox_many_make(d->ob, d->multi, p);

    for (int i = 0; i < taken->nelts; i++) {
        const digest_t *g = APR_ARRAY_IDX(taken, i, digest_t *);
        for (int j = 0; j < g->outbox_ids->nelts; j++)
            asst_outbox_many_add(mn, g->user_id, APR_ARRAY_IDX(g->outbox_ids, j, long long));
    }
    asst_outbox_many_finish(mn);
}

int asst_digests_send_due(asst_digests_t *d, apr_pool_t *p, int limit)
{
    static const asst_batches_t batches = { take_batch, postpone };
    taking_t taking = { d, apr_array_make(p, limit, sizeof(digest_t *)) };
    int n = asst_batches_take(&batches, &taking, p, limit);

    deliver(d, p, taking.taken);
    return n;
}

int asst_digests_next_due(asst_digests_t *d, apr_pool_t *p, apr_time_t *at)
{
    return asst_db_instant(d->db, p, next_due_sql, 0, NULL, at);
}
