#ifndef ASST_RUNNER_H
#define ASST_RUNNER_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "conf/worker_conf.h"
#include "db/db.h"
#include "planner.h"
#include "state.h"

/* The durable turn: the loop that asks the planner for a decision, runs
 * the tools it calls and sends the reply, with every step journaled
 * (journal.h) in its own short transaction and no transaction open while
 * the planner thinks. Started on a fresh turn or on one a dead process
 * left 'running', it continues from the journal: a recorded decision is
 * reused, a recorded tool call is not run again, and the reply commits
 * exactly once (with the turn's status 'done' and its outbox rows).
 *
 * The caller holds the person's session lock, so their turns never
 * interleave. At most MaxSteps decisions are taken; a planner that fails,
 * or a tool that breaks, ends the turn with a short honest reply.
 *
 * Test hook: with ASST_FAULT_EXIT_AFTER_STEP=N in the environment, the
 * process _exit()s right after it committed step N of a turn (the reply's
 * commit counts as a step), as a crash at that boundary would. */

typedef struct {
    asst_db_t *db;
    apr_pool_t *p;
    const asst_worker_conf_t *conf;
    const asst_planner_t *planner;
    const char *user_id;
    const char *phone;
    const char *user_name;       /* may be NULL */
    const char *timezone;
    const char *turn_id;
    const char *inbound_id;      /* the message this turn answers */
    const char *body;
    apr_array_header_t *outbox_ids;   /* of long long: the reply's rows, to deliver after */
    const asst_agent_state_t *state;  /* a new turn: the state intake read; NULL: resumed,
                                       * the runner reads state and journal itself */
    asst_plan_async_t *async;         /* NULL: the planner decides before returning */
    struct asst_runner_loop *loop;    /* the runner's: where a waiting turn stands */
} asst_run_t;

/* The planner is waiting (only with run->async): call asst_runner_run
 * again with the same run, and p, after async->wake. */
#define ASST_RUN_WAIT 1

/* 0 when the turn is done; -1 when the database failed (logged by the
 * caller from asst_db_error): the entry is retried and resumes here; or
 * ASST_RUN_WAIT. */
int asst_runner_run(asst_run_t *run);

#endif
