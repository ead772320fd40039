/* A person's active reminders follow their new zone (rezone.h). */
#include <apr_strings.h>

#include "asst_log.h"
#include "db/usec.h"
#include "rezone.h"
#include "when.h"

typedef struct {
    const char *id, *dtstart, *rrule;
} row_t;

static int move(asst_tx_t *tx, const char *user_id, const row_t *r, const char *zone, apr_time_t now)
{
    apr_time_t next;
    const char *err;
    int rc = asst_when_next(r->dtstart, r->rrule, zone, now - apr_time_from_sec(1), &next, &err);

    if (rc < 0) {
        asst_log(ASST_LOG_WARN, "ASST01790: reminder %s of user %s stays in its zone: %s", r->id, user_id, err);
        return 0;
    }
    if (rc > 0 && r->rrule) {
        asst_tx_exec(tx, "UPDATE reminders SET zone = $3, status = 'done', next_at = NULL "
                         "WHERE id = $1 AND user_id = $2", ASST_DB_ARGS(r->id, user_id, zone));
        return 1;
    }
    if (rc > 0)
        next = now;
    asst_tx_exec(tx, "UPDATE reminders SET zone = $3, next_at = " ASST_SQL_TS("$4") " WHERE id = $1 AND user_id = $2",
                 ASST_DB_ARGS(r->id, user_id, zone, asst_db_usec(tx->p, next)));
    return 1;
}

int asst_reminders_rezone(asst_tx_t *tx, const char *user_id, const char *zone, apr_time_t now)
{
    PGresult *res = asst_tx_query(tx, "SELECT id, dtstart, rrule FROM reminders "
                                      "WHERE user_id = $1 AND status = 'active' AND zone <> $2 "
                                      "ORDER BY id FOR UPDATE", ASST_DB_ARGS(user_id, zone));
    int moved = 0;

    for (int i = 0; res && i < PQntuples(res); i++) {
        row_t r = { asst_db_text(tx->p, res, i, 0), asst_db_text(tx->p, res, i, 1), asst_db_text(tx->p, res, i, 2) };
        moved += move(tx, user_id, &r, zone, now);
    }
    PQclear(res);
    return ASST_TX_FAILED(tx) ? 0 : moved;
}
