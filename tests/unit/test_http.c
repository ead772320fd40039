/* Unit tests for worker/net/http.c and http_multi.c: the retry policy,
 * Retry-After, what counts for the breaker, form encoding (pure); the
 * client against a loopback port nothing listens on; and the multi handle
 * (and the blocking path it shares its setup with) against the tiny server
 * of http_server.h. The breaker itself is test_breaker.c. */
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
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
#include "asst_log.h"
#include "http_server.h"
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

/* ---- many requests at once (http_multi.c), against http_server.h ---- */

typedef struct {
    int calls;
    asst_http_response_t res;
    apr_int64_t at_ms;
} got_t;

static void got(void *baton, asst_http_response_t *res)
{
    got_t *g = baton;

    g->calls++;
    g->res = *res;
    g->at_ms = asst_clock_monotonic_ms(NULL);
}

static apr_int64_t now_ms(void)
{
    return asst_clock_monotonic_ms(NULL);
}

static void run_until_idle(asst_http_multi_t *m, long limit_ms)
{
    apr_int64_t end = now_ms() + limit_ms;

    while (asst_http_multi_pending(m) > 0 && now_ms() < end)
        ck_assert_int_ge(asst_http_multi_run(m, -1, 100), 0);
    ck_assert_int_eq(asst_http_multi_pending(m), 0);
}

static asst_http_client_t *live_client(long timeout_ms, apr_size_t max_response)
{
    asst_http_conf_t conf = { .name = "test", .timeout_ms = timeout_ms, .max_response = max_response };
    asst_http_client_t *c = asst_http_client_create(pool, &conf);

    ck_assert_ptr_nonnull(c);
    return c;
}

static const char *live_url(const char *path)
{
    return apr_psprintf(pool, "http://127.0.0.1:%d%s", hs.port, path);
}

START_TEST(multi_runs_requests_together)
{
    asst_http_client_t *c = live_client(5000, 0);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    asst_http_request_t req = { .method = "GET" };
    got_t g[10];
    apr_int64_t t0;
    int i;

    hs_start();
    memset(g, 0, sizeof(g));
    req.url = live_url("/delay/300");
    t0 = now_ms();
    for (i = 0; i < 10; i++)
        asst_http_start(c, m, pool, &req, 0, got, &g[i]);
    ck_assert_int_eq(asst_http_multi_pending(m), 10);
    run_until_idle(m, 3000);
    ck_assert_int_lt(now_ms() - t0, 1500);          /* not 10 x 300 ms */
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(g[i].calls, 1);
        ck_assert_int_eq(g[i].res.result, ASST_HTTP_OK);
        ck_assert_int_eq(g[i].res.status, 200);
        ck_assert_ptr_nonnull(strstr(g[i].res.body, "\"content\":\"hi\""));
        ck_assert_int_ge(g[i].res.elapsed_ms, 300);
    }
    ck_assert_int_eq(hs_count(&hs.requests), 10);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(asst_http_multi_run(m, -1, 10), 0);
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(g[i].calls, 1);             /* once, and only once */
    ck_assert_int_eq(asst_http_breaker_state(c), ASST_BREAKER_CLOSED);
}
END_TEST

START_TEST(multi_reuses_connections)
{
    asst_http_client_t *c = live_client(5000, 0);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    asst_http_request_t req = { .method = "GET" };
    got_t g[3];
    int i;

    hs_start();
    memset(g, 0, sizeof(g));
    req.url = live_url("/status/201");
    for (i = 0; i < 3; i++) {
        asst_http_start(c, m, pool, &req, 0, got, &g[i]);
        run_until_idle(m, 2000);
        ck_assert_int_eq(g[i].res.status, 201);
    }
    ck_assert_int_eq(hs_count(&hs.requests), 3);
    ck_assert_int_eq(hs_count(&hs.connections), 1);
}
END_TEST

START_TEST(multi_delayed_start_waits_for_its_time)
{
    asst_http_client_t *c = live_client(5000, 0);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    asst_http_request_t req = { .method = "GET" };
    got_t g = { 0 };
    apr_int64_t t0;

    hs_start();
    req.url = live_url("/status/200");
    t0 = now_ms();
    asst_http_start(c, m, pool, &req, t0 + 200, got, &g);
    ck_assert_int_eq(asst_http_multi_run(m, -1, 0), 0);
    ck_assert_int_eq(asst_http_multi_pending(m), 1);
    while (g.calls == 0 && now_ms() - t0 < 3000)
        asst_http_multi_run(m, -1, 5000);        /* wakes for the start time, not after 5 s */
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.res.status, 200);
    ck_assert_int_ge(hs_first_request_ms(), t0 + 200);
    ck_assert_int_lt(g.at_ms - t0, 1000);
}
END_TEST

START_TEST(multi_open_breaker_sends_nothing)
{
    asst_http_conf_t conf = { .name = "test", .connect_timeout_ms = 1000, .timeout_ms = 2000,
                              .breaker_failure_rate = 50, .breaker_window = 2,
                              .breaker_min_calls = 2, .breaker_cooldown_ms = 5000,
                              .clock = fake_clock, .clock_baton = &fake_now };
    asst_http_client_t *c = asst_http_client_create(pool, &conf);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    asst_http_request_t dead = { .method = "GET" }, live = { .method = "GET" };
    got_t g[3];
    int fd, port = asst_unit_bound_port(&fd);

    fake_now = 0;
    memset(g, 0, sizeof(g));
    hs_start();
    dead.url = apr_psprintf(pool, "http://127.0.0.1:%d/x", port);
    live.url = live_url("/status/200");
    asst_http_start(c, m, pool, &dead, 0, got, &g[0]);
    asst_http_start(c, m, pool, &dead, 0, got, &g[1]);
    run_until_idle(m, 3000);
    ck_assert_int_eq(g[0].res.result, ASST_HTTP_CONNECT);
    ck_assert_int_eq(g[1].res.result, ASST_HTTP_CONNECT);
    ck_assert_int_eq(asst_http_breaker_state(c), ASST_BREAKER_OPEN);   /* async outcomes count */

    fake_now = 1500;
    asst_http_start(c, m, pool, &live, 0, got, &g[2]);
    ck_assert_int_eq(g[2].calls, 0);                 /* never from asst_http_start */
    run_until_idle(m, 1000);
    ck_assert_int_eq(g[2].calls, 1);
    ck_assert_int_eq(g[2].res.result, ASST_HTTP_CIRCUIT_OPEN);
    ck_assert_int_eq(g[2].res.retry_after_ms, 3500);
    ck_assert_int_eq(g[2].res.status, 0);
    ck_assert_int_eq(hs_count(&hs.connections), 0);
    close(fd);
}
END_TEST

START_TEST(multi_request_timeout)
{
    asst_http_client_t *c = live_client(5000, 0);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    asst_http_request_t req = { .method = "GET", .timeout_ms = 200 };
    got_t g = { 0 };

    hs_start();
    req.url = live_url("/delay/2000");
    asst_http_start(c, m, pool, &req, 0, got, &g);
    run_until_idle(m, 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.res.result, ASST_HTTP_TIMEOUT);
    ck_assert_int_eq(g.res.status, 0);
    ck_assert_ptr_nonnull(g.res.error);
    ck_assert_int_lt(g.res.elapsed_ms, 1000);
    ck_assert_int_eq(asst_http_retryable(&g.res), 1);
}
END_TEST

START_TEST(multi_reports_extra_fd)
{
    asst_http_client_t *c = live_client(5000, 0);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    asst_http_request_t req = { .method = "GET" };
    got_t g = { 0 };
    apr_int64_t t0;
    int fds[2];
    char byte;

    hs_start();
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(asst_http_multi_run(m, fds[0], 0), 0);
    t0 = now_ms();
    ck_assert_int_eq(asst_http_multi_run(m, fds[0], 50), 0);
    ck_assert_int_ge(now_ms() - t0, 45);                      /* it did wait */

    req.url = live_url("/delay/500");
    asst_http_start(c, m, pool, &req, 0, got, &g);
    asst_http_multi_run(m, fds[0], 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    t0 = now_ms();
    ck_assert_int_eq(asst_http_multi_run(m, fds[0], 5000), 1);
    ck_assert_int_lt(now_ms() - t0, 300);                     /* woken by the pipe, not the request */
    ck_assert_int_eq(asst_http_multi_pending(m), 1);
    ck_assert_int_eq(read(fds[0], &byte, 1), 1);

    close(fds[1]);                                            /* hung up: a read would not block */
    ck_assert_int_eq(asst_http_multi_run(m, fds[0], 5000), 1);
    run_until_idle(m, 2000);
    ck_assert_int_eq(g.calls, 1);
    close(fds[0]);
}
END_TEST

static void count_timer(void *baton)
{
    (*(int *)baton)++;
}

START_TEST(multi_timer_runs_from_the_loop)
{
    asst_http_multi_t *m = asst_http_multi_create(pool);
    int fired = 0, later = 0;
    apr_int64_t t0 = now_ms();

    asst_http_multi_at(m, 0, count_timer, &fired);
    asst_http_multi_at(m, t0 + 100, count_timer, &later);
    ck_assert_int_eq(fired, 0);
    ck_assert_int_eq(asst_http_multi_pending(m), 2);
    asst_http_multi_run(m, -1, 0);
    ck_assert_int_eq(fired, 1);
    ck_assert_int_eq(later, 0);
    while (later == 0 && now_ms() - t0 < 2000)
        asst_http_multi_run(m, -1, 1000);
    ck_assert_int_eq(later, 1);
    ck_assert_int_ge(now_ms() - t0, 100);
    ck_assert_int_eq(asst_http_multi_pending(m), 0);
}
END_TEST

static void on_usr1(int sig)
{
    (void)sig;
}

static void *interrupt_soon(void *main_thread)
{
    hs_sleep_ms(50);
    pthread_kill(*(pthread_t *)main_thread, SIGUSR1);
    return NULL;
}

START_TEST(multi_signal_returns_early)
{
    asst_http_multi_t *m = asst_http_multi_create(pool);
    struct sigaction sa;
    pthread_t self = pthread_self(), t;
    apr_int64_t t0;
    int fds[2];

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;                   /* no SA_RESTART: poll sees EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, interrupt_soon, &self), 0);
    t0 = now_ms();
    ck_assert_int_eq(asst_http_multi_run(m, fds[0], 3000), 0);
    ck_assert_int_lt(now_ms() - t0, 1000);
    pthread_join(t, NULL);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* The blocking path and the multi share setup and result: a status, a
 * POST body and the size limit read the same on both. */
START_TEST(sync_and_async_read_alike)
{
    asst_http_client_t *c = live_client(5000, 10);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    asst_http_request_t req = { .method = "POST", .body = "{\"a\":1}", .body_len = 7 };
    asst_http_response_t res;
    got_t g = { 0 };

    hs_start();
    req.url = live_url("/status/200");
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_OK);
    asst_http_start(c, m, pool, &req, 0, got, &g);
    run_until_idle(m, 2000);
    ck_assert_int_eq(res.status, 200);
    ck_assert_int_eq(g.res.status, 200);
    ck_assert_int_eq(res.truncated, 1);
    ck_assert_int_eq(g.res.truncated, 1);
    ck_assert_int_eq(res.body_len, 10);
    ck_assert_str_eq(g.res.body, res.body);
    req.url = live_url("/status/429/retry-after/3");
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_OK);
    asst_http_start(c, m, pool, &req, 0, got, &g);
    run_until_idle(m, 2000);
    ck_assert_int_eq(g.res.status, 429);
    ck_assert_int_eq(res.retry_after_ms, 3000);
    ck_assert_int_eq(g.res.retry_after_ms, 3000);
    ck_assert_int_eq(g.calls, 2);
}
END_TEST

/* ---- secrets stay out of the log ---- */

static char logged[16384];

static void keep_log(void *baton, asst_log_level_t level, const char *msg)
{
    (void)baton;
    (void)level;
    size_t used = strlen(logged);

    snprintf(logged + used, sizeof(logged) - used, "%s\n", msg);
}

START_TEST(multi_logs_no_secret)
{
    asst_http_client_t *c = live_client(5000, 0);
    asst_http_multi_t *m = asst_http_multi_create(pool);
    const char *headers[] = { "Authorization: Bearer sk-SECRET-1", NULL };
    asst_http_request_t req = { .method = "GET", .headers = headers, .user = "AC1",
                                .password = "SECRET-2" }, slow;
    got_t g[2];

    memset(g, 0, sizeof(g));
    logged[0] = '\0';
    asst_log_set(keep_log, NULL, ASST_LOG_DEBUG);
    hs_start();
    req.url = live_url("/status/500");
    slow = req;                     /* each must stay as it is until its done */
    slow.url = live_url("/delay/1000");
    slow.timeout_ms = 100;
    asst_http_start(c, m, pool, &req, 0, got, &g[0]);
    asst_http_start(c, m, pool, &slow, 0, got, &g[1]);
    run_until_idle(m, 3000);
    asst_log_set(NULL, NULL, ASST_LOG_INFO);
    ck_assert_msg(g[0].res.status == 500, "%s", logged);
    ck_assert_int_eq(g[1].res.result, ASST_HTTP_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(logged, "ASST03001"));
    ck_assert_ptr_nonnull(strstr(logged, "ASST03002"));
    ck_assert_ptr_null(strstr(logged, "SECRET"));
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *backoff = tcase_create("backoff");
    TCase *ra = tcase_create("retry_after");
    TCase *misc = tcase_create("encoding");
    TCase *client = tcase_create("client");
    TCase *multi = tcase_create("multi");

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

    tcase_add_checked_fixture(multi, unit_pool_setup, unit_pool_teardown);
    tcase_add_checked_fixture(multi, NULL, hs_stop);
    tcase_add_test(multi, multi_runs_requests_together);
    tcase_add_test(multi, multi_reuses_connections);
    tcase_add_test(multi, multi_delayed_start_waits_for_its_time);
    tcase_add_test(multi, multi_open_breaker_sends_nothing);
    tcase_add_test(multi, multi_request_timeout);
    tcase_add_test(multi, multi_reports_extra_fd);
    tcase_add_test(multi, multi_timer_runs_from_the_loop);
    tcase_add_test(multi, multi_signal_returns_early);
    tcase_add_test(multi, sync_and_async_read_alike);
    tcase_add_test(multi, multi_logs_no_secret);
    suite_add_tcase(s, multi);
    return s;
}

int main(void)
{
    return asst_unit_run(http_suite());
}
