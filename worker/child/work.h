#ifndef ASST_WORK_H
#define ASST_WORK_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "agent/planner.h"
#include "asst_redis.h"
#include "consumer.h"
#include "db/db.h"
#include "net/twilio.h"
#include "outbox/outbox.h"
#include "child.h"
#include "turn/turn.h"
#include "conf/worker_conf.h"

/* Everything a child works with, made once after fork. */
struct asst_work {
    apr_pool_t *pool;
    const asst_worker_conf_t *conf;
    const asst_planner_t *planner;
    asst_db_t *db;
    asst_twilio_t *twilio;
    asst_outbox_t *outbox;
    asst_redis_pool_t *redis;
    asst_consumer_t *consumer;      /* roles that consume the streams only */
};

/* One envelope, from the stream or the spool: decoded and run as a turn
 * (or a status update). *reject is set, and DONE returned, when it can
 * never be processed (bad JSON, unknown version). Rows to deliver after
 * the caller has acknowledged the envelope are added to outbox_ids. */
asst_turn_status_t asst_work_envelope(asst_work_t *w, apr_pool_t *p, const char *json, int is_status,
                                      apr_array_header_t *outbox_ids, const char **reject);

/* One stream entry start to finish: turn, XACK+XDEL, delivery; a rejected
 * entry goes to the dead-letter stream. RETRY: keep it and try again.
 * DEFER: left pending, unacknowledged: XAUTOCLAIM brings it back after
 * ClaimIdle (and dead-letters it after MaxDeliveries). */
asst_turn_status_t asst_work_entry(asst_work_t *w, apr_pool_t *p, const asst_entry_t *e);

/* Delivers the rows a turn queued. */
void asst_work_deliver(asst_work_t *w, apr_pool_t *p, const apr_array_header_t *outbox_ids);

#endif
