/* What a model costs: a decision's tokens on the person's day, and
 * LLMDailyTokens. */
#include <string.h>

#include <apr_strings.h>

#include "runner_private.h"

/* A decision's tokens go on the person's day, in the decision's transaction. */
void asst_runner_record_usage(asst_tx_t *tx, const char *user_id, const asst_step_t *d)
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
int asst_runner_read_budget(loop_t *l)
{
    long cap = l->r->conf->llm_daily_tokens;
    PGresult *res;
    asst_tx_t tx;

    l->budget_read = 1;
    if (!l->r->planner->uses_model || cap <= 0)
        return 0;
    asst_runner_begin(l, &tx);
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

