/* The tool registry: the OpenAI tools array it exports and the check every
 * call passes before it runs. */
#include <string.h>

#include <check.h>
#include <json-c/json.h>

#include "tools/registry.h"
#include "unit_main.h"
#include "unit_pool.h"

static int check_call(const char *name, const char *arguments, const char **err)
{
    const asst_tool_t *tool;
    json_object *args;
    int rv = asst_tools_check(pool, name, arguments, &tool, &args, err);

    json_object_put(args);
    return rv;
}

START_TEST(tools_array_is_openai_shaped_and_stable)
{
    const char *text = asst_tools_openai_json();
    json_object *array = json_tokener_parse(text);
    const char *names[] = { "notes", "reminders", "memory", "settings", "help" };

    ck_assert_ptr_nonnull(array);
    ck_assert_int_eq(json_object_array_length(array), 5);
    for (size_t i = 0; i < 5; i++) {
        json_object *tool = json_object_array_get_idx(array, i), *fn, *v;
        ck_assert(json_object_object_get_ex(tool, "type", &v));
        ck_assert_str_eq(json_object_get_string(v), "function");
        ck_assert(json_object_object_get_ex(tool, "function", &fn));
        ck_assert(json_object_object_get_ex(fn, "name", &v));
        ck_assert_str_eq(json_object_get_string(v), names[i]);
        ck_assert(json_object_object_get_ex(fn, "parameters", &v));
        ck_assert(json_object_is_type(v, json_type_object));
        ck_assert(json_object_object_get_ex(fn, "description", &v));
    }
    json_object_put(array);
    ck_assert_str_eq(asst_tools_openai_json(), text);   /* the same bytes every time */
}
END_TEST

START_TEST(good_calls_pass)
{
    const char *err = NULL;

    ck_assert_int_eq(check_call("notes", "{\"action\":\"add\",\"text\":\"buy milk\"}", &err), 0);
    ck_assert_int_eq(check_call("memory", "{\"action\":\"forget\",\"item\":2}", &err), 0);
    ck_assert_int_eq(check_call("help", "", &err), 0);             /* a model's "no arguments" */
    ck_assert_int_eq(check_call("help", "null", &err), 0);
    ck_assert_int_eq(check_call("help", "{\"topic\":\"notes\"}", &err), 0);
}
END_TEST

START_TEST(bad_calls_are_told_why)
{
    const char *err = NULL;

    ck_assert_int_eq(check_call("shell", "{}", &err), -1);
    ck_assert_str_eq(err, "unknown tool \"shell\"");
    ck_assert_int_eq(check_call("notes", "{\"action\":\"add\",", &err), -1);
    ck_assert_str_eq(err, "arguments are not valid JSON");
    ck_assert_int_eq(check_call("notes", "{\"action\":\"add\",\"text\":\"x\",\"sudo\":true}", &err), -1);
    ck_assert_str_eq(err, "unknown argument \"sudo\"");
    ck_assert_int_eq(check_call("notes", "{\"action\":\"burn\"}", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "\"action\" must be one of"));
    ck_assert_int_eq(check_call("notes", "{\"text\":\"x\"}", &err), -1);
    ck_assert_str_eq(err, "missing required argument \"action\"");
    ck_assert_int_eq(check_call("notes", "{\"action\":\"delete\",\"item\":\"2\"}", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "\"item\" must be an integer"));
    ck_assert_int_eq(check_call("settings", "{\"action\":\"set_name\",\"name\":\"\"}", &err), -1);
}
END_TEST

START_TEST(bulk_deletes_ask_first)
{
    json_object *all = json_tokener_parse("{\"action\":\"delete_all\"}");
    json_object *one = json_tokener_parse("{\"action\":\"delete\",\"item\":1}");
    json_object *forget = json_tokener_parse("{\"action\":\"forget_all\"}");

    ck_assert_str_eq(asst_tool_confirm(&asst_tool_notes, all), "delete all your notes");
    ck_assert_ptr_null(asst_tool_confirm(&asst_tool_notes, one));
    ck_assert_str_eq(asst_tool_confirm(&asst_tool_memory, forget), "forget everything you told me");
    ck_assert_ptr_null(asst_tool_confirm(&asst_tool_help, one));
    json_object_put(all);
    json_object_put(one);
    json_object_put(forget);
}
END_TEST

START_TEST(reminder_calls_are_checked)
{
    const char *err = NULL;

    ck_assert_int_eq(check_call("reminders", "{\"action\":\"create\",\"text\":\"call mom\","
                                             "\"at\":\"2030-03-05T15:00\"}", &err), 0);
    ck_assert_int_eq(check_call("reminders", "{\"action\":\"create\",\"text\":\"stretch\","
                                             "\"at\":\"2030-03-05T07:30:00\",\"rrule\":\"FREQ=DAILY\","
                                             "\"wording\":\"every day at 7:30\"}", &err), 0);
    ck_assert_int_eq(check_call("reminders", "{\"action\":\"snooze\"}", &err), 0);
    ck_assert_int_eq(check_call("reminders", "{\"action\":\"snooze\",\"minutes\":1441}", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "\"minutes\""));
    ck_assert_int_eq(check_call("reminders", "{\"action\":\"cancel\",\"item\":0}", &err), -1);
    ck_assert_int_eq(check_call("reminders", "{\"action\":\"create\",\"text\":\"x\",\"at\":\"tomorrow\"}",
                                &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "\"at\""));
    ck_assert_int_eq(check_call("reminders", "{\"action\":\"delete_all\"}", &err), -1);
}
END_TEST

START_TEST(only_listing_reminders_reads)
{
    const char *actions[] = { "create", "list", "cancel", "snooze" };
    const int reads[] = { 0, 1, 0, 0 };

    for (size_t i = 0; i < 4; i++) {
        json_object *args = json_object_new_object();
        json_object_object_add(args, "action", json_object_new_string(actions[i]));
        ck_assert_int_eq(asst_tool_reads(&asst_tool_reminders, args), reads[i]);
        ck_assert_ptr_null(asst_tool_confirm(&asst_tool_reminders, args));
        json_object_put(args);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tools");
    TCase *tc = tcase_create("registry");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, tools_array_is_openai_shaped_and_stable);
    tcase_add_test(tc, good_calls_pass);
    tcase_add_test(tc, bad_calls_are_told_why);
    tcase_add_test(tc, bulk_deletes_ask_first);
    tcase_add_test(tc, reminder_calls_are_checked);
    tcase_add_test(tc, only_listing_reminders_reads);
    suite_add_tcase(s, tc);
    return asst_unit_run(s);
}
