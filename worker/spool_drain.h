#ifndef ASST_SPOOL_DRAIN_H
#define ASST_SPOOL_DRAIN_H

#include "work.h"

/* Takes in the envelopes mod_assistant spooled while Redis was down
 * ("sms-*.json", "status-*.json"): each is run like a stream entry, and
 * its file is removed only after that committed. A file that can never be
 * processed is renamed ".rejected-<name>" and logged. Returns how many
 * files were taken in. */
int asst_spool_drain(asst_work_t *w, apr_pool_t *p, const char *dir);

#endif
