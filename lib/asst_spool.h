#ifndef ASST_SPOOL_H
#define ASST_SPOOL_H

#include <apr_pools.h>

/* The spool holds envelopes the edge could not hand to Redis: one file per
 * message, named "<kind>-<key>.json", written to a temp name, fsync'd,
 * renamed into place and the directory fsync'd, so a file either exists
 * whole or not at all. The key is the dedupe key, so a Twilio retry while
 * Redis is down rewrites the same file instead of adding a second one. */

/* 1 if key is safe to use in a file name ([A-Za-z0-9_-], 1..64 chars). */
int asst_spool_key_valid(const char *key);

/* Returns APR_SUCCESS or the errno-style status of the step that failed;
 * *what names that step for the log. */
apr_status_t asst_spool_write(apr_pool_t *p, const char *dir, const char *kind,
                              const char *key, const char *data, apr_size_t len,
                              const char **what);

#endif
