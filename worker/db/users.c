#include <apr_strings.h>

#include "users.h"

int asst_db_user_find(asst_tx_t *tx, const char *phone, asst_user_t *u)
{
    PGresult *res = asst_tx_query(tx, "SELECT id, name, timezone, status FROM users WHERE phone = $1",
                                  ASST_DB_ARGS(phone));
    int found = res && PQntuples(res) == 1;

    if (found) {
        u->id = apr_pstrdup(tx->p, PQgetvalue(res, 0, 0));
        u->name = asst_db_text(tx->p, res, 0, 1);
        u->timezone = apr_pstrdup(tx->p, PQgetvalue(res, 0, 2));
        u->status = apr_pstrdup(tx->p, PQgetvalue(res, 0, 3));
        u->phone = phone;
    }
    PQclear(res);
    return found;
}

void asst_db_user_create(asst_tx_t *tx, const char *phone, const char *timezone, const char *status,
                         const char *pairing_code, asst_user_t *u)
{
    u->id = asst_tx_value(tx, "INSERT INTO users (phone, timezone, status, pairing_code) "
                              "VALUES ($1, $2, $3, $4) RETURNING id",
                          ASST_DB_ARGS(phone, timezone, status, pairing_code));
    u->phone = phone;
    u->name = NULL;
    u->timezone = timezone;
    u->status = status;
    asst_tx_event(tx, u->id, "user_created",
                  apr_psprintf(tx->p, "{\"status\":\"%s\",\"via\":\"signup\"}", status));
}

void asst_db_user_set_status(asst_tx_t *tx, asst_user_t *u, const char *status, const char *event_kind)
{
    asst_tx_exec(tx, "UPDATE users SET status = $2 WHERE id = $1", ASST_DB_ARGS(u->id, status));
    asst_tx_event(tx, u->id, event_kind, "{}");
    u->status = status;
}

const char *asst_db_user_pairing_code(asst_tx_t *tx, const asst_user_t *u)
{
    return asst_tx_value(tx, "SELECT pairing_code FROM users WHERE id = $1", ASST_DB_ARGS(u->id));
}

const char *asst_db_message_in(asst_tx_t *tx, const asst_user_t *u, const char *sid, const char *body)
{
    const char *id = asst_tx_value(tx, "INSERT INTO messages (user_id, direction, twilio_sid, body, status) "
                                       "VALUES ($1, 'in', $2, $3, 'received') "
                                       "ON CONFLICT (twilio_sid) DO NOTHING RETURNING id",
                                   ASST_DB_ARGS(u->id, sid, body ? body : ""));
    if (id)
        asst_tx_event(tx, u->id, "message_received", apr_psprintf(tx->p, "{\"message_id\":%s}", id));
    return id;
}

const char *asst_db_message_out(asst_tx_t *tx, const char *user_id, const char *body, int segments)
{
    return asst_tx_value(tx, "INSERT INTO messages (user_id, direction, body, status, segments) "
                             "VALUES ($1, 'out', $2, 'pending', $3) RETURNING id",
                         ASST_DB_ARGS(user_id, body, apr_itoa(tx->p, segments)));
}
