#ifndef ASST_OUTBOX_PRIVATE_H
#define ASST_OUTBOX_PRIVATE_H

#include "outbox.h"

/* Shared by delivery (outbox.c, outbox_many.c) and recovery (outbox_recover.c). */

/* A sender that knows an outcome first-hand tries this often, this far
 * apart, to record it while the database is away (a restart: seconds). */
#define ASST_OUTBOX_SETTLE_TRIES 20
#define ASST_OUTBOX_SETTLE_RETRY_USEC (250 * 1000)
struct asst_outbox {
    asst_db_t *db;
    asst_twilio_t *twilio;
};

/* A row this process holds: claimed for a send, or being looked up. */
typedef struct {
    const char *id;
    const char *kind;
    const char *user_id;
    const char *message_id;
    const char *to;
    const char *body;
    const char *user_status;
    const char *attempts;       /* the claim's number: settles are guarded by it */
} asst_outbox_row_t;

/* Delivers one claimed row of its kind (deliverers.c). The outcome
 * classes are Twilio's names but any provider's: sent, retry later, or
 * failed for good (r->error_message, r->error_code say why). A row is
 * sent either way: send blocks (the scheduler, the spool drain), start
 * runs on a multi handle among the agent loop's other requests and calls
 * done from inside asst_http_multi_run, never from start itself. */
typedef struct {
    const char *kind;
    int (*ready)(const asst_outbox_t *ob);   /* 0: not configured, rows wait */
    /* why row can never go out (a payload it cannot send), or NULL */
    const char *(*unsendable)(const asst_outbox_row_t *row);
    asst_twilio_outcome_t (*send)(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *row,
                                  asst_twilio_result_t *r);
    void (*start)(asst_outbox_t *ob, asst_http_multi_t *m, apr_pool_t *p, const asst_outbox_row_t *row,
                  asst_twilio_done_fn *done, void *baton);
} asst_deliverer_t;

/* NULL for a kind nobody delivers. */
const asst_deliverer_t *asst_deliverer_for(const char *kind);
/* The kinds whose deliverer is ready, as a PostgreSQL array literal
 * ("{sms}"), or NULL when none is. */
const char *asst_deliverer_ready_kinds(const asst_outbox_t *ob, apr_pool_t *p);

typedef struct {
    const char *sql;
    int nparams;
    const char *const *params;
} asst_outbox_stmt_t;

#define ASST_OUTBOX_STMT(sql, ...) { sql, ASST_DB_ARGS(__VA_ARGS__) }

/* Runs stmts in one system-scope transaction. stmts[0] is the guard: an
 * UPDATE of the row that must match it, or nothing is recorded (the row
 * moved on meanwhile) and 1 is returned. 0 when recorded, -1 when the
 * database failed (logged). */
int asst_outbox_settle(asst_outbox_t *ob, const asst_outbox_row_t *row, const asst_outbox_stmt_t *stmts,
                       int n);

/* Records that Twilio has the message (sid, status): row and message sent,
 * event `event_kind`. Same returns as asst_outbox_settle. */
int asst_outbox_settle_sent(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *row,
                            const char *guard_status, const char *sid, const char *status,
                            const char *event_kind);

/* Claims the rows of ids (a PostgreSQL bigint array literal) still
 * pending whose turn it is (the in-order rule), in one transaction;
 * how many, -1 when the database failed. */
int asst_outbox_claim_ids(asst_outbox_t *ob, apr_pool_t *p, const char *ids, apr_array_header_t *rows);

/* The deliverer for claimed row c, or NULL when c can never go out: that
 * is then recorded as a permanent failure (*rv: asst_outbox_conclude's). */
const asst_deliverer_t *asst_outbox_deliverer_or_refuse(asst_outbox_t *ob, apr_pool_t *p,
                                                       const asst_outbox_row_t *c, int *rv);

/* Logs that Twilio took row, which had meanwhile been claimed again. */
void asst_outbox_log_claimed_again(const asst_outbox_row_t *row, const char *sid);

/* Records the outcome of claimed row c (retrying while the database is
 * away) and lets go of it: 0, or -1 when it could not be recorded. */
int asst_outbox_conclude(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *c,
                         asst_twilio_outcome_t outcome, const asst_twilio_result_t *r);

#endif
