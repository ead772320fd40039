#ifndef ASST_RUNNER_PRIVATE_H
#define ASST_RUNNER_PRIVATE_H

#include <json-c/json.h>

#include "db/tx.h"
#include "runner.h"
#include "state.h"

/* Shared by the runner's files: runner.c (the loop, decisions, the
 * reply), steps.c (the journal in memory, commits at step boundaries),
 * calls.c (tool calls), budget.c (what a model costs). */

/* Left for the rules planner and the reply's commit when a model planner
 * gives up at the deadline. */
#define DEADLINE_RESERVE_MS 1500

typedef struct asst_runner_loop {
    asst_run_t *r;
    apr_array_header_t *journal;     /* of asst_step_t */
    asst_agent_state_t state;
    apr_int64_t deadline_ms;         /* monotonic: TurnDeadline after the turn started */
    int budget_read;                 /* the person's model budget was checked this turn */
    const char *use_rules;           /* over budget: why, or "" when already told today */
    int tell_budget;                 /* the reply carries today's notice: record it */
    json_object *context;            /* for planners that read it: gathered once a turn */
} loop_t;

/* steps.c */
int asst_runner_decisions_taken(const apr_array_header_t *journal);
const asst_step_t *asst_runner_last_decision(const apr_array_header_t *journal);
/* The first call of decision d without a result yet, or NULL. */
const asst_call_t *asst_runner_next_call(const apr_array_header_t *journal, const asst_step_t *d);
int asst_runner_asked_confirmation(const apr_array_header_t *journal);
/* Where content the person did not write came into this turn (a tool
 * result), or NULL: every call decided after it is untrusted. */
const char *asst_runner_untrusted_seen(const apr_array_header_t *journal);
/* Decisions with a call the registry refused (rejected). */
int asst_runner_refused_decisions(const apr_array_header_t *journal);
void asst_runner_begin(loop_t *l, asst_tx_t *tx);
int asst_runner_commit_steps(loop_t *l, asst_tx_t *tx, const asst_step_t *decision, const asst_step_t *step);
int asst_runner_commit_step(loop_t *l, asst_tx_t *tx, const asst_step_t *step);
/* A decision not yet journaled goes in first, with what it cost. */
void asst_runner_journal_decision(loop_t *l, asst_tx_t *tx, const asst_step_t *decision);

/* calls.c */
int asst_runner_run_call(loop_t *l, const asst_step_t *d, const asst_call_t *call, int fresh);

/* budget.c */
void asst_runner_record_usage(asst_tx_t *tx, const char *user_id, const asst_step_t *d);
int asst_runner_read_budget(loop_t *l);

#endif
