#ifndef ASST_CONFIRM_H
#define ASST_CONFIRM_H

#include <apr_pools.h>

#include "planner.h"
#include "state.h"

/* YES and NO to an action waiting for confirmation are answered before
 * any planner: YES runs the stored call verbatim (never a re-planned one,
 * so nothing a planner read since can change what runs), NO or expiry
 * drops it. An action waiting for the person's time zone (tools/zone.h)
 * also runs when they name one instead ("London", "I'm in Chicago"): the
 * decision carries the zone, the guess on YES. Returns 1 and fills *out
 * (a decision) when body is such an answer, 0 when the planner should
 * decide. */
int asst_confirm_decide(apr_pool_t *p, const char *body, const asst_agent_state_t *st, asst_step_t *out);

/* The source of a decision that runs a confirmed call. */
#define ASST_CONFIRMED "confirmed"

#endif
