#ifndef ASST_STATUS_H
#define ASST_STATUS_H

#include <apr_pools.h>

#include "asst_envelope.h"
#include "db/db.h"
#include "turn/turn.h"

/* A Twilio status callback (envelope from the status stream): the message
 * with that sid takes the new status and error code, never moving
 * backwards (callbacks arrive out of order); undelivered/failed also mark
 * its outbox row failed, and 21610 opts the user out. One transaction.
 * DEFER when no message has that sid yet: Twilio may call back before the
 * send that got the sid has been recorded. */
asst_turn_status_t asst_status_apply(asst_db_t *db, apr_pool_t *p, const asst_envelope_t *env,
                                     const char **error);

#endif
