#ifndef ASST_PIPE_H
#define ASST_PIPE_H

#include <apr_pools.h>

#include "asst_redis.h"
#include "asst_resp.h"

/* One Redis connection shared by all threads of a process, pipelined:
 * each caller writes its command and waits; whichever waiter is reading
 * hands every reply that arrives to its owner, in order. Redis then reads
 * and answers many webhooks per wakeup instead of one per connection,
 * which on a busy box is most of its cost.
 *
 * A failure (I/O error, timeout, a reply out of step) fails every command
 * in flight on that connection, since their fate is unknown, and drops it;
 * the next call dials again (after the same hold-down as the pool).
 * Commands must be idempotent to retry: the ingest script is (dedupe). */

typedef struct asst_pipe asst_pipe_t;

/* stats as for asst_redis_pool_create: open counts the connection, in_use
 * the commands in flight. Any number of threads may call at once. */
asst_pipe_t *asst_pipe_create(apr_pool_t *p, const asst_redis_conf_t *conf,
                              asst_redis_stats_t *stats);

typedef enum {
    ASST_PIPE_OK = 0,
    ASST_PIPE_DOWN,      /* no connection (refused, held down) */
    ASST_PIPE_FAILED,    /* sent, outcome unknown: I/O error, timeout, protocol */
    ASST_PIPE_STALE      /* the connection was found closed before the reply: retry once */
} asst_pipe_status_t;

/* Sends cmd (one complete RESP command) and waits for its reply. On
 * anything but ASST_PIPE_OK, err (ASST_RESP_TEXT_MAX bytes) says why. */
asst_pipe_status_t asst_pipe_call(asst_pipe_t *pp, const char *cmd, apr_size_t len,
                                  asst_resp_reply_t *reply, char *err);

/* Closes the connection; commands in flight fail, calls after this dial
 * again. */
void asst_pipe_close(asst_pipe_t *pp);

#endif
