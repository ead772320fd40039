/* The roles a child can have, as one table (child.h). */
#include "asst_log.h"
#include "child.h"
#include "consumer.h"
#include "outbox/outbox.h"
#include "spool_drain.h"
#include "work.h"

#define BLOCK_MS 1000              /* XREADGROUP wait: how often stop is noticed */

/* Consumes the streams and runs turns. */
static int agent_loop(asst_work_t *w)
{
    long max_turns = w->conf->max_turns_per_child;
    apr_interval_time_t backoff = 0;
    apr_pool_t *ep = NULL;
    asst_entry_t entry;
    int held = 0;
    long turns = 0;

    while (asst_child_should_run() && (max_turns == 0 || turns < max_turns)) {
        int rv;
        if (!held) {
            if (ep)
                apr_pool_destroy(ep);
            apr_pool_create(&ep, w->pool);
            rv = asst_consumer_next(w->consumer, ep, &entry, BLOCK_MS);
            if (rv < 0)
                asst_child_nap(backoff = asst_child_backoff(backoff));
            held = rv > 0;
            if (!held)
                continue;
        }
        if (asst_work_entry(w, ep, &entry) == ASST_TURN_RETRY) {
            asst_child_nap(backoff = asst_child_backoff(backoff));
            continue;
        }
        held = 0;
        backoff = 0;
        turns++;
    }
    if (max_turns && turns >= max_turns)
        asst_log(ASST_LOG_INFO, "ASST01004: retiring after %ld turns (MaxTurnsPerChild)", turns);
    return ASST_CHILD_EXIT_DONE;
}

/* Retries due outbox rows and drains the edge's spool. Every pass: rows whose sender went away are found (within a second of
 * its death) and looked up, then due rows are sent. */
static int scheduler_loop(asst_work_t *w)
{
    while (asst_child_should_run()) {
        apr_pool_t *p;
        int busy = 0;
        apr_pool_create(&p, w->pool);
        asst_outbox_sweep_orphans(w->outbox, p);
        busy |= asst_outbox_reconcile_due(w->outbox, p, 20) == 20;
        busy |= asst_outbox_deliver_due(w->outbox, p, 20) == 20;
        if (w->conf->spool_dir)
            busy |= asst_spool_drain(w, p, w->conf->spool_dir) > 0;
        apr_pool_destroy(p);
        if (!busy)
            asst_child_nap(apr_time_from_sec(1));
    }
    return ASST_CHILD_EXIT_DONE;
}

static long configured_workers(const asst_worker_conf_t *conf)
{
    return conf->workers;
}

static long just_one(const asst_worker_conf_t *conf)
{
    (void)conf;
    return 1;
}

const asst_child_role_t asst_child_roles[] = {
    { "agent", "asst-agent", 1, configured_workers, agent_loop },
    { "scheduler", "asst-scheduler", 0, just_one, scheduler_loop },
    { NULL, NULL, 0, NULL, NULL },
};
