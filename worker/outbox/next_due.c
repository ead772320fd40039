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
    const char *v = NULL;
    asst_db_rc_t rc;

    if ((rc = asst_db_begin_system(ob->db)) == ASST_DB_OK)
        v = asst_db_value(ob->db, p, &rc, next_due_sql, ASST_DB_ARGS(kinds ? kinds : "{}"));
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(ob->db);
    if (rc != ASST_DB_OK) {
        asst_db_rollback(ob->db);
        return -1;
    }
    if (!v)
        return 1;
    *at = apr_atoi64(v);
    return 0;
}
