#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "outbox/status.h"
#include "work.h"

void asst_work_item_init(asst_work_t *w, apr_pool_t *p, const char *json, int is_status, asst_work_item_t *item)
{
    const char *err = NULL;

    memset(item, 0, sizeof(*item));
    item->is_status = is_status;
    item->turn.conf = w->conf;
    item->turn.planner = w->planner;
    item->turn.outbox_ids = apr_array_make(p, 2, sizeof(long long));
    if (!json)
        item->reject = "entry has no env field";
    else if (asst_envelope_decode(p, json, &item->env, &err) != 0)
        item->reject = err;
}

asst_turn_status_t asst_work_item_run(asst_work_t *w, apr_pool_t *p, asst_work_item_t *item)
{
    const char *err = NULL;
    asst_turn_status_t st;

    if (item->reject)
        return ASST_TURN_DONE;
    if (item->is_status)
        st = asst_status_apply(w->db, p, &item->env, &err);
    else
        st = asst_turn_run(w->db, p, &item->env, &item->turn);
    if (st == ASST_TURN_RETRY)
        asst_log(ASST_LOG_WARN, "ASST01005: %s %s not processed, will retry: %s",
                 item->is_status ? "status callback for" : "message", item->env.sid,
                 item->is_status ? err : item->turn.error);
    return st;
}

asst_turn_status_t asst_work_envelope(asst_work_t *w, apr_pool_t *p, const char *json, int is_status,
                                      apr_array_header_t *outbox_ids, const char **reject)
{
    asst_work_item_t item;
    asst_turn_status_t st;

    asst_work_item_init(w, p, json, is_status, &item);
    item.turn.outbox_ids = outbox_ids;
    st = asst_work_item_run(w, p, &item);
    *reject = item.reject;
    return st;
}

void asst_work_deliver(asst_work_t *w, apr_pool_t *p, const apr_array_header_t *outbox_ids)
{
    for (int i = 0; i < outbox_ids->nelts; i++)
        asst_outbox_deliver(w->outbox, p, APR_ARRAY_IDX(outbox_ids, i, long long));
}

int asst_work_item_end(asst_work_t *w, const asst_entry_t *e, const asst_work_item_t *item,
                       asst_turn_status_t st)
{
    if (st == ASST_TURN_DEFER) {
        asst_log(ASST_LOG_DEBUG, "ASST01007: %s %s deferred: comes back after ClaimIdle", e->stream, e->id);
        return 0;
    }
    if (item->reject) {
        asst_consumer_dead(w->consumer, e, item->reject);
        return 0;
    }
    /* Committed: a failed ack only means a redelivery the turn ignores. */
    if (asst_consumer_ack(w->consumer, e) != 0)
        asst_log(ASST_LOG_WARN, "ASST01006: committed %s %s but could not ack it; it will be "
                 "redelivered and dropped as a duplicate", e->stream, e->id);
    return 1;
}

int asst_work_deliver_start(asst_work_t *w, asst_http_multi_t *m, apr_pool_t *p, const asst_work_item_t *item,
                            void (*done)(void *baton), void *baton)
{
    if (!w->twilio || item->turn.outbox_ids->nelts == 0)
        return 0;
    asst_outbox_deliver_start(w->outbox, m, p, item->turn.outbox_ids, done, baton);
    return 1;
}

int asst_work_is_status(const asst_work_t *w, const asst_entry_t *e)
{
    return strcmp(e->stream, w->conf->status_stream) == 0;
}
