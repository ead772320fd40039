#include <string.h>

#include <apr_strings.h>

#include "db_private.h"

/* The connection for the next statement, or ECONN: none to be had, or the
 * transaction the caller is in died with the previous one. */
static PGconn *usable(asst_db_t *db, asst_db_rc_t *rc)
{
    const char *err;
    PGconn *conn;

    *rc = ASST_DB_ECONN;
    if (db->tx_lost) {
        asst_db_note_error(db, "", "the transaction was lost with the connection; roll back");
        return NULL;
    }
    conn = asst_db_conn(db, &err);
    if (conn)
        *rc = ASST_DB_OK;
    return conn;
}

asst_db_rc_t asst_db_exec(asst_db_t *db, PGresult **res, const char *sql, int nparams,
                          const char *const *params)
{
    asst_db_rc_t rc;
    PGconn *conn = usable(db, &rc);
    PGresult *r;

    if (res)
        *res = NULL;
    if (!conn)
        return rc;
    r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    rc = asst_db_check(db, r);
    if (rc == ASST_DB_OK && res)
        *res = r;
    else
        PQclear(r);
    return rc;
}

const char *asst_db_value(asst_db_t *db, apr_pool_t *p, asst_db_rc_t *rc, const char *sql,
                          int nparams, const char *const *params)
{
    PGresult *res;
    const char *v = NULL;
    asst_db_rc_t r = asst_db_exec(db, &res, sql, nparams, params);

    if (r == ASST_DB_OK && PQntuples(res) > 0 && PQnfields(res) > 0)
        v = asst_db_text(p, res, 0, 0);
    PQclear(res);
    if (rc)
        *rc = r;
    return v;
}

const char *asst_db_text(apr_pool_t *p, const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : apr_pstrdup(p, PQgetvalue(res, row, col));
}

asst_db_rc_t asst_db_exec_script(asst_db_t *db, const char *sql)
{
    asst_db_rc_t rc;
    PGconn *conn = usable(db, &rc);
    PGresult *r;

    if (!conn)
        return rc;
    r = PQexec(conn, sql);
    rc = asst_db_check(db, r);
    PQclear(r);
    return rc;
}

asst_db_rc_t asst_db_begin(asst_db_t *db)
{
    db->tx_lost = 0;
    return asst_db_exec(db, NULL, "BEGIN", 0, NULL);
}

/* COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK. */
asst_db_rc_t asst_db_commit(asst_db_t *db)
{
    PGresult *res;
    asst_db_rc_t rc = asst_db_exec(db, &res, "COMMIT", 0, NULL);

    if (rc == ASST_DB_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        asst_db_note_error(db, "25P02", "the transaction had failed and was rolled back");
        rc = ASST_DB_ESTMT;
    }
    PQclear(res);
    return rc;
}

void asst_db_rollback(asst_db_t *db)
{
    db->tx_lost = 0;
    if (db->conn && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        (void)asst_db_exec(db, NULL, "ROLLBACK", 0, NULL);
}

asst_db_rc_t asst_db_set_user(asst_db_t *db, apr_int64_t user_id)
{
    char id[32];

    apr_snprintf(id, sizeof(id), "%" APR_INT64_T_FMT, user_id);
    return asst_db_exec(db, NULL,
                        "SELECT set_config('asst.user_id', $1, true), "
                        "set_config('asst.scope', '', true)", ASST_DB_ARGS(id));
}

asst_db_rc_t asst_db_set_system(asst_db_t *db)
{
    return asst_db_exec(db, NULL, "SELECT set_config('asst.scope', 'system', true)", 0, NULL);
}

asst_db_rc_t asst_db_begin_system(asst_db_t *db)
{
    asst_db_rc_t rc = asst_db_begin(db);
    return rc == ASST_DB_OK ? asst_db_set_system(db) : rc;
}
