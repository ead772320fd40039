/* memory: facts the person asks the assistant to keep about them. They
 * see all of it ("what do you know about me") and forgetting deletes the
 * text for good; the events log records only that it happened. */
#include <string.h>

#include <apr_strings.h>

#include "registry.h"

#define LIST_MAX "30"

static const char schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"action\"],"
    "\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"remember\",\"recall\",\"list\",\"forget\",\"forget_all\"]},"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":500,\"description\":\"remember: the fact\"},"
    "\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,\"description\":\"recall/forget: words\"},"
    "\"item\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9999,"
    "\"description\":\"forget: number in the list last shown\"}}}";

/* Facts matching q, best first: full-text rank, then the most recently used. */
#define MATCHING                                                                       \
    "SELECT id, body, source, ts_rank(tsv, q) AS rank FROM memories, websearch_to_tsquery('english', $2) q " \
    "WHERE user_id = $1 AND (tsv @@ q OR strpos(lower(body), lower($2)) > 0) "           \
    "ORDER BY rank DESC, last_used_at DESC, id DESC LIMIT 5"

/* Facts stored from content the person did not write (source other than
 * their own texts) make the whole answer untrusted. */
static void mark_foreign(const PGresult *res, asst_tool_result_t *out)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (strcmp(PQgetvalue(res, i, 2), "sms") != 0)
            out->untrusted = "facts stored from content the person did not write";
}

static void remember(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *text = asst_tool_arg(args, "text");
    const char *id = asst_tx_value(ctx->tx, "INSERT INTO memories (user_id, body, source) VALUES ($1, $2, $3) "
                                            "RETURNING id",
                                   ASST_DB_ARGS(ctx->user_id, text, ctx->untrusted ? "content" : "sms"));

    asst_tx_event(ctx->tx, ctx->user_id, "memory_added", apr_psprintf(ctx->p, "{\"memory_id\":%s}", id ? id : "null"));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "OK, I'll remember that %s.", text));
}

static void recall(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *q = asst_tool_arg(args, "query");
    PGresult *res = asst_tx_query(ctx->tx,
        "WITH hit AS (" MATCHING "), "
        "     used AS (UPDATE memories m SET last_used_at = now() FROM hit WHERE m.id = hit.id) "
        "SELECT id, body, source FROM hit ORDER BY rank DESC, id DESC", ASST_DB_ARGS(ctx->user_id, q));

    if (!res)
        return;
    if (PQntuples(res) == 0)
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "I don't know anything about \"%s\" yet.", q));
    else
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "What I know about \"%s\":\n%s", q,
                                           asst_tool_show_list(ctx, "memory", res, 1)));
    mark_foreign(res, out);
    PQclear(res);
}

static void list(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    PGresult *res = asst_tx_query(ctx->tx, "SELECT id, body, source FROM memories WHERE user_id = $1 ORDER BY id "
                                           "LIMIT " LIST_MAX, ASST_DB_ARGS(ctx->user_id));
    (void)args;
    if (!res)
        return;
    if (PQntuples(res) == 0)
        asst_tool_say(out, 1, "I don't know anything about you yet. Text \"remember that ...\" to tell me.");
    else
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "What I know about you:\n%s\n"
                                           "Text \"forget\" and a number to remove one.",
                                           asst_tool_show_list(ctx, "memory", res, 1)));
    mark_foreign(res, out);
    PQclear(res);
}

static void forget_id(asst_tool_ctx_t *ctx, const char *id, asst_tool_result_t *out)
{
    const char *body = asst_tx_value(ctx->tx, "DELETE FROM memories WHERE id = $1 AND user_id = $2 RETURNING body",
                                     ASST_DB_ARGS(id, ctx->user_id));

    if (!body) {
        asst_tool_say(out, 0, "That is already forgotten.");
        return;
    }
    asst_tx_event(ctx->tx, ctx->user_id, "memory_forgotten", apr_psprintf(ctx->p, "{\"memory_id\":%s}", id));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Forgotten: %s", body));
}

static void forget_matching(asst_tool_ctx_t *ctx, const char *q, asst_tool_result_t *out)
{
    PGresult *res = asst_tx_query(ctx->tx, MATCHING, ASST_DB_ARGS(ctx->user_id, q));

    if (!res)
        return;
    if (PQntuples(res) == 0)
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "I don't know anything about \"%s\".", q));
    else if (PQntuples(res) == 1)
        forget_id(ctx, apr_pstrdup(ctx->p, PQgetvalue(res, 0, 0)), out);
    else
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "Which one should I forget?\n%s\nText \"forget 1\" or another "
                                           "number.", asst_tool_show_list(ctx, "memory", res, 1)));
    PQclear(res);
}

static void forget(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    int n = asst_tool_arg_int(args, "item");
    const char *q = asst_tool_arg(args, "query");
    const char *id;

    if (q) {
        forget_matching(ctx, q, out);
        return;
    }
    if (!n) {
        asst_tool_say(out, 0, "What should I forget? Say \"forget\" and the words, or its number.");
        return;
    }
    if ((id = asst_tool_list_item(ctx, "memory", "memories", n)) != NULL)
        forget_id(ctx, id, out);
    else if (!ASST_TX_FAILED(ctx->tx))
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "There is no item %d. Text \"what do you know about me\".", n));
}

static void forget_all(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *n = asst_tool_delete_all(ctx, "memories", "memories_forgotten");

    (void)args;
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Done: I have forgotten everything you told me (%s).", n));
}

static const asst_tool_action_t actions[] = {
    { "remember", remember, "text", NULL, 0 },
    { "recall", recall, "query", NULL, 1 },
    { "list", list, NULL, NULL, 1 },
    { "forget", forget, NULL, NULL, 0 },
    { "forget_all", forget_all, NULL, "forget everything you told me", 0 },
};

const asst_tool_t asst_tool_memory = {
    "memory",
    "Long-term facts about the person: remember, recall (query), list all, forget (query or item), forget_all.",
    schema, ASST_TOOL_ACTIONS(actions),
};
