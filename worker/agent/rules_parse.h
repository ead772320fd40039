#ifndef ASST_RULES_PARSE_H
#define ASST_RULES_PARSE_H

#include <apr_pools.h>
#include <json-c/json.h>

/* The phrase parser of the `rules` planner: one SMS text in plain language
 * (ASCII case, spacing, "please", "can you" and end punctuation forgiven)
 * becomes one tool call, or nothing. Pure: no network, database or I/O.
 *
 * Tools and the argument shapes it produces (fields that do not apply are
 * omitted):
 *   notes     {"action": "add", "text"} | {"action": "list"}
 *             | {"action": "search", "query"} | {"action": "delete", "item"}
 *             | {"action": "delete_all"}
 *   memory    {"action": "remember", "text"} | {"action": "list"}
 *             | {"action": "recall", "query"} | {"action": "forget", "query"}
 *             | {"action": "forget", "item"} | {"action": "forget_all"}
 *   settings  {"action": "set_name", "name"} | {"action": "set_timezone", "timezone"}
 *             | {"action": "set_quiet_hours", "quiet_start", "quiet_end"} ("HH:MM", 24 h)
 *             | {"action": "clear_quiet_hours"} | {"action": "set_digest", "digest_at"} ("HH:MM")
 *             | {"action": "clear_digest"} | {"action": "show"}
 *   reminders {"action": "create", "text", "when"} | {"action": "create", "text"}
 *             (either with "urgent": true when led by "urgent", "urgently" or "important")
 *             | {"action": "list"} | {"action": "cancel", "item"}
 *             | {"action": "snooze"} | {"action": "snooze", "minutes"}
 *   help      {} | {"topic": "notes" | "memory" | "settings"}
 *
 * "when" is not the tool's: it is the person's time phrase ("tomorrow at
 * 9", "every weekday at 7:30"; asst_when_is_phrase is true of it), which
 * the planner, knowing the clock and the person's zone, turns into the
 * tool's "at", "rrule" and "wording" (rules_when.h). A create without
 * "when" leaves the tool to ask for a time.
 *
 * Free text (note text, fact, query, name) keeps the person's bytes and
 * case, inner line breaks included; only its ends are trimmed (see
 * rules_parse_text.c for exactly what). "item" is 1..ASST_RULES_MAX_ITEM,
 * "minutes" 1..ASST_RULES_MAX_MINUTES. */

#define ASST_RULES_MAX_ITEM 9999
#define ASST_RULES_MAX_MINUTES 1440
#define ASST_RULES_MAX_TEXT 8192   /* longer texts are not understood (bytes) */

typedef struct {
    const char *tool;       /* "notes" | "memory" | "settings" | "reminders" | "help";
                             * NULL: not understood */
    json_object *args;      /* owned by the caller (json_object_put); NULL when tool is NULL */
} asst_rules_call_t;

/* last_list: the kind of list the person was last shown ("notes",
 * "memory", "reminders") or NULL; it makes "delete 2" / "remove 2" /
 * "forget 2" / "cancel 2" mean item 2 of that list ("forget 2" with no
 * list, or after reminders, means memory item 2).
 * Strings in the result are static or allocated from p. */
void asst_rules_parse(apr_pool_t *p, const char *text, const char *last_list,
                      asst_rules_call_t *out);

/* 1 when call is tool's action ("settings", "set_timezone"). */
int asst_rules_call_is(const asst_rules_call_t *call, const char *tool, const char *action);

#endif
