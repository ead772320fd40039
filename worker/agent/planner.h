#ifndef ASST_PLANNER_H
#define ASST_PLANNER_H

#include <apr_pools.h>

/* The planner decides what a turn answers. This is the seam the agent
 * issue fills (rules planner, OpenAI-compatible tool calling); the worker
 * only needs a reply today. */

typedef struct {
    long long user_id;
    const char *user_name;   /* may be NULL */
    const char *timezone;
    const char *body;        /* what the person texted */
} asst_turn_input_t;

typedef struct {
    const char *reply;       /* NULL: send nothing */
} asst_plan_t;

typedef struct asst_planner asst_planner_t;
struct asst_planner {
    const char *name;
    int (*plan)(const asst_planner_t *self, apr_pool_t *p, const asst_turn_input_t *in,
                asst_plan_t *out);
};

/* Acknowledges every message; stands in until the agent issue lands. */
const asst_planner_t *asst_planner_placeholder(void);

#endif
