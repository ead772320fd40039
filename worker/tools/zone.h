#ifndef ASST_TOOL_ZONE_H
#define ASST_TOOL_ZONE_H

#include "tool.h"

/* The person's time zone, for the actions that depend on it (a reminder's
 * time, quiet hours, the digest's time of day). A person nobody confirmed
 * a zone for (users.timezone_confirmed false: new people start with
 * DefaultTimezone) is asked before the first such action runs, with a
 * guess from their number's country code (reminders/zone_guess.h), and
 * the call waits, as made, for the answer: YES, a city or a zone
 * (agent/confirm.c). docs/agent.md, "Time zones". */

/* First thing in a time-dependent action: 0 when it may go on in
 * ctx->timezone, the person's confirmed zone (confirmed just now when
 * they answered the question for this call; ctx->preface says so); 1
 * when it must stop, out holding the question (or why the zone they
 * named is none, and the question again). what: what waits, for the
 * "That request (...) expired" reply ("set that reminder"). */
int asst_tool_zone_ready(asst_tool_ctx_t *ctx, const char *what, asst_tool_result_t *out);

/* The zone PostgreSQL knows by asked, its name in any case or a name's
 * last part ("london", "New York": Europe/London, America/New_York), made
 * the person's and confirmed; their active reminders (reminders/rezone.h)
 * and their digest follow it. NULL when there is none. *moved: how many
 * reminders moved. */
const char *asst_tool_zone_set(asst_tool_ctx_t *ctx, const char *asked, int *moved);

/* " Your 3 reminders moved to Europe/London time." or "" when none did. */
const char *asst_tool_zone_moved(apr_pool_t *p, int moved, const char *zone);

#endif
