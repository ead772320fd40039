#ifndef ASST_FIRE_H
#define ASST_FIRE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "db/db.h"
#include "net/http.h"
#include "outbox/outbox.h"

/* Firing reminders, in the scheduler child. Due reminders (an active one
 * whose next_at has come, or a snooze whose snooze_at has) are claimed in
 * batches with FOR UPDATE SKIP LOCKED, so any number of worker hosts on
 * one database fire each once. A firing's SMS (messages + outbox rows),
 * the reminder's next occurrence (or done), fired + 1, last_fired_at and
 * its reminder_fired event commit together: a batch's firings share one
 * transaction, and a batch that fails is fired again one per transaction,
 * so one reminder that cannot be fired holds up no other. The SMS rows are
 * delivered after the commit. */

typedef struct asst_reminders asst_reminders_t;

/* missed_policy: ASST_MISSED_FIRE | ASST_MISSED_SKIP (conf/worker_conf.h);
 * multi: the texts go out on it, people at once (NULL: one at a time). */
asst_reminders_t *asst_reminders_create(apr_pool_t *p, asst_db_t *db, asst_outbox_t *ob, int missed_policy,
                                        asst_http_multi_t *multi);

/* Fires due reminders in batches of limit (a few batches at most, each
 * one's texts going out while the next is fired) and delivers their
 * texts. Returns how many were fired (texted or skipped; limit or more:
 * more may be waiting), or -1 when the database failed. */
int asst_reminders_fire_due(asst_reminders_t *r, apr_pool_t *p, int limit);

/* The scheduler's alarm clock: when the next reminder (or snooze) is
 * due. 0 with *at, 1 when none is, -1 when the database failed. */
int asst_reminders_next_due(asst_reminders_t *r, apr_pool_t *p, apr_time_t *at);

#endif
