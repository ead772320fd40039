#ifndef ASST_TURN_H
#define ASST_TURN_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "agent/planner.h"
#include "asst_envelope.h"
#include "db/db.h"
#include "conf/worker_conf.h"

/* One inbound text, from stored to answered. Under a session-level
 * advisory lock on the sender (their turns never interleave; it dies with
 * the connection), one intake transaction finds or signs up the sender,
 * stores the text (UNIQUE twilio_sid drops redeliveries) and answers
 * sign-up and compliance keywords itself; anything else becomes a turn
 * for the agent (agent/runner.h), journaled step by step, resumed from the
 * journal when an earlier delivery died mid-way. Nothing leaves the
 * process until it has committed. */

typedef enum {
    ASST_TURN_DONE,          /* committed: ack the entry, deliver the outbox rows */
    ASST_TURN_DUPLICATE,     /* already committed by an earlier delivery: ack */
    ASST_TURN_RETRY,         /* database unavailable or failed: keep the entry */
    ASST_TURN_DEFER,         /* not ready yet (a status callback for a sid not yet
                              * recorded): leave it pending, it comes back later */
    ASST_TURN_WAIT,          /* (async) the planner is thinking: run it again after
                              * async->wake; the person's lock stays held */
    ASST_TURN_BUSY,          /* (async) another process holds the person's lock:
                              * nothing was done; try again shortly */
} asst_turn_status_t;

typedef struct {
    const asst_worker_conf_t *conf;
    const asst_planner_t *planner;
    apr_array_header_t *outbox_ids;   /* of long long: rows to deliver after commit */
    const char *error;                /* on RETRY */
    /* NULL: the turn runs to its end, waiting for the person's lock and
     * the planner. Set: neither is waited for (BUSY, WAIT), so that one
     * process drives many turns at once (child/inflight.h). */
    asst_plan_async_t *async;
    struct asst_turn_waiting *waiting;   /* the turn's own, while it WAITs */
} asst_turn_t;

/* Runs the turn for env, or resumes it after WAIT: call it again with the
 * same turn and p. */
asst_turn_status_t asst_turn_run(asst_db_t *db, apr_pool_t *p, const asst_envelope_t *env,
                                 asst_turn_t *turn);

#endif
