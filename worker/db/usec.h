#ifndef ASST_DB_USEC_H
#define ASST_DB_USEC_H

/* Instants cross between C (apr_time_t: microseconds since the epoch) and
 * SQL (timestamptz) as bigint text, exactly: no float, no time zone. */

/* A timestamptz from a parameter holding microseconds: ASST_SQL_TS("$3"). */
#define ASST_SQL_TS(param) "(timestamptz 'epoch' + " param "::bigint * interval '1 microsecond')"

/* Microseconds (bigint) of a timestamptz expression: ASST_SQL_USEC("next_at"). */
#define ASST_SQL_USEC(expr) "(extract(epoch FROM " expr ") * 1000000)::bigint"

#endif
