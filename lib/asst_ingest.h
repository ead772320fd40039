#ifndef ASST_INGEST_H
#define ASST_INGEST_H

#include <apr_pools.h>

#include "asst_pipe.h"

/* The one Redis round trip of a webhook: a Lua script that drops a
 * duplicate MessageSid, counts the sender against the rate limit and XADDs
 * the envelope, atomically. Run with EVALSHA; on NOSCRIPT (a restarted or
 * failed-over Redis) the same call is repeated once with EVAL, which also
 * caches it again. */

typedef enum {
    ASST_INGEST_ACCEPTED = 0,
    ASST_INGEST_DUPLICATE,
    ASST_INGEST_RATE_LIMITED,
    ASST_INGEST_ERROR        /* no connection, I/O, timeout or an unexpected reply */
} asst_ingest_result_t;

typedef struct {
    const char *seen_key;    /* {asst}:seen:<sid> */
    const char *stream;      /* {asst}:in */
    const char *rate_key;    /* {asst}:rl:<from>; ignored when rate_limit == 0 */
    const char *envelope;
    long dedupe_ttl_s;
    long rate_limit;         /* messages per window, 0 = off */
    long rate_window_s;
} asst_ingest_t;

/* The command is built in p. On ASST_INGEST_ACCEPTED, id (size >= 64)
 * receives the stream entry id. On ASST_INGEST_ERROR, err (size >= 128)
 * says why, and *retry is 1 when the connection was found closed (a Redis
 * restart) so that one more try on a new connection is worth it. */
asst_ingest_result_t asst_ingest(asst_pipe_t *pp, apr_pool_t *p, const asst_ingest_t *req,
                                 char *id, char *err, int *retry);

/* The script and its SHA-1, for tests and for SCRIPT LOAD. */
const char *asst_ingest_script(void);
const char *asst_ingest_script_sha(void);

#endif
