#include <string.h>

#include <apr_strings.h>

#include "asst_form.h"
#include "status.h"
#include "db/events.h"

/* Twilio's message statuses in the order they happen. */
#define STATUS_ORDER \
    "ARRAY['pending','accepted','queued','sending','sent','delivered','undelivered','failed','read']"

static const char update_message[] =
    "WITH m AS (UPDATE messages SET status = $2, error_code = $3::int "
    "           WHERE twilio_sid = $1 "
    "             AND coalesce(array_position(" STATUS_ORDER ", status), 0) "
    "                 <= coalesce(array_position(" STATUS_ORDER ", $2::text), 99) "
    "           RETURNING id, user_id) "
    ASST_DB_EVENT_INSERT
    "SELECT user_id, 'delivery_status', jsonb_build_object('message_id', id, 'status', $2::text, "
    "       'error_code', $3::int) FROM m";

static const char fail_outbox[] =
    "UPDATE outbox SET status = 'failed', last_error = 'Twilio: ' || $2 || coalesce(' ' || $3, '') "
    "WHERE provider_id = $1 AND $2 IN ('undelivered', 'failed')";

static const char opt_out[] =
    "UPDATE users SET status = 'opted_out' "
    "WHERE $2 = '21610' AND id = (SELECT user_id FROM messages WHERE twilio_sid = $1)";

static const char *param(const asst_envelope_t *env, const char *name)
{
    for (int i = 0; i < env->params->nelts; i++) {
        const asst_param_t *prm = &APR_ARRAY_IDX(env->params, i, asst_param_t);
        if (strcmp(prm->name, name) == 0 && *prm->value)
            return prm->value;
    }
    return NULL;
}

asst_turn_status_t asst_status_apply(asst_db_t *db, apr_pool_t *p, const asst_envelope_t *env,
                                     const char **error)
{
    const char *status = param(env, "MessageStatus"), *code = param(env, "ErrorCode");
    const char *known = NULL;
    asst_db_rc_t rc = asst_db_begin_system(db);

    /* Twilio can call back before the send is recorded with its sid. */
    if (rc == ASST_DB_OK)
        known = asst_db_value(db, p, &rc, "SELECT 1 FROM messages WHERE twilio_sid = $1",
                              ASST_DB_ARGS(env->sid));
    if (rc == ASST_DB_OK && !known) {
        asst_db_rollback(db);
        return ASST_TURN_DEFER;
    }
    if (rc == ASST_DB_OK)
        rc = asst_db_exec(db, NULL, update_message, ASST_DB_ARGS(env->sid, status, code));
    if (rc == ASST_DB_OK)
        rc = asst_db_exec(db, NULL, fail_outbox, ASST_DB_ARGS(env->sid, status, code));
    if (rc == ASST_DB_OK)
        rc = asst_db_exec(db, NULL, opt_out, ASST_DB_ARGS(env->sid, code ? code : ""));
    if (rc == ASST_DB_OK)
        rc = asst_db_commit(db);
    if (rc != ASST_DB_OK) {
        asst_db_rollback(db);
        *error = apr_pstrdup(p, asst_db_error(db));
        return ASST_TURN_RETRY;
    }
    return ASST_TURN_DONE;
}
