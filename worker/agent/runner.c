#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "confirm.h"
#include "context_load.h"
#include "journal.h"
#include "net/http.h"
#include "runner_private.h"
#include "tools/registry.h"
#include "turn/reply.h"

#define SORRY_PLANNER "Sorry, something went wrong on my side and I could not finish that. Please try again."
#define SORRY_REFUSED "Sorry, I could not work out how to do that. Text \"what can you do\" for examples."

/* A planner whose call the registry refused is told why and may try once
 * more; a second refused decision ends the turn. */
#define MAX_REFUSED_DECISIONS 2

static void apology(asst_step_t *d, const char *text)
{
    d->reply = text;
    d->calls = NULL;
    d->source = "runner";
}

static apr_status_t put_json(void *o)
{
    json_object_put(o);
    return APR_SUCCESS;
}

/* What a planner that reads context is shown: gathered once per turn (it
 * holds what came before the turn; the turn's own steps are the journal),
 * in a read transaction of its own, closed before the planner thinks.
 * -1 when the database failed. */
static int load_context(loop_t *l, asst_plan_input_t *in)
{
    asst_context_report_t report;
    asst_tx_t tx;

    if (!l->context) {
        asst_runner_begin(l, &tx);
        l->context = asst_context_load(&tx, l->r->user_id, l->r->inbound_id, l->r->body, in->tools_json,
                                       (int)l->r->conf->context_tokens, &report);
        if (asst_tx_finish(&tx) != ASST_DB_OK) {
            json_object_put(l->context);
            l->context = NULL;
            return -1;
        }
        apr_pool_cleanup_register(l->r->p, l->context, put_json, apr_pool_cleanup_null);
    }
    in->context = l->context;
    return 0;
}

/* A planner that has read content the person did not write may be
 * following it: its calls then change nothing without YES. */
static void taint(loop_t *l, asst_step_t *d)
{
    if (!d->calls || !asst_runner_untrusted_seen(l->journal))
        return;
    for (int i = 0; i < d->calls->nelts; i++)
        APR_ARRAY_IDX(d->calls, i, asst_call_t).untrusted = 1;
}

/* 0, ASST_RUN_WAIT, or -1 when the database failed. */
static int ask_planner(loop_t *l, asst_step_t *d)
{
    asst_run_t *r = l->r;
    asst_plan_input_t in = { apr_atoi64(r->user_id), r->user_name, r->timezone, r->body,
                             l->state.last_list_kind, l->journal, NULL, asst_tools_openai_json(),
                             l->deadline_ms - DEADLINE_RESERVE_MS, NULL, r->async };
    int rv;

    if (!l->budget_read && asst_runner_read_budget(l) != 0)
        return -1;
    in.use_rules = l->use_rules;
    if (asst_clock_monotonic_ms(NULL) + DEADLINE_RESERVE_MS >= l->deadline_ms)
        in.use_rules = "out of time";
    if (r->planner->wants_context && !in.use_rules && load_context(l, &in) != 0)
        return -1;
    rv = r->planner->decide(r->planner, r->p, &in, d);
    if (rv == ASST_PLAN_WAIT && r->async)
        return ASST_RUN_WAIT;
    if (rv != 0) {
        asst_log(ASST_LOG_WARN, "ASST01252: planner %s could not decide step %d of turn %s", r->planner->name,
                 d->n, r->turn_id);
        apology(d, SORRY_PLANNER);
    } else if (!d->reply && (!d->calls || d->calls->nelts == 0)) {
        apology(d, SORRY_PLANNER);
    }
    if (!d->source)
        d->source = r->planner->name;
    taint(l, d);
    return 0;
}

/* 0, ASST_RUN_WAIT, or -1 when the database failed. */
static int decide(loop_t *l, asst_step_t *d)
{
    int taken = asst_runner_decisions_taken(l->journal);

    memset(d, 0, sizeof(*d));
    d->kind = ASST_STEP_DECISION;
    d->n = l->journal->nelts + 1;
    if (taken >= l->r->conf->max_steps)
        apology(d, apr_psprintf(l->r->p, "Sorry, that took more than %d steps, so I stopped. "
                                "What is done is done; please ask again for the rest.", taken));
    else if (asst_runner_refused_decisions(l->journal) >= MAX_REFUSED_DECISIONS)
        apology(d, SORRY_REFUSED);
    else if (taken > 0 || !asst_confirm_decide(l->r->p, l->r->body, &l->state, d))
        return ask_planner(l, d);
    return 0;
}

/* The reply, its outbox rows and the turn's end, in one transaction. An
 * action still waiting for YES from an earlier text is dropped unless
 * this turn asked for it: a new request replaces it. */
static int finish(loop_t *l, asst_step_t *d)
{
    asst_run_t *r = l->r;
    asst_tx_t tx;

    asst_runner_begin(l, &tx);
    asst_runner_journal_decision(l, &tx, d);
    if (l->tell_budget)
        asst_tx_exec(&tx, "UPDATE llm_usage SET notified = true WHERE user_id = $1 "
                          "AND day = (now() AT TIME ZONE 'UTC')::date", ASST_DB_ARGS(r->user_id));
    asst_reply_queue(&tx, r->user_id, r->phone, r->inbound_id, d->reply, r->outbox_ids);
    if (!asst_runner_asked_confirmation(l->journal))
        asst_state_clear_pending(&tx, r->user_id);
    asst_tx_exec(&tx, "UPDATE turns SET status = 'done' WHERE id = $1", ASST_DB_ARGS(r->turn_id));
    asst_tx_event(&tx, r->user_id, "turn_done",
                  apr_psprintf(r->p, "{\"turn_id\":%s,\"steps\":%d}", r->turn_id, d->n));
    if (asst_runner_commit_step(l, &tx, d) != 0) {
        apr_array_clear(r->outbox_ids);
        return -1;
    }
    return 0;
}

/* A new turn's journal is empty and intake read the state; a resumed one
 * reads both. */
static int load(loop_t *l)
{
    const char *age_ms;
    asst_tx_t tx;

    l->deadline_ms = asst_clock_monotonic_ms(NULL) + l->r->conf->turn_deadline;
    if (l->r->state) {
        l->state = *l->r->state;
        l->journal = apr_array_make(l->r->p, 4, sizeof(asst_step_t));
        return 0;
    }
    asst_runner_begin(l, &tx);
    asst_journal_load(&tx, l->r->turn_id, &l->journal);
    asst_state_load(&tx, l->r->user_id, &l->state);
    age_ms = asst_tx_value(&tx, "SELECT (extract(epoch FROM now() - created_at) * 1000)::bigint FROM turns "
                                "WHERE id = $1", ASST_DB_ARGS(l->r->turn_id));
    if (age_ms)      /* a resumed turn keeps the deadline it started with */
        l->deadline_ms -= apr_atoi64(age_ms);
    return asst_tx_finish(&tx) == ASST_DB_OK ? 0 : -1;
}

/* The loop of a turn starting here, or of one waiting for its planner. */
static loop_t *loop_of(asst_run_t *r)
{
    loop_t *l = r->loop;

    if (l)
        return l;
    l = apr_pcalloc(r->p, sizeof(*l));
    l->r = r;
    if (load(l) != 0)
        return NULL;
    return r->loop = l;
}

int asst_runner_run(asst_run_t *r)
{
    loop_t *l = loop_of(r);

    if (!l)
        return -1;
    for (;;) {
        const asst_step_t *last = asst_runner_last_decision(l->journal);
        const asst_call_t *call = asst_runner_next_call(l->journal, last);
        asst_step_t d;
        int rv;

        if (last && last->reply)
            return 0;    /* finished before: nothing left to do */
        if (call) {
            if (asst_runner_run_call(l, last, call, 0) != 0)
                return -1;
            continue;
        }
        if ((rv = decide(l, &d)) != 0)
            return rv;
        if (d.reply)
            return finish(l, &d);
        if (asst_runner_run_call(l, &d, &APR_ARRAY_IDX(d.calls, 0, asst_call_t), 1) != 0)
            return -1;
    }
}
