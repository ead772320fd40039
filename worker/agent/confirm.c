#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "confirm.h"
#include "rules_parse.h"

#define NO_ZONE "OK, nothing was set. Tell me your time zone, e.g. \"my timezone is Europe/Berlin\"."

typedef enum { ANSWER_NONE, ANSWER_YES, ANSWER_NO } answer_t;

static const struct {
    const char *word;
    answer_t answer;
} words[] = {
    { "yes", ANSWER_YES }, { "y", ANSWER_YES }, { "yes please", ANSWER_YES }, { "yep", ANSWER_YES },
    { "no", ANSWER_NO }, { "n", ANSWER_NO }, { "nope", ANSWER_NO }, { "no thanks", ANSWER_NO },
};

/* The body without surrounding blanks and trailing . ! */
static answer_t answer_of(apr_pool_t *p, const char *body)
{
    size_t len;

    while (body && isspace((unsigned char)*body))
        body++;
    if (!body)
        return ANSWER_NONE;
    len = strlen(body);
    while (len > 0 && (isspace((unsigned char)body[len - 1]) || body[len - 1] == '.' || body[len - 1] == '!'))
        len--;
    body = apr_pstrndup(p, body, len);
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasecmp(body, words[i].word) == 0)
            return words[i].answer;
    return ANSWER_NONE;
}

static void reply(asst_step_t *out, const char *text)
{
    out->reply = text;
    out->source = "confirmation";
}

/* The zone a text names, as the answer to "are you on New York time?":
 * what the rules parser reads as setting one ("London", "I'm in
 * Chicago", "my timezone is Europe/Berlin"), whichever planner runs;
 * NULL when it names none. */
static const char *zone_named(apr_pool_t *p, const char *body)
{
    asst_rules_call_t parsed;
    json_object *zone;
    const char *named = NULL;

    asst_rules_parse(p, body, NULL, &parsed);
    if (asst_rules_call_is(&parsed, "settings", "set_timezone")
        && json_object_object_get_ex(parsed.args, "timezone", &zone))
        named = apr_pstrdup(p, json_object_get_string(zone));
    json_object_put(parsed.args);
    return named;
}

/* The stored call, verbatim; in zone when it waited for one. */
static void run_pending(apr_pool_t *p, const asst_agent_state_t *st, const char *zone, asst_step_t *out)
{
    asst_call_t *call;

    if (st->pending_expired) {
        reply(out, apr_psprintf(p, "That request (%s) expired, so I did nothing. Ask again if you still want it.",
                                st->pending_prompt ? st->pending_prompt : "?"));
        return;
    }
    out->calls = apr_array_make(p, 1, sizeof(asst_call_t));
    call = apr_array_push(out->calls);
    call->id = "confirmed";
    call->name = st->pending_name;
    call->arguments = st->pending_arguments;
    out->source = ASST_CONFIRMED;
    out->zone = zone;
}

int asst_confirm_decide(apr_pool_t *p, const char *body, const asst_agent_state_t *st, asst_step_t *out)
{
    answer_t answer = answer_of(p, body);
    const char *zone;

    if (answer == ANSWER_NONE && st->pending_name && st->pending_zone && (zone = zone_named(p, body))) {
        run_pending(p, st, zone, out);
        return 1;
    }
    if (answer == ANSWER_NONE || (answer == ANSWER_NO && !st->pending_name))
        return 0;
    if (answer == ANSWER_NO)
        reply(out, st->pending_zone ? NO_ZONE : "OK, I won't. Nothing was changed.");
    else if (!st->pending_name)
        reply(out, "There is nothing waiting for a YES.");
    else
        run_pending(p, st, st->pending_zone, out);
    return 1;
}
