#ifndef ASST_DIGEST_H
#define ASST_DIGEST_H

#include <apr_pools.h>
#include <apr_time.h>

#include "db/db.h"
#include "net/http.h"
#include "outbox/outbox.h"

/* The daily digest, in the scheduler child. Due digests (digests.next_at
 * has come) are claimed in batches with FOR UPDATE SKIP LOCKED, so any
 * number of worker hosts on one database send each once. For each, in the
 * batch's one transaction: the text listing the rest of the person's day
 * (digest_sources.h; "Today: 9:00 AM call mom; 3:00 PM dentist") queued as
 * a messages + outbox row, or nothing when the day holds nothing, the
 * person cannot be texted, or its day went by while no scheduler ran; the
 * digest moved to its next time; and a digest_sent, digest_empty or
 * digest_skipped event. A batch that fails is taken again one digest per
 * transaction, and one that fails alone is postponed a minute. The texts
 * are delivered after the commit. */

typedef struct asst_digests asst_digests_t;

/* multi: the texts go out on it, people at once (NULL: one at a time). */
asst_digests_t *asst_digests_create(apr_pool_t *p, asst_db_t *db, asst_outbox_t *ob, asst_http_multi_t *multi);

/* Takes up to limit due digests and delivers their texts. Returns how
 * many were taken (sent, empty or skipped), or -1 when the database
 * failed. */
int asst_digests_send_due(asst_digests_t *d, apr_pool_t *p, int limit);

/* When the next digest is due: 0 with *at, 1 when none is, -1 when the
 * database failed. */
int asst_digests_next_due(asst_digests_t *d, apr_pool_t *p, apr_time_t *at);

#endif
