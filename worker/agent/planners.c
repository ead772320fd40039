/* The planners a worker.conf can name: a new one is one row. */
#include <string.h>

#include "planner.h"

static const asst_planner_t *const planners[] = {
    &asst_planner_rules,
};

const asst_planner_t *asst_planner_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(planners) / sizeof(planners[0]); i++)
        if (strcmp(planners[i]->name, name) == 0)
            return planners[i];
    return NULL;
}
