/* Unit tests for worker/agent/context.c: the order of the messages, the
 * cache-friendly prefix, each step of the cut in order, UTF-8 safe
 * truncation, the over-budget report, and the time 10,000 memories take. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <check.h>
#include <json-c/json.h>

#include "agent/context.h"
#include "unit_main.h"
#include "unit_pool.h"

#define U ASST_CONTEXT_USER
#define A ASST_CONTEXT_ASSISTANT

static const char INSTRUCTIONS[] =
    "You are a personal assistant people text by SMS.\nBe brief; say \"done\" when done. Ünïcode ok.";
static const char TOOLS[] =
    "[{\"type\":\"function\",\"function\":{\"name\":\"remind\",\"parameters\":{\"type\":\"object\"}}}]";
static const char *const MEMORIES[] = { "Sister is called Ana", "Prefers tea to coffee",
                                        "Works night shifts on Tuesdays" };
static const asst_context_turn_t RECENT[] = {
    { U, "hi, who are you?" },
    { A, "Your assistant. Text me reminders, notes, questions." },
    { U, "note: buy milk" },
    { A, "Noted: buy milk." },
};

static asst_context_input_t sample(void)
{
    asst_context_input_t in = {
        .instructions = INSTRUCTIONS,
        .tools_json = TOOLS,
        .person = { "Sam", "Europe/Berlin", "Mon 30 Nov 2026 09:15 (Europe/Berlin)" },
        .memories = MEMORIES,
        .n_memories = 3,
        .recent = RECENT,
        .n_recent = 4,
        .message = "remind me tomorrow at 9 to call Ana",
        .budget_tokens = INT_MAX,
    };
    return in;
}

static const char *field(json_object *messages, size_t i, const char *name)
{
    json_object *v;

    ck_assert_uint_lt(i, json_object_array_length(messages));
    ck_assert(json_object_object_get_ex(json_object_array_get_idx(messages, i), name, &v));
    return json_object_get_string(v);
}

static const char *role(json_object *messages, size_t i)
{
    return field(messages, i, "role");
}

static const char *content(json_object *messages, size_t i)
{
    return field(messages, i, "content");
}

static const char *last_content(json_object *messages)
{
    return content(messages, json_object_array_length(messages) - 1);
}

static const char *plain(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

/* Builds and checks what every result must satisfy: the report counts what
 * was built, and it fits unless it says over_budget. */
static json_object *build(const asst_context_input_t *in, asst_context_report_t *r)
{
    json_object *messages = asst_context_build(pool, in, r);

    ck_assert_ptr_nonnull(messages);
    ck_assert_uint_eq(r->tokens, asst_context_count(messages, in->tools_json));
    ck_assert_int_eq(r->over_budget, r->tokens > (size_t)(in->budget_tokens > 0 ? in->budget_tokens : 0));
    ck_assert_str_eq(role(messages, 0), "system");
    ck_assert_str_eq(role(messages, json_object_array_length(messages) - 1), "user");
    return messages;
}

static size_t full_tokens(asst_context_input_t in)
{
    asst_context_report_t r;
    json_object *messages;

    in.budget_tokens = INT_MAX;
    messages = build(&in, &r);
    json_object_put(messages);
    return r.tokens;
}

static size_t turn_tokens(const char *text)
{
    return asst_context_text_tokens(strlen(text)) + ASST_CONTEXT_MESSAGE_OVERHEAD;
}

START_TEST(context_token_formula)
{
    ck_assert_uint_eq(asst_context_text_tokens(0), 0);
    ck_assert_uint_eq(asst_context_text_tokens(1), 1);
    ck_assert_uint_eq(asst_context_text_tokens(4), 1);
    ck_assert_uint_eq(asst_context_text_tokens(5), 2);
    ck_assert_uint_eq(asst_context_text_tokens(400), 100);
    ck_assert_uint_eq(asst_context_text_tokens((size_t)-1), (size_t)-1 / 4 + 1);
}
END_TEST

START_TEST(context_order_of_messages)
{
    asst_context_input_t in = sample();
    asst_context_report_t r;
    json_object *m = build(&in, &r);

    ck_assert_uint_eq(json_object_array_length(m), 7);
    ck_assert_str_eq(content(m, 0), INSTRUCTIONS);
    ck_assert_str_eq(role(m, 1), "system");
    ck_assert_str_eq(content(m, 1),
                     "About the person: Name: Sam. Time zone: Europe/Berlin. "
                     "Local time: Mon 30 Nov 2026 09:15 (Europe/Berlin).\n"
                     "What you remember about them:\n"
                     "- Sister is called Ana\n"
                     "- Prefers tea to coffee\n"
                     "- Works night shifts on Tuesdays");
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(role(m, 2 + (size_t)i), RECENT[i].role == A ? "assistant" : "user");
        ck_assert_str_eq(content(m, 2 + (size_t)i), RECENT[i].text);
    }
    ck_assert_str_eq(content(m, 6), "remind me tomorrow at 9 to call Ana");
    ck_assert_str_eq(plain(json_object_array_get_idx(m, 6)),
                     "{\"role\":\"user\",\"content\":\"remind me tomorrow at 9 to call Ana\"}");
    json_object_put(m);
}
END_TEST

START_TEST(context_prefix_is_byte_identical)
{
    asst_context_input_t a = sample(), b = sample();
    asst_context_report_t ra, rb;
    static const asst_context_turn_t other[] = { { A, "Good morning!" } };
    json_object *ma, *mb;
    char *first;

    b.person = (asst_context_person_t){ "Kenji", "Asia/Tokyo", "Tue 1 Dec 2026 17:15 (Asia/Tokyo)" };
    b.memories = NULL;
    b.n_memories = 0;
    b.recent = other;
    b.n_recent = 1;
    b.message = "what's on today? and tomorrow?";
    b.n_recent = 0;
    b.budget_tokens = (int)full_tokens(b) - 1;   /* a cut one too */
    b.n_recent = 1;
    ma = build(&a, &ra);
    mb = build(&b, &rb);
    ck_assert_int_eq(rb.recent_dropped, 1);
    ck_assert_int_eq(rb.message_truncated, 1);
    first = strdup(plain(json_object_array_get_idx(ma, 0)));
    ck_assert_str_eq(first, plain(json_object_array_get_idx(mb, 0)));
    ck_assert_str_eq(first, "{\"role\":\"system\",\"content\":\"You are a personal assistant people text "
                            "by SMS.\\nBe brief; say \\\"done\\\" when done. Ünïcode ok.\"}");
    ck_assert_str_ne(content(ma, 1), content(mb, 1));
    free(first);
    json_object_put(ma);
    json_object_put(mb);
}
END_TEST

START_TEST(context_is_deterministic)
{
    asst_context_input_t in = sample();
    asst_context_report_t r1, r2;
    json_object *m1, *m2;
    char *s1;

    in.budget_tokens = (int)full_tokens(in) - 20;
    m1 = build(&in, &r1);
    m2 = build(&in, &r2);
    s1 = strdup(plain(m1));
    ck_assert_str_eq(s1, plain(m2));
    ck_assert_mem_eq(&r1, &r2, sizeof(r1));
    free(s1);
    json_object_put(m1);
    json_object_put(m2);
}
END_TEST

START_TEST(context_large_budget_cuts_nothing)
{
    asst_context_input_t in = sample();
    asst_context_report_t r;
    json_object *m;

    in.budget_tokens = (int)full_tokens(in);   /* exactly enough */
    m = build(&in, &r);
    ck_assert_int_eq(r.memories_kept, 3);
    ck_assert_int_eq(r.memories_dropped, 0);
    ck_assert_int_eq(r.recent_kept, 4);
    ck_assert_int_eq(r.recent_dropped, 0);
    ck_assert_int_eq(r.message_truncated, 0);
    ck_assert_int_eq(r.over_budget, 0);
    ck_assert_uint_eq(r.tokens, (size_t)in.budget_tokens);
    ck_assert_uint_eq(json_object_array_length(m), 7);
    json_object_put(m);
}
END_TEST

START_TEST(context_cuts_oldest_recent_first)
{
    asst_context_input_t in = sample();
    size_t full = full_tokens(in);
    asst_context_report_t r;
    json_object *m;

    in.budget_tokens = (int)full - 1;
    m = build(&in, &r);
    ck_assert_int_eq(r.recent_dropped, 1);
    ck_assert_int_eq(r.recent_kept, 3);
    ck_assert_int_eq(r.memories_kept, 3);
    ck_assert_int_eq(r.message_truncated, 0);
    ck_assert_uint_eq(json_object_array_length(m), 6);
    ck_assert_str_eq(content(m, 2), RECENT[1].text);
    json_object_put(m);

    in.budget_tokens = (int)(full - turn_tokens(RECENT[0].text)) - 1;
    m = build(&in, &r);
    ck_assert_int_eq(r.recent_dropped, 2);
    ck_assert_int_eq(r.memories_kept, 3);
    ck_assert_str_eq(content(m, 2), RECENT[2].text);
    ck_assert_str_eq(content(m, 3), RECENT[3].text);
    json_object_put(m);
}
END_TEST

START_TEST(context_cuts_memories_from_the_end_after_recent)
{
    asst_context_input_t in = sample();
    asst_context_report_t r;
    json_object *m;

    in.n_recent = 0;
    in.budget_tokens = (int)full_tokens(in) - 1;
    in.n_recent = 4;
    m = build(&in, &r);
    ck_assert_int_eq(r.recent_kept, 0);
    ck_assert_int_eq(r.recent_dropped, 4);
    ck_assert_int_eq(r.memories_kept, 2);
    ck_assert_int_eq(r.memories_dropped, 1);
    ck_assert_int_eq(r.message_truncated, 0);
    ck_assert_uint_eq(json_object_array_length(m), 3);
    ck_assert_ptr_nonnull(strstr(content(m, 1), "\n- Sister is called Ana\n- Prefers tea to coffee"));
    ck_assert_ptr_null(strstr(content(m, 1), "Works night"));
    ck_assert_str_eq(content(m, 2), in.message);
    json_object_put(m);
}
END_TEST

START_TEST(context_keeps_person_facts_after_memories)
{
    asst_context_input_t in = sample();
    asst_context_report_t r;
    json_object *m;

    in.n_recent = 0;
    in.n_memories = 0;
    in.budget_tokens = (int)full_tokens(in);
    in.n_recent = 4;
    in.n_memories = 3;
    m = build(&in, &r);
    ck_assert_int_eq(r.memories_kept, 0);
    ck_assert_int_eq(r.memories_dropped, 3);
    ck_assert_int_eq(r.recent_kept, 0);
    ck_assert_int_eq(r.message_truncated, 0);
    ck_assert_str_eq(content(m, 1), "About the person: Name: Sam. Time zone: Europe/Berlin. "
                                    "Local time: Mon 30 Nov 2026 09:15 (Europe/Berlin).");
    json_object_put(m);

    in.budget_tokens--;   /* one token less: now the message gives */
    m = build(&in, &r);
    ck_assert_int_eq(r.message_truncated, 1);
    ck_assert_ptr_nonnull(strstr(content(m, 1), "Name: Sam."));
    json_object_put(m);
}
END_TEST

/* Instructions "" and no person: 4 + 4 tokens of overhead, so a budget of
 * 13 leaves 5 tokens, 20 bytes: 12 for the marker and 8 for the message,
 * which fall inside the third euro sign (3 bytes each). */
START_TEST(context_truncates_message_at_code_point)
{
    asst_context_input_t in = { .message = "€€€€€€€€€€", .budget_tokens = 13 };
    asst_context_report_t r;
    json_object *m = build(&in, &r);

    ck_assert_uint_eq(json_object_array_length(m), 2);
    ck_assert_str_eq(content(m, 1), "€€" ASST_CONTEXT_TRUNCATED);
    ck_assert_int_eq(r.message_truncated, 1);
    ck_assert_int_eq(r.over_budget, 0);
    ck_assert_uint_le(r.tokens, 13);
    json_object_put(m);
}
END_TEST

static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = s[i] < 0x80 ? 1 : s[i] >> 5 == 6 ? 2 : s[i] >> 4 == 14 ? 3 : s[i] >> 3 == 30 ? 4 : 0;

        if (len == 0 || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* Every budget that truncates leaves a valid UTF-8 prefix of the message. */
START_TEST(context_truncation_sweep_stays_utf8)
{
    const char *message = "Grüße 🙂 aus Köln — 東京 too, 🙂🙂 ok? ñ€";
    asst_context_input_t in = sample();
    size_t full, marker = strlen(ASST_CONTEXT_TRUNCATED);
    int truncated = 0;

    in.message = message;
    full = full_tokens(in);
    for (int budget = 0; budget <= (int)full; budget++) {
        asst_context_report_t r;
        json_object *m;
        const char *text;
        size_t len;

        in.budget_tokens = budget;
        m = build(&in, &r);
        text = last_content(m);
        len = strlen(text);
        if (r.message_truncated) {
            truncated++;
            ck_assert_uint_ge(len, marker);
            ck_assert_str_eq(text + len - marker, ASST_CONTEXT_TRUNCATED);
            ck_assert_int_eq(strncmp(text, message, len - marker), 0);
            ck_assert(utf8_valid((const unsigned char *)text, len - marker));
        } else {
            ck_assert_str_eq(text, message);
        }
        json_object_put(m);
    }
    ck_assert_int_gt(truncated, 10);
}
END_TEST

/* Across all budgets: kept counts never fall as the budget grows, and each
 * step starts only when the one before it is finished. */
START_TEST(context_cut_order_holds_for_every_budget)
{
    asst_context_input_t in = sample();
    size_t full = full_tokens(in);
    asst_context_report_t prev = { 0 };

    for (int budget = 0; budget <= (int)full + 3; budget++) {
        asst_context_report_t r;
        json_object *m;

        in.budget_tokens = budget;
        m = build(&in, &r);
        ck_assert_int_ge(r.recent_kept, prev.recent_kept);
        ck_assert_int_ge(r.memories_kept, prev.memories_kept);
        ck_assert_int_eq(r.memories_kept + r.memories_dropped, 3);
        ck_assert_int_eq(r.recent_kept + r.recent_dropped, 4);
        if (r.memories_dropped > 0)
            ck_assert_int_eq(r.recent_kept, 0);
        if (r.message_truncated || r.over_budget)
            ck_assert_int_eq(r.memories_kept + r.recent_kept, 0);
        for (int i = 0; i < r.recent_kept; i++)
            ck_assert_str_eq(content(m, 2 + (size_t)i), RECENT[r.recent_dropped + i].text);
        prev = r;
        json_object_put(m);
    }
    ck_assert_int_eq(prev.recent_kept, 4);
    ck_assert_int_eq(prev.memories_kept, 3);
}
END_TEST

START_TEST(context_over_budget_still_builds)
{
    asst_context_input_t in = sample();
    char *big = malloc(401);
    asst_context_report_t r;
    json_object *m;

    memset(big, 'x', 400);
    big[400] = '\0';
    in.instructions = big;   /* 104 tokens alone */
    for (int budget = -1; budget <= 104; budget += 35) {
        in.budget_tokens = budget;
        m = build(&in, &r);
        ck_assert_int_eq(r.over_budget, 1);
        ck_assert_int_eq(r.message_truncated, 0);
        ck_assert_int_eq(r.memories_kept, 0);
        ck_assert_int_eq(r.memories_dropped, 3);
        ck_assert_int_eq(r.recent_kept, 0);
        ck_assert_int_eq(r.recent_dropped, 4);
        ck_assert_uint_eq(json_object_array_length(m), 3);
        ck_assert_str_eq(content(m, 0), big);
        ck_assert_str_eq(content(m, 1), "About the person: Name: Sam. Time zone: Europe/Berlin. "
                                        "Local time: Mon 30 Nov 2026 09:15 (Europe/Berlin).");
        ck_assert_str_eq(content(m, 2), in.message);
        json_object_put(m);
    }
    free(big);
}
END_TEST

START_TEST(context_empty_inputs)
{
    asst_context_input_t in = sample();
    asst_context_report_t r;
    json_object *m;

    in.person.name = NULL;
    in.memories = NULL;
    in.n_memories = 0;
    in.recent = NULL;
    in.n_recent = 0;
    in.tools_json = NULL;
    m = build(&in, &r);
    ck_assert_uint_eq(json_object_array_length(m), 3);
    ck_assert_str_eq(content(m, 1), "About the person: Time zone: Europe/Berlin. "
                                    "Local time: Mon 30 Nov 2026 09:15 (Europe/Berlin).");
    ck_assert_int_eq(r.memories_kept + r.memories_dropped + r.recent_kept + r.recent_dropped, 0);
    json_object_put(m);

    in.person = (asst_context_person_t){ "", NULL, "" };
    m = build(&in, &r);
    ck_assert_uint_eq(json_object_array_length(m), 2);   /* no person message at all */
    json_object_put(m);

    in.memories = MEMORIES;
    in.n_memories = 1;
    m = build(&in, &r);
    ck_assert_str_eq(content(m, 1), "What you remember about them:\n- Sister is called Ana");
    json_object_put(m);

    memset(&in, 0, sizeof(in));   /* everything NULL, budget 0 */
    m = build(&in, &r);
    ck_assert_uint_eq(json_object_array_length(m), 2);
    ck_assert_str_eq(content(m, 0), "");
    ck_assert_str_eq(content(m, 1), "");
    ck_assert_uint_eq(r.tokens, 8);
    ck_assert_int_eq(r.over_budget, 1);
    json_object_put(m);
}
END_TEST

START_TEST(context_memory_stays_one_line)
{
    static const char *const memories[] = { "line one\nline two\r\nthree", "next" };
    asst_context_input_t in = sample();
    asst_context_report_t r;
    json_object *m;

    in.memories = memories;
    in.n_memories = 2;
    m = build(&in, &r);
    ck_assert_ptr_nonnull(strstr(content(m, 1), "\n- line one line two  three\n- next"));
    json_object_put(m);
}
END_TEST

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

#define TIMING_MEMORIES 10000
#define TIMING_RUNS 50

/* Builds TIMING_RUNS times at budget; returns the 95th percentile in ms. */
static double time_builds(asst_context_input_t *in, int budget, asst_context_report_t *r)
{
    double ms[TIMING_RUNS];
    apr_pool_t *scratch;

    ck_assert_int_eq(apr_pool_create(&scratch, pool), APR_SUCCESS);
    in->budget_tokens = budget;
    for (int i = 0; i < TIMING_RUNS; i++) {
        struct timespec t0, t1;
        json_object *m;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        m = asst_context_build(scratch, in, r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms[i] = elapsed_ms(&t0, &t1);
        json_object_put(m);
        apr_pool_clear(scratch);
    }
    apr_pool_destroy(scratch);
    qsort(ms, TIMING_RUNS, sizeof(ms[0]), by_value);
    return ms[TIMING_RUNS * 95 / 100];
}

START_TEST(context_ten_thousand_memories)
{
    const char **memories = apr_palloc(pool, sizeof(*memories) * TIMING_MEMORIES);
    asst_context_input_t in = sample();
    asst_context_report_t r;
    double all, cut;

    for (int i = 0; i < TIMING_MEMORIES; i++)
        memories[i] = apr_psprintf(pool, "memory %05d %.87s", i,
                                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    ck_assert_uint_eq(strlen(memories[0]), 100);
    in.memories = memories;
    in.n_memories = TIMING_MEMORIES;
    all = time_builds(&in, INT_MAX, &r);
    ck_assert_int_eq(r.memories_kept, TIMING_MEMORIES);
    cut = time_builds(&in, 8000, &r);
    ck_assert_int_gt(r.memories_dropped, TIMING_MEMORIES / 2);
    ck_assert_int_eq(r.over_budget, 0);
    printf("context: %d memories x 100 bytes, p95 of %d builds: all kept %.3f ms, cut to 8000 tokens "
           "%.3f ms\n", TIMING_MEMORIES, TIMING_RUNS, all, cut);
}
END_TEST

static Suite *context_suite(void)
{
    Suite *s = suite_create("context");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, context_token_formula);
    tcase_add_test(tc, context_order_of_messages);
    tcase_add_test(tc, context_prefix_is_byte_identical);
    tcase_add_test(tc, context_is_deterministic);
    tcase_add_test(tc, context_large_budget_cuts_nothing);
    tcase_add_test(tc, context_cuts_oldest_recent_first);
    tcase_add_test(tc, context_cuts_memories_from_the_end_after_recent);
    tcase_add_test(tc, context_keeps_person_facts_after_memories);
    tcase_add_test(tc, context_truncates_message_at_code_point);
    tcase_add_test(tc, context_truncation_sweep_stays_utf8);
    tcase_add_test(tc, context_cut_order_holds_for_every_budget);
    tcase_add_test(tc, context_over_budget_still_builds);
    tcase_add_test(tc, context_empty_inputs);
    tcase_add_test(tc, context_memory_stays_one_line);
    tcase_add_test(tc, context_ten_thousand_memories);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return asst_unit_run(context_suite());
}
