#ifndef ASST_OUTBOX_H
#define ASST_OUTBOX_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "db/db.h"
#include "net/twilio.h"

/* Delivering outbox rows after their turn committed. A row is claimed
 * (pending -> sending, attempts + 1, claimed_at) in its own transaction
 * before the provider is called, together with a session-level advisory
 * lock on the row id that says "its sender is alive", and settled after:
 * sent, pending again with a backoff (5xx, 429, timeouts), or failed (4xx,
 * too many attempts, recipient opted out). A row 'sending' whose lock is
 * free was left by a session that ended (the process died, or the server
 * restarted): the orphan sweep makes it 'unknown', and it is looked up in
 * Twilio's log, marked sent if Twilio has it, sent again if not. Rows to
 * one person keep their order (see IN_ORDER in outbox.c). */

/* Retries: full jitter from 1 s doubling, capped at 5 s for the first
 * ASST_OUTBOX_QUICK_ATTEMPTS (random faults: the next try usually works, and
 * the circuit breaker, not this backoff, stands between an outage and
 * Twilio), then at 5 min; failed for good after ASST_OUTBOX_MAX_ATTEMPTS
 * (about 10 minutes). */
#define ASST_OUTBOX_MAX_ATTEMPTS 12
#define ASST_OUTBOX_QUICK_ATTEMPTS 8
#define ASST_OUTBOX_BACKOFF_BASE_MS 1000
#define ASST_OUTBOX_QUICK_CAP_MS 5000
#define ASST_OUTBOX_BACKOFF_CAP_MS (5 * 60 * 1000)

/* How long a fresh row is left to the process that queued it before the
 * scheduler sends it (an SQL interval). */
#define ASST_OUTBOX_AGENT_GRACE "interval '2 seconds'"

typedef struct asst_outbox asst_outbox_t;

/* twilio may be NULL (not configured): rows then wait as pending. */
asst_outbox_t *asst_outbox_create(apr_pool_t *p, asst_db_t *db, asst_twilio_t *twilio);

/* Sends row id if it is still pending. 0, or -1 when the database failed. */
int asst_outbox_deliver(asst_outbox_t *ob, apr_pool_t *p, apr_int64_t id);

/* Many people's rows at once, for the scheduler. Each person's go out
 * one after another, in the order added, as asst_outbox_deliver_start
 * sends them; every person's next row is claimed in one statement, all
 * are sent together on m, and the sends that succeed are recorded
 * together: a burst of thousands costs a few statements per round, not a
 * few per text. A row not claimed (sent meanwhile, or not its turn) is
 * passed over and left pending for asst_outbox_deliver_due. Without a
 * multi handle (m NULL) each row is sent as it is added, one at a time.
 * Everything lives in p. */
typedef struct asst_outbox_many asst_outbox_many_t;

asst_outbox_many_t *asst_outbox_many_make(asst_outbox_t *ob, asst_http_multi_t *m, apr_pool_t *p);

/* Adds row id, to person (a user id), after that person's rows so far. */
void asst_outbox_many_add(asst_outbox_many_t *mn, const char *person, apr_int64_t id);

/* Moves the sends on: claims what may go, waits up to timeout_ms for
 * answers, records them. 1 while something is left to do. */
int asst_outbox_many_run(asst_outbox_many_t *mn, long timeout_ms);

/* Runs until every row is settled or passed over: how many were sent,
 * -1 when the database failed. */
int asst_outbox_many_finish(asst_outbox_many_t *mn);

/* The rows ids (of long long, a turn's, in the order queued) on m, one
 * after another: each is claimed and settled as by asst_outbox_deliver,
 * its send running on m meanwhile. done(baton) once the last one is
 * settled, always from inside asst_http_multi_run (also when there was
 * nothing to send), never from here. ids and everything else live in p
 * until then. A failed claim (the database) leaves that row pending for
 * asst_outbox_deliver_due. */
void asst_outbox_deliver_start(asst_outbox_t *ob, asst_http_multi_t *m, apr_pool_t *p,
                               const apr_array_header_t *ids, void (*done)(void *baton), void *baton);

/* Claims up to limit due rows no other process holds and sends them, in
 * order. Returns how many were claimed, or -1 when the database failed. */
int asst_outbox_deliver_due(asst_outbox_t *ob, apr_pool_t *p, int limit);

/* When the scheduler next has something to do here: a retry, a fresh row
 * past its grace, an unknown row to look up, or (while rows are being
 * sent) the next orphan sweep, a second away. 0 with *at, 1 when nothing
 * is waiting (or no deliverer is ready), -1 when the database failed. */
int asst_outbox_next_due(asst_outbox_t *ob, apr_pool_t *p, apr_time_t *at);

/* Rows 'sending' that nobody holds become 'unknown' (looked up after a
 * second). Returns how many, or -1 when the database failed. */
int asst_outbox_sweep_orphans(asst_outbox_t *ob, apr_pool_t *p);

/* Looks up to limit due 'unknown' rows up in Twilio's log: sent if it has
 * them, pending again (sent at once) if not. Returns how many were looked
 * at, or -1 when the database failed. */
int asst_outbox_reconcile_due(asst_outbox_t *ob, apr_pool_t *p, int limit);

#endif
