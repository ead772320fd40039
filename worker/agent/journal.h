#ifndef ASST_JOURNAL_H
#define ASST_JOURNAL_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "db/tx.h"
#include "planner.h"

/* The turn's journal (turn_steps, sql/004_agent.sql): every decision and
 * every tool result, in order. A step is appended in the same transaction
 * as whatever it caused, so what is in the journal happened, and what is
 * not did not. */

/* The steps of turn_id so far, oldest first, into *steps (of asst_step_t). */
void asst_journal_load(asst_tx_t *tx, const char *turn_id, apr_array_header_t **steps);

/* Appends step (step->n is its place) to turn_id. */
void asst_journal_append(asst_tx_t *tx, const char *turn_id, const char *user_id, const asst_step_t *step);

#endif
