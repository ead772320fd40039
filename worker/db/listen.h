#ifndef ASST_DB_LISTEN_H
#define ASST_DB_LISTEN_H

#include "db.h"

/* Sleeping on LISTEN/NOTIFY: a process that has nothing due waits on its
 * connection's socket instead of polling tables. The LISTEN is a session
 * state: it is issued again on a new connection (asst_db_generation). */

typedef struct asst_db_listener asst_db_listener_t;

asst_db_listener_t *asst_db_listener_create(apr_pool_t *p, asst_db_t *db, const char *channel);

/* Listening on the current connection (dialling when there is none): 0,
 * or -1 when the database is unreachable. */
int asst_db_listener_ready(asst_db_listener_t *l);

/* Waits up to timeout for a notification on the channel or for extra_fd
 * (-1: none) to become readable, whichever comes first; a signal ends the
 * wait early. Returns 1 when notified (all pending notifications are
 * consumed; *payload, when not NULL, is set to their payload if they all
 * had the same one, else NULL; it lives until the next call), 2 when
 * extra_fd is readable, 0 otherwise (timeout, signal), -1 when the
 * connection broke. */
int asst_db_listener_wait(asst_db_listener_t *l, int extra_fd, apr_interval_time_t timeout,
                          const char **payload);

#endif
