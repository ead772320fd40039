/* The phrase table of the rules planner. The first row whose pattern
 * matches the whole text decides, so a row's first words decide what a
 * text is ("note: ... delete all my notes" is a note), specific rows come
 * before general ones, and a new phrase joins as one row (with a corpus
 * line in tests/unit/rules_corpus.tsv; the unit test wants every row hit).
 * The pattern language is described in rules_parse_private.h. */
#include <string.h>

#include "rules_parse_private.h"

typedef struct {
    const char *pattern;
    const char *tool;     /* NOTHING: understood as asking for nothing */
    const char *action;   /* NULL: no "action" member (help) */
    const char *after;    /* ANY, or the last list this row needs */
} rule_t;

#define ANY NULL
#define NOTHING NULL

/* Word classes, pasted into patterns. */
#define SHOW "show|list|see|view|read|display|get|check|open"
#define DELETE "delete|remove|erase|drop"
#define CLEAR "delete|remove|erase|clear|wipe|empty|reset"
#define MEMORIES "memories|memory|facts"
#define ZONE "time_zone|tz"
#define QUIET "quiet_hours|quiet_hour|quiet_time|do_not_disturb|dnd"
#define UNTIL "to|-|\xE2\x80\x93|until|till|through|thru|and"   /* \xE2\x80\x93: en dash */
#define DIGEST "digest|summary|briefing|rundown"
#define DAILY "daily|morning|evening|nightly"
#define DAY "day|morning|evening|night"

static const rule_t rules[] = {
    /* a bare number is an item of the list just shown */
    { DELETE "|forget [number|item] {item}", "notes", "delete", "notes" },
    { DELETE "|forget [number|item] {item}", "memory", "forget", "memory" },
    { DELETE "|cancel|stop [number|item] {item}", "reminders", "cancel", "reminders" },

    /* notes */
    { "note to self {text}", "notes", "add", ANY },
    { "write|jot|note [this|it] down [that] {text}", "notes", "add", ANY },
    { "note {text}", "notes", "add", ANY },
    { "add|new|create|save [a] [new] note [that] {text}", "notes", "add", ANY },
    { "make|take [a] note [of] [that|to] {text}", "notes", "add", ANY },
    { "add|save [this] to [my|the] notes {text}", "notes", "add", ANY },
    { "add|save|put {text} to|in|into|on [my|the] notes", "notes", "add", ANY },
    { "[" SHOW "] [me] [all] [of] [my|the] notes", "notes", "list", ANY },
    { "what's|what [are|is] [in] [all] [my|the] notes", "notes", "list", ANY },
    { "what notes do i have", "notes", "list", ANY },
    { "do i have [any] notes", "notes", "list", ANY },
    { "search|find|grep|check [in|through] [all] [of] [my|the] notes "
      "[for|about|with|containing|mentioning|on] {query}", "notes", "search", ANY },
    { "search|look|find|check [for] {query} in [all] [of] [my|the] notes", "notes", "search", ANY },
    { "[any|my|the] notes about|on|with|mentioning|containing|for {query}", "notes", "search",
      ANY },
    { "do i have [any] notes about|on|with|mentioning {query}", "notes", "search", ANY },
    { "what did i note|write [down] about {query}", "notes", "search", ANY },
    { DELETE " [the] note [number|item] {item}", "notes", "delete", ANY },
    { CLEAR " [out] [all] [of] [my|the] notes", "notes", "delete_all", ANY },

    /* reminders. {when} is a time phrase (reminders/when.h), which the
     * planner turns into the tool's "at", "rrule" and "wording"
     * (rules_when.c); {what} leaves it all of the end that is one. */
    { "remind me {when} to|that|about {text}", "reminders", "create", ANY },
    { "remind me to|about {what} {when}", "reminders", "create", ANY },
    { "remind me to|about {text}", "reminders", "create", ANY },   /* no time: the tool asks */
    { "{when} remind me to|that|about {text}", "reminders", "create", ANY },
    { "set|add|create|make [a|an] [new] reminder [for] {when} to|that|about|for {text}",
      "reminders", "create", ANY },
    { "set|add|create|make [a|an] [new] reminder to|about|for {what} {when}", "reminders",
      "create", ANY },
    { "reminder {what} {when}", "reminders", "create", ANY },
    { "remember to {what} {when}", "reminders", "create", ANY },
    { "don't|do_not [let] [me] forget to {what} {when}", "reminders", "create", ANY },
    { "remind me again [in] {minutes}", "reminders", "snooze", ANY },
    { "snooze [it|that|this|reminder] [for|by|another] {minutes}", "reminders", "snooze", ANY },
    { "snooze [it|that|this|reminder]", "reminders", "snooze", ANY },
    { "[" SHOW "] [me] [all] [of] [my|the] reminders", "reminders", "list", ANY },
    { "what's|what [are|is] [all] [my|the] reminders", "reminders", "list", ANY },
    { "what reminders do i have", "reminders", "list", ANY },
    { "do i have [any] reminders", "reminders", "list", ANY },
    { DELETE "|cancel|stop [the] reminder [number|item] {item}", "reminders", "cancel", ANY },

    /* memory */
    { "remember to {any}", NOTHING, NULL, ANY },   /* a reminder without a time: not a fact */
    { "remember [that] {text}", "memory", "remember", ANY },
    { "don't|do_not forget [that] {text}", "memory", "remember", ANY },
    { "keep in mind [that] {text}", "memory", "remember", ANY },
    { "what do|did you know|remember [about] [me]", "memory", "list", ANY },
    { "what do|did you know|remember about {query}", "memory", "recall", ANY },
    { "tell me what you know|remember [about] [me]", "memory", "list", ANY },
    { "tell me what you know|remember about {query}", "memory", "recall", ANY },
    { "what have you remembered|learned|learnt|saved|stored [about] [me]", "memory", "list", ANY },
    { "[" SHOW "] [me] [all] [of] [my|your|the] " MEMORIES, "memory", "list", ANY },
    { "do you remember|know [anything] [about] {query}", "memory", "recall", ANY },
    { "recall {query}", "memory", "recall", ANY },
    { "forget [about] it|that|this", NOTHING, NULL, ANY },   /* "never mind" */
    { "never_mind|nvm", NOTHING, NULL, ANY },
    { "forget everything|all [you] [know] [about] [me]", "memory", "forget_all", ANY },
    { "forget [about] me", "memory", "forget_all", ANY },
    { "forget all [of] [my|your|the] " MEMORIES, "memory", "forget_all", ANY },
    { CLEAR " [all] [of] [my|your|the] " MEMORIES, "memory", "forget_all", ANY },
    { CLEAR " everything you know [about] [me]", "memory", "forget_all", ANY },
    { "forget [memory|fact|number|item] {item}", "memory", "forget", ANY },
    { DELETE " [the] memory|fact [number|item] {item}", "memory", "forget", ANY },
    { "forget all about {query}", "memory", "forget", ANY },
    { "forget [about] [that] {query}", "memory", "forget", ANY },

    /* settings */
    { "[you] [can] call me {name}", "settings", "set_name", ANY },
    { "my name 's|is {name}", "settings", "set_name", ANY },
    { "set|change|update [my] name [to|as] {name}", "settings", "set_name", ANY },
    { "set|change|update|switch [my|the] " ZONE " [to|as] {tz}", "settings", "set_timezone", ANY },
    { "my " ZONE " ['s|is] {tz}", "settings", "set_timezone", ANY },
    { ZONE " ['s|is] [to] {tz}", "settings", "set_timezone", ANY },
    /* where they are, as the answer to "are you on New York time?" or on its own */
    { "i'm|i_am|i_live|we're|we_are|we_live in|on {place} [time]", "settings", "set_timezone", ANY },
    { "{place} [" ZONE "|time]", "settings", "set_timezone", ANY },
    { "[set|change|update] [my|the] " QUIET " [are|is|to|at] [from|between] {start} " UNTIL
      " {end}", "settings", "set_quiet_hours", ANY },
    { "don't|do_not text|message|disturb|bother|contact|ping me [from|between|after] {start} "
      UNTIL " {end}", "settings", "set_quiet_hours", ANY },
    { "no [more] " QUIET, "settings", "clear_quiet_hours", ANY },
    { "[turn|switch] [my|the] " QUIET " off|none|disabled", "settings", "clear_quiet_hours", ANY },
    { "turn|switch off [my|the] " QUIET, "settings", "clear_quiet_hours", ANY },
    { "disable|clear|remove|delete|cancel|unset|stop|end [my|the] " QUIET, "settings",
      "clear_quiet_hours", ANY },
    /* the daily digest: a time of day ("7am", "07:30"; a bare hour is not one) */
    { "[set|change|move|update|schedule] [me] [my|a|an|the] [" DAILY "] " DIGEST " [every|each] [" DAY "] "
      "[at|to|for] {digest}", "settings", "set_digest", ANY },
    { "send|text|give me [a|an|my|the] [" DAILY "] " DIGEST " [every|each] [" DAY "] [at] {digest}",
      "settings", "set_digest", ANY },
    { "every|each " DAY " at {digest} send|text|give me [a|an|my|the] [" DAILY "] " DIGEST, "settings",
      "set_digest", ANY },
    { "no [more] [" DAILY "] " DIGEST "|digests|summaries|briefings", "settings", "clear_digest", ANY },
    { "[turn|switch] [my|the] [" DAILY "] " DIGEST " off|none|disabled", "settings", "clear_digest", ANY },
    { "turn|switch off [my|the] [" DAILY "] " DIGEST, "settings", "clear_digest", ANY },
    { "disable|clear|remove|delete|cancel|unset|stop|end [my|the] [" DAILY "] " DIGEST, "settings",
      "clear_digest", ANY },
    { "[what's|what] [is] [my|the] [" DAILY "] digest|briefing [time]", "settings", "show", ANY },
    { "[show|view|see|list|check] [me] [my|the] settings|preferences|prefs|profile", "settings",
      "show", ANY },
    { "what are my settings|preferences|" QUIET, "settings", "show", ANY },
    { "what's|what [is] my name|" ZONE, "settings", "show", ANY },
    { "what " ZONE " am i in|on", "settings", "show", ANY },
    { "who am i", "settings", "show", ANY },
    { "[my] " QUIET "|" ZONE "|name", "settings", "show", ANY },

    /* help */
    { "help|info [me] [with|on|about] [my|the|your] {topic}", "help", NULL, ANY },
    { "{topic} help|info", "help", NULL, ANY },
    { "how do|does|can [i] [use] [the|my|your] {topic} [work]", "help", NULL, ANY },
    { "how do|does this|it|you work", "help", NULL, ANY },
    { "how do|can i {any}", "help", NULL, ANY },
    { "help [me] [with|on|about] {any}", "help", NULL, ANY },
    { "help [me]", "help", NULL, ANY },
    { "what can you do [for] [me]", "help", NULL, ANY },
    { "what can|do i say|ask|do|text [you]", "help", NULL, ANY },
    { "what do you do", "help", NULL, ANY },
    { "what are [the|my|your] commands|options", "help", NULL, ANY },
    { "[show|list] [me] [the|your] commands|options|menu", "help", NULL, ANY },
    { "who|what are you", "help", NULL, ANY },
    { "what is this", "help", NULL, ANY },
};

int asst_rules_row_count(void)
{
    return (int)(sizeof(rules) / sizeof(*rules));
}

static int applies(const rule_t *rule, const char *last_list)
{
    return !rule->after || (last_list && strcmp(rule->after, last_list) == 0);
}

static json_object *args_of(const rule_t *rule, const asst_rules_match_t *m)
{
    json_object *args = json_object_new_object();

    if (rule->action)
        json_object_object_add(args, "action", json_object_new_string(rule->action));
    for (int i = 0; i < m->ncap; i++) {
        const asst_rules_capture_t *cap = &m->cap[i];
        json_object_object_add(args, cap->key, cap->str ? json_object_new_string(cap->str)
                                                        : json_object_new_int(cap->num));
    }
    return args;
}

int asst_rules_call_is(const asst_rules_call_t *call, const char *tool, const char *action)
{
    json_object *a;

    return call->tool && strcmp(call->tool, tool) == 0 && json_object_object_get_ex(call->args, "action", &a)
           && strcmp(json_object_get_string(a), action) == 0;
}

/* A word that leads a request and sets a flag of the call it leads:
 * "urgent: remind me at 6am to take the pills" comes through quiet hours. */
static const struct {
    const char *words;
    const char *tool, *action, *flag;
} leads[] = {
    { "urgent|urgently|important", "reminders", "create", "urgent" },
};

/* Where the request starts after one of the lead words ("a|b", and a
 * ":", "," or "-"), or NULL when s does not start with one. */
static const char *after_lead(const char *words, const char *s)
{
    int n = -1;

    for (const char *w = words; *w && n <= 0; w += strcspn(w, "|") + (w[strcspn(w, "|")] == '|'))
        n = asst_rules_word(w, strcspn(w, "|"), s);
    if (n <= 0)
        return NULL;
    s = asst_rules_skip_spaces(s + n);
    if (*s == ':' || *s == ',' || *s == '-')
        s = asst_rules_skip_spaces(s + 1);
    return *s ? s : NULL;
}

static int parse_tidy(apr_pool_t *p, const char *s, const char *last_list, asst_rules_call_t *out);

/* s led by a lead word: the call of the rest, flagged, when it is the
 * lead's; -1 when no lead applies. */
static int parse_led(apr_pool_t *p, const char *s, const char *last_list, asst_rules_call_t *out)
{
    for (size_t i = 0; i < sizeof(leads) / sizeof(*leads); i++) {
        const char *rest = after_lead(leads[i].words, s);
        int row;

        if (!rest || (row = parse_tidy(p, rest, last_list, out)) < 0)
            continue;
        if (asst_rules_call_is(out, leads[i].tool, leads[i].action)) {
            json_object_object_add(out->args, leads[i].flag, json_object_new_boolean(1));
            return row;
        }
        json_object_put(out->args);
        out->tool = NULL;
        out->args = NULL;
    }
    return -1;
}

static int parse_tidy(apr_pool_t *p, const char *s, const char *last_list, asst_rules_call_t *out)
{
    asst_rules_match_t m = { .p = p };

    for (int i = 0; i < asst_rules_row_count(); i++) {
        if (!applies(&rules[i], last_list) || !asst_rules_match(&m, rules[i].pattern, s))
            continue;
        if (rules[i].tool) {
            out->tool = rules[i].tool;
            out->args = args_of(&rules[i], &m);
        }
        return i;
    }
    return parse_led(p, s, last_list, out);
}

int asst_rules_parse_row(apr_pool_t *p, const char *text, const char *last_list,
                         asst_rules_call_t *out)
{
    const char *s;

    out->tool = NULL;
    out->args = NULL;
    if (!text || strlen(text) > ASST_RULES_MAX_TEXT)
        return -1;
    s = asst_rules_tidy(p, text);
    if (!*s)
        return -1;
    return parse_tidy(p, s, last_list, out);
}

void asst_rules_parse(apr_pool_t *p, const char *text, const char *last_list,
                      asst_rules_call_t *out)
{
    asst_rules_parse_row(p, text, last_list, out);
}
