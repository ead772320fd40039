/* The person's time zone: confirmed before a time-dependent action, set
 * with everything that follows it (zone.h). */
#include <string.h>

#include <apr_strings.h>

#include "db/usec.h"
#include "reminders/rezone.h"
#include "reminders/zone_guess.h"
#include "settings_digest.h"
#include "zone.h"

/* A name PostgreSQL knows, as typed in any case first; else a canonical
 * name (not posix/...) whose last part it is, the shortest. Comparing the
 * last part, not LIKE, so % and _ in what people type match nothing. */
static const char lookup_sql[] =
    "SELECT name FROM pg_timezone_names "
    "WHERE lower(name) = lower($1) "
    "   OR (name LIKE '%/%' AND name NOT LIKE 'posix/%' "
    "       AND lower(substring(name FROM '[^/]+$')) = lower(replace(btrim($1), ' ', '_'))) "
    "ORDER BY lower(name) = lower($1) DESC, name = $1 DESC, length(name), name LIMIT 1";

const char *asst_tool_zone_moved(apr_pool_t *p, int moved, const char *zone)
{
    if (moved == 0)
        return "";
    if (moved == 1)
        return apr_psprintf(p, " Your reminder moved to %s time.", zone);
    return apr_psprintf(p, " Your %d reminders moved to %s time.", moved, zone);
}

const char *asst_tool_zone_set(asst_tool_ctx_t *ctx, const char *asked, int *moved)
{
    const char *zone = asst_tx_value(ctx->tx, lookup_sql, ASST_DB_ARGS(asked));

    *moved = 0;
    if (!zone)
        return NULL;
    asst_tx_exec(ctx->tx, "UPDATE users SET timezone = $2, timezone_confirmed = true WHERE id = $1",
                 ASST_DB_ARGS(ctx->user_id, zone));
    *moved = asst_reminders_rezone(ctx->tx, ctx->user_id, zone, ctx->now);
    asst_settings_digest_follow_zone(ctx, zone);
    asst_tx_event(ctx->tx, ctx->user_id, "setting_changed",
                  apr_psprintf(ctx->p, "{\"setting\":\"timezone\",\"reminders_moved\":%d}", *moved));
    ctx->timezone = zone;
    return zone;
}

/* "New York" for America/New_York: the zone as people call it. */
static const char *zone_place(apr_pool_t *p, const char *zone)
{
    const char *slash = strrchr(zone, '/');
    char *place = apr_pstrdup(p, slash ? slash + 1 : zone);

    for (char *c = place; *c; c++)
        if (*c == '_')
            *c = ' ';
    return place;
}

/* "Before I set that: are you on New York time (America/New_York, now
 * 7:02 AM)? ...", led by why it asks again, if it does. */
static void ask(asst_tool_ctx_t *ctx, const char *what, const char *again, asst_tool_result_t *out)
{
    const char *guess = asst_zone_guess(ctx->phone);
    const char *clock;

    if (!guess)
        guess = ctx->timezone;
    clock = asst_tx_value(ctx->tx, "SELECT to_char(" ASST_SQL_TS("$2") " AT TIME ZONE $1, 'FMHH12:MI AM')",
                          ASST_DB_ARGS(guess, apr_psprintf(ctx->p, "%" APR_TIME_T_FMT, ctx->now)));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "%sBefore I set that: are you on %s time (%s, now %s)? Reply YES, "
                                       "or tell me your city or time zone.", again ? again : "",
                                       zone_place(ctx->p, guess), guess, clock ? clock : "?"));
    out->asks_about = what;
    out->asks_zone = guess;
}

/* The person answered the question for this call: their zone, set. */
static int take_answer(asst_tool_ctx_t *ctx, const char *what, asst_tool_result_t *out)
{
    int moved;
    const char *zone = asst_tool_zone_set(ctx, ctx->zone_answer, &moved);

    if (!zone) {
        if (!ASST_TX_FAILED(ctx->tx))
            ask(ctx, what, apr_psprintf(ctx->p, "I don't know the time zone \"%s\". ", ctx->zone_answer), out);
        return 1;
    }
    ctx->preface = apr_psprintf(ctx->p, "Your time zone is now %s.%s", zone,
                                asst_tool_zone_moved(ctx->p, moved, zone));
    return 0;
}

int asst_tool_zone_ready(asst_tool_ctx_t *ctx, const char *what, asst_tool_result_t *out)
{
    const char *confirmed;

    if (ctx->zone_answer)
        return take_answer(ctx, what, out);
    confirmed = asst_tx_value(ctx->tx, "SELECT timezone_confirmed FROM users WHERE id = $1",
                              ASST_DB_ARGS(ctx->user_id));
    if (ASST_TX_FAILED(ctx->tx))
        return 1;
    if (confirmed && strcmp(confirmed, "t") == 0)
        return 0;
    ask(ctx, what, NULL, out);
    return 1;
}
