/* The rules planner's phrase parser, asst_rules_parse, on an SMS text: the
 * first byte picks the list last shown (& 3: none, "notes", "memory",
 * "reminders"), the rest up to a NUL is the text. The contract
 * (rules_parse.h): nothing understood, or one of the five tools with
 * exactly one of the documented argument shapes; its JSON serializes and
 * reads back the same; free text (text, query, name) is a piece of the
 * person's text, trimmed; a reminder's "when" too, and a time phrase
 * (asst_when_is_phrase); a zone is one word of it or "UTC"; times are
 * "HH:MM", 24 h; an item is 1..ASST_RULES_MAX_ITEM, snooze minutes
 * 1..ASST_RULES_MAX_MINUTES. Every string is valid UTF-8 when the text
 * is, and no longer than the text but for a constant. After a reminders
 * list a text reads as with no list, but for "cancel 2" and the like,
 * which no list leaves not understood. */
#include "fuzz.h"
#include "agent/rules_parse.h"
#include "reminders/when.h"

/* A normalized value ("22:00" from "10pm", "12:00" from "noon") may be a
 * little longer than the words it came from. */
#define NORMALIZED_SLACK 8

static const char *const last_lists[] = { NULL, "notes", "memory", "reminders" };

/* tool, action (NULL: none), then the other members, space-separated. */
static const struct {
    const char *tool, *action, *members;
} shapes[] = {
    { "notes", "add", "text" },           { "notes", "list", "" },
    { "notes", "search", "query" },       { "notes", "delete", "item" },
    { "notes", "delete_all", "" },
    { "memory", "remember", "text" },     { "memory", "list", "" },
    { "memory", "recall", "query" },      { "memory", "forget", "query" },
    { "memory", "forget", "item" },       { "memory", "forget_all", "" },
    { "settings", "set_name", "name" },   { "settings", "set_timezone", "timezone" },
    { "settings", "set_quiet_hours", "quiet_start quiet_end" },
    { "settings", "clear_quiet_hours", "" }, { "settings", "show", "" },
    { "settings", "set_digest", "digest_at" }, { "settings", "clear_digest", "" },
    { "reminders", "create", "text when" }, { "reminders", "create", "text" },
    { "reminders", "list", "" },          { "reminders", "cancel", "item" },
    { "reminders", "snooze", "" },        { "reminders", "snooze", "minutes" },
    { "help", NULL, "" },                 { "help", NULL, "topic" },
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1 when args has an "action" equal to action (none when NULL) and
 * exactly the members named, space-separated. */
static int has_shape(json_object *args, const char *action, const char *members)
{
    json_object *v;
    int want = action != NULL;
    char name[32];

    if (action && (!json_object_object_get_ex(args, "action", &v)
                   || !json_object_is_type(v, json_type_string)
                   || strcmp(json_object_get_string(v), action) != 0))
        return 0;
    if (!action && json_object_object_get_ex(args, "action", NULL))
        return 0;
    while (*members) {
        size_t n = strcspn(members, " ");
        REQUIRE(n < sizeof(name));
        memcpy(name, members, n);
        name[n] = '\0';
        if (!json_object_object_get_ex(args, name, NULL))
            return 0;
        want++;
        members += n + (members[n] == ' ');
    }
    return json_object_object_length(args) == want;
}

/* Free text: non-empty, trimmed, and bytes the person sent, as sent. */
static void check_piece(const char *value, size_t len, const char *text, size_t text_len)
{
    REQUIRE(len > 0 && !is_space(value[0]) && !is_space(value[len - 1]));
    REQUIRE(memmem(text, text_len, value, len) != NULL);
}

static void check_member(const char *key, json_object *v, const char *tool, const char *text,
                         size_t text_len)
{
    const char *s;
    size_t len;

    if (strcmp(key, "item") == 0 || strcmp(key, "minutes") == 0) {
        int max = strcmp(key, "item") == 0 ? ASST_RULES_MAX_ITEM : ASST_RULES_MAX_MINUTES;
        REQUIRE(json_object_is_type(v, json_type_int));
        REQUIRE(json_object_get_int64(v) >= 1 && json_object_get_int64(v) <= max);
        return;
    }
    REQUIRE(json_object_is_type(v, json_type_string));
    s = json_object_get_string(v);
    len = (size_t)json_object_get_string_len(v);
    REQUIRE(strlen(s) == len);
    if (strcmp(key, "action") == 0)
        return;                                   /* checked with the shape */
    /* a place's zone is longer than its name ("rio": America/Sao_Paulo), within the tool's 64 */
    REQUIRE(len <= text_len + NORMALIZED_SLACK || (strcmp(key, "timezone") == 0 && len <= 64));
    REQUIRE(!fuzz_utf8_valid(text, text_len) || fuzz_utf8_valid(s, len));
    if (strcmp(key, "text") == 0 || strcmp(key, "query") == 0 || strcmp(key, "name") == 0) {
        check_piece(s, len, text, text_len);
    } else if (strcmp(key, "when") == 0) {
        REQUIRE(strcmp(tool, "reminders") == 0);
        check_piece(s, len, text, text_len);
        REQUIRE(asst_when_is_phrase(s, len));
    } else if (strcmp(key, "timezone") == 0) {
        /* as typed, or the zone an alias or a place names (UTC, Europe/London) */
        if (strcmp(s, "UTC") != 0 && !strchr(s, '/'))
            check_piece(s, len, text, text_len);
        for (size_t i = 0; i < len; i++)
            REQUIRE(!is_space(s[i]));
    } else if (strcmp(key, "quiet_start") == 0 || strcmp(key, "quiet_end") == 0 || strcmp(key, "digest_at") == 0) {
        REQUIRE(len == 5 && is_digit(s[0]) && is_digit(s[1]) && s[2] == ':' && is_digit(s[3])
                && is_digit(s[4]));
        REQUIRE((s[0] - '0') * 10 + (s[1] - '0') <= 23 && s[3] <= '5');
    } else if (strcmp(key, "topic") == 0) {
        REQUIRE(strcmp(tool, "help") == 0);
        REQUIRE(strcmp(s, "notes") == 0 || strcmp(s, "memory") == 0 || strcmp(s, "settings") == 0
                || strcmp(s, "reminders") == 0);
    } else {
        REQUIRE(!"a member no shape has");
    }
}

static void check_call(const asst_rules_call_t *call, const char *text, size_t text_len)
{
    json_object *back;
    size_t i;

    if (!call->tool) {
        REQUIRE(call->args == NULL);
        return;
    }
    REQUIRE(text_len <= ASST_RULES_MAX_TEXT);
    REQUIRE(json_object_is_type(call->args, json_type_object));
    for (i = 0; i < sizeof(shapes) / sizeof(*shapes); i++)
        if (strcmp(shapes[i].tool, call->tool) == 0
            && has_shape(call->args, shapes[i].action, shapes[i].members))
            break;
    REQUIRE(i < sizeof(shapes) / sizeof(*shapes));   /* a known tool, a documented shape */
    json_object_object_foreach(call->args, key, v)
        check_member(key, v, call->tool, text, text_len);

    back = json_tokener_parse(json_object_to_json_string_ext(call->args, JSON_C_TO_STRING_PLAIN));
    REQUIRE(back != NULL && json_object_equal(back, call->args));
    json_object_put(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    fuzz_input_t in = { data + 1, size - 1 };
    const char *text, *last_list;
    asst_rules_call_t call = { "unset", NULL }, none = { "unset", NULL };

    if (size == 0)
        return 0;
    p = fuzz_pool_begin();
    last_list = last_lists[data[0] & 3];
    text = fuzz_field(p, &in, '\0', NULL);

    asst_rules_parse(p, text, last_list, &call);
    check_call(&call, text, strlen(text));
    if (last_list && strcmp(last_list, "reminders") == 0) {
        asst_rules_parse(p, text, NULL, &none);
        if (!none.tool && call.tool)   /* "cancel 2": item 2 of the list */
            REQUIRE(strcmp(call.tool, "reminders") == 0 && has_shape(call.args, "cancel", "item"));
        else
            REQUIRE((call.tool == NULL) == (none.tool == NULL)
                    && (!call.tool || (strcmp(call.tool, none.tool) == 0
                                       && json_object_equal(call.args, none.args))));
        json_object_put(none.args);
    }
    json_object_put(call.args);
    fuzz_pool_end(p);
    return 0;
}
