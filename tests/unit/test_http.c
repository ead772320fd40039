/* Unit tests for worker/net/http.c: the retry policy, Retry-After, what
 * counts for the breaker, form encoding; all pure except the client
 * cases, which dial a loopback port nothing listens on. The breaker itself
 * is test_breaker.c. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <check.h>

#include "asst_form.h"
#include "net/http.h"
#include "unit_main.h"
#include "unit_pool.h"

/* ---- backoff ---- */

START_TEST(backoff_extremes_of_jitter)
{
    /* rnd 0 is the floor (0), rnd max the ceiling base * 2^(attempt-1). */
    ck_assert_int_eq(asst_http_backoff_ms(100, 10000, 1, -1, 0), 0);
    ck_assert_int_eq(asst_http_backoff_ms(100, 10000, 1, -1, 0xFFFFFFFFu), 100);
    ck_assert_int_eq(asst_http_backoff_ms(100, 10000, 2, -1, 0xFFFFFFFFu), 200);
    ck_assert_int_eq(asst_http_backoff_ms(100, 10000, 4, -1, 0xFFFFFFFFu), 800);
    ck_assert_int_eq(asst_http_backoff_ms(100, 10000, 4, -1, 0x80000000u), 400);
}
END_TEST

START_TEST(backoff_capped)
{
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 5, -1, 0xFFFFFFFFu), 1000);
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 60, -1, 0xFFFFFFFFu), 1000);
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 4000000000u, -1, 0xFFFFFFFFu), 1000);
    ck_assert_int_eq(asst_http_backoff_ms(1000, 300, 1, -1, 0xFFFFFFFFu), 300);
}
END_TEST

START_TEST(backoff_attempt_zero_is_first)
{
    ck_assert_int_eq(asst_http_backoff_ms(100, 10000, 0, -1, 0xFFFFFFFFu), 100);
}
END_TEST

START_TEST(backoff_random_within_bounds)
{
    unsigned attempt;
    int i;

    for (attempt = 1; attempt <= 12; attempt++) {
        apr_int64_t ceiling = 50LL << (attempt - 1), lo, hi = 0;
        if (ceiling > 20000)
            ceiling = 20000;
        lo = ceiling;
        for (i = 0; i < 2000; i++) {
            apr_int64_t d = asst_http_backoff_ms(50, 20000, attempt, -1, asst_http_random());
            ck_assert_int_ge(d, 0);
            ck_assert_int_le(d, ceiling);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* full jitter: the draws spread over the whole range */
        ck_assert_int_lt(lo, ceiling / 10 + 1);
        ck_assert_int_gt(hi, ceiling - ceiling / 10 - 1);
    }
}
END_TEST

START_TEST(backoff_jitter_is_uniform)
{
    int buckets[4] = { 0 }, i;

    for (i = 0; i < 8000; i++)
        buckets[asst_http_backoff_ms(1000, 1000, 1, -1, asst_http_random()) * 4 / 1001]++;
    for (i = 0; i < 4; i++)
        ck_assert_msg(buckets[i] > 1600 && buckets[i] < 2400, "bucket %d: %d", i, buckets[i]);
}
END_TEST

START_TEST(retry_after_wins_when_larger)
{
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 1, 5000, 0xFFFFFFFFu), 5000);
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 1, 0, 0), 0);
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 4, 300, 0xFFFFFFFFu), 800);
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 4, 300, 0), 300);
}
END_TEST

/* ---- Retry-After ---- */

START_TEST(retry_after_seconds)
{
    apr_time_t now = apr_time_now();

    ck_assert_int_eq(asst_http_parse_retry_after("0", now), 0);
    ck_assert_int_eq(asst_http_parse_retry_after("1", now), 1000);
    ck_assert_int_eq(asst_http_parse_retry_after("120", now), 120000);
    ck_assert_int_eq(asst_http_parse_retry_after(" 7", now), 7000);
}
END_TEST

START_TEST(retry_after_http_date)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch. */
    apr_time_t now = apr_time_from_sec(784111777);

    ck_assert_int_eq(asst_http_parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), 10000);
    ck_assert_int_eq(asst_http_parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now), 60000);
    ck_assert_int_eq(asst_http_parse_retry_after("Sun Nov  6 08:49:39 1994", now), 2000);
    ck_assert_int_eq(asst_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 500000), 0);
    ck_assert_int_eq(asst_http_parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now), 0);
}
END_TEST

START_TEST(retry_after_invalid)
{
    apr_time_t now = apr_time_now();

    ck_assert_int_eq(asst_http_parse_retry_after(NULL, now), -1);
    ck_assert_int_eq(asst_http_parse_retry_after("", now), -1);
    ck_assert_int_eq(asst_http_parse_retry_after("-5", now), -1);
    ck_assert_int_eq(asst_http_parse_retry_after("1.5", now), -1);
    ck_assert_int_eq(asst_http_parse_retry_after("soon", now), -1);
    ck_assert_int_eq(asst_http_parse_retry_after("99999999999999999999", now), -1);
}
END_TEST

/* ---- classification and encoding ---- */

START_TEST(retryable_statuses)
{
    asst_http_response_t r = { 0 };

    r.result = ASST_HTTP_OK;
    r.status = 201;
    ck_assert_int_eq(asst_http_retryable(&r), 0);
    r.status = 400;
    ck_assert_int_eq(asst_http_retryable(&r), 0);
    r.status = 401;
    ck_assert_int_eq(asst_http_retryable(&r), 0);
    r.status = 429;
    ck_assert_int_eq(asst_http_retryable(&r), 1);
    r.status = 500;
    ck_assert_int_eq(asst_http_retryable(&r), 1);
    r.status = 503;
    ck_assert_int_eq(asst_http_retryable(&r), 1);
    r.status = 0;
    r.result = ASST_HTTP_TIMEOUT;
    ck_assert_int_eq(asst_http_retryable(&r), 1);
    r.result = ASST_HTTP_CONNECT;
    ck_assert_int_eq(asst_http_retryable(&r), 1);
    r.result = ASST_HTTP_CIRCUIT_OPEN;
    ck_assert_int_eq(asst_http_retryable(&r), 1);
}
END_TEST

START_TEST(breaker_outcomes)
{
    asst_http_response_t r = { 0 };

    r.result = ASST_HTTP_OK;
    r.status = 201;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_SUCCESS);
    r.status = 400;          /* a bad request: the provider is up */
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_SUCCESS);
    r.status = 401;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_SUCCESS);
    r.status = 429;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_UNCOUNTED);
    r.status = 500;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_FAILURE);
    r.status = 503;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_FAILURE);
    r.status = 0;
    r.result = ASST_HTTP_TIMEOUT;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_FAILURE);
    r.result = ASST_HTTP_CONNECT;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_FAILURE);
    r.result = ASST_HTTP_ERROR;
    ck_assert_int_eq(asst_http_breaker_outcome(&r), ASST_BREAKER_FAILURE);
}
END_TEST

static void add(apr_array_header_t *a, const char *name, const char *value)
{
    asst_param_t *kv = apr_array_push(a);

    kv->name = name;
    kv->value = value;
}

START_TEST(form_encoding)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(asst_param_t));

    add(a, "To", "+15551234567");
    add(a, "Body", "hi there & 100% caf\xc3\xa9 a=b~_.-");
    add(a, "Empty", "");
    ck_assert_str_eq(asst_http_form_encode(pool, a),
                     "To=%2B15551234567&Body=hi%20there%20%26%20100%25%20caf%C3%A9%20a%3Db~_.-&Empty=");
    ck_assert_str_eq(asst_http_form_encode(pool, apr_array_make(pool, 1, sizeof(asst_param_t))), "");
    ck_assert_str_eq(asst_http_escape(pool, "AC/../x y"), "AC%2F..%2Fx%20y");
}
END_TEST

/* ---- the client, against a port nothing listens on ---- */

static apr_int64_t fake_now;

static apr_int64_t fake_clock(void *baton)
{
    return *(apr_int64_t *)baton;
}

START_TEST(client_breaker_fails_fast)
{
    asst_http_conf_t conf = { .name = "test", .connect_timeout_ms = 1000, .timeout_ms = 2000,
                              .breaker_failure_rate = 50, .breaker_window = 2,
                              .breaker_min_calls = 2, .breaker_cooldown_ms = 5000,
                              .clock = fake_clock, .clock_baton = &fake_now };
    asst_http_client_t *c = asst_http_client_create(pool, &conf);
    asst_http_request_t req = { .method = "GET" };
    asst_http_response_t res;
    int fd, port = asst_unit_bound_port(&fd);

    ck_assert_ptr_nonnull(c);
    fake_now = 0;
    req.url = apr_psprintf(pool, "http://127.0.0.1:%d/x", port);
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_CONNECT);
    ck_assert_int_eq(res.status, 0);
    ck_assert_ptr_nonnull(res.error);
    ck_assert_int_eq(asst_http_breaker_state(c), ASST_BREAKER_CLOSED);
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_CONNECT);
    ck_assert_int_eq(asst_http_breaker_state(c), ASST_BREAKER_OPEN);
    fake_now = 1500;
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_CIRCUIT_OPEN);
    ck_assert_int_eq(asst_http_retryable(&res), 1);
    ck_assert_int_eq(res.retry_after_ms, 3500);              /* the cool-down's rest */
    fake_now = 5000;
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_CONNECT);  /* probes */
    ck_assert_int_eq(asst_http_breaker_state(c), ASST_BREAKER_HALF_OPEN);
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_CONNECT);
    ck_assert_int_eq(asst_http_breaker_state(c), ASST_BREAKER_OPEN);    /* 2 of 3 failed */
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_CIRCUIT_OPEN);
    close(fd);
}
END_TEST

START_TEST(client_bad_url_is_error)
{
    asst_http_conf_t conf = { .name = "test" };
    asst_http_client_t *c = asst_http_client_create(pool, &conf);
    asst_http_request_t req = { .method = "GET", .url = "file:///etc/passwd" };
    asst_http_response_t res;

    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_ERROR);
    ck_assert_int_eq(res.status, 0);
    ck_assert_str_eq(res.body, "");
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *backoff = tcase_create("backoff");
    TCase *ra = tcase_create("retry_after");
    TCase *misc = tcase_create("encoding");
    TCase *client = tcase_create("client");

    tcase_add_test(backoff, backoff_extremes_of_jitter);
    tcase_add_test(backoff, backoff_capped);
    tcase_add_test(backoff, backoff_attempt_zero_is_first);
    tcase_add_test(backoff, backoff_random_within_bounds);
    tcase_add_test(backoff, backoff_jitter_is_uniform);
    tcase_add_test(backoff, retry_after_wins_when_larger);
    suite_add_tcase(s, backoff);

    tcase_add_test(ra, retry_after_seconds);
    tcase_add_test(ra, retry_after_http_date);
    tcase_add_test(ra, retry_after_invalid);
    suite_add_tcase(s, ra);

    tcase_add_checked_fixture(misc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(misc, retryable_statuses);
    tcase_add_test(misc, breaker_outcomes);
    tcase_add_test(misc, form_encoding);
    suite_add_tcase(s, misc);

    tcase_add_checked_fixture(client, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(client, client_breaker_fails_fast);
    tcase_add_test(client, client_bad_url_is_error);
    suite_add_tcase(s, client);
    return s;
}

int main(void)
{
    return asst_unit_run(http_suite());
}
