#include <apr_strings.h>

#include "planner.h"

static int acknowledge(const asst_planner_t *self, apr_pool_t *p, const asst_turn_input_t *in,
                       asst_plan_t *out)
{
    out->reply = apr_psprintf(p, "Got it: \"%s\". (I can only acknowledge messages for now.)",
                              in->body ? in->body : "");
    return 0;
}

static const asst_planner_t placeholder = { "placeholder", acknowledge };

const asst_planner_t *asst_planner_placeholder(void)
{
    return &placeholder;
}
