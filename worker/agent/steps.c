/* The runner's journal in memory, and the commits at step boundaries. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asst_log.h"
#include "journal.h"
#include "runner_private.h"

int asst_runner_decisions_taken(const apr_array_header_t *journal)
{
    int n = 0;

    for (int i = 0; i < journal->nelts; i++)
        n += APR_ARRAY_IDX(journal, i, asst_step_t).kind == ASST_STEP_DECISION;
    return n;
}

const asst_step_t *asst_runner_last_decision(const apr_array_header_t *journal)
{
    for (int i = journal->nelts - 1; i >= 0; i--)
        if (APR_ARRAY_IDX(journal, i, asst_step_t).kind == ASST_STEP_DECISION)
            return &APR_ARRAY_IDX(journal, i, asst_step_t);
    return NULL;
}

static int answered(const apr_array_header_t *journal, const asst_step_t *d, const char *call_id)
{
    for (int i = journal->nelts - 1; i >= 0 && &APR_ARRAY_IDX(journal, i, asst_step_t) != d; i--) {
        const asst_step_t *s = &APR_ARRAY_IDX(journal, i, asst_step_t);
        if (s->kind == ASST_STEP_TOOL && s->call_id && strcmp(s->call_id, call_id) == 0)
            return 1;
    }
    return 0;
}

/* The first call of the last decision without a result yet. */
const asst_call_t *asst_runner_next_call(const apr_array_header_t *journal, const asst_step_t *d)
{
    for (int i = 0; d && d->calls && i < d->calls->nelts; i++) {
        const asst_call_t *c = &APR_ARRAY_IDX(d->calls, i, asst_call_t);
        if (!answered(journal, d, c->id ? c->id : ""))
            return c;
    }
    return NULL;
}

int asst_runner_refused_decisions(const apr_array_header_t *journal)
{
    int n = 0, counted = 0;

    for (int i = 0; i < journal->nelts; i++) {
        const asst_step_t *s = &APR_ARRAY_IDX(journal, i, asst_step_t);
        if (s->kind == ASST_STEP_DECISION)
            counted = 0;
        else if (s->rejected && !counted)
            n += counted = 1;
    }
    return n;
}

const char *asst_runner_untrusted_seen(const apr_array_header_t *journal)
{
    for (int i = 0; i < journal->nelts; i++)
        if (APR_ARRAY_IDX(journal, i, asst_step_t).untrusted)
            return APR_ARRAY_IDX(journal, i, asst_step_t).untrusted;
    return NULL;
}

int asst_runner_asked_confirmation(const apr_array_header_t *journal)
{
    for (int i = 0; i < journal->nelts; i++)
        if (APR_ARRAY_IDX(journal, i, asst_step_t).asks_confirmation)
            return 1;
    return 0;
}

static void fault_hook(int n)
{
    const char *at = getenv("ASST_FAULT_EXIT_AFTER_STEP");

    if (at && atoi(at) == n) {
        asst_log(ASST_LOG_WARN, "ASST01250: ASST_FAULT_EXIT_AFTER_STEP=%d: exiting after step %d", n, n);
        _exit(70);
    }
}

/* Commits the transaction that appended decision (when not NULL) and
 * step; 0, or -1 (database). */
int asst_runner_commit_steps(loop_t *l, asst_tx_t *tx, const asst_step_t *decision, const asst_step_t *step)
{
    if (asst_tx_finish(tx) != ASST_DB_OK)
        return -1;
    if (decision)
        APR_ARRAY_PUSH(l->journal, asst_step_t) = *decision;
    APR_ARRAY_PUSH(l->journal, asst_step_t) = *step;
    if (decision)
        fault_hook(decision->n);
    fault_hook(step->n);
    return 0;
}

int asst_runner_commit_step(loop_t *l, asst_tx_t *tx, const asst_step_t *step)
{
    return asst_runner_commit_steps(l, tx, NULL, step);
}

void asst_runner_begin(loop_t *l, asst_tx_t *tx)
{
    asst_tx_begin(tx, l->r->db, l->r->p, l->r->user_id);
}

/* A decision not yet journaled goes in first, with what it cost. */
void asst_runner_journal_decision(loop_t *l, asst_tx_t *tx, const asst_step_t *decision)
{
    if (!decision)
        return;
    asst_journal_append(tx, l->r->turn_id, l->r->user_id, decision);
    asst_runner_record_usage(tx, l->r->user_id, decision);
}
