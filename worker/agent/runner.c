#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "net/http.h"
#include "confirm.h"
#include "context_load.h"
#include "journal.h"
#include "runner.h"
#include "state.h"
#include "tools/registry.h"
#include "turn/reply.h"

#define SORRY_PLANNER "Sorry, something went wrong on my side and I could not finish that. Please try again."
#define SORRY_TOOL "Sorry, that did not work on my side; nothing was changed. Please try again later."

/* Left for the rules planner and the reply's commit when a model planner
 * gives up at the deadline. */
#define DEADLINE_RESERVE_MS 1500

typedef struct {
    asst_run_t *r;
    apr_array_header_t *journal;     /* of asst_step_t */
    asst_agent_state_t state;
    apr_int64_t deadline_ms;         /* monotonic: TurnDeadline after the turn started */
    int budget_read;                 /* the person's model budget was checked this turn */
    const char *use_rules;           /* over budget: why, or "" when already told today */
    int tell_budget;                 /* the reply carries today's notice: record it */
    json_object *context;            /* for planners that read it: gathered once a turn */
} loop_t;

/* ---- the journal in memory ---- */

static int decisions_taken(const apr_array_header_t *journal)
{
    int n = 0;

    for (int i = 0; i < journal->nelts; i++)
        n += APR_ARRAY_IDX(journal, i, asst_step_t).kind == ASST_STEP_DECISION;
    return n;
}

static const asst_step_t *last_decision(const apr_array_header_t *journal)
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
static const asst_call_t *next_call(const apr_array_header_t *journal, const asst_step_t *d)
{
    for (int i = 0; d && d->calls && i < d->calls->nelts; i++) {
        const asst_call_t *c = &APR_ARRAY_IDX(d->calls, i, asst_call_t);
        if (!answered(journal, d, c->id ? c->id : ""))
            return c;
    }
    return NULL;
}

static int asked_confirmation(const apr_array_header_t *journal)
{
    for (int i = 0; i < journal->nelts; i++)
        if (APR_ARRAY_IDX(journal, i, asst_step_t).asks_confirmation)
            return 1;
    return 0;
}

/* ---- step boundaries ---- */

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
static int commit_steps(loop_t *l, asst_tx_t *tx, const asst_step_t *decision, const asst_step_t *step)
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

static int commit_step(loop_t *l, asst_tx_t *tx, const asst_step_t *step)
{
    return commit_steps(l, tx, NULL, step);
}

static void begin(loop_t *l, asst_tx_t *tx)
{
    asst_tx_begin(tx, l->r->db, l->r->p, l->r->user_id);
}

/* ---- tool calls ---- */

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
    asst_tool_result_t res = { 0, NULL };

    if (asst_tools_check(l->r->p, call->name, call->arguments, &tool, &args, &err) != 0) {
        step->text = err;
        step->rejected = 1;
        return;
    }
    tool_context(l, tx, call->untrusted, &ctx);
    ask = confirmed ? NULL : asst_tool_confirm(tool, args);
    if (!confirmed && !ask && ctx.untrusted)
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

static void record_usage(asst_tx_t *tx, const char *user_id, const asst_step_t *d);

/* A decision not yet journaled goes in first, with what it cost. */
static void journal_decision(loop_t *l, asst_tx_t *tx, const asst_step_t *decision)
{
    if (!decision)
        return;
    asst_journal_append(tx, l->r->turn_id, l->r->user_id, decision);
    record_usage(tx, l->r->user_id, decision);
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
    begin(l, &tx);
    journal_decision(l, &tx, decision);
    asst_journal_append(&tx, l->r->turn_id, l->r->user_id, step);
    return commit_steps(l, &tx, decision, step);
}

/* Runs call of decision d in one transaction with its effect and its
 * step. A decision just taken (fresh) is journaled in the same
 * transaction: there is nothing to wait for between the two, and a
 * turn saves a commit per decision. */
static int run_call(loop_t *l, const asst_step_t *d, const asst_call_t *call, int fresh)
{
    const asst_step_t *decision = fresh ? d : NULL;
    asst_step_t step = { .kind = ASST_STEP_TOOL, .n = l->journal->nelts + 1 + fresh, .call_id = call->id,
                         .name = call->name };
    asst_agent_state_t before = l->state;
    asst_tx_t tx;

    begin(l, &tx);
    journal_decision(l, &tx, decision);
    call_tool(l, &tx, d, call, &step);
    asst_journal_append(&tx, l->r->turn_id, l->r->user_id, &step);
    if (tx.rc == ASST_DB_ESTMT) {
        asst_tx_finish(&tx);
        l->state = before;
        return record_broken_tool(l, decision, &step);
    }
    return commit_steps(l, &tx, decision, &step);
}

/* ---- what a model costs ---- */

/* A decision's tokens go on the person's day, in the decision's transaction. */
static void record_usage(asst_tx_t *tx, const char *user_id, const asst_step_t *d)
{
    if (d->prompt_tokens <= 0 && d->completion_tokens <= 0)
        return;
    asst_tx_exec(tx, "INSERT INTO llm_usage (user_id, day, requests, prompt_tokens, completion_tokens) "
                     "VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1, $2, $3) "
                     "ON CONFLICT (user_id, day) DO UPDATE SET requests = llm_usage.requests + 1, "
                     "  prompt_tokens = llm_usage.prompt_tokens + excluded.prompt_tokens, "
                     "  completion_tokens = llm_usage.completion_tokens + excluded.completion_tokens",
                 ASST_DB_ARGS(user_id, apr_ltoa(tx->p, d->prompt_tokens), apr_ltoa(tx->p, d->completion_tokens)));
}

/* Over LLMDailyTokens today: the rules planner decides, and the first such
 * reply of the day says why. 0, or -1 when the database failed. */
static int read_budget(loop_t *l)
{
    long cap = l->r->conf->llm_daily_tokens;
    PGresult *res;
    asst_tx_t tx;

    l->budget_read = 1;
    if (!l->r->planner->uses_model || cap <= 0)
        return 0;
    begin(l, &tx);
    res = asst_tx_query(&tx, "SELECT prompt_tokens + completion_tokens >= $2::bigint, notified FROM llm_usage "
                             "WHERE user_id = $1 AND day = (now() AT TIME ZONE 'UTC')::date",
                        ASST_DB_ARGS(l->r->user_id, apr_ltoa(l->r->p, cap)));
    if (res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
        l->tell_budget = strcmp(PQgetvalue(res, 0, 1), "f") == 0;
        l->use_rules = l->tell_budget ? "today's model budget is used up, back tomorrow" : "";
    }
    PQclear(res);
    return asst_tx_finish(&tx) == ASST_DB_OK ? 0 : -1;
}

/* ---- decisions ---- */

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
        begin(l, &tx);
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

/* 0, or -1 when the database failed. */
static int ask_planner(loop_t *l, asst_step_t *d)
{
    asst_run_t *r = l->r;
    asst_plan_input_t in = { apr_atoi64(r->user_id), r->user_name, r->timezone, r->body,
                             l->state.last_list_kind, l->journal, NULL, asst_tools_openai_json(),
                             l->deadline_ms - DEADLINE_RESERVE_MS, NULL };
    int rv;

    if (!l->budget_read && read_budget(l) != 0)
        return -1;
    in.use_rules = l->use_rules;
    if (asst_clock_monotonic_ms(NULL) + DEADLINE_RESERVE_MS >= l->deadline_ms)
        in.use_rules = "out of time";
    if (r->planner->wants_context && !in.use_rules && load_context(l, &in) != 0)
        return -1;
    rv = r->planner->decide(r->planner, r->p, &in, d);
    if (rv != 0) {
        asst_log(ASST_LOG_WARN, "ASST01252: planner %s could not decide step %d of turn %s", r->planner->name,
                 d->n, r->turn_id);
        apology(d, SORRY_PLANNER);
    } else if (!d->reply && (!d->calls || d->calls->nelts == 0)) {
        apology(d, SORRY_PLANNER);
    }
    if (!d->source)
        d->source = r->planner->name;
    return 0;
}

/* 0, or -1 when the database failed. */
static int decide(loop_t *l, asst_step_t *d)
{
    int taken = decisions_taken(l->journal);

    memset(d, 0, sizeof(*d));
    d->kind = ASST_STEP_DECISION;
    d->n = l->journal->nelts + 1;
    if (taken >= l->r->conf->max_steps)
        apology(d, apr_psprintf(l->r->p, "Sorry, that took more than %d steps, so I stopped. "
                                "What is done is done; please ask again for the rest.", taken));
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

    begin(l, &tx);
    journal_decision(l, &tx, d);
    if (l->tell_budget)
        asst_tx_exec(&tx, "UPDATE llm_usage SET notified = true WHERE user_id = $1 "
                          "AND day = (now() AT TIME ZONE 'UTC')::date", ASST_DB_ARGS(r->user_id));
    asst_reply_queue(&tx, r->user_id, r->phone, r->inbound_id, d->reply, r->outbox_ids);
    if (!asked_confirmation(l->journal))
        asst_state_clear_pending(&tx, r->user_id);
    asst_tx_exec(&tx, "UPDATE turns SET status = 'done' WHERE id = $1", ASST_DB_ARGS(r->turn_id));
    asst_tx_event(&tx, r->user_id, "turn_done",
                  apr_psprintf(r->p, "{\"turn_id\":%s,\"steps\":%d}", r->turn_id, d->n));
    if (commit_step(l, &tx, d) != 0) {
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
    begin(l, &tx);
    asst_journal_load(&tx, l->r->turn_id, &l->journal);
    asst_state_load(&tx, l->r->user_id, &l->state);
    age_ms = asst_tx_value(&tx, "SELECT (extract(epoch FROM now() - created_at) * 1000)::bigint FROM turns "
                                "WHERE id = $1", ASST_DB_ARGS(l->r->turn_id));
    if (age_ms)      /* a resumed turn keeps the deadline it started with */
        l->deadline_ms -= apr_atoi64(age_ms);
    return asst_tx_finish(&tx) == ASST_DB_OK ? 0 : -1;
}

int asst_runner_run(asst_run_t *r)
{
    loop_t l;

    memset(&l, 0, sizeof(l));
    l.r = r;

    if (load(&l) != 0)
        return -1;
    for (;;) {
        const asst_step_t *last = last_decision(l.journal);
        const asst_call_t *call = next_call(l.journal, last);
        asst_step_t d;

        if (last && last->reply)
            return 0;    /* finished before: nothing left to do */
        if (call) {
            if (run_call(&l, last, call, 0) != 0)
                return -1;
            continue;
        }
        if (decide(&l, &d) != 0)
            return -1;
        if (d.reply)
            return finish(&l, &d);
        if (run_call(&l, &d, &APR_ARRAY_IDX(d.calls, 0, asst_call_t), 1) != 0)
            return -1;
    }
}
