/* The roles a child can have, as one table (child.h). */
#include "asst_log.h"
#include "child.h"
#include "consumer.h"
#include "inflight.h"
#include "outbox/outbox.h"
#include "scheduler.h"
#include "work.h"

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
    { "scheduler", "asst-scheduler", 0, just_one, asst_scheduler_run },
    { NULL, NULL, 0, NULL, NULL },
};
