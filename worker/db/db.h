#ifndef ASST_DB_H
#define ASST_DB_H

#include <apr_pools.h>
#include <apr_time.h>
#include <libpq-fe.h>

/* One process's PostgreSQL connection. It connects on first use with the
 * Database directive (libpq conninfo or URI; connect_timeout defaults to
 * 5 s), and after a failed attempt does not dial again before a backoff
 * that doubles from 100 ms to 5 s, so a dead server costs a caller one
 * quick error and never a busy spin. A connection that breaks is dropped
 * and redialled at once on next use. Create one per process after fork(),
 * never share one across fork().
 *
 * Every statement with values goes through asst_db_exec (PQexecParams):
 * values are parameters, never formatted into SQL text. */

typedef enum {
    ASST_DB_OK = 0,
    ASST_DB_ECONN,  /* no connection, or it broke, or the server is shutting
                     * down: any open transaction is gone; retry later */
    ASST_DB_ESTMT   /* the statement failed (constraint, RLS, syntax,
                     * serialization...): the transaction is aborted, roll back */
} asst_db_rc_t;

typedef struct asst_db asst_db_t;

/* The clock used for the backoff; tests inject one. */
typedef apr_time_t asst_db_clock_fn(void *baton);

asst_db_t *asst_db_create(apr_pool_t *p, const char *conninfo);
void asst_db_set_clock(asst_db_t *db, asst_db_clock_fn *now, void *baton);
void asst_db_set_backoff(asst_db_t *db, apr_interval_time_t min, apr_interval_time_t max);

/* The connection, dialling if there is none and the backoff allows it;
 * NULL with *err (text valid until the next call on db) otherwise. A
 * caller may run its own PQexecParams on it and hand failures to
 * asst_db_check(). */
PGconn *asst_db_conn(asst_db_t *db, const char **err);

/* Counts the connections made: session state (advisory locks, LISTEN) taken
 * under one value was lost when it changed. */
unsigned long asst_db_generation(const asst_db_t *db);

/* How long until asst_db_conn() may dial again; 0 when connected or now. */
apr_interval_time_t asst_db_retry_in(asst_db_t *db);

/* Classifies res (a result of PQexec* on asst_db_conn()'s connection, may
 * be NULL) and drops the connection on a connection-level error. Does not
 * clear res. */
asst_db_rc_t asst_db_check(asst_db_t *db, const PGresult *res);

/* Runs sql with parameters $1..$n (text format; NULL is SQL NULL). With
 * res, a successful result is handed over (PQclear it); on error *res is
 * NULL. Connects lazily. After the connection broke inside a transaction
 * every call returns ASST_DB_ECONN until asst_db_rollback() or
 * asst_db_begin(), so the rest of a lost transaction never runs in
 * autocommit on a fresh connection. */
asst_db_rc_t asst_db_exec(asst_db_t *db, PGresult **res, const char *sql, int nparams,
                          const char *const *params);

/* asst_db_exec(db, &res, "... $1 ... $2", ASST_DB_ARGS(a, b)) */
#define ASST_DB_ARGS(...)                                                         \
    (int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)), \
        (const char *const[]){ __VA_ARGS__ }

/* First column of the first row, copied into p; NULL when there is no row,
 * the value is NULL, or on error (*rc tells which; rc may be NULL). */
const char *asst_db_value(asst_db_t *db, apr_pool_t *p, asst_db_rc_t *rc, const char *sql,
                          int nparams, const char *const *params);

/* Row `row`, column `col` of res copied into p; NULL for SQL NULL. */
const char *asst_db_text(apr_pool_t *p, const PGresult *res, int row, int col);

/* Static, multi-statement SQL with no values at all (the embedded
 * migrations): simple query protocol, PQexec. */
asst_db_rc_t asst_db_exec_script(asst_db_t *db, const char *sql);

asst_db_rc_t asst_db_begin(asst_db_t *db);
asst_db_rc_t asst_db_commit(asst_db_t *db);
/* Never fails: on a broken connection there is nothing left to undo. */
void asst_db_rollback(asst_db_t *db);

/* Row-level security for the rest of the transaction (SET LOCAL via
 * set_config(..., true)): rows of that user only, system scope cleared. */
asst_db_rc_t asst_db_set_user(asst_db_t *db, apr_int64_t user_id);
/* Rows of every user, for code that legitimately spans users. */
asst_db_rc_t asst_db_set_system(asst_db_t *db);

/* asst_db_begin, then asst_db_set_system. */
asst_db_rc_t asst_db_begin_system(asst_db_t *db);

/* The last error: message (primary text only: no DETAIL, which may hold
 * row values) and SQLSTATE ("" for connection failures). */
const char *asst_db_error(const asst_db_t *db);
const char *asst_db_sqlstate(const asst_db_t *db);

/* Closes the connection; the next use dials again. Also run by p's cleanup. */
void asst_db_close(asst_db_t *db);

#endif
