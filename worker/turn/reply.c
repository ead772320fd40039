#include <apr_strings.h>

#include "asst_sms.h"
#include "asst_sms_shape.h"
#include "db/users.h"
#include "reply.h"

#define SMS_MAX_CHARS 1600

apr_array_header_t *asst_reply_parts(apr_pool_t *p, const char *text)
{
    return asst_sms_split(p, text, SMS_MAX_CHARS);
}

void asst_reply_queue(asst_tx_t *tx, const char *user_id, const char *phone, const char *inbound_id,
                      const char *text, apr_array_header_t *outbox_ids)
{
    apr_array_header_t *parts = asst_reply_parts(tx->p, text);
    int segments = 0;

    for (int i = 0; i < parts->nelts && !ASST_TX_FAILED(tx); i++) {
        const char *part = APR_ARRAY_IDX(parts, i, const char *);
        int n = asst_sms_segments(part);
        const char *message_id = asst_db_message_out(tx, user_id, part, n);
        const char *outbox_id = asst_tx_value(tx,
            "INSERT INTO outbox (user_id, kind, payload, status, next_attempt_at, message_id, in_reply_to) "
            "VALUES ($1, 'sms', jsonb_build_object('to', $2::text, 'body', $3::text), 'pending', now(), $4, $5) "
            "RETURNING id", ASST_DB_ARGS(user_id, phone, part, message_id, inbound_id));
        if (outbox_id)
            APR_ARRAY_PUSH(outbox_ids, long long) = apr_atoi64(outbox_id);
        segments += n;
    }
    asst_tx_event(tx, user_id, "reply_queued",
                  apr_psprintf(tx->p, "{\"parts\":%d,\"segments\":%d}", parts->nelts, segments));
}
