#ifndef ASST_DIGEST_SOURCES_H
#define ASST_DIGEST_SOURCES_H

#include <apr_tables.h>
#include <apr_time.h>

#include "db/tx.h"

/* Where a daily digest's items come from: one row per kind of thing in a
 * person's day (digest_sources.c). Reminders are the first; calendar
 * events join as a row, and nothing else changes. */
typedef struct {
    const char *name;     /* its count in the digest_sent event: {"reminders": 2} */
    /* Adds the person's items (asst_digest_item_t, digest_plan.h) whose
     * time is in [from, until) to items, in tx (system scope: every query
     * names the user). A failed statement leaves tx failed. */
    void (*collect)(asst_tx_t *tx, const char *user_id, apr_time_t from, apr_time_t until,
                    apr_array_header_t *items);
} asst_digest_source_t;

extern const asst_digest_source_t asst_digest_sources[];
extern const int asst_digest_source_count;

#endif
