#ifndef ASST_SETTINGS_DIGEST_H
#define ASST_SETTINGS_DIGEST_H

#include "tool.h"

/* The settings tool's daily digest (settings_digest.c): the time of day
 * it comes, on the person's wall clock (digests.local_time), and its next
 * instant (digests.next_at), which the scheduler sends it at
 * (reminders/digest.h). */

/* set_digest: "digest_at" HH:MM; replaces an earlier time. */
void asst_settings_set_digest(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out);
/* clear_digest: no more digests. */
void asst_settings_clear_digest(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out);

/* After the person's zone became zone (in ctx->tx): their digest, if they
 * have one, comes at its time of day there. */
void asst_settings_digest_follow_zone(asst_tool_ctx_t *ctx, const char *zone);

/* The settings list's value for it, "07:00" or "off", as an SQL
 * expression of $1, the user. */
#define ASST_SETTINGS_DIGEST_SHOWN_SQL \
    "coalesce((SELECT to_char(local_time, 'HH24:MI') FROM digests WHERE user_id = $1), 'off')"

#endif
