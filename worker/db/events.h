#ifndef ASST_DB_EVENTS_H
#define ASST_DB_EVENTS_H

#include "db.h"

/* The events log (sql/001_init.sql): append-only, every state change.
 * Statements that write it start with ASST_DB_EVENT_INSERT, so its shape
 * is written once; set-based writers follow it with a SELECT of
 * (user_id, kind, data). */
#define ASST_DB_EVENT_INSERT "INSERT INTO events (user_id, kind, data) "

/* One event: $1 user id (NULL: about no one), $2 kind, $3 data (JSON text). */
#define ASST_DB_EVENT_SQL ASST_DB_EVENT_INSERT "VALUES ($1, $2, $3::jsonb)"

/* Records one event in the open transaction; data_json NULL means {}. */
asst_db_rc_t asst_db_event(asst_db_t *db, const char *user_id, const char *kind, const char *data_json);

#endif
