/* The planners a worker.conf can name: a new one is one row. */
#include <string.h>

#include "planner.h"

static const asst_planner_t *make_rules(apr_pool_t *p, const asst_worker_conf_t *conf)
{
    (void)p;
    (void)conf;
    return &asst_planner_rules;
}

static const struct {
    const char *name;
    const asst_planner_t *(*make)(apr_pool_t *p, const asst_worker_conf_t *conf);
} planners[] = {
    { "rules", make_rules },
    { "openai", asst_planner_openai },
};

const asst_planner_t *asst_planner_make(apr_pool_t *p, const char *name, const asst_worker_conf_t *conf)
{
    for (size_t i = 0; name && i < sizeof(planners) / sizeof(planners[0]); i++)
        if (strcmp(planners[i].name, name) == 0)
            return planners[i].make(p, conf);
    return NULL;
}
