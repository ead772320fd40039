#ifndef ASST_METRICS_H
#define ASST_METRICS_H

#include <httpd.h>

#include "asst_redis.h"

/* Counters live in one anonymous shared-memory segment made by the httpd
 * parent and kept across graceful restarts, so /metrics shows the whole
 * server, not the child that happened to answer. */

typedef enum {
    ASST_OUT_ACCEPTED = 0,
    ASST_OUT_DUPLICATE,
    ASST_OUT_BAD_SIGNATURE,
    ASST_OUT_TOO_LARGE,
    ASST_OUT_BAD_METHOD,
    ASST_OUT_BAD_REQUEST,
    ASST_OUT_RATE_LIMITED,
    ASST_OUT_SPOOLED,
    ASST_OUT_REDIS_ERROR,
    ASST_OUT_COUNT
} asst_outcome_t;

typedef enum {
    ASST_KIND_SMS = 0,
    ASST_KIND_STATUS,
    ASST_KIND_COUNT
} asst_kind_t;

/* post_config: create (first time) or find the segment. */
apr_status_t asst_metrics_init(server_rec *s);

/* child_init: this child's Redis pool counters, in shared memory; NULL if
 * every slot is taken (the pool then counts privately). Released when
 * pchild is destroyed. */
asst_redis_stats_t *asst_metrics_child_stats(apr_pool_t *pchild);

void asst_metrics_observe(asst_kind_t kind, asst_outcome_t outcome, apr_interval_time_t elapsed);

int asst_metrics_handler(request_rec *r);

#endif
