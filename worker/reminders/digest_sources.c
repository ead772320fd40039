/* The sources of a daily digest (digest_sources.h): what of a person's
 * day each kind of thing adds. */
#include <apr_strings.h>

#include "db/usec.h"
#include "digest_plan.h"
#include "digest_sources.h"
#include "when.h"

/* Bounds on what one person's day is read for: reminders looked at, and
 * times one series adds (an hourly one: 24). */
#define REMINDERS_MAX "500"
#define SERIES_TIMES_MAX 100

/* Active reminders whose next time is before the day ends (a series may
 * come again later in the day), and snoozes within the day. */
static const char reminders_sql[] =
    "SELECT body, zone, dtstart, rrule, " ASST_SQL_USEC("next_at") ", " ASST_SQL_USEC("snooze_at") " "
    "FROM reminders WHERE user_id = $1 "
    "AND ((status = 'active' AND next_at < " ASST_SQL_TS("$3") ") "
    "     OR (snooze_at >= " ASST_SQL_TS("$2") " AND snooze_at < " ASST_SQL_TS("$3") ")) "
    "ORDER BY id LIMIT " REMINDERS_MAX;

static void add(apr_array_header_t *items, apr_time_t at, const char *text)
{
    asst_digest_item_t *item = apr_array_push(items);

    item->at = at;
    item->text = text;
}

/* The times in [from, until) of the reminder in row, from its next one on. */
static void add_series(apr_array_header_t *items, const PGresult *res, int row, const char *body,
                       apr_time_t from, apr_time_t until)
{
    const char *zone = PQgetvalue(res, row, 1);
    const char *dtstart = PQgetvalue(res, row, 2), *rrule = PQgetisnull(res, row, 3) ? NULL : PQgetvalue(res, row, 3);
    apr_time_t at = apr_atoi64(PQgetvalue(res, row, 4));
    const char *err;

    for (int n = 0; n < SERIES_TIMES_MAX && at < until; n++) {
        if (at >= from)
            add(items, at, body);
        if (!rrule || asst_when_next(dtstart, rrule, zone, at, &at, &err) != 0)
            break;
    }
}

static void reminders_today(asst_tx_t *tx, const char *user_id, apr_time_t from, apr_time_t until,
                            apr_array_header_t *items)
{
    PGresult *res = asst_tx_query(tx, reminders_sql,
                                  ASST_DB_ARGS(user_id, asst_db_usec(tx->p, from), asst_db_usec(tx->p, until)));

    for (int i = 0; res && i < PQntuples(res); i++) {
        const char *body = asst_db_text(tx->p, res, i, 0);
        if (!PQgetisnull(res, i, 4))
            add_series(items, res, i, body, from, until);
        if (!PQgetisnull(res, i, 5)) {
            apr_time_t snooze = apr_atoi64(PQgetvalue(res, i, 5));
            if (snooze >= from && snooze < until)
                add(items, snooze, body);
        }
    }
    PQclear(res);
}

const asst_digest_source_t asst_digest_sources[] = {
    { "reminders", reminders_today },
    /* calendar events join here */
};

const int asst_digest_source_count = (int)(sizeof(asst_digest_sources) / sizeof(*asst_digest_sources));
