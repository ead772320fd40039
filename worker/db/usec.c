#include <apr_strings.h>

#include "usec.h"

const char *asst_db_usec(apr_pool_t *p, apr_time_t t)
{
    return apr_psprintf(p, "%" APR_TIME_T_FMT, t);
}

int asst_db_instant(asst_db_t *db, apr_pool_t *p, const char *sql, int nparams, const char *const *params,
                    apr_time_t *at)
{
    const char *v = NULL;
    asst_db_rc_t rc = asst_db_begin_system(db);

    if (rc == ASST_DB_OK)
        v = asst_db_value(db, p, &rc, sql, nparams, params);
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(db);
    if (rc != ASST_DB_OK) {
        asst_db_rollback(db);
        return -1;
    }
    if (!v)
        return 1;
    *at = apr_atoi64(v);
    return 0;
}
