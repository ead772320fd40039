/* Unit tests for worker/tools/schema.c: the JSON-Schema subset every tool
 * call is checked against before it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "tools/schema.h"
#include "unit_main.h"

/* The notes tool's schema, as the registry declares it. */
static const char *notes_schema =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"action\"],"
    "\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"add\",\"list\",\"search\",\"delete\",\"delete_all\"]},"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000},"
    "\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
    "\"item\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}}}";

static char err[ASST_SCHEMA_ERR_MAX];

static json_object *parse(const char *text)
{
    enum json_tokener_error e;
    json_object *v = json_tokener_parse_verbose(text, &e);

    ck_assert_msg(e == json_tokener_success, "bad test JSON: %s", text);
    return v;
}

/* Validates args (NULL: the call had no arguments); err holds the message. */
static int check(const char *schema_text, const char *args_text)
{
    json_object *schema = parse(schema_text);
    json_object *args = args_text ? parse(args_text) : NULL;
    int rc;

    memset(err, 'x', sizeof(err));
    rc = asst_schema_validate(schema, args, err, sizeof(err));
    json_object_put(schema);
    json_object_put(args);
    ck_assert_uint_lt(strlen(err), ASST_SCHEMA_ERR_MAX);
    if (rc == 0)
        ck_assert_str_eq(err, "");
    return rc;
}

static const char *shown(const char *args)
{
    return args ? args : "(no arguments)";
}

#define ACCEPTS(schema, args) \
    ck_assert_msg(check(schema, args) == 0, "rejected %s: %s", shown(args), err)

#define REJECTS(schema, args, message)                                          \
    do {                                                                        \
        ck_assert_msg(check(schema, args) == -1, "accepted %s", shown(args));   \
        ck_assert_str_eq(err, message);                                         \
    } while (0)

/* {"type":"object","properties":{"v":<sub>}}; the last four results stay
 * valid, so a test can keep a couple of schemas at hand. */
static char *with_v(const char *sub)
{
    static char ring[4][1024];
    static int next;
    char *buf = ring[next++ % 4];

    snprintf(buf, sizeof(ring[0]), "{\"type\":\"object\",\"properties\":{\"v\":%s}}", sub);
    return buf;
}

static char *v_is(const char *value)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf), "{\"v\":%s}", value);
    return buf;
}

START_TEST(each_type_accepts_its_own)
{
    ACCEPTS(with_v("{\"type\":\"string\"}"), v_is("\"x\""));
    ACCEPTS(with_v("{\"type\":\"string\"}"), v_is("\"\""));
    ACCEPTS(with_v("{\"type\":\"integer\"}"), v_is("-7"));
    ACCEPTS(with_v("{\"type\":\"number\"}"), v_is("3"));
    ACCEPTS(with_v("{\"type\":\"number\"}"), v_is("3.5"));
    ACCEPTS(with_v("{\"type\":\"number\"}"), v_is("-1e3"));
    ACCEPTS(with_v("{\"type\":\"boolean\"}"), v_is("true"));
    ACCEPTS(with_v("{\"type\":\"boolean\"}"), v_is("false"));
    ACCEPTS(with_v("{\"type\":\"array\"}"), v_is("[]"));
    ACCEPTS(with_v("{\"type\":\"array\"}"), v_is("[1,\"a\",null]"));
    ACCEPTS(with_v("{\"type\":\"object\"}"), v_is("{}"));
    ACCEPTS(with_v("{\"type\":\"null\"}"), v_is("null"));
    ACCEPTS("{\"type\":\"object\"}", "{}");
}
END_TEST

START_TEST(each_type_rejects_the_others)
{
    REJECTS(with_v("{\"type\":\"string\"}"), v_is("3"), "argument \"v\" must be a string");
    REJECTS(with_v("{\"type\":\"string\"}"), v_is("null"), "argument \"v\" must be a string");
    REJECTS(with_v("{\"type\":\"string\"}"), v_is("[\"a\"]"), "argument \"v\" must be a string");
    REJECTS(with_v("{\"type\":\"integer\"}"), v_is("true"), "argument \"v\" must be an integer");
    REJECTS(with_v("{\"type\":\"number\"}"), v_is("null"), "argument \"v\" must be a number");
    REJECTS(with_v("{\"type\":\"number\"}"), v_is("{}"), "argument \"v\" must be a number");
    REJECTS(with_v("{\"type\":\"boolean\"}"), v_is("0"), "argument \"v\" must be a boolean");
    REJECTS(with_v("{\"type\":\"boolean\"}"), v_is("\"true\""), "argument \"v\" must be a boolean");
    REJECTS(with_v("{\"type\":\"array\"}"), v_is("{}"), "argument \"v\" must be an array");
    REJECTS(with_v("{\"type\":\"array\"}"), v_is("\"[]\""), "argument \"v\" must be an array");
    REJECTS(with_v("{\"type\":\"object\"}"), v_is("[]"), "argument \"v\" must be an object");
    REJECTS(with_v("{\"type\":\"null\"}"), v_is("0"), "argument \"v\" must be null");
    REJECTS(with_v("{\"type\":\"null\"}"), v_is("\"\""), "argument \"v\" must be null");
    REJECTS("{\"type\":\"object\"}", "[]", "arguments must be an object");
    REJECTS("{\"type\":\"object\"}", "\"\"", "arguments must be an object");
}
END_TEST

START_TEST(integer_number_and_numeric_string)
{
    const char *integer = with_v("{\"type\":\"integer\"}");

    ACCEPTS(integer, v_is("3"));
    ACCEPTS(integer, v_is("3.0"));
    ACCEPTS(integer, v_is("-0.0"));
    ACCEPTS(integer, v_is("1e20"));
    REJECTS(integer, v_is("3.5"), "argument \"v\" must be an integer");
    REJECTS(integer, v_is("\"3\""), "argument \"v\" must be an integer");
    REJECTS(with_v("{\"type\":\"number\"}"), v_is("\"3.5\""), "argument \"v\" must be a number");
    /* not JSON, but json-c parses them */
    REJECTS(with_v("{\"type\":\"number\"}"), v_is("NaN"), "argument \"v\" must be a number");
    REJECTS(integer, v_is("Infinity"), "argument \"v\" must be an integer");
}
END_TEST

START_TEST(type_lists)
{
    const char *nullable = with_v("{\"type\":[\"string\",\"null\"]}");

    ACCEPTS(nullable, v_is("\"x\""));
    ACCEPTS(nullable, v_is("null"));
    REJECTS(nullable, v_is("3"), "argument \"v\" must be a string or null");
    REJECTS(with_v("{\"type\":[\"null\",\"string\",\"integer\"]}"), v_is("1.5"),
            "argument \"v\" must be a string, an integer or null");
    ACCEPTS(with_v("{\"type\":[\"integer\",\"nonsense\"]}"), v_is("1"));
}
END_TEST

START_TEST(unsupported_type_matches_nothing)
{
    REJECTS(with_v("{\"type\":\"date\"}"), v_is("\"2024-01-01\""),
            "argument \"v\" has no supported type in the tool schema");
    REJECTS(with_v("{\"type\":[]}"), v_is("1"),
            "argument \"v\" has no supported type in the tool schema");
}
END_TEST

START_TEST(missing_required)
{
    const char *s = "{\"type\":\"object\",\"required\":[\"a\",\"b\"],"
                    "\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"string\"}}}";

    ACCEPTS(s, "{\"a\":\"x\",\"b\":\"y\"}");
    REJECTS(s, "{\"b\":\"y\"}", "missing required argument \"a\"");
    REJECTS(s, "{}", "missing required argument \"a\"");
    /* required before types: b's absence is told before a's type */
    REJECTS(s, "{\"a\":1}", "missing required argument \"b\"");
    /* present as null is present, and then of the wrong type */
    REJECTS(s, "{\"a\":null,\"b\":\"y\"}", "argument \"a\" must be a string");
    /* required names need no declaration */
    REJECTS("{\"type\":\"object\",\"required\":[\"z\"]}", "{}", "missing required argument \"z\"");
}
END_TEST

START_TEST(additional_properties)
{
    const char *closed = "{\"type\":\"object\",\"additionalProperties\":false,"
                         "\"properties\":{\"a\":{\"type\":\"string\"}}}";

    ACCEPTS(closed, "{\"a\":\"x\"}");
    ACCEPTS(closed, "{}");
    REJECTS(closed, "{\"a\":\"x\",\"foo\":1}", "unknown argument \"foo\"");
    REJECTS(closed, "{\"foo\":1,\"a\":2}", "unknown argument \"foo\"");
    REJECTS("{\"type\":\"object\",\"additionalProperties\":false}", "{\"x\":1}",
            "unknown argument \"x\"");
    ACCEPTS("{\"type\":\"object\",\"properties\":{\"a\":{}}}", "{\"foo\":1}");
    ACCEPTS("{\"type\":\"object\",\"additionalProperties\":true}", "{\"foo\":1}");
}
END_TEST

START_TEST(first_failure_in_declaration_order)
{
    const char *s = "{\"type\":\"object\",\"properties\":{"
                    "\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"string\"}}}";

    REJECTS(s, "{\"b\":1,\"a\":2}", "argument \"a\" must be a string");
    REJECTS(s, "{\"b\":1,\"a\":\"x\"}", "argument \"b\" must be a string");
}
END_TEST

START_TEST(enum_hit_and_miss)
{
    const char *s = with_v("{\"type\":\"string\",\"enum\":[\"add\",\"list\"]}");

    ACCEPTS(s, v_is("\"add\""));
    ACCEPTS(s, v_is("\"list\""));
    REJECTS(s, v_is("\"remove\""), "argument \"v\" must be one of: add, list");
    REJECTS(s, v_is("\"Add\""), "argument \"v\" must be one of: add, list");
    REJECTS(s, v_is("\"add \""), "argument \"v\" must be one of: add, list");
    /* the type is told first */
    REJECTS(s, v_is("1"), "argument \"v\" must be a string");
}
END_TEST

START_TEST(enum_compares_type_and_value)
{
    const char *mixed = with_v("{\"enum\":[null,true,3,\"x\"]}");

    ACCEPTS(mixed, v_is("null"));
    ACCEPTS(mixed, v_is("true"));
    ACCEPTS(mixed, v_is("3"));
    ACCEPTS(mixed, v_is("3.0"));   /* one number, as JSON Schema has it */
    ACCEPTS(mixed, v_is("\"x\""));
    REJECTS(mixed, v_is("\"3\""), "argument \"v\" must be one of: null, true, 3, x");
    REJECTS(mixed, v_is("\"true\""), "argument \"v\" must be one of: null, true, 3, x");
    REJECTS(mixed, v_is("false"), "argument \"v\" must be one of: null, true, 3, x");
    REJECTS(mixed, v_is("1"), "argument \"v\" must be one of: null, true, 3, x");
    REJECTS(mixed, v_is("[3]"), "argument \"v\" must be one of: null, true, 3, x");
}
END_TEST

START_TEST(long_enum_list_is_cut)
{
    char schema[4096];
    size_t n = 0;
    int i;

    n += (size_t)snprintf(schema, sizeof(schema), "{\"properties\":{\"v\":{\"enum\":[");
    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(schema + n, sizeof(schema) - n, "%s\"value_number_%02d\"",
                              i ? "," : "", i);
    snprintf(schema + n, sizeof(schema) - n, "]}}}");
    ck_assert_int_eq(check(schema, v_is("\"nope\"")), -1);
    ck_assert_msg(strncmp(err, "argument \"v\" must be one of: value_number_00, ", 46) == 0, "%s", err);
    ck_assert_str_eq(err + strlen(err) - 5, ", ...");
    ck_assert_uint_lt(strlen(err), 200);
}
END_TEST

START_TEST(string_length_counts_code_points)
{
    const char *one = with_v("{\"type\":\"string\",\"maxLength\":1}");
    const char *two = with_v("{\"type\":\"string\",\"minLength\":2,\"maxLength\":2}");

    ACCEPTS(one, v_is("\"\xc3\xa9\""));                          /* é: 2 bytes */
    ACCEPTS(one, v_is("\"\\u00e9\""));                           /* é, escaped */
    ACCEPTS(one, v_is("\"\xe2\x82\xac\""));                      /* €: 3 bytes */
    ACCEPTS(one, v_is("\"\""));
    REJECTS(one, v_is("\"ab\""), "argument \"v\" must have at most 1 character");
    REJECTS(one, v_is("\"\xc3\xa9\xc3\xa9\""), "argument \"v\" must have at most 1 character");
    ACCEPTS(two, v_is("\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\""));  /* two 😀: 8 bytes */
    ACCEPTS(two, v_is("\"\xc3\xa9!\""));
    REJECTS(two, v_is("\"\xc3\xa9\""), "argument \"v\" must have at least 2 characters");
    REJECTS(two, v_is("\"abc\""), "argument \"v\" must have at most 2 characters");
    REJECTS(with_v("{\"minLength\":1}"), v_is("\"\""), "argument \"v\" must have at least 1 character");
}
END_TEST

START_TEST(minimum_and_maximum)
{
    const char *s = with_v("{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}");
    const char *half = with_v("{\"type\":\"number\",\"minimum\":0.5,\"maximum\":2.25}");

    ACCEPTS(s, v_is("1"));
    ACCEPTS(s, v_is("100"));
    ACCEPTS(s, v_is("50.0"));
    REJECTS(s, v_is("0"), "argument \"v\" must be at least 1");
    REJECTS(s, v_is("-5"), "argument \"v\" must be at least 1");
    REJECTS(s, v_is("101"), "argument \"v\" must be at most 100");
    REJECTS(s, v_is("9223372036854775807"), "argument \"v\" must be at most 100");
    REJECTS(s, v_is("1e20"), "argument \"v\" must be at most 100");
    ACCEPTS(half, v_is("0.5"));
    ACCEPTS(half, v_is("2"));
    REJECTS(half, v_is("0.49"), "argument \"v\" must be at least 0.5");
    REJECTS(half, v_is("3"), "argument \"v\" must be at most 2.25");
    REJECTS(with_v("{\"type\":\"number\",\"maximum\":100}"), v_is("100.5"),
            "argument \"v\" must be at most 100");
}
END_TEST

START_TEST(nested_object_path)
{
    const char *s = "{\"type\":\"object\",\"properties\":{\"when\":{\"type\":\"object\","
                    "\"additionalProperties\":false,\"required\":[\"hour\"],\"properties\":{"
                    "\"hour\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":23},"
                    "\"minute\":{\"type\":\"integer\"}}}}}";

    ACCEPTS(s, "{\"when\":{\"hour\":7}}");
    ACCEPTS(s, "{}");
    REJECTS(s, "{\"when\":{\"hour\":\"7\"}}", "argument \"when.hour\" must be an integer");
    REJECTS(s, "{\"when\":{\"hour\":24}}", "argument \"when.hour\" must be at most 23");
    REJECTS(s, "{\"when\":{\"minute\":5}}", "missing required argument \"when.hour\"");
    REJECTS(s, "{\"when\":{\"hour\":1,\"tz\":\"x\"}}", "unknown argument \"when.tz\"");
    REJECTS(s, "{\"when\":7}", "argument \"when\" must be an object");
}
END_TEST

START_TEST(array_items_and_counts)
{
    const char *s = "{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\","
                    "\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"string\",\"maxLength\":5}}}}";
    const char *objs = "{\"type\":\"object\",\"properties\":{\"people\":{\"type\":\"array\","
                       "\"items\":{\"type\":\"object\",\"required\":[\"name\"],"
                       "\"properties\":{\"name\":{\"type\":\"string\"}}}}}}";

    ACCEPTS(s, "{\"tags\":[\"a\"]}");
    ACCEPTS(s, "{\"tags\":[\"a\",\"b\",\"c\"]}");
    REJECTS(s, "{\"tags\":[]}", "argument \"tags\" must have at least 1 item");
    REJECTS(s, "{\"tags\":[\"a\",\"b\",\"c\",\"d\"]}", "argument \"tags\" must have at most 3 items");
    REJECTS(s, "{\"tags\":[\"a\",2]}", "argument \"tags[1]\" must be a string");
    REJECTS(s, "{\"tags\":[\"toolong\"]}", "argument \"tags[0]\" must have at most 5 characters");
    ACCEPTS(objs, "{\"people\":[{\"name\":\"Ann\"},{\"name\":\"Bo\"}]}");
    REJECTS(objs, "{\"people\":[{\"name\":\"Ann\"},{\"name\":1}]}",
            "argument \"people[1].name\" must be a string");
    REJECTS(objs, "{\"people\":[{}]}", "missing required argument \"people[0].name\"");
}
END_TEST

START_TEST(null_arguments_are_an_empty_object)
{
    ACCEPTS("{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{}}", NULL);
    ACCEPTS("{\"type\":[\"object\",\"null\"]}", NULL);
    REJECTS(notes_schema, NULL, "missing required argument \"action\"");
    REJECTS(notes_schema, "null", "missing required argument \"action\"");
    REJECTS("{\"type\":\"string\"}", NULL, "arguments must be a string");
}
END_TEST

START_TEST(realistic_tool_schema)
{
    ACCEPTS(notes_schema, "{\"action\":\"list\"}");
    ACCEPTS(notes_schema, "{\"action\":\"add\",\"text\":\"buy milk\"}");
    ACCEPTS(notes_schema, "{\"action\":\"search\",\"query\":\"caf\xc3\xa9\"}");
    ACCEPTS(notes_schema, "{\"action\":\"delete\",\"item\":3}");
    ACCEPTS(notes_schema, "{\"action\":\"delete_all\"}");
    REJECTS(notes_schema, "{}", "missing required argument \"action\"");
    REJECTS(notes_schema, "{\"text\":\"x\"}", "missing required argument \"action\"");
    REJECTS(notes_schema, "{\"action\":\"remove\"}",
            "argument \"action\" must be one of: add, list, search, delete, delete_all");
    REJECTS(notes_schema, "{\"action\":\"add\",\"note\":\"x\"}", "unknown argument \"note\"");
    REJECTS(notes_schema, "{\"action\":\"add\",\"text\":\"\"}",
            "argument \"text\" must have at least 1 character");
    REJECTS(notes_schema, "{\"action\":\"delete\",\"item\":\"3\"}",
            "argument \"item\" must be an integer");
    REJECTS(notes_schema, "{\"action\":\"delete\",\"item\":0}", "argument \"item\" must be at least 1");
    REJECTS(notes_schema, "{\"action\":\"delete\",\"item\":2.5}", "argument \"item\" must be an integer");
}
END_TEST

START_TEST(realistic_tool_schema_long_text)
{
    char args[4096];
    int n = snprintf(args, sizeof(args), "{\"action\":\"add\",\"text\":\"");

    memset(args + n, 'a', 1000);
    snprintf(args + n + 1000, sizeof(args) - (size_t)n - 1000, "\"}");
    ACCEPTS(notes_schema, args);
    snprintf(args + n + 1000, sizeof(args) - (size_t)n - 1000, "a\"}");
    REJECTS(notes_schema, args, "argument \"text\" must have at most 1000 characters");
}
END_TEST

START_TEST(errors_never_show_the_value)
{
    const char *secret = "\"sk-live-hunter2\"";

    ck_assert_int_eq(check(with_v("{\"type\":\"integer\"}"), v_is(secret)), -1);
    ck_assert_ptr_null(strstr(err, "hunter2"));
    ck_assert_int_eq(check(with_v("{\"enum\":[\"a\"]}"), v_is(secret)), -1);
    ck_assert_ptr_null(strstr(err, "hunter2"));
    ck_assert_int_eq(check(with_v("{\"maxLength\":3}"), v_is(secret)), -1);
    ck_assert_ptr_null(strstr(err, "hunter2"));
}
END_TEST

START_TEST(hostile_names_are_cut_and_cleaned)
{
    char args[2048];
    const char *closed = "{\"type\":\"object\",\"additionalProperties\":false}";
    const char *open, *close;
    size_t n = 0;
    int i;

    n += (size_t)snprintf(args, sizeof(args), "{\"");
    for (i = 0; i < 300; i++)
        n += (size_t)snprintf(args + n, sizeof(args) - n, "\xc3\xa9");
    snprintf(args + n, sizeof(args) - n, "\":1}");
    ck_assert_int_eq(check(closed, args), -1);
    open = strchr(err, '"') + 1;
    close = strstr(err, "...\"");
    ck_assert_ptr_nonnull(close);
    ck_assert_int_eq((close - open) % 2, 0);   /* no é cut in half */
    ck_assert_uint_lt(strlen(err), 100);

    REJECTS(closed, "{\"a\\\"b\\n\\\\c\":1}", "unknown argument \"a?b??c\"");
}
END_TEST

START_TEST(deep_paths_are_cut)
{
    char schema[4096];
    size_t n = 0;
    int i;

    for (i = 0; i < 12; i++)
        n += (size_t)snprintf(schema + n, sizeof(schema) - n,
                              "{\"type\":\"object\",\"properties\":{\"n\":");
    n += (size_t)snprintf(schema + n, sizeof(schema) - n, "{\"type\":\"integer\"}");
    for (i = 0; i < 12; i++)
        n += (size_t)snprintf(schema + n, sizeof(schema) - n, "}}");
    REJECTS(schema, "{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":{\"n\":"
                    "\"x\"}}}}}}}}}}}}",
            "argument \"n.n.n.n.n.n.n.n...\" must be an integer");
}
END_TEST

START_TEST(small_or_null_errbuf)
{
    json_object *schema = parse(notes_schema);
    char small[8];

    ck_assert_int_eq(asst_schema_validate(schema, NULL, small, sizeof(small)), -1);
    ck_assert_str_eq(small, "missing");
    ck_assert_int_eq(asst_schema_validate(schema, NULL, NULL, 0), -1);
    ck_assert_int_eq(asst_schema_validate(schema, NULL, small, 0), -1);
    json_object_put(schema);
}
END_TEST

START_TEST(ignored_keywords_and_no_schema)
{
    ACCEPTS(with_v("{\"type\":\"string\",\"pattern\":\"^x$\",\"format\":\"email\"}"), v_is("\"y\""));
    /* keywords of another type than the value's do not apply */
    ACCEPTS(with_v("{\"minLength\":5,\"minItems\":2,\"required\":[\"q\"]}"), v_is("3"));
    ACCEPTS(with_v("{\"minimum\":5}"), v_is("\"3\""));
    ck_assert_int_eq(asst_schema_validate(NULL, NULL, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "");
}
END_TEST

static Suite *schema_suite(void)
{
    Suite *s = suite_create("schema");
    TCase *types = tcase_create("types");
    TCase *objects = tcase_create("objects");
    TCase *values = tcase_create("values");
    TCase *messages = tcase_create("messages");

    tcase_add_test(types, each_type_accepts_its_own);
    tcase_add_test(types, each_type_rejects_the_others);
    tcase_add_test(types, integer_number_and_numeric_string);
    tcase_add_test(types, type_lists);
    tcase_add_test(types, unsupported_type_matches_nothing);
    tcase_add_test(objects, missing_required);
    tcase_add_test(objects, additional_properties);
    tcase_add_test(objects, first_failure_in_declaration_order);
    tcase_add_test(objects, nested_object_path);
    tcase_add_test(objects, array_items_and_counts);
    tcase_add_test(objects, null_arguments_are_an_empty_object);
    tcase_add_test(objects, realistic_tool_schema);
    tcase_add_test(objects, realistic_tool_schema_long_text);
    tcase_add_test(values, enum_hit_and_miss);
    tcase_add_test(values, enum_compares_type_and_value);
    tcase_add_test(values, string_length_counts_code_points);
    tcase_add_test(values, minimum_and_maximum);
    tcase_add_test(values, ignored_keywords_and_no_schema);
    tcase_add_test(messages, long_enum_list_is_cut);
    tcase_add_test(messages, errors_never_show_the_value);
    tcase_add_test(messages, hostile_names_are_cut_and_cleaned);
    tcase_add_test(messages, deep_paths_are_cut);
    tcase_add_test(messages, small_or_null_errbuf);
    suite_add_tcase(s, types);
    suite_add_tcase(s, objects);
    suite_add_tcase(s, values);
    suite_add_tcase(s, messages);
    return s;
}

int main(void)
{
    return asst_unit_run(schema_suite());
}
