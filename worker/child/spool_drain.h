#ifndef ASST_SPOOL_DRAIN_H
#define ASST_SPOOL_DRAIN_H

#include "work.h"

/* Takes in the envelopes mod_assistant spooled while Redis was down
 * ("sms-*.json", "status-*.json"): each is run like a stream entry, and
 * its file is removed only after that committed. A file that is truncated,
 * unreadable or not a decodable envelope is never run: it goes to the
 * dead-letter stream (stream "spool", id the file name) and is removed, or
 * stays while Redis cannot take it. A status callback still unmatched an
 * hour later is renamed ".rejected-<name>". Returns how many files were
 * taken in. */
int asst_spool_drain(asst_work_t *w, apr_pool_t *p, const char *dir);

/* Spooled files in dir now (left for a later pass: Redis or PostgreSQL
 * away, a status callback waiting for its message). */
int asst_spool_waiting(apr_pool_t *p, const char *dir);

#endif
