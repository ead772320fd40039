#include <string.h>

#include <apr_strings.h>

#include "asst_envelope.h"
#include "asst_log.h"
#include "outbox/status.h"
#include "work.h"

asst_turn_status_t asst_work_envelope(asst_work_t *w, apr_pool_t *p, const char *json, int is_status,
                                      apr_array_header_t *outbox_ids, const char **reject)
{
    asst_envelope_t env;
    asst_turn_t turn = { w->conf, w->planner, outbox_ids, NULL };
    const char *err = NULL;
    asst_turn_status_t st;

    *reject = NULL;
    if (!json) {
        *reject = "entry has no env field";
        return ASST_TURN_DONE;
    }
    if (asst_envelope_decode(p, json, &env, &err) != 0) {
        *reject = err;
        return ASST_TURN_DONE;
    }
    st = is_status ? asst_status_apply(w->db, p, &env, &err) : asst_turn_run(w->db, p, &env, &turn);
    if (st == ASST_TURN_RETRY)
        asst_log(ASST_LOG_WARN, "ASST01005: %s %s not processed, will retry: %s",
                 is_status ? "status callback for" : "message", env.sid, is_status ? err : turn.error);
    return st;
}

void asst_work_deliver(asst_work_t *w, apr_pool_t *p, const apr_array_header_t *outbox_ids)
{
    for (int i = 0; i < outbox_ids->nelts; i++)
        asst_outbox_deliver(w->outbox, p, APR_ARRAY_IDX(outbox_ids, i, long long));
}

asst_turn_status_t asst_work_entry(asst_work_t *w, apr_pool_t *p, const asst_entry_t *e)
{
    apr_array_header_t *ids = apr_array_make(p, 2, sizeof(long long));
    int is_status = strcmp(e->stream, w->conf->status_stream) == 0;
    const char *reject;
    asst_turn_status_t st = asst_work_envelope(w, p, e->env, is_status, ids, &reject);

    if (st == ASST_TURN_RETRY)
        return st;
    if (st == ASST_TURN_DEFER) {
        asst_log(ASST_LOG_DEBUG, "ASST01007: %s %s deferred: comes back after ClaimIdle", e->stream, e->id);
        return st;
    }
    if (reject) {
        asst_consumer_dead(w->consumer, e, reject);
        return ASST_TURN_DONE;
    }
    /* Committed: a failed ack only means a redelivery the turn ignores. */
    if (asst_consumer_ack(w->consumer, e) != 0)
        asst_log(ASST_LOG_WARN, "ASST01006: committed %s %s but could not ack it; it will be "
                 "redelivered and dropped as a duplicate", e->stream, e->id);
    asst_work_deliver(w, p, ids);
    return st;
}
