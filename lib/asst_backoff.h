#ifndef ASST_BACKOFF_H_LIB
#define ASST_BACKOFF_H_LIB

#include <apr.h>

/* The one "double up to a cap" every retry loop uses (respawn, database
 * redial, HTTP retries, a child's idle waits). Units are the caller's. */

/* The step after prev: first when prev <= 0, else 2 * prev, never above
 * cap (and never overflowing). */
apr_int64_t asst_backoff_double(apr_int64_t prev, apr_int64_t first, apr_int64_t cap);

/* The delay of attempt n (1-based) in the sequence first, 2 first, 4 first
 * ... cap: asst_backoff_double applied n - 1 times after first. */
apr_int64_t asst_backoff_nth(apr_int64_t first, apr_int64_t cap, unsigned n);

#endif
