#include <string.h>

#include <apr_strings.h>
#include <json-c/json.h>

#include "db/usec.h"
#include "state.h"

static apr_array_header_t *decode_ids(apr_pool_t *p, const char *json)
{
    json_object *array = json ? json_tokener_parse(json) : NULL;
    apr_array_header_t *ids = apr_array_make(p, 8, sizeof(const char *));

    for (size_t i = 0; array && json_object_is_type(array, json_type_array)
                       && i < json_object_array_length(array); i++)
        APR_ARRAY_PUSH(ids, const char *) = apr_pstrdup(p, json_object_get_string(
                                                               json_object_array_get_idx(array, i)));
    json_object_put(array);
    return ids;
}

void asst_state_load(asst_tx_t *tx, const char *user_id, asst_agent_state_t *st)
{
    PGresult *res = asst_tx_query(tx,
        "SELECT pending->>'name', pending->>'arguments', pending->>'prompt', pending_expires_at <= now(), "
        "       last_list->>'kind', (last_list->'ids')::text, pending->>'zone', pending->>'asked_at' "
        "FROM agent_state WHERE user_id = $1", ASST_DB_ARGS(user_id));

    memset(st, 0, sizeof(*st));
    if (res && PQntuples(res) == 1) {
        st->pending_name = asst_db_text(tx->p, res, 0, 0);
        st->pending_arguments = asst_db_text(tx->p, res, 0, 1);
        st->pending_prompt = asst_db_text(tx->p, res, 0, 2);
        st->pending_expired = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        st->last_list_kind = asst_db_text(tx->p, res, 0, 4);
        st->last_list_ids = decode_ids(tx->p, asst_db_text(tx->p, res, 0, 5));
        st->pending_zone = asst_db_text(tx->p, res, 0, 6);
        st->pending_asked_at = apr_atoi64(PQgetvalue(res, 0, 7));
    }
    PQclear(res);
}

static const char *encode_ids(apr_pool_t *p, const apr_array_header_t *ids)
{
    json_object *array = json_object_new_array();
    const char *text;

    for (int i = 0; i < ids->nelts; i++)
        json_object_array_add(array, json_object_new_int64(apr_atoi64(APR_ARRAY_IDX(ids, i, const char *))));
    text = apr_pstrdup(p, json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN));
    json_object_put(array);
    return text;
}

void asst_state_set_list(asst_tx_t *tx, const char *user_id, const char *kind, const apr_array_header_t *ids)
{
    asst_tx_exec(tx, "INSERT INTO agent_state (user_id, last_list) "
                     "VALUES ($1, jsonb_build_object('kind', $2::text, 'ids', $3::jsonb)) "
                     "ON CONFLICT (user_id) DO UPDATE SET last_list = excluded.last_list",
                 ASST_DB_ARGS(user_id, kind, encode_ids(tx->p, ids)));
}

void asst_state_set_pending(asst_tx_t *tx, const char *user_id, const char *name, const char *arguments,
                            const char *prompt, const char *zone, apr_time_t asked_at, long ttl_sec)
{
    asst_tx_exec(tx, "INSERT INTO agent_state (user_id, pending, pending_expires_at) "
                     "VALUES ($1, jsonb_strip_nulls(jsonb_build_object('name', $2::text, 'arguments', $3::text, "
                     "            'prompt', $4::text, 'zone', $6::text, 'asked_at', $7::text)), "
                     "        now() + $5::int * interval '1 second') "
                     "ON CONFLICT (user_id) DO UPDATE SET pending = excluded.pending, "
                     "                                    pending_expires_at = excluded.pending_expires_at",
                 ASST_DB_ARGS(user_id, name, arguments, prompt, apr_ltoa(tx->p, ttl_sec), zone,
                              asst_db_usec(tx->p, asked_at)));
}

void asst_state_clear_pending(asst_tx_t *tx, const char *user_id)
{
    asst_tx_exec(tx, "UPDATE agent_state SET pending = NULL, pending_expires_at = NULL "
                     "WHERE user_id = $1 AND pending IS NOT NULL", ASST_DB_ARGS(user_id));
}
