/* A tool call of a turn: checked, run (or stored to wait for YES) and
 * journaled with its effect, in one transaction. */
#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "confirm.h"
#include "journal.h"
#include "runner_private.h"
#include "tools/registry.h"

#define SORRY_TOOL "Sorry, that did not work on my side; nothing was changed. Please try again later."

static void tool_context(loop_t *l, asst_tx_t *tx, const asst_step_t *d, int untrusted, asst_tool_ctx_t *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->tx = tx;
    ctx->p = l->r->p;
    ctx->user_id = l->r->user_id;
    ctx->phone = l->r->phone;
    ctx->timezone = l->r->timezone;
    ctx->now = apr_time_now();
    ctx->untrusted = untrusted;
    ctx->last_list_kind = l->state.last_list_kind;
    ctx->last_list_ids = l->state.last_list_ids;
    if (d->zone) {   /* the person answered the question about their zone for this call */
        ctx->zone_answer = d->zone;
        ctx->asked_at = l->state.pending_asked_at;
    }
}

/* The call is stored to run on the person's answer: YES, or (asked_zone)
 * their time zone; a question asked again keeps when it was first asked. */
static void wait_for_answer(loop_t *l, asst_tx_t *tx, const asst_call_t *call, const char *name, const char *ask,
                            const char *asked_zone, apr_time_t asked_at)
{
    asst_state_set_pending(tx, l->r->user_id, name, call->arguments, ask, asked_zone, asked_at,
                           l->r->conf->confirm_ttl);
    l->state.pending_name = name;
    l->state.pending_arguments = call->arguments;
    l->state.pending_prompt = ask;
    l->state.pending_expired = 0;
    l->state.pending_zone = asked_zone;
    l->state.pending_asked_at = asked_at;
}

/* Runs call, or stores it to wait for YES; fills step's result, and
 * *zone with the person's zone after it (a tool may have changed it). */
static void call_tool(loop_t *l, asst_tx_t *tx, const asst_step_t *d, const asst_call_t *call, asst_step_t *step,
                      const char **zone)
{
    int confirmed = d->source && strcmp(d->source, ASST_CONFIRMED) == 0;
    const asst_tool_t *tool;
    const char *err, *ask;
    json_object *args;
    asst_tool_ctx_t ctx;
    asst_tool_result_t res = { .ok = 0 };

    if (asst_tools_check(l->r->p, call->name, call->arguments, &tool, &args, &err) != 0) {
        step->text = err;
        step->rejected = 1;
        return;
    }
    tool_context(l, tx, d, call->untrusted, &ctx);
    ask = confirmed ? NULL : asst_tool_confirm(tool, args);
    if (!confirmed && !ask && ctx.untrusted && !asst_tool_reads(tool, args))
        ask = apr_psprintf(l->r->p, "run %s with text you did not write", tool->name);
    if (ask) {
        wait_for_answer(l, tx, call, tool->name, ask, NULL, ctx.now);
        step->ok = 1;
        step->asks_confirmation = 1;
        step->text = apr_psprintf(l->r->p, "Reply YES to %s. Nothing is done until then.", ask);
    } else {
        asst_tool_run(tool, &ctx, args, &res);
        step->ok = res.ok;
        step->text = res.text ? res.text : "(no result)";
        step->untrusted = res.untrusted;
        if (res.asks_zone) {
            wait_for_answer(l, tx, call, tool->name, res.asks_about, res.asks_zone,
                            ctx.zone_answer && ctx.asked_at ? ctx.asked_at : ctx.now);
            step->asks_confirmation = 1;
        } else if (confirmed) {
            asst_state_clear_pending(tx, l->r->user_id);
            l->state.pending_name = NULL;
        }
        *zone = ctx.timezone;
        if (ctx.shown_kind) {
            asst_state_set_list(tx, l->r->user_id, ctx.shown_kind, ctx.shown_ids);
            l->state.last_list_kind = ctx.shown_kind;
            l->state.last_list_ids = ctx.shown_ids;
        }
    }
    json_object_put(args);
}

/* A tool whose statement failed (not the connection: that is retried)
 * gets a result saying so, in a transaction of its own. */
static int record_broken_tool(loop_t *l, const asst_step_t *decision, asst_step_t *step)
{
    asst_tx_t tx;

    asst_log(ASST_LOG_ERR, "ASST01251: tool %s failed in turn %s: %s", step->name, l->r->turn_id,
             asst_db_error(l->r->db));
    step->ok = 0;
    step->asks_confirmation = 0;
    step->text = SORRY_TOOL;
    asst_runner_begin(l, &tx);
    asst_runner_journal_decision(l, &tx, decision);
    asst_journal_append(&tx, l->r->turn_id, l->r->user_id, step);
    return asst_runner_commit_steps(l, &tx, decision, step);
}

/* Runs call of decision d in one transaction with its effect and its
 * step. A decision just taken (fresh) is journaled in the same
 * transaction: there is nothing to wait for between the two, and a
 * turn saves a commit per decision. */
int asst_runner_run_call(loop_t *l, const asst_step_t *d, const asst_call_t *call, int fresh)
{
    const asst_step_t *decision = fresh ? d : NULL;
    asst_step_t step = { .kind = ASST_STEP_TOOL, .n = l->journal->nelts + 1 + fresh, .call_id = call->id,
                         .name = call->name };
    asst_agent_state_t before = l->state;
    const char *zone = l->r->timezone;
    asst_tx_t tx;

    asst_runner_begin(l, &tx);
    asst_runner_journal_decision(l, &tx, decision);
    call_tool(l, &tx, d, call, &step, &zone);
    asst_journal_append(&tx, l->r->turn_id, l->r->user_id, &step);
    if (tx.rc == ASST_DB_ESTMT) {
        asst_tx_finish(&tx);
        l->state = before;
        return record_broken_tool(l, decision, &step);
    }
    if (asst_runner_commit_steps(l, &tx, decision, &step) != 0)
        return -1;
    l->r->timezone = zone;   /* the turn's later calls and decisions are in the person's new zone */
    return 0;
}

