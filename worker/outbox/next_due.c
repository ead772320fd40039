/* The scheduler's alarm clock for the outbox (outbox.h asst_outbox_next_due). */
#include <apr_strings.h>

#include "db/usec.h"
#include "outbox_private.h"

/* Only rows of kinds that can be sent: without a deliverer they wait for
 * a reload, and waking for them would spin. */
static const char next_due_sql[] =
    "SELECT " ASST_SQL_USEC("least("
    "  (SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending' AND attempts > 0 "
    "      AND kind = ANY($1::text[])), "
    "  (SELECT min(created_at) + " ASST_OUTBOX_AGENT_GRACE " FROM outbox WHERE status = 'pending' "
    "      AND attempts = 0 AND kind = ANY($1::text[])), "
    "  (SELECT min(next_attempt_at) FROM outbox WHERE status = 'unknown'), "
    "  (SELECT now() + interval '1 second' WHERE EXISTS (SELECT 1 FROM outbox WHERE status = 'sending')))");

int asst_outbox_next_due(asst_outbox_t *ob, apr_pool_t *p, apr_time_t *at)
{
    const char *kinds = asst_deliverer_ready_kinds(ob, p);

    return asst_db_instant(ob->db, p, next_due_sql, ASST_DB_ARGS(kinds ? kinds : "{}"), at);
}
