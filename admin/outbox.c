#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "db/events.h"

/* One statement: failed rows become pending (attempts 0, due now), their
 * messages pending again (so status callbacks move them forward), and one
 * events row per outbox row. $1 NULL: every failed row. */
static const char retry_sql[] =
    "WITH r AS (UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now() "
    "           WHERE status = 'failed' AND ($1::bigint IS NULL OR id = $1::bigint) "
    "           RETURNING id, user_id, message_id, last_error), "
    "     m AS (UPDATE messages SET status = 'pending', error_code = NULL "
    "           WHERE id IN (SELECT message_id FROM r) RETURNING id) "
    ASST_DB_EVENT_INSERT
    "SELECT user_id, 'outbox_retried', "
    "       jsonb_build_object('outbox_id', id, 'last_error', last_error) || $2::jsonb FROM r "
    "RETURNING (data->>'outbox_id')::bigint";

static int not_failed(asst_admin_t *a, const char *id)
{
    const char *status = asst_db_value(a->db, a->pool, NULL,
                                       "SELECT status FROM outbox WHERE id = $1::bigint",
                                       ASST_DB_ARGS(id));
    asst_db_rollback(a->db);
    if (!status)
        return asst_admin_fail("no outbox row %s", id);
    return asst_admin_fail("outbox row %s is %s, not failed: nothing to retry", id, status);
}

static int retry(asst_admin_t *a, const char *id)
{
    PGresult *res;
    int n;

    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (asst_db_exec(a->db, &res, retry_sql, ASST_DB_ARGS(id, asst_admin_actor(a))) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot retry");
    n = PQntuples(res);
    PQclear(res);
    if (id && n == 0)
        return not_failed(a, id);
    if (asst_admin_commit(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (id)
        printf("outbox row %s is pending again\n", id);
    else
        printf("%d failed outbox row%s pending again\n", n, n == 1 ? " is" : "s are");
    return ADMIN_OK;
}

/* outbox retry ID|--failed */
int asst_admin_outbox(asst_admin_t *a, int argc, const char *const *argv)
{
    const char *arg = argc == 2 && strcmp(argv[0], "retry") == 0 ? argv[1] : NULL;

    if (arg && strcmp(arg, "--failed") == 0)
        return retry(a, NULL);
    if (arg && *arg && strspn(arg, "0123456789") == strlen(arg) && strlen(arg) <= 18)
        return retry(a, arg);
    return asst_admin_usage("usage: outbox retry ID|--failed");
}
