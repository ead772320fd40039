#include <apr_strings.h>

#include "events.h"
#include "tx.h"

void asst_tx_begin(asst_tx_t *tx, asst_db_t *db, apr_pool_t *p, const char *user_id)
{
    tx->db = db;
    tx->p = p;
    tx->rc = user_id ? asst_db_begin(db) : asst_db_begin_system(db);
    if (user_id)
        asst_tx_step(tx, asst_db_set_user(db, apr_atoi64(user_id)));
}

void asst_tx_step(asst_tx_t *tx, asst_db_rc_t rc)
{
    if (!ASST_TX_FAILED(tx))
        tx->rc = rc;
}

PGresult *asst_tx_query(asst_tx_t *tx, const char *sql, int n, const char *const *params)
{
    PGresult *res = NULL;

    if (!ASST_TX_FAILED(tx))
        tx->rc = asst_db_exec(tx->db, &res, sql, n, params);
    return res;
}

void asst_tx_exec(asst_tx_t *tx, const char *sql, int n, const char *const *params)
{
    PQclear(asst_tx_query(tx, sql, n, params));
}

const char *asst_tx_value(asst_tx_t *tx, const char *sql, int n, const char *const *params)
{
    return ASST_TX_FAILED(tx) ? NULL : asst_db_value(tx->db, tx->p, &tx->rc, sql, n, params);
}

void asst_tx_event(asst_tx_t *tx, const char *user_id, const char *kind, const char *data_json)
{
    if (!ASST_TX_FAILED(tx))
        tx->rc = asst_db_event(tx->db, user_id, kind, data_json);
}

asst_db_rc_t asst_tx_finish(asst_tx_t *tx)
{
    if (!ASST_TX_FAILED(tx))
        tx->rc = asst_db_commit(tx->db);
    if (ASST_TX_FAILED(tx))
        asst_db_rollback(tx->db);
    return tx->rc;
}
