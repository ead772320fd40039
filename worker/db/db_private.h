#ifndef ASST_DB_PRIVATE_H
#define ASST_DB_PRIVATE_H

/* Shared by db.c (connection, backoff, errors) and db_exec.c (statements,
 * transactions, RLS scope); nobody else looks inside. */

#include "db.h"

struct asst_db {
    const char *conninfo;
    PGconn *conn;
    asst_db_clock_fn *now;
    void *clock_baton;
    apr_interval_time_t backoff_min, backoff_max;
    apr_interval_time_t delay;      /* wait after the next failed dial */
    apr_time_t next_dial;           /* no dial before this */
    unsigned failures;              /* failed dials since the last success */
    unsigned long generation;       /* connections made: session state lives per connection */
    int in_tx;                      /* the last statement left a transaction open */
    int tx_lost;                    /* the connection broke inside a transaction */
    char sqlstate[6];
    char error[512];
};

/* Records an error message for asst_db_error(); sqlstate may be NULL. */
void asst_db_note_error(asst_db_t *db, const char *sqlstate, const char *msg);

#endif
