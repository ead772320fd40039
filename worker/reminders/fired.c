#include <apr_strings.h>

#include "asst_sms_shape.h"
#include "db/array.h"
#include "db/events.h"
#include "db/usec.h"
#include "fired.h"
#include "turn/reply.h"

/* The batch as columns: a parameter each, unnest()ed back into rows. */
struct asst_fired_batch {
    apr_pool_t *p;
    /* one per SMS part */
    asst_db_array_t *part_reminder, *part_user, *phone, *body, *segments;
    /* one per firing */
    asst_db_array_t *id, *snoozed, *next, *due, *late, *skipped, *hold;
};

/* Message and outbox ids are drawn in the parts' order (a function scan
 * yields the array in order), so a person's parts keep their order by
 * outbox id, as the outbox's in-order rule wants. */
static const char write_sql[] =
    "WITH parts AS ("
    "    SELECT p.*, nextval(pg_get_serial_sequence('messages', 'id')) AS mid, "
    "           nextval(pg_get_serial_sequence('outbox', 'id')) AS oid "
    "    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[]) WITH ORDINALITY "
    "         AS p(reminder_id, user_id, phone, body, segments, ord)), "
    "m AS (INSERT INTO messages (id, user_id, direction, body, status, segments) "
    "    SELECT mid, user_id, 'out', body, 'pending', segments FROM parts), "
    "o AS (INSERT INTO outbox (id, user_id, kind, payload, status, next_attempt_at, message_id) "
    "    SELECT oid, user_id, 'sms', jsonb_build_object('to', phone, 'body', body), 'pending', now(), mid "
    "    FROM parts), "
    "texts AS (SELECT reminder_id, min(mid) AS mid, count(*) AS parts, sum(segments) AS segments "
    "    FROM parts GROUP BY reminder_id), "
    "f AS (SELECT * FROM unnest($6::bigint[], $7::bool[], $8::bigint[], $9::bigint[], $10::bool[], $11::text[], "
    "                           $12::bigint[]) "
    "    AS f(id, snoozed, next_usec, due_usec, late, skipped, hold_usec)), "
    "r AS (UPDATE reminders r SET "
    "    snooze_at = least(" ASST_SQL_TS("f.hold_usec") ", CASE WHEN f.snoozed THEN NULL ELSE r.snooze_at END), "
    "    next_at = CASE WHEN f.snoozed THEN r.next_at ELSE " ASST_SQL_TS("f.next_usec") " END, "
    "    status = CASE WHEN f.snoozed OR f.next_usec IS NOT NULL THEN r.status ELSE 'done' END, "
    "    fired = r.fired + (f.skipped IS NULL)::int, "
    "    last_fired_at = CASE WHEN f.skipped IS NULL THEN now() ELSE r.last_fired_at END "
    "  FROM f WHERE r.id = f.id RETURNING r.id, r.user_id), "
    "fr AS (INSERT INTO reminder_firings (reminder_id, user_id, due, snoozed, late, message_id, skipped) "
    "    SELECT f.id, r.user_id, " ASST_SQL_TS("f.due_usec") ", f.snoozed, f.late, t.mid, f.skipped "
    "    FROM f JOIN r ON r.id = f.id LEFT JOIN texts t ON t.reminder_id = f.id), "
    "e AS (" ASST_DB_EVENT_INSERT
    "    SELECT r.user_id, CASE WHEN f.skipped IS NULL THEN 'reminder_fired' "
    "                           WHEN f.hold_usec IS NOT NULL THEN 'reminder_held' ELSE 'reminder_skipped' END, "
    "        jsonb_strip_nulls(jsonb_build_object('reminder_id', f.id, 'due', " ASST_SQL_TS("f.due_usec") ", "
    "            'fired_at', CASE WHEN f.skipped IS NULL THEN now() END, 'snoozed', f.snoozed, "
    "            'late', f.late, 'skipped', f.skipped, 'until', " ASST_SQL_TS("f.hold_usec") ")) "
    "    FROM f JOIN r ON r.id = f.id "
    "    UNION ALL "
    "    SELECT r.user_id, 'reply_queued', jsonb_build_object('parts', t.parts, 'segments', t.segments) "
    "    FROM texts t JOIN r ON r.id = t.reminder_id) "
    "SELECT oid, user_id FROM parts ORDER BY ord";

asst_fired_batch_t *asst_fired_batch_make(apr_pool_t *p)
{
    asst_fired_batch_t *b = apr_pcalloc(p, sizeof(*b));
    asst_db_array_t **cols[] = { &b->part_reminder, &b->part_user, &b->phone, &b->body, &b->segments,
                                 &b->id, &b->snoozed, &b->next, &b->due, &b->late, &b->skipped,
                                 &b->hold };

    b->p = p;
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
        *cols[i] = asst_db_array_make(p);
    return b;
}

static void add_parts(asst_fired_batch_t *b, const asst_fired_t *f)
{
    apr_array_header_t *parts = asst_reply_parts(b->p, f->firing->text);

    for (int i = 0; i < parts->nelts; i++) {
        const char *part = APR_ARRAY_IDX(parts, i, const char *);
        asst_db_array_add(b->part_reminder, f->reminder_id);
        asst_db_array_add(b->part_user, f->user_id);
        asst_db_array_add(b->phone, f->phone);
        asst_db_array_add(b->body, part);
        asst_db_array_add_int(b->segments, asst_sms_segments(part));
    }
}

void asst_fired_batch_add(asst_fired_batch_t *b, const asst_fired_t *f)
{
    if (f->firing->send)
        add_parts(b, f);
    asst_db_array_add(b->id, f->reminder_id);
    asst_db_array_add_bool(b->snoozed, f->snoozed);
    if (f->next && !f->snoozed)
        asst_db_array_add_int(b->next, *f->next);
    else
        asst_db_array_add(b->next, NULL);
    asst_db_array_add_int(b->due, f->due);
    asst_db_array_add_bool(b->late, f->firing->late);
    asst_db_array_add(b->skipped, f->firing->send ? NULL : f->firing->skipped);
    if (f->firing->hold_until)
        asst_db_array_add_int(b->hold, f->firing->hold_until);
    else
        asst_db_array_add(b->hold, NULL);
}

void asst_fired_batch_write(asst_fired_batch_t *b, asst_tx_t *tx, apr_array_header_t *outbox_ids,
                            apr_array_header_t *owners)
{
    PGresult *res = asst_tx_query(tx, write_sql,
        ASST_DB_ARGS(asst_db_array_text(b->part_reminder), asst_db_array_text(b->part_user),
                     asst_db_array_text(b->phone), asst_db_array_text(b->body), asst_db_array_text(b->segments),
                     asst_db_array_text(b->id), asst_db_array_text(b->snoozed), asst_db_array_text(b->next),
                     asst_db_array_text(b->due), asst_db_array_text(b->late), asst_db_array_text(b->skipped),
                     asst_db_array_text(b->hold)));

    for (int i = 0; res && i < PQntuples(res); i++) {
        APR_ARRAY_PUSH(outbox_ids, long long) = apr_atoi64(PQgetvalue(res, i, 0));
        APR_ARRAY_PUSH(owners, const char *) = asst_db_text(tx->p, res, i, 1);
    }
    PQclear(res);
}
