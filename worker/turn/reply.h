#ifndef ASST_REPLY_H
#define ASST_REPLY_H

#include <apr_tables.h>

#include "db/tx.h"

/* Queues text to the person as one outbound message + outbox row per SMS
 * part, in tx; the parts share in_reply_to (the inbound message), which
 * keeps them in order. The new outbox ids (long long) are added to
 * outbox_ids, for delivery right after commit. */
/* The SMS parts text is sent as (const char *), each at most what one
 * message carries. */
apr_array_header_t *asst_reply_parts(apr_pool_t *p, const char *text);

void asst_reply_queue(asst_tx_t *tx, const char *user_id, const char *phone, const char *inbound_id,
                      const char *text, apr_array_header_t *outbox_ids);

#endif
