/* The tool-call check: asst_schema_validate, and asst_tools_check of the
 * registry. The input is a schema's JSON text and an arguments' JSON text,
 * split at the first NUL or 0xff byte (the arguments end at a NUL).
 *
 * Both parsed (JSON null included): validate with a 200-byte errbuf, an
 * 8-byte one, a 1-byte one, one of 0 bytes and none; each returns 0 or -1,
 * all the same; errbuf is a C string within errlen, "" on 0, a message on
 * -1 (never cut at ASST_SCHEMA_ERR_MAX, and so never that long; the short
 * ones are its prefix; valid UTF-8 when the input is); a message never
 * shows an argument's string value. A NULL schema accepts anything.
 *
 * The arguments' text, as a model's tool call, to asst_tools_check of each
 * of the four tools: 0 with the arguments parsed, or -1 with a short
 * message; and the same answer, message included, as asst_schema_validate
 * on that tool's "parameters" in asst_tools_openai_json(). */
#include <apr_strings.h>

#include "fuzz.h"
#include "tools/registry.h"
#include "tools/schema.h"

#define SHORT_ERR 8
#define SECRET_MIN 24   /* string values this long are looked for in messages */

static const char *const tool_names[] = { "notes", "reminders", "memory", "settings", "help" };
#define NTOOLS (sizeof(tool_names) / sizeof(*tool_names))

static json_object *tools_json;              /* asst_tools_openai_json(), parsed once */
static json_object *parameters[NTOOLS];

static void load_tools(void)
{
    const char *text = asst_tools_openai_json();

    if (tools_json) {
        REQUIRE(asst_tools_openai_json() == text);
        return;
    }
    REQUIRE((tools_json = json_tokener_parse(text)) != NULL);
    REQUIRE(json_object_is_type(tools_json, json_type_array));
    REQUIRE(json_object_array_length(tools_json) == NTOOLS);
    for (size_t i = 0; i < NTOOLS; i++) {
        json_object *fn, *name;
        const asst_tool_t *tool = asst_tools_find(tool_names[i]);
        json_object *own;

        REQUIRE(json_object_object_get_ex(json_object_array_get_idx(tools_json, i), "function", &fn));
        REQUIRE(json_object_object_get_ex(fn, "name", &name));
        REQUIRE(strcmp(json_object_get_string(name), tool_names[i]) == 0);
        REQUIRE(json_object_object_get_ex(fn, "parameters", &parameters[i]));
        REQUIRE(tool != NULL && (own = json_tokener_parse(tool->schema)) != NULL);
        REQUIRE(json_object_equal(own, parameters[i]));
        json_object_put(own);
    }
}

/* A heap block of exactly size bytes (ASan sees a write past it), all 'X'. */
static char *fresh_buf(size_t size)
{
    char *buf = malloc(size ? size : 1);

    REQUIRE(buf != NULL);
    memset(buf, 'X', size ? size : 1);
    return buf;
}

/* 1 when needle is inside a string (or with keys_too, a key) anywhere in j. */
static int is_substring_of_any(const char *needle, json_object *j, int keys_too)
{
    switch (json_object_get_type(j)) {
    case json_type_string:
        return strstr(json_object_get_string(j), needle) != NULL;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(j); i++)
            if (is_substring_of_any(needle, json_object_array_get_idx(j, i), keys_too))
                return 1;
        return 0;
    case json_type_object: {
        json_object_object_foreach(j, key, v) {
            if ((keys_too && strstr(key, needle)) || is_substring_of_any(needle, v, keys_too))
                return 1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* 1 when s is inside a key anywhere in j. */
static int in_some_key(const char *s, json_object *j)
{
    if (json_object_is_type(j, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(j); i++)
            if (in_some_key(s, json_object_array_get_idx(j, i)))
                return 1;
    } else if (json_object_is_type(j, json_type_object)) {
        json_object_object_foreach(j, key, v) {
            if (strstr(key, s) || in_some_key(s, v))
                return 1;
        }
    }
    return 0;
}

/* No long string value of the arguments in msg, unless the schema or a
 * name could have put it there (or it reads like the message's own words). */
static void check_no_values(const char *msg, json_object *v, json_object *schema, json_object *args)
{
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (strlen(s) >= SECRET_MIN && !strpbrk(s, "\"") && !strstr(s, ", ")
            && !strstr(s, ": ") && !is_substring_of_any(s, schema, 1) && !in_some_key(s, args))
            REQUIRE(strstr(msg, s) == NULL);
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            check_no_values(msg, json_object_array_get_idx(v, i), schema, args);
    } else if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, val) {
            (void)key;
            check_no_values(msg, val, schema, args);
        }
    }
}

/* Validates with every kind of errbuf; returns the result, the message in full. */
static int check_validate(json_object *schema, json_object *args, int utf8, char *full)
{
    char *shortbuf = fresh_buf(SHORT_ERR), *one = fresh_buf(1), *none = fresh_buf(0);
    int rc = asst_schema_validate(schema, args, full, ASST_SCHEMA_ERR_MAX);
    size_t len = strnlen(full, ASST_SCHEMA_ERR_MAX);

    REQUIRE(rc == 0 || rc == -1);
    REQUIRE(len < ASST_SCHEMA_ERR_MAX - 1);        /* never cut: never fills it */
    REQUIRE(rc == 0 ? len == 0 : len > 0);
    REQUIRE(!utf8 || fuzz_utf8_valid(full, len));

    REQUIRE(asst_schema_validate(schema, args, shortbuf, SHORT_ERR) == rc);
    REQUIRE(strnlen(shortbuf, SHORT_ERR) < SHORT_ERR);
    REQUIRE(strncmp(shortbuf, full, SHORT_ERR - 1) == 0);
    REQUIRE(strlen(shortbuf) == (len < SHORT_ERR - 1 ? len : SHORT_ERR - 1));

    REQUIRE(asst_schema_validate(schema, args, one, 1) == rc && one[0] == '\0');
    REQUIRE(asst_schema_validate(schema, args, none, 0) == rc && none[0] == 'X');
    REQUIRE(asst_schema_validate(schema, args, NULL, 0) == rc);
    REQUIRE(asst_schema_validate(schema, args, NULL, ASST_SCHEMA_ERR_MAX) == rc);

    if (rc)
        check_no_values(full, args, schema, args);
    free(shortbuf);
    free(one);
    free(none);
    return rc;
}

static void check_tools(apr_pool_t *p, const char *args_text, int args_null, int utf8)
{
    /* "" and JSON null both mean no arguments: {} */
    json_object *parsed = *args_text && !args_null ? json_tokener_parse(args_text) : json_object_new_object();
    char *want = fresh_buf(ASST_SCHEMA_ERR_MAX);

    load_tools();
    for (size_t i = 0; i < NTOOLS; i++) {
        const asst_tool_t *tool = NULL;
        json_object *args = (json_object *)"unset";
        const char *err = NULL;
        int rc = asst_tools_check(p, tool_names[i], args_text, &tool, &args, &err);

        REQUIRE(rc == 0 || rc == -1);
        REQUIRE(tool != NULL && strcmp(tool->name, tool_names[i]) == 0);
        if (rc == 0) {
            REQUIRE(json_object_is_type(args, json_type_object));
            REQUIRE(json_object_equal(args, parsed));
            json_object_put(args);
        } else {
            REQUIRE(args == NULL && err != NULL && strlen(err) < ASST_SCHEMA_ERR_MAX);
        }
        if (!parsed) {    /* broken JSON */
            REQUIRE(rc == -1 && strcmp(err, "arguments are not valid JSON") == 0);
            continue;
        }
        REQUIRE(check_validate(parameters[i], parsed, utf8, want) == rc);
        REQUIRE(rc == 0 || strcmp(err, want) == 0);
    }
    {
        const asst_tool_t *tool = (const asst_tool_t *)"unset";
        json_object *args = (json_object *)"unset";
        const char *err = NULL;

        REQUIRE(asst_tools_check(p, "nope", args_text, &tool, &args, &err) == -1);
        REQUIRE(tool == NULL && args == NULL && err && strcmp(err, "unknown tool \"nope\"") == 0);
    }
    json_object_put(parsed);
    free(want);
}

/* text's JSON, or JSON null; 0 when it is not JSON. */
static int parse(const char *text, json_object **out)
{
    enum json_tokener_error e;

    *out = json_tokener_parse_verbose(text, &e);
    return *out != NULL || e == json_tokener_success;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    size_t cut = 0;
    const char *schema_text, *args_text;
    json_object *schema, *args;
    char *full = fresh_buf(ASST_SCHEMA_ERR_MAX);
    int utf8, args_ok;

    while (cut < size && data[cut] != 0 && data[cut] != 0xFF)
        cut++;
    schema_text = apr_pstrmemdup(p, (const char *)data, cut);
    args_text = cut < size ? apr_pstrmemdup(p, (const char *)data + cut + 1, size - cut - 1) : "";
    utf8 = fuzz_utf8_valid(schema_text, strlen(schema_text))
        && fuzz_utf8_valid(args_text, strlen(args_text));

    args_ok = parse(args_text, &args);
    if (parse(schema_text, &schema) && args_ok) {
        check_validate(schema, args, utf8, full);
        REQUIRE(asst_schema_validate(NULL, args, full, ASST_SCHEMA_ERR_MAX) == 0 && !*full);
    }
    json_object_put(args);
    json_object_put(schema);
    check_tools(p, args_text, args_ok && !args, utf8);
    free(full);
    fuzz_pool_end(p);
    return 0;
}
