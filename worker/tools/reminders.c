/* reminders: texts the assistant sends the person at a time they chose,
 * once or repeating, in their own time zone. The tool stores them; the
 * scheduler fires them (reminders/fire.c). Times are the person's wall
 * clock plus their zone, turned into instants by reminders/when.h. */
#include <string.h>

#include <apr_strings.h>

#include "db/usec.h"
#include "registry.h"
#include "reminders/quiet.h"
#include "reminders/when.h"
#include "zone.h"

#define LIST_MAX "20"
#define SNOOZE_DEFAULT_MINUTES 10
/* "snooze" means the reminder that went off last, if it did this recently. */
#define SNOOZE_WITHIN "2 hours"

static const char schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"action\"],"
    "\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"create\",\"list\",\"cancel\",\"snooze\"]},"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":500,\"description\":\"create: what to remind\"},"
    "\"at\":{\"type\":\"string\",\"minLength\":16,\"maxLength\":19,"
    "\"pattern\":\"^\\\\d{4}-\\\\d{2}-\\\\d{2}T\\\\d{2}:\\\\d{2}(:\\\\d{2})?$\","
    "\"description\":\"create: the person's local date-time YYYY-MM-DDTHH:MM (first time, for a series)\"},"
    "\"rrule\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,"
    "\"description\":\"create: to repeat, an RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=MO,TH\"},"
    "\"wording\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,"
    "\"description\":\"create: the person's words for the time, as said (in 20 minutes, at 5pm)\"},"
    "\"urgent\":{\"type\":\"boolean\",\"description\":\"create: comes even in the person's quiet hours\"},"
    "\"item\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9999,"
    "\"description\":\"cancel: number in the list last shown\"},"
    "\"minutes\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1440,"
    "\"description\":\"snooze: default 10\"}}}";

/* Reminders still to come, soonest first: active ones, and a done one
 * with a snooze (or a quiet-hours hold) ahead; how they are listed and
 * numbered, each by the next time the person will hear it. */
#define ACTIVE_SQL                                                                              \
    "SELECT id, body, " ASST_SQL_USEC("least(next_at, snooze_at)") ", rrule, zone, count(*) OVER () " \
    "FROM reminders WHERE user_id = $1 AND (status = 'active' OR snooze_at IS NOT NULL) "             \
    "ORDER BY least(next_at, snooze_at), id "

/* "Tue 3 Mar, 3:00 PM (Europe/Berlin)", or for a series "every weekday,
 * next tomorrow, Tue 1 Dec, 7:30 AM (...)". */
static const char *when_text(asst_tool_ctx_t *ctx, apr_time_t next, const char *rrule, const char *zone)
{
    const char *at = asst_when_describe(ctx->p, next, ctx->now, zone);

    if (!rrule)
        return at;
    return apr_pstrcat(ctx->p, asst_when_describe_rrule(ctx->p, rrule), ", next ", at, NULL);
}

/* Nothing left to fire: a single time that has passed, or a series that ended. */
static void refuse_past(asst_tool_ctx_t *ctx, const asst_when_spec_t *spec, asst_tool_result_t *out)
{
    apr_time_t at;
    const char *err;

    if (spec->rrule || asst_when_instant(spec->local, ctx->timezone, &at, &err) != 0)
        asst_tool_say(out, 0, "That series has no times left after now. Nothing was saved.");
    else
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "That time has passed: it was %s. Nothing was saved.",
                                           asst_when_describe(ctx->p, at, ctx->now, ctx->timezone)));
}

/* The wall-clock time and the rule, checked; 0, or -1 having said why. */
static int read_spec(asst_tool_ctx_t *ctx, json_object *args, asst_when_spec_t *spec, asst_tool_result_t *out)
{
    const char *at = asst_tool_arg(args, "at"), *rrule = asst_tool_arg(args, "rrule"), *err;

    if (!at) {
        asst_tool_say(out, 0, "When should I remind you? Say a day and a time.");
        return -1;
    }
    if (asst_when_local(at, spec, &err) != 0) {
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "I can't use the time \"%s\": %s", at, err));
        return -1;
    }
    spec->rrule = NULL;
    if (rrule && !(spec->rrule = asst_when_rrule_check(ctx->p, rrule, &err))) {
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "I can't repeat it that way: %s", err));
        return -1;
    }
    return 0;
}

/* The call waited for the person's zone (tools/zone.h): "at" was worked
 * out on the clock of the zone they had then. Their words for the time,
 * when it has them and they are a phrase, are read again on the new clock
 * as of when they asked ("in 20 minutes": 20 minutes after they asked;
 * "at 5pm": 17:00 there). Without them, "at" is kept as the wall-clock
 * time it says. 0, or -1 having said why. */
static int reread_wording(asst_tool_ctx_t *ctx, json_object *args, asst_when_spec_t *spec, asst_tool_result_t *out)
{
    const char *wording = asst_tool_arg(args, "wording"), *err;
    asst_when_spec_t again;

    if (!ctx->zone_answer || !wording || !asst_when_is_phrase(wording, strlen(wording)))
        return 0;
    if (asst_when_resolve(ctx->p, wording, ctx->asked_at ? ctx->asked_at : ctx->now, ctx->timezone, &again,
                          &err) != 0) {
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "%s Nothing was saved.", err));
        return -1;
    }
    memcpy(spec->local, again.local, sizeof(spec->local));
    return 0;
}

/* The first time falls in the person's quiet hours: it will wait for
 * their end (reminders/fire.c), and the person hears so now, not then. */
static const char *quiet_note(asst_tool_ctx_t *ctx, apr_time_t first, const char *rrule)
{
    const char *until = asst_tx_value(ctx->tx,
        "SELECT to_char(q.quiet_until AT TIME ZONE u.timezone, 'FMHH12:MI AM') FROM users u "
        "CROSS JOIN LATERAL (" ASST_SQL_QUIET_UNTIL(ASST_SQL_TS("$2")) ") q WHERE u.id = $1",
        ASST_DB_ARGS(ctx->user_id, asst_db_usec(ctx->p, first)));

    if (!until)
        return "";
    return apr_psprintf(ctx->p, ". That is in your quiet hours, so it will come at %s%s; say \"urgent\" to "
                        "have it on time", until, rrule ? " (and so will others then)" : "");
}

static void create(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *text = asst_tool_arg(args, "text"), *err, *id, *urgent;
    asst_when_spec_t spec;
    apr_time_t first;
    int rc;

    if (read_spec(ctx, args, &spec, out) != 0 || asst_tool_zone_ready(ctx, "set that reminder", out)
        || reread_wording(ctx, args, &spec, out) != 0)
        return;
    /* a second's grace: "now" said to the second is not the past */
    rc = asst_when_next(spec.local, spec.rrule, ctx->timezone, ctx->now - apr_time_from_sec(1), &first, &err);
    if (rc < 0) {
        asst_tool_say(out, 0, apr_psprintf(ctx->p, "I can't set that reminder: %s", err));
        return;
    }
    if (rc > 0) {
        refuse_past(ctx, &spec, out);
        return;
    }
    urgent = asst_tool_arg_int(args, "urgent") ? "t" : "f";
    id = asst_tx_value(ctx->tx, "INSERT INTO reminders (user_id, body, wording, zone, dtstart, rrule, next_at, urgent) "
                                "VALUES ($1, $2, $3, $4, $5, $6, " ASST_SQL_TS("$7") ", $8) RETURNING id",
                       ASST_DB_ARGS(ctx->user_id, text, asst_tool_arg(args, "wording"), ctx->timezone, spec.local,
                                    spec.rrule, asst_db_usec(ctx->p, first), urgent));
    asst_tx_event(ctx->tx, ctx->user_id, "reminder_created",
                  apr_psprintf(ctx->p, "{\"reminder_id\":%s,\"recurring\":%s}", id ? id : "null",
                               spec.rrule ? "true" : "false"));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "OK: %s: %s%s", when_text(ctx, first, spec.rrule, ctx->timezone),
                                       text, *urgent == 't' ? " (urgent)" : quiet_note(ctx, first, spec.rrule)));
}

static void list(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    PGresult *res = asst_tx_query(ctx->tx, ACTIVE_SQL "LIMIT " LIST_MAX, ASST_DB_ARGS(ctx->user_id));
    apr_array_header_t *ids, *texts;

    (void)args;
    if (!res)
        return;
    ids = apr_array_make(ctx->p, PQntuples(res), sizeof(const char *));
    texts = apr_array_make(ctx->p, PQntuples(res), sizeof(const char *));
    for (int i = 0; i < PQntuples(res); i++) {
        APR_ARRAY_PUSH(ids, const char *) = asst_db_text(ctx->p, res, i, 0);
        APR_ARRAY_PUSH(texts, const char *) = apr_psprintf(ctx->p, "%s: %s",
            when_text(ctx, apr_atoi64(PQgetvalue(res, i, 2)), asst_db_text(ctx->p, res, i, 3),
                      PQgetvalue(res, i, 4)), PQgetvalue(res, i, 1));
    }
    if (PQntuples(res) == 0)
        asst_tool_say(out, 1, "You have no reminders.");
    else
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "Your reminders (%s):\n%s", PQgetvalue(res, 0, 5),
                                           asst_tool_show_items(ctx, "reminders", ids, texts)));
    PQclear(res);
}

/* Item n of the list the person saw, or of the list they would see now. */
static const char *item_id(asst_tool_ctx_t *ctx, int n)
{
    if (ctx->last_list_kind && strcmp(ctx->last_list_kind, "reminders") == 0)
        return asst_tool_list_item(ctx, "reminders", "reminders", n);
    return asst_tx_value(ctx->tx, ACTIVE_SQL "OFFSET $2::int - 1 LIMIT 1",
                         ASST_DB_ARGS(ctx->user_id, apr_itoa(ctx->p, n)));
}

static void cancel(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    int n = asst_tool_arg_int(args, "item");
    const char *id = n ? item_id(ctx, n) : NULL;
    const char *body = id ? asst_tx_value(ctx->tx,
        "UPDATE reminders SET status = 'cancelled', next_at = NULL, snooze_at = NULL "
        "WHERE id = $1 AND user_id = $2 AND (status = 'active' OR snooze_at IS NOT NULL) RETURNING body",
        ASST_DB_ARGS(id, ctx->user_id)) : NULL;

    if (!body) {
        if (!ASST_TX_FAILED(ctx->tx))
            asst_tool_say(out, 0, n ? apr_psprintf(ctx->p, "There is no reminder %d. Text \"my reminders\" to "
                                                   "see them.", n)
                                    : "Which reminder? Say its number, e.g. \"cancel reminder 2\".");
        return;
    }
    asst_tx_event(ctx->tx, ctx->user_id, "reminder_cancelled", apr_psprintf(ctx->p, "{\"reminder_id\":%s}", id));
    asst_tool_say(out, 1, apr_psprintf(ctx->p, "Cancelled reminder %d: %s", n, body));
}

static void snooze(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    int minutes = asst_tool_arg_int(args, "minutes");
    apr_time_t at;
    PGresult *res;

    minutes = minutes > 0 ? minutes : SNOOZE_DEFAULT_MINUTES;
    at = ctx->now + apr_time_from_sec((apr_time_t)minutes * 60);
    res = asst_tx_query(ctx->tx,
        "UPDATE reminders SET snooze_at = " ASST_SQL_TS("$2") " WHERE id = ("
        "    SELECT id FROM reminders WHERE user_id = $1 AND status <> 'cancelled' "
        "    AND last_fired_at > now() - interval '" SNOOZE_WITHIN "' ORDER BY last_fired_at DESC, id DESC LIMIT 1) "
        "RETURNING id, body, zone", ASST_DB_ARGS(ctx->user_id, asst_db_usec(ctx->p, at)));
    if (!res)
        return;
    if (PQntuples(res) == 0) {
        asst_tool_say(out, 0, "No reminder went off in the last " SNOOZE_WITHIN ": there is nothing to snooze.");
    } else {
        asst_tx_event(ctx->tx, ctx->user_id, "reminder_snoozed",
                      apr_psprintf(ctx->p, "{\"reminder_id\":%s,\"minutes\":%d}", PQgetvalue(res, 0, 0), minutes));
        asst_tool_say(out, 1, apr_psprintf(ctx->p, "OK: again in %d minute%s, %s: %s", minutes,
                                           minutes == 1 ? "" : "s",
                                           asst_when_describe(ctx->p, at, ctx->now, PQgetvalue(res, 0, 2)),
                                           PQgetvalue(res, 0, 1)));
    }
    PQclear(res);
}

static const asst_tool_action_t actions[] = {
    { "create", create, "text", NULL, 0 },
    { "list", list, NULL, NULL, 1 },
    { "cancel", cancel, NULL, NULL, 0 },
    { "snooze", snooze, NULL, NULL, 0 },
};

const asst_tool_t asst_tool_reminders = {
    "reminders",
    "The person's reminders, texted at their local time: create (text; at = their local date-time; "
    "rrule to repeat), list, cancel (item = number in the list last shown), snooze (the one that just "
    "went off; minutes).",
    schema, ASST_TOOL_ACTIONS(actions),
};
