#ifndef ASST_DB_USEC_H
#define ASST_DB_USEC_H

/* Instants cross between C (apr_time_t: microseconds since the epoch) and
 * SQL (timestamptz) as bigint text, exactly: no float, no time zone. */

/* A timestamptz from a parameter holding microseconds: ASST_SQL_TS("$3"). */
#define ASST_SQL_TS(param) "(timestamptz 'epoch' + " param "::bigint * interval '1 microsecond')"

/* Microseconds (bigint) of a timestamptz expression: ASST_SQL_USEC("next_at"). */
#define ASST_SQL_USEC(expr) "(extract(epoch FROM " expr ") * 1000000)::bigint"

#include <apr_pools.h>
#include <apr_time.h>

#include "db.h"

/* t as such a parameter: microseconds, in p. */
const char *asst_db_usec(apr_pool_t *p, apr_time_t t);

/* The instant sql (its one value: ASST_SQL_USEC of something) says, in
 * a system-scope transaction: 0 with *at, 1 when it is NULL, -1 when the
 * database failed. What the scheduler's alarm clocks ask. */
int asst_db_instant(asst_db_t *db, apr_pool_t *p, const char *sql, int nparams, const char *const *params,
                    apr_time_t *at);

#endif
