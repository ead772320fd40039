#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <json-c/json.h>

#include "asst_json.h"
#include "journal.h"

static void add_string(json_object *o, const char *key, const char *value)
{
    if (value)
        json_object_object_add(o, key, json_object_new_string(value));
}

static json_object *encode_calls(const apr_array_header_t *calls)
{
    json_object *array = json_object_new_array();

    for (int i = 0; i < calls->nelts; i++) {
        const asst_call_t *c = &APR_ARRAY_IDX(calls, i, asst_call_t);
        json_object *o = json_object_new_object();
        add_string(o, "id", c->id);
        add_string(o, "name", c->name);
        add_string(o, "arguments", c->arguments);
        if (c->untrusted)
            json_object_object_add(o, "untrusted", json_object_new_boolean(1));
        json_object_array_add(array, o);
    }
    return array;
}

static json_object *usage(const asst_step_t *s)
{
    json_object *u = json_object_new_object();

    json_object_object_add(u, "prompt_tokens", json_object_new_int64(s->prompt_tokens));
    json_object_object_add(u, "completion_tokens", json_object_new_int64(s->completion_tokens));
    return u;
}

static const char *encode(apr_pool_t *p, const asst_step_t *s)
{
    json_object *o = json_object_new_object();
    const char *text;

    if (s->kind == ASST_STEP_DECISION) {
        add_string(o, "reply", s->reply);
        if (s->calls)
            json_object_object_add(o, "calls", encode_calls(s->calls));
        add_string(o, "source", s->source);
        add_string(o, "zone", s->zone);
        if (s->prompt_tokens || s->completion_tokens)
            json_object_object_add(o, "usage", usage(s));
    } else {
        add_string(o, "call_id", s->call_id);
        add_string(o, "name", s->name);
        json_object_object_add(o, "ok", json_object_new_boolean(s->ok));
        add_string(o, "text", s->text);
        if (s->asks_confirmation)
            json_object_object_add(o, "asks_confirmation", json_object_new_boolean(1));
        if (s->rejected)
            json_object_object_add(o, "rejected", json_object_new_boolean(1));
        add_string(o, "untrusted", s->untrusted);
    }
    text = apr_pstrdup(p, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return text;
}

static int get_bool(json_object *o, const char *key)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static apr_array_header_t *decode_calls(apr_pool_t *p, json_object *o)
{
    json_object *array;
    apr_array_header_t *calls;

    if (!json_object_object_get_ex(o, "calls", &array) || !json_object_is_type(array, json_type_array))
        return NULL;
    calls = apr_array_make(p, (int)json_object_array_length(array), sizeof(asst_call_t));
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        json_object *c = json_object_array_get_idx(array, i);
        asst_call_t *call = apr_array_push(calls);
        call->id = asst_json_str(p, c, "id");
        call->name = asst_json_str(p, c, "name");
        call->arguments = asst_json_str(p, c, "arguments");
        call->untrusted = get_bool(c, "untrusted");
    }
    return calls;
}

static void decode(apr_pool_t *p, const char *kind, const char *data, asst_step_t *s)
{
    json_object *o = json_tokener_parse(data);

    s->kind = strcmp(kind, "decision") == 0 ? ASST_STEP_DECISION : ASST_STEP_TOOL;
    if (!o)
        return;
    if (s->kind == ASST_STEP_DECISION) {
        s->reply = asst_json_str(p, o, "reply");
        s->calls = decode_calls(p, o);
        s->source = asst_json_str(p, o, "source");
        s->zone = asst_json_str(p, o, "zone");
    } else {
        s->call_id = asst_json_str(p, o, "call_id");
        s->name = asst_json_str(p, o, "name");
        s->ok = get_bool(o, "ok");
        s->text = asst_json_str(p, o, "text");
        s->asks_confirmation = get_bool(o, "asks_confirmation");
        s->rejected = get_bool(o, "rejected");
        s->untrusted = asst_json_str(p, o, "untrusted");
    }
    json_object_put(o);
}

void asst_journal_load(asst_tx_t *tx, const char *turn_id, apr_array_header_t **steps)
{
    PGresult *res = asst_tx_query(tx, "SELECT n, kind, data::text FROM turn_steps WHERE turn_id = $1 ORDER BY n",
                                  ASST_DB_ARGS(turn_id));

    *steps = apr_array_make(tx->p, res ? PQntuples(res) + 4 : 4, sizeof(asst_step_t));
    for (int i = 0; res && i < PQntuples(res); i++) {
        asst_step_t *s = apr_array_push(*steps);
        memset(s, 0, sizeof(*s));
        s->n = atoi(PQgetvalue(res, i, 0));
        decode(tx->p, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), s);
    }
    PQclear(res);
}

void asst_journal_append(asst_tx_t *tx, const char *turn_id, const char *user_id, const asst_step_t *step)
{
    const char *n = apr_itoa(tx->p, step->n);

    asst_tx_exec(tx, "WITH s AS (INSERT INTO turn_steps (turn_id, n, user_id, kind, data) "
                     "           VALUES ($1, $2, $3, $4, $5::jsonb)) "
                     "UPDATE turns SET steps = $2 WHERE id = $1",
                 ASST_DB_ARGS(turn_id, n, user_id, step->kind == ASST_STEP_DECISION ? "decision" : "tool",
                              encode(tx->p, step)));
}
