/* notes: short texts the person keeps and finds again. */
#include <string.h>

#include <apr_strings.h>

#include "registry.h"

#define LIST_MAX "20"

static const char schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"action\"],"
    "\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"add\",\"list\",\"search\",\"delete\",\"delete_all\"]},"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000,\"description\":\"add: the note\"},"
    "\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,\"description\":\"search: words\"},"
    "\"item\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9999,"
    "\"description\":\"delete: number in the list last shown\"}}}";

static const char *count_notes(asst_tool_ctx_t *ctx)
{
    return asst_tx_value(ctx->tx, "SELECT count(*) FROM notes WHERE user_id = $1", ASST_DB_ARGS(ctx->user_id));
}

static void add(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *id = asst_tx_value(ctx->tx, "INSERT INTO notes (user_id, body) VALUES ($1, $2) RETURNING id",
                                   ASST_DB_ARGS(ctx->user_id, asst_tool_arg(args, "text")));
    const char *n = count_notes(ctx);

    asst_tx_event(ctx->tx, ctx->user_id, "note_added", apr_psprintf(ctx->p, "{\"note_id\":%s}", id ? id : "null"));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Noted. You have %s note%s; text \"my notes\" to see them.",
                                       n ? n : "?", n && strcmp(n, "1") == 0 ? "" : "s"));
}

static void list(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    PGresult *res = asst_tx_query(ctx->tx, "SELECT id, body, count(*) OVER () FROM notes WHERE user_id = $1 "
                                           "ORDER BY id LIMIT " LIST_MAX, ASST_DB_ARGS(ctx->user_id));
    (void)args;
    if (!res)
        return;
    if (PQntuples(res) == 0)
        asst_tool_say(out, 1, "You have no notes yet. Text \"note: buy milk\" to add one.");
    else
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "Your notes (%s):\n%s", PQgetvalue(res, 0, 2),
                                           asst_tool_show_list(ctx, "notes", res, 1)));
    PQclear(res);
}

static void search(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *q = asst_tool_arg(args, "query");
    PGresult *res = asst_tx_query(ctx->tx,
        "SELECT id, body FROM notes, websearch_to_tsquery('english', $2) q "
        "WHERE user_id = $1 AND (tsv @@ q OR strpos(lower(body), lower($2)) > 0) "
        "ORDER BY ts_rank(tsv, q) DESC, id DESC LIMIT " LIST_MAX, ASST_DB_ARGS(ctx->user_id, q));

    if (!res)
        return;
    if (PQntuples(res) == 0)
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "No notes match \"%s\".", q));
    else
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "Notes matching \"%s\":\n%s", q,
                                           asst_tool_show_list(ctx, "notes", res, 1)));
    PQclear(res);
}

static void delete_one(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    int n = asst_tool_arg_int(args, "item");
    const char *id = asst_tool_list_item(ctx, "notes", "notes", n);
    const char *body = id ? asst_tx_value(ctx->tx, "DELETE FROM notes WHERE id = $1 AND user_id = $2 RETURNING body",
                                          ASST_DB_ARGS(id, ctx->user_id)) : NULL;

    if (!body) {
        asst_tool_say(out, 0, n ? apr_psprintf(ctx->p, "There is no note %d. Text \"my notes\" to see them.", n)
                                : "Which note? Say its number, e.g. \"delete note 2\".");
        return;
    }
    asst_tx_event(ctx->tx, ctx->user_id, "note_deleted", apr_psprintf(ctx->p, "{\"note_id\":%s}", id));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Deleted note %d: %s", n, body));
}

static void delete_all(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *n = asst_tool_delete_all(ctx, "notes", "notes_deleted");

    (void)args;
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Deleted all your notes (%s).", n));
}

static const asst_tool_action_t actions[] = {
    { "add", add, "text", NULL, 0 },
    { "list", list, NULL, NULL, 1 },
    { "search", search, "query", NULL, 1 },
    { "delete", delete_one, NULL, NULL, 0 },
    { "delete_all", delete_all, NULL, "delete all your notes", 0 },
};

const asst_tool_t asst_tool_notes = {
    "notes",
    "The person's notes: add, list, search, delete one (item = number in the list last shown), delete_all.",
    schema, ASST_TOOL_ACTIONS(actions),
};
