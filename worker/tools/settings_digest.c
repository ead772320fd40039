/* settings: the daily digest's time (settings_digest.h). */
#include <apr_strings.h>

#include "db/usec.h"
#include "reminders/digest_plan.h"
#include "reminders/when.h"
#include "settings_digest.h"
#include "zone.h"

static void changed(asst_tool_ctx_t *ctx)
{
    asst_tx_event(ctx->tx, ctx->user_id, "setting_changed", "{\"setting\":\"digest\"}");
}

static void ask_when(asst_tool_result_t *out)
{
    asst_tool_say(out, 0, "When should the daily digest come? Say a time, like \"daily digest at 07:30\".");
}

void asst_settings_set_digest(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *asked = asst_tool_arg(args, "digest_at");
    char clock[9];
    apr_time_t next;

    if (asst_when_clock(asked, clock) != 0) {
        ask_when(out);
        return;
    }
    /* a time of day means nothing in the wrong zone: asked first, if need be */
    if (asst_tool_zone_ready(ctx, "set your daily digest", out))
        return;
    if (asst_digest_next(clock, ctx->timezone, ctx->now, &next) != 0) {
        ask_when(out);   /* not reached: a checked clock comes every day */
        return;
    }
    asst_tx_exec(ctx->tx, "INSERT INTO digests (user_id, local_time, next_at) "
                          "VALUES ($1, $2::time, " ASST_SQL_TS("$3") ") ON CONFLICT (user_id) DO UPDATE "
                          "SET local_time = EXCLUDED.local_time, next_at = EXCLUDED.next_at",
                 ASST_DB_ARGS(ctx->user_id, clock, asst_db_usec(ctx->p, next)));
    changed(ctx);
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "OK: every day at %.5s I'll text you the rest of the day's "
                                       "reminders, next %s. A day with nothing scheduled gets no text.", clock,
                                       asst_when_describe(ctx->p, next, ctx->now, ctx->timezone)));
}

void asst_settings_clear_digest(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *gone = asst_tx_value(ctx->tx, "DELETE FROM digests WHERE user_id = $1 RETURNING user_id",
                                     ASST_DB_ARGS(ctx->user_id));

    (void)args;
    if (ASST_TX_FAILED(ctx->tx))
        return;
    if (!gone) {
        asst_tool_say(out, 0, "You have no daily digest.");
        return;
    }
    changed(ctx);
    asst_tool_say(out, 1, "The daily digest is off.");
}

void asst_settings_digest_follow_zone(asst_tool_ctx_t *ctx, const char *zone)
{
    const char *clock = asst_tx_value(ctx->tx, "SELECT to_char(local_time, 'HH24:MI:SS') FROM digests "
                                               "WHERE user_id = $1", ASST_DB_ARGS(ctx->user_id));
    apr_time_t next;

    if (!clock || asst_digest_next(clock, zone, ctx->now, &next) != 0)
        return;
    asst_tx_exec(ctx->tx, "UPDATE digests SET next_at = " ASST_SQL_TS("$2") " WHERE user_id = $1",
                 ASST_DB_ARGS(ctx->user_id, asst_db_usec(ctx->p, next)));
}
