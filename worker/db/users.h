#ifndef ASST_DB_USERS_H
#define ASST_DB_USERS_H

#include "tx.h"

/* The queries on users and messages the worker's turns make (admin/ and
 * the tools that own a column keep their own). All run in tx. */

typedef struct {
    const char *id;
    const char *phone;
    const char *name;        /* NULL when not set */
    const char *timezone;
    const char *status;      /* active | pending | opted_out | blocked */
} asst_user_t;

/* 1 and *u filled when phone is a user, else 0. */
int asst_db_user_find(asst_tx_t *tx, const char *phone, asst_user_t *u);
/* A new user (pairing_code NULL unless status is pending); *u filled. */
void asst_db_user_create(asst_tx_t *tx, const char *phone, const char *timezone, const char *status,
                         const char *pairing_code, asst_user_t *u);
/* status, and an event of kind event_kind. */
void asst_db_user_set_status(asst_tx_t *tx, asst_user_t *u, const char *status, const char *event_kind);
const char *asst_db_user_pairing_code(asst_tx_t *tx, const asst_user_t *u);

/* Stores an inbound text; its id, or NULL when sid was stored before. */
const char *asst_db_message_in(asst_tx_t *tx, const asst_user_t *u, const char *sid, const char *body);
/* Stores an outbound text waiting to be sent, with the SMS segments it
 * costs; its id. */
const char *asst_db_message_out(asst_tx_t *tx, const char *user_id, const char *body, int segments);

#endif
