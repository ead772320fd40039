/* Reading chat completions as OpenAI-compatible servers send them
 * (net/llm.c); the wire itself is tested end to end (tests/it/test_llm.py). */
#include <check.h>

#include "net/llm.h"
#include "unit_main.h"
#include "unit_pool.h"

static asst_llm_answer_t parse(const char *body)
{
    asst_llm_answer_t a;

    memset(&a, 0, sizeof(a));
    asst_llm_parse(pool, body, &a);
    return a;
}

START_TEST(text_answer)
{
    asst_llm_answer_t a = parse(
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":\"Hi!\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":812,\"completion_tokens\":3,\"total_tokens\":815}}");

    ck_assert_int_eq(a.outcome, ASST_LLM_OK);
    ck_assert_str_eq(a.content, "Hi!");
    ck_assert(!a.calls || a.calls->nelts == 0);
    ck_assert_int_eq(a.prompt_tokens, 812);
    ck_assert_int_eq(a.completion_tokens, 3);
}
END_TEST

START_TEST(parallel_tool_calls)
{
    asst_llm_answer_t a = parse(
        "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
        "{\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"notes\",\"arguments\":\"{\\\"action\\\":\\\"list\\\"}\"}},"
        "{\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"help\",\"arguments\":\"{}\"}}]},"
        "\"finish_reason\":\"tool_calls\"}]}");
    const asst_call_t *c;

    ck_assert_int_eq(a.outcome, ASST_LLM_OK);
    ck_assert_ptr_null(a.content);
    ck_assert_int_eq(a.calls->nelts, 2);
    c = &APR_ARRAY_IDX(a.calls, 0, asst_call_t);
    ck_assert_str_eq(c->id, "call_a");
    ck_assert_str_eq(c->name, "notes");
    ck_assert_str_eq(c->arguments, "{\"action\":\"list\"}");
    ck_assert_str_eq(APR_ARRAY_IDX(a.calls, 1, asst_call_t).name, "help");
    ck_assert_int_eq(a.prompt_tokens, 0);          /* no usage: nothing counted */
}
END_TEST

START_TEST(a_call_without_an_id_gets_one)
{
    asst_llm_answer_t a = parse("{\"choices\":[{\"message\":{\"tool_calls\":[{\"function\":"
                                "{\"name\":\"help\",\"arguments\":\"\"}}]}}]}");

    ck_assert_int_eq(a.outcome, ASST_LLM_OK);
    ck_assert_str_eq(APR_ARRAY_IDX(a.calls, 0, asst_call_t).id, "call_0");
}
END_TEST

START_TEST(not_a_completion)
{
    ck_assert_int_eq(parse("this is not json").outcome, ASST_LLM_MALFORMED);
    ck_assert_int_eq(parse("{}").outcome, ASST_LLM_MALFORMED);
    ck_assert_int_eq(parse("{\"choices\":[]}").outcome, ASST_LLM_MALFORMED);
    ck_assert_int_eq(parse("{\"error\":{\"message\":\"quota\"}}").outcome, ASST_LLM_MALFORMED);
    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"x\"}]}}]}").outcome,
                     ASST_LLM_MALFORMED);
    ck_assert_int_eq(parse(NULL).outcome, ASST_LLM_MALFORMED);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("llm");
    TCase *tc = tcase_create("parse");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, text_answer);
    tcase_add_test(tc, parallel_tool_calls);
    tcase_add_test(tc, a_call_without_an_id_gets_one);
    tcase_add_test(tc, not_a_completion);
    suite_add_tcase(s, tc);
    return asst_unit_run(s);
}
