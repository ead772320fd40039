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

static void tool_context(loop_t *l, asst_tx_t *tx, int untrusted, asst_tool_ctx_t *ctx)
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
}

/* Runs call, or stores it to wait for YES; fills step's result. */
static void call_tool(loop_t *l, asst_tx_t *tx, const asst_step_t *d, const asst_call_t *call, asst_step_t *step)
{
    int confirmed = d->source && strcmp(d->source, ASST_CONFIRMED) == 0;
    const asst_tool_t *tool;
    const char *err, *ask;
    json_object *args;
    asst_tool_ctx_t ctx;
    asst_tool_result_t res = { 0, NULL, NULL };

    if (asst_tools_check(l->r->p, call->name, call->arguments, &tool, &args, &err) != 0) {
        step->text = err;
        step->rejected = 1;
        return;
    }
    tool_context(l, tx, call->untrusted, &ctx);
    ask = confirmed ? NULL : asst_tool_confirm(tool, args);
    if (!confirmed && !ask && ctx.untrusted && !asst_tool_reads(tool, args))
        ask = apr_psprintf(l->r->p, "run %s with text you did not write", tool->name);
    if (ask) {
        asst_state_set_pending(tx, l->r->user_id, tool->name, call->arguments, ask, l->r->conf->confirm_ttl);
        l->state.pending_name = tool->name;
        l->state.pending_arguments = call->arguments;
        l->state.pending_prompt = ask;
        l->state.pending_expired = 0;
        step->ok = 1;
        step->asks_confirmation = 1;
        step->text = apr_psprintf(l->r->p, "Reply YES to %s. Nothing is done until then.", ask);
    } else {
        asst_tool_run(tool, &ctx, args, &res);
        step->ok = res.ok;
        step->text = res.text ? res.text : "(no result)";
        step->untrusted = res.untrusted;
        if (confirmed) {
            asst_state_clear_pending(tx, l->r->user_id);
            l->state.pending_name = NULL;
        }
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
    asst_tx_t tx;

    asst_runner_begin(l, &tx);
    asst_runner_journal_decision(l, &tx, decision);
    call_tool(l, &tx, d, call, &step);
    asst_journal_append(&tx, l->r->turn_id, l->r->user_id, &step);
    if (tx.rc == ASST_DB_ESTMT) {
        asst_tx_finish(&tx);
        l->state = before;
        return record_broken_tool(l, decision, &step);
    }
    return asst_runner_commit_steps(l, &tx, decision, &step);
}

