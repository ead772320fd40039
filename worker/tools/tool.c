/* What every tool handler shares: reading arguments, saying the result,
 * numbered lists the person can refer back to. */
#include <string.h>

#include <apr_strings.h>

#include "tool.h"

#define LIST_LINE_MAX 120   /* longer items are cut in a list: it is an SMS */

void asst_tool_say(asst_tool_result_t *out, int ok, const char *text)
{
    out->ok = ok;
    out->text = text;
}

const char *asst_tool_arg(json_object *args, const char *key)
{
    json_object *v;

    if (!args || !json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int asst_tool_arg_int(json_object *args, const char *key)
{
    json_object *v;

    if (!args || !json_object_object_get_ex(args, key, &v))
        return 0;
    return json_object_get_int(v);
}

const char *asst_tool_list_item(asst_tool_ctx_t *ctx, const char *kind, const char *table, int n)
{
    const char *sql = apr_pstrcat(ctx->p, "SELECT id FROM ", table, " WHERE user_id = $1 ORDER BY id "
                                  "OFFSET $2::int - 1 LIMIT 1", NULL);

    if (n < 1)
        return NULL;
    if (!ctx->last_list_kind || !ctx->last_list_ids || strcmp(ctx->last_list_kind, kind) != 0)
        return asst_tx_value(ctx->tx, sql, ASST_DB_ARGS(ctx->user_id, apr_itoa(ctx->p, n)));
    return n <= ctx->last_list_ids->nelts ? APR_ARRAY_IDX(ctx->last_list_ids, n - 1, const char *) : NULL;
}

/* At most LIST_LINE_MAX bytes, cut at a UTF-8 character boundary. */
static const char *clip(apr_pool_t *p, const char *s)
{
    size_t len = strlen(s);

    if (len <= LIST_LINE_MAX)
        return s;
    len = LIST_LINE_MAX - 3;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return apr_pstrcat(p, apr_pstrndup(p, s, len), "...", NULL);
}

const char *asst_tool_delete_all(asst_tool_ctx_t *ctx, const char *table, const char *event_kind)
{
    PGresult *res = asst_tx_query(ctx->tx, apr_pstrcat(ctx->p, "DELETE FROM ", table, " WHERE user_id = $1", NULL),
                                  ASST_DB_ARGS(ctx->user_id));
    const char *n = res ? apr_pstrdup(ctx->p, PQcmdTuples(res)) : "0";

    PQclear(res);
    asst_tx_event(ctx->tx, ctx->user_id, event_kind, apr_psprintf(ctx->p, "{\"count\":%s}", n));
    return n;
}

const char *asst_tool_show_items(asst_tool_ctx_t *ctx, const char *kind, const apr_array_header_t *ids,
                                 const apr_array_header_t *texts)
{
    const char *text = "";

    ctx->shown_kind = kind;
    ctx->shown_ids = apr_array_copy(ctx->p, ids);
    for (int i = 0; i < texts->nelts; i++)
        text = apr_psprintf(ctx->p, "%s%s%d. %s", text, i ? "\n" : "", i + 1,
                            clip(ctx->p, APR_ARRAY_IDX(texts, i, const char *)));
    return text;
}

const char *asst_tool_show_list(asst_tool_ctx_t *ctx, const char *kind, PGresult *res, int text_col)
{
    apr_array_header_t *ids = apr_array_make(ctx->p, PQntuples(res), sizeof(const char *));
    apr_array_header_t *texts = apr_array_make(ctx->p, PQntuples(res), sizeof(const char *));

    for (int i = 0; i < PQntuples(res); i++) {
        APR_ARRAY_PUSH(ids, const char *) = apr_pstrdup(ctx->p, PQgetvalue(res, i, 0));
        APR_ARRAY_PUSH(texts, const char *) = apr_pstrdup(ctx->p, PQgetvalue(res, i, text_col));
    }
    return asst_tool_show_items(ctx, kind, ids, texts);
}

static const asst_tool_action_t *action_of(const asst_tool_t *tool, json_object *args)
{
    const char *action = asst_tool_arg(args, "action");

    for (size_t i = 0; action && i < tool->nactions; i++)
        if (strcmp(tool->actions[i].action, action) == 0)
            return &tool->actions[i];
    return NULL;
}

const char *asst_tool_confirm(const asst_tool_t *tool, json_object *args)
{
    const asst_tool_action_t *a = action_of(tool, args);

    return a ? a->confirm : NULL;
}

int asst_tool_reads(const asst_tool_t *tool, json_object *args)
{
    const asst_tool_action_t *a;

    if (!tool->actions)
        return tool->reads;
    return (a = action_of(tool, args)) != NULL && a->reads;
}

void asst_tool_run(const asst_tool_t *tool, asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const asst_tool_action_t *a;

    if (!tool->actions) {
        tool->run(ctx, args, out);
        return;
    }
    if (!(a = action_of(tool, args)))
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "%s has no such action", tool->name));
    else if (a->needs && !asst_tool_arg(args, a->needs))
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "%s %s needs \"%s\"", tool->name, a->action, a->needs));
    else
        a->run(ctx, args, out);
    if (ctx->preface && out->text)
        out->text = apr_pstrcat(ctx->p, ctx->preface, " ", out->text, NULL);
}
