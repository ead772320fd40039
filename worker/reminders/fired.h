#ifndef ASST_FIRED_H
#define ASST_FIRED_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "db/tx.h"
#include "firing.h"

/* What a batch of firings writes, as one statement however large the
 * batch: each text's messages + outbox rows (a part each), each
 * reminder moved on (or done), its reminder_firings row and its events.
 * Row by row that was five statements per firing, which a burst of
 * 10,000 due in one second could not afford. */
typedef struct asst_fired_batch asst_fired_batch_t;

/* One reminder as fired: the occurrence (or snooze) due, the series'
 * next instant after it (NULL: none left; ignored for a snooze). */
typedef struct {
    const char *reminder_id, *user_id, *phone;
    int snoozed;
    apr_time_t due;
    const apr_time_t *next;
    const asst_firing_t *firing;
} asst_fired_t;

asst_fired_batch_t *asst_fired_batch_make(apr_pool_t *p);

void asst_fired_batch_add(asst_fired_batch_t *b, const asst_fired_t *f);

/* Writes the batch in tx. The texts queued go to outbox_ids (long long)
 * with their person in owners (const char *), in firing order, parts in
 * order. A failed statement leaves tx failed. */
void asst_fired_batch_write(asst_fired_batch_t *b, asst_tx_t *tx, apr_array_header_t *outbox_ids,
                            apr_array_header_t *owners);

#endif
