/* settings: what the assistant calls the person, their time zone (a name
 * PostgreSQL knows, so every time shown and every reminder is in their own
 * time), quiet hours, and the daily digest (settings_digest.c). */
#include <string.h>

#include <apr_strings.h>

#include "registry.h"
#include "reminders/when.h"
#include "settings_digest.h"
#include "zone.h"

static const char schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"action\"],"
    "\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"set_name\",\"set_timezone\",\"set_quiet_hours\","
    "\"clear_quiet_hours\",\"set_digest\",\"clear_digest\",\"show\"]},"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":60},"
    "\"timezone\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,\"description\":\"IANA, e.g. Europe/Berlin\"},"
    "\"quiet_start\":{\"type\":\"string\",\"minLength\":5,\"maxLength\":5,\"description\":\"HH:MM, 24 h\"},"
    "\"quiet_end\":{\"type\":\"string\",\"minLength\":5,\"maxLength\":5,\"description\":\"HH:MM, 24 h\"},"
    "\"digest_at\":{\"type\":\"string\",\"minLength\":5,\"maxLength\":5,\"description\":\"HH:MM, 24 h, local\"}}}";

static void set_name(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *name = asst_tool_arg(args, "name");

    asst_tx_exec(ctx->tx, "UPDATE users SET name = $2 WHERE id = $1", ASST_DB_ARGS(ctx->user_id, name));
    asst_tx_event(ctx->tx, ctx->user_id, "setting_changed", "{\"setting\":\"name\"}");
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "OK, I'll call you %s.", name));
}

static void set_timezone(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *asked = asst_tool_arg(args, "timezone"), *zone, *local;
    int moved;

    /* reminders and the digest follow it there (zone.c) */
    if (!(zone = asst_tool_zone_set(ctx, asked, &moved))) {
        if (!ASST_TX_FAILED(ctx->tx))
            asst_tool_say(out, 0, apr_psprintf(ctx->p, "I don't know the time zone \"%s\". Use a name like "
                                               "Europe/Berlin or America/New_York.", asked));
        return;
    }
    local = asst_tx_value(ctx->tx, "SELECT to_char(now() AT TIME ZONE $1, 'HH24:MI')", ASST_DB_ARGS(zone));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Your time zone is now %s (it is %s there).%s", zone,
                                       local ? local : "?", asst_tool_zone_moved(ctx->p, moved, zone)));
}

static void set_quiet_hours(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *from = asst_tool_arg(args, "quiet_start"), *to = asst_tool_arg(args, "quiet_end");
    char start[9], end[9];

    /* the schema takes HH:MM only */
    if (asst_when_clock(from, start) != 0 || asst_when_clock(to, end) != 0 || strcmp(start, end) == 0) {
        asst_tool_say(out, 0, "Quiet hours need a start and an end, like \"quiet hours 22:00 to 07:00\".");
        return;
    }
    if (asst_tool_zone_ready(ctx, "set your quiet hours", out))
        return;
    asst_tx_exec(ctx->tx, "UPDATE users SET quiet_start = $2::time, quiet_end = $3::time WHERE id = $1",
                 ASST_DB_ARGS(ctx->user_id, from, to));
    asst_tx_event(ctx->tx, ctx->user_id, "setting_changed", "{\"setting\":\"quiet_hours\"}");
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Quiet hours: %s to %s (%s). I'll hold non-urgent texts then.",
                                       from, to, ctx->timezone));
}

static void clear_quiet_hours(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    (void)args;
    asst_tx_exec(ctx->tx, "UPDATE users SET quiet_start = NULL, quiet_end = NULL WHERE id = $1",
                 ASST_DB_ARGS(ctx->user_id));
    asst_tx_event(ctx->tx, ctx->user_id, "setting_changed", "{\"setting\":\"quiet_hours\"}");
    asst_tool_say(out, 1, "Quiet hours are off.");
}

static void show(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    PGresult *res = asst_tx_query(ctx->tx,
        "SELECT coalesce(name, '(not set)'), timezone, "
        "       coalesce(to_char(quiet_start, 'HH24:MI') || ' to ' || to_char(quiet_end, 'HH24:MI'), 'none'), "
        "       " ASST_SETTINGS_DIGEST_SHOWN_SQL " "
        "FROM users WHERE id = $1", ASST_DB_ARGS(ctx->user_id));

    (void)args;
    if (res && PQntuples(res) == 1)
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "Name: %s\nTime zone: %s\nQuiet hours: %s\nDaily digest: %s",
                                           PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                                           PQgetvalue(res, 0, 3)));
    PQclear(res);
}

static const asst_tool_action_t actions[] = {
    { "set_name", set_name, "name", NULL, 0 },
    { "set_timezone", set_timezone, "timezone", NULL, 0 },
    { "set_quiet_hours", set_quiet_hours, NULL, NULL, 0 },
    { "clear_quiet_hours", clear_quiet_hours, NULL, NULL, 0 },
    { "set_digest", asst_settings_set_digest, "digest_at", NULL, 0 },
    { "clear_digest", asst_settings_clear_digest, NULL, NULL, 0 },
    { "show", show, NULL, NULL, 1 },
};

const asst_tool_t asst_tool_settings = {
    "settings",
    "The person's name, IANA time zone, quiet hours (HH:MM 24 h), daily digest time (HH:MM local: a text "
    "listing the rest of the day's reminders), or show them.",
    schema, ASST_TOOL_ACTIONS(actions),
};
