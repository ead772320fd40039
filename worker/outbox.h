#ifndef ASST_OUTBOX_H
#define ASST_OUTBOX_H

#include <apr_pools.h>

#include "db/db.h"
#include "net/twilio.h"

/* Delivering outbox rows after their turn committed. A row is claimed
 * (pending -> sending, attempts + 1) in its own transaction before the
 * provider is called and settled after: sent, pending again with a backoff
 * (5xx, 429, timeouts), or failed (4xx, too many attempts, recipient opted
 * out). A crash between the provider accepting and the row being settled
 * leaves it 'sending'; asst_outbox_requeue_stale() sends it again and
 * counts it: the only place a reply can be duplicated. */

#define ASST_OUTBOX_MAX_ATTEMPTS 10
#define ASST_OUTBOX_BACKOFF_BASE_MS 1000
#define ASST_OUTBOX_BACKOFF_CAP_MS (5 * 60 * 1000)

typedef struct asst_outbox asst_outbox_t;

/* twilio may be NULL (not configured): rows then wait as pending. */
asst_outbox_t *asst_outbox_create(apr_pool_t *p, asst_db_t *db, asst_twilio_t *twilio);

/* Sends row id if it is still pending. 0, or -1 when the database failed. */
int asst_outbox_deliver(asst_outbox_t *ob, apr_pool_t *p, apr_int64_t id);

/* Claims up to limit due rows no other process holds and sends them, in
 * order. Returns how many were claimed, or -1 when the database failed. */
int asst_outbox_deliver_due(asst_outbox_t *ob, apr_pool_t *p, int limit);

/* Rows 'sending' for longer than stale_s go back to pending; returns how many. */
int asst_outbox_requeue_stale(asst_outbox_t *ob, apr_pool_t *p, long stale_s);

#endif
