/* Reading chat completions as OpenAI-compatible servers send them
 * (net/llm.c), and the calls themselves, blocking and not, with their
 * retries, against the tiny server of http_server.h; the wire with a real
 * provider's shape is tested end to end (tests/it/test_llm.py). */
#include <apr_strings.h>
#include <check.h>

#include "http_server.h"
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

/* ---- calls, against http_server.h ---- */

typedef struct {
    int calls;
    asst_llm_answer_t ans;
} got_t;

static void got(void *baton, asst_llm_answer_t *ans)
{
    got_t *g = baton;

    g->calls++;
    g->ans = *ans;
}

static apr_int64_t now_ms(void)
{
    return asst_clock_monotonic_ms(NULL);
}

/* An llm whose base URL carries the server's instructions (path). */
static asst_llm_t *live_llm(const char *path)
{
    asst_llm_conf_t conf = { .api_key = "sk-test", .model = "test-model", .timeout_ms = 5000,
                             .max_tokens = 100, .temperature = "0.2" };
    asst_llm_t *llm;

    hs_start();
    conf.base_url = apr_psprintf(pool, "http://127.0.0.1:%d%s/v1/", hs.port, path);
    llm = asst_llm_create(pool, &conf);
    ck_assert_ptr_nonnull(llm);
    return llm;
}

static json_object *hello(void)
{
    json_object *messages = json_object_new_array(), *m = json_object_new_object();

    json_object_object_add(m, "role", json_object_new_string("user"));
    json_object_object_add(m, "content", json_object_new_string("hello"));
    json_object_array_add(messages, m);
    return messages;
}

/* Starts one call on m, putting its messages at once (as a caller may). */
static void start(asst_llm_t *llm, asst_http_multi_t *m, apr_int64_t deadline_ms, got_t *g)
{
    json_object *messages = hello();

    asst_llm_start(llm, m, pool, messages, "[]", deadline_ms, got, g);
    json_object_put(messages);
    ck_assert_int_eq(g->calls, 0);          /* never from inside asst_llm_start */
}

static void run_until_idle(asst_http_multi_t *m, long limit_ms)
{
    apr_int64_t end = now_ms() + limit_ms;

    while (asst_http_multi_pending(m) > 0 && now_ms() < end)
        ck_assert_int_ge(asst_http_multi_run(m, -1, 100), 0);
    ck_assert_int_eq(asst_http_multi_pending(m), 0);
}

START_TEST(start_answers)
{
    asst_llm_t *llm = live_llm("");
    asst_http_multi_t *m = asst_http_multi_create(pool);
    got_t g = { 0 };

    start(llm, m, now_ms() + 5000, &g);
    run_until_idle(m, 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.ans.outcome, ASST_LLM_OK);
    ck_assert_str_eq(g.ans.content, "hi");
    ck_assert_int_eq(g.ans.attempts, 1);
    ck_assert_int_eq(g.ans.prompt_tokens, 12);
    ck_assert_int_eq(hs_count(&hs.requests), 1);
}
END_TEST

START_TEST(start_runs_calls_together)
{
    asst_llm_t *llm = live_llm("/delay/300");
    asst_http_multi_t *m = asst_http_multi_create(pool);
    apr_int64_t t0 = now_ms();
    got_t g[5];
    int i;

    memset(g, 0, sizeof(g));
    for (i = 0; i < 5; i++)
        start(llm, m, t0 + 5000, &g[i]);
    run_until_idle(m, 3000);
    ck_assert_int_lt(now_ms() - t0, 1000);          /* not 5 x 300 ms */
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(g[i].calls, 1);
        ck_assert_int_eq(g[i].ans.outcome, ASST_LLM_OK);
    }
}
END_TEST

START_TEST(start_retries_a_503)
{
    asst_llm_t *llm = live_llm("/seq/503,200");
    asst_http_multi_t *m = asst_http_multi_create(pool);
    got_t g = { 0 };

    start(llm, m, now_ms() + 5000, &g);
    run_until_idle(m, 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.ans.outcome, ASST_LLM_OK);
    ck_assert_int_eq(g.ans.attempts, 2);
    ck_assert_str_eq(g.ans.content, "hi");
    ck_assert_int_eq(hs_count(&hs.requests), 2);
}
END_TEST

START_TEST(start_follows_retry_after)
{
    asst_llm_t *llm = live_llm("/seq/429,200/retry-after/1");
    asst_http_multi_t *m = asst_http_multi_create(pool);
    apr_int64_t t0 = now_ms();
    got_t g = { 0 };

    start(llm, m, t0 + 5000, &g);
    run_until_idle(m, 3000);
    ck_assert_int_eq(g.ans.outcome, ASST_LLM_OK);
    ck_assert_int_eq(g.ans.attempts, 2);
    ck_assert_int_ge(now_ms() - t0, 1000);
}
END_TEST

START_TEST(start_without_time_answers_from_the_loop)
{
    asst_llm_t *llm = live_llm("");
    asst_http_multi_t *m = asst_http_multi_create(pool);
    got_t g = { 0 };

    start(llm, m, now_ms() + 100, &g);
    ck_assert_int_eq(asst_http_multi_pending(m), 1);
    ck_assert_int_eq(asst_http_multi_run(m, -1, 0), 0);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.ans.outcome, ASST_LLM_UNAVAILABLE);
    ck_assert_int_eq(g.ans.attempts, 0);
    ck_assert_int_eq(asst_http_multi_pending(m), 0);
    asst_http_multi_run(m, -1, 10);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(hs_count(&hs.requests), 0);
}
END_TEST

START_TEST(start_gives_up_at_the_deadline)
{
    asst_llm_t *llm = live_llm("/status/503");
    asst_http_multi_t *m = asst_http_multi_create(pool);
    apr_int64_t deadline = now_ms() + 1200;
    got_t g = { 0 };

    start(llm, m, deadline, &g);
    run_until_idle(m, 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.ans.outcome, ASST_LLM_UNAVAILABLE);
    ck_assert_ptr_nonnull(g.ans.error);    /* "HTTP 503", or "circuit open" once 4 have failed */
    ck_assert_int_ge(g.ans.attempts, 1);
    ck_assert_int_le(hs_count(&hs.requests), g.ans.attempts);
    ck_assert_int_le(now_ms(), deadline);       /* nothing new without MIN_USEFUL_MS left */
}
END_TEST

START_TEST(start_does_not_retry_a_refusal)
{
    asst_llm_t *llm = live_llm("/status/400");
    asst_http_multi_t *m = asst_http_multi_create(pool);
    got_t g = { 0 };

    start(llm, m, now_ms() + 5000, &g);
    run_until_idle(m, 3000);
    ck_assert_int_eq(g.ans.outcome, ASST_LLM_REFUSED);
    ck_assert_int_eq(g.ans.attempts, 1);
    ck_assert_int_eq(hs_count(&hs.requests), 1);
}
END_TEST

START_TEST(chat_blocks_and_retries)
{
    asst_llm_t *llm = live_llm("/seq/503,200");
    json_object *messages = hello();
    asst_llm_answer_t a;

    asst_llm_chat(llm, pool, messages, "[]", now_ms() + 5000, &a);
    json_object_put(messages);
    ck_assert_int_eq(a.outcome, ASST_LLM_OK);
    ck_assert_int_eq(a.attempts, 2);
    ck_assert_str_eq(a.content, "hi");
}
END_TEST

START_TEST(chat_without_time)
{
    asst_llm_t *llm = live_llm("");
    json_object *messages = hello();
    asst_llm_answer_t a;

    asst_llm_chat(llm, pool, messages, "[]", now_ms() + 100, &a);
    json_object_put(messages);
    ck_assert_int_eq(a.outcome, ASST_LLM_UNAVAILABLE);
    ck_assert_int_eq(a.attempts, 0);
    ck_assert_int_eq(hs_count(&hs.requests), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("llm");
    TCase *tc = tcase_create("parse");
    TCase *calls = tcase_create("calls");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, text_answer);
    tcase_add_test(tc, parallel_tool_calls);
    tcase_add_test(tc, a_call_without_an_id_gets_one);
    tcase_add_test(tc, not_a_completion);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(calls, unit_pool_setup, unit_pool_teardown);
    tcase_add_checked_fixture(calls, NULL, hs_stop);
    tcase_add_test(calls, start_answers);
    tcase_add_test(calls, start_runs_calls_together);
    tcase_add_test(calls, start_retries_a_503);
    tcase_add_test(calls, start_follows_retry_after);
    tcase_add_test(calls, start_without_time_answers_from_the_loop);
    tcase_add_test(calls, start_gives_up_at_the_deadline);
    tcase_add_test(calls, start_does_not_retry_a_refusal);
    tcase_add_test(calls, chat_blocks_and_retries);
    tcase_add_test(calls, chat_without_time);
    suite_add_tcase(s, calls);
    return asst_unit_run(s);
}
