#ifndef ASST_RULES_WHEN_H
#define ASST_RULES_WHEN_H

#include <apr_pools.h>
#include <apr_time.h>
#include <json-c/json.h>

/* The rules planner's step between the phrase parser and the reminders
 * tool: the parser (pure, no clock) leaves the person's time phrase in
 * "when"; here, with the clock and the person's zone, it becomes the
 * tool's "at" (local "YYYY-MM-DDTHH:MM:SS"), "rrule" (when it repeats)
 * and "wording" (the phrase, as said). */

#define ASST_RULES_MAX_WORDING 200

/* args of a parsed call, in place: 0 (also when there is no "when"), or
 * -1 with *err, a sentence for the person ("That time has passed: ...").
 * now is a parameter so tests can fix the clock. */
int asst_rules_when_to_at(apr_pool_t *p, json_object *args, apr_time_t now, const char *zone,
                          const char **err);

#endif
