#ifndef ASST_DB_TX_H
#define ASST_DB_TX_H

#include <apr_pools.h>

#include "db.h"

/* A transaction in progress as a straight line of statements: the first
 * failure is kept in rc and every later statement is skipped, so callers
 * check once, at the end (asst_tx_finish). */
typedef struct {
    asst_db_t *db;
    apr_pool_t *p;
    asst_db_rc_t rc;
} asst_tx_t;

#define ASST_TX_FAILED(tx) ((tx)->rc != ASST_DB_OK)

/* BEGIN, then the person's row-level scope (user_id) or system scope (NULL). */
void asst_tx_begin(asst_tx_t *tx, asst_db_t *db, apr_pool_t *p, const char *user_id);

/* Records rc unless an earlier statement already failed. */
void asst_tx_step(asst_tx_t *tx, asst_db_rc_t rc);

/* The result (PQclear it), or NULL once failed. */
PGresult *asst_tx_query(asst_tx_t *tx, const char *sql, int n, const char *const *params);
void asst_tx_exec(asst_tx_t *tx, const char *sql, int n, const char *const *params);
/* First column of the first row, copied into tx->p; NULL when none or failed. */
const char *asst_tx_value(asst_tx_t *tx, const char *sql, int n, const char *const *params);
/* One events row (db/events.h); data_json NULL means {}. */
void asst_tx_event(asst_tx_t *tx, const char *user_id, const char *kind, const char *data_json);

/* COMMIT when nothing failed, else ROLLBACK. Returns the transaction's rc. */
asst_db_rc_t asst_tx_finish(asst_tx_t *tx);

#endif
