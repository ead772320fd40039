#ifndef ASST_WORK_H
#define ASST_WORK_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "agent/planner.h"
#include "asst_envelope.h"
#include "asst_redis.h"
#include "consumer.h"
#include "db/db.h"
#include "net/http.h"
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

/* One envelope from the stream or the spool, from decoding to its end. */
typedef struct {
    int is_status;                 /* a status callback, not a text */
    asst_envelope_t env;
    const char *reject;            /* set when it can never be processed (bad JSON,
                                    * unknown version): why */
    asst_turn_t turn;              /* its outbox_ids: rows to deliver after the ack */
} asst_work_item_t;

/* Decodes json into item (strings in p); a failure sets item->reject. */
void asst_work_item_init(asst_work_t *w, apr_pool_t *p, const char *json, int is_status, asst_work_item_t *item);

/* Runs it as a turn (or a status update), or goes on with a turn that
 * WAITed: call again with the same item and p. A rejected item is DONE. */
asst_turn_status_t asst_work_item_run(asst_work_t *w, apr_pool_t *p, asst_work_item_t *item);

/* The stream entry e an item came from, after asst_work_item_run said st
 * (not RETRY, WAIT or BUSY): a rejected entry goes to the dead-letter
 * stream; a committed one is acknowledged (XACK+XDEL); a DEFERred one is
 * left pending, unacknowledged: XAUTOCLAIM brings it back after ClaimIdle
 * (and dead-letters it after MaxDeliveries). 1 when the turn committed:
 * its rows are to be delivered now. */
int asst_work_item_end(asst_work_t *w, const asst_entry_t *e, const asst_work_item_t *item,
                       asst_turn_status_t st);

/* Starts delivering the rows item's committed turn queued, on m, one
 * after another (asst_outbox_deliver_start): done(baton) from inside
 * asst_http_multi_run once they are settled. 0 when there is nothing to
 * start (no rows, or Twilio not configured: they wait as pending); done
 * is then never called. */
int asst_work_deliver_start(asst_work_t *w, asst_http_multi_t *m, apr_pool_t *p, const asst_work_item_t *item,
                            void (*done)(void *baton), void *baton);

/* A whole envelope at once (the spool): asst_work_item_init + _run with
 * the turn waiting for everything; *reject as item->reject. */
asst_turn_status_t asst_work_envelope(asst_work_t *w, apr_pool_t *p, const char *json, int is_status,
                                      apr_array_header_t *outbox_ids, const char **reject);

/* Delivers the rows a turn queued, waiting for each send (the spool). */
void asst_work_deliver(asst_work_t *w, apr_pool_t *p, const apr_array_header_t *outbox_ids);

/* e comes from the status callbacks' stream. */
int asst_work_is_status(const asst_work_t *w, const asst_entry_t *e);

#endif
