/* The roles a child can have, as one table (child.h). */
#include "asst_log.h"
#include "child.h"
#include "consumer.h"
#include "inflight.h"
#include "outbox/outbox.h"
#include "spool_drain.h"
#include "work.h"

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
    { "agent", "asst-agent", 1, configured_workers, asst_inflight_run },
    { "scheduler", "asst-scheduler", 0, just_one, scheduler_loop },
    { NULL, NULL, 0, NULL, NULL },
};
