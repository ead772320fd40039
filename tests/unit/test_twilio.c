/* Unit tests for worker/net/twilio.c against tests/fakes/fake_twilio.py,
 * which speaks Twilio's wire protocol, records requests and injects
 * faults. One fake per run, started by the runner process (unchecked
 * fixture, PR_SET_PDEATHSIG so it dies with us) and reset before each test. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <json-c/json.h>

#include "net/twilio.h"
#include "unit_main.h"

#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define TOKEN "secret-auth-token"
#define FROM "+15550001111"
#define TO "+15551234567"
#define CALLBACK "https://example.test/status"

static const char *argv0;
static pid_t fake_pid;
static int fake_port;
static apr_pool_t *pool;
static apr_int64_t fake_now;

/* ---- the fake, run by the runner process ---- */

/* $top_srcdir (make check), else next to the binary (in-tree build), else
 * the source tree configure saw. */
static const char *fake_script(void)
{
    const char *top = getenv("top_srcdir");
    static char path[1024];
    char dir[1024];

    if (top && *top) {
        snprintf(path, sizeof(path), "%s/tests/fakes/fake_twilio.py", top);
        return path;
    }
    snprintf(dir, sizeof(dir), "%s", argv0);
    snprintf(path, sizeof(path), "%s/../fakes/fake_twilio.py", dirname(dir));
    if (access(path, R_OK) == 0)
        return path;
#ifdef ASST_ABS_TOP_SRCDIR
    snprintf(path, sizeof(path), "%s/tests/fakes/fake_twilio.py", ASST_ABS_TOP_SRCDIR);
#endif
    return path;
}

static void exec_fake(int out, pid_t parent)
{
    const char *script = fake_script();

#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (getppid() != parent)
        _exit(126);
    dup2(out, STDOUT_FILENO);
    execl("/usr/bin/python3", "python3", script, "--port", "0", "--account", ACCOUNT,
          "--token", TOKEN, (char *)NULL);
    fprintf(stderr, "cannot run /usr/bin/python3 %s: %s\n", script, strerror(errno));
    _exit(127);
}

/* Reads "PORT <n>\n" from fd within 10 s; 0 on failure. */
static int read_port(int fd)
{
    char line[64];
    size_t n = 0;
    struct pollfd pfd = { fd, POLLIN, 0 };

    while (n < sizeof(line) - 1 && poll(&pfd, 1, 10000) == 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r <= 0)
            break;
        if (line[n++] == '\n')
            break;
    }
    line[n] = '\0';
    return strncmp(line, "PORT ", 5) == 0 ? atoi(line + 5) : 0;
}

static void fake_start(void)
{
    pid_t parent = getpid();
    int fds[2];

    if (pipe(fds) != 0) {
        perror("pipe");
        exit(EXIT_FAILURE);
    }
    fake_pid = fork();
    if (fake_pid == 0)
        exec_fake(fds[1], parent);
    close(fds[1]);
    fake_port = fake_pid > 0 ? read_port(fds[0]) : 0;
    close(fds[0]);
    if (fake_port <= 0) {
        fprintf(stderr, "fake_twilio.py did not start (%s)\n", fake_script());
        exit(EXIT_FAILURE);
    }
}

static void fake_stop(void)
{
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        while (waitpid(fake_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    fake_pid = 0;
}

/* ---- the fake's control API ---- */

static const char *fake_url(const char *path)
{
    return apr_psprintf(pool, "http://127.0.0.1:%d%s", fake_port, path);
}

static asst_http_response_t fake_call(const char *method, const char *path, const char *json)
{
    asst_http_conf_t conf = { .name = "fake-control", .timeout_ms = 5000 };
    asst_http_client_t *c = asst_http_client_create(pool, &conf);
    asst_http_request_t req = { .method = method, .url = fake_url(path) };
    asst_http_response_t res;

    req.body = json;
    req.body_len = json ? strlen(json) : 0;
    ck_assert_int_eq(asst_http_request(c, pool, &req, &res), ASST_HTTP_OK);
    ck_assert_int_eq(res.status, 200);
    return res;
}

static void fake_faults(const char *json)
{
    fake_call("POST", "/_fake/faults", json);
}

static apr_status_t put_json(void *obj)
{
    json_object_put(obj);
    return APR_SUCCESS;
}

/* The recorded requests; released with the pool. */
static json_object *fake_requests(void)
{
    asst_http_response_t res = fake_call("GET", "/_fake/requests", NULL);
    json_object *list = json_tokener_parse(res.body);

    ck_assert_msg(list && json_object_is_type(list, json_type_array), "not a list: %s", res.body);
    apr_pool_cleanup_register(pool, list, put_json, apr_pool_cleanup_null);
    return list;
}

static int fake_count(void)
{
    return (int)json_object_array_length(fake_requests());
}

static const char *field(json_object *obj, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *request_at(json_object *list, int i)
{
    return json_object_array_get_idx(list, (size_t)i);
}

static json_object *form_of(json_object *request)
{
    json_object *form;

    ck_assert(json_object_object_get_ex(request, "form", &form));
    return form;
}

static int peer_of(json_object *request)
{
    json_object *v;

    ck_assert(json_object_object_get_ex(request, "peer", &v));
    return json_object_get_int(v);
}

/* ---- fixtures ---- */

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    fake_call("POST", "/_fake/reset", "{}");
    fake_now = 0;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
}

static apr_int64_t fake_clock(void *baton)
{
    return fake_now;
}

static asst_twilio_conf_t base_conf(void)
{
    asst_twilio_conf_t conf = { 0 };

    conf.api_base = fake_url("");
    conf.account_sid = ACCOUNT;
    conf.auth_token = TOKEN;
    conf.from = FROM;
    conf.status_callback_url = CALLBACK;
    conf.connect_timeout_ms = 2000;
    conf.timeout_ms = 5000;
    return conf;
}

static asst_twilio_t *twilio(const asst_twilio_conf_t *conf)
{
    asst_twilio_t *tw = asst_twilio_create(pool, conf);

    ck_assert_ptr_nonnull(tw);
    return tw;
}

/* A client on the fake clock whose breaker opens at rate% of `window`
 * calls (all of them recorded) and cools down for cooldown_ms (0: default). */
static asst_twilio_conf_t breaker_conf(int rate, int window, long cooldown_ms)
{
    asst_twilio_conf_t conf = base_conf();

    conf.breaker_failure_rate = rate;
    conf.breaker_window = window;
    conf.breaker_min_calls = window;
    conf.breaker_cooldown_ms = cooldown_ms;
    conf.clock = fake_clock;
    return conf;
}

static int is_message_sid(const char *sid)
{
    return sid && strlen(sid) == 34 && strncmp(sid, "SM", 2) == 0
        && strspn(sid + 2, "0123456789abcdef") == 32;
}

/* ---- sending ---- */

START_TEST(send_arrives_with_fields_and_auth)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;
    json_object *list, *form;

    conf.api_base = apr_pstrcat(pool, conf.api_base, "/", NULL);   /* trailing / is fine */
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hi & caf\xc3\xa9 100% +1", &res),
                     ASST_TWILIO_SENT);
    ck_assert_int_eq(res.http_status, 201);
    ck_assert_msg(is_message_sid(res.sid), "sid %s", res.sid);
    ck_assert_str_eq(res.status, "queued");
    ck_assert_int_eq(res.error_code, 0);

    list = fake_requests();
    ck_assert_int_eq(json_object_array_length(list), 1);
    ck_assert_str_eq(field(request_at(list, 0), "path"),
                     "/2010-04-01/Accounts/" ACCOUNT "/Messages.json");
    ck_assert_str_eq(field(request_at(list, 0), "auth_user"), ACCOUNT);
    ck_assert_str_eq(field(request_at(list, 0), "sid"), res.sid);
    form = form_of(request_at(list, 0));
    ck_assert_str_eq(field(form, "To"), TO);
    ck_assert_str_eq(field(form, "From"), FROM);
    ck_assert_str_eq(field(form, "Body"), "hi & caf\xc3\xa9 100% +1");
    ck_assert_str_eq(field(form, "StatusCallback"), CALLBACK);
    ck_assert_ptr_null(field(form, "MessagingServiceSid"));
}
END_TEST

START_TEST(messaging_service_instead_of_from)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;
    json_object *form;

    conf.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
    conf.status_callback_url = NULL;
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_SENT);
    ck_assert_str_eq(res.status, "accepted");
    form = form_of(request_at(fake_requests(), 0));
    ck_assert_str_eq(field(form, "MessagingServiceSid"), conf.messaging_service_sid);
    ck_assert_ptr_null(field(form, "From"));
    ck_assert_ptr_null(field(form, "StatusCallback"));
}
END_TEST

START_TEST(connection_is_reused)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw = twilio(&conf);
    asst_twilio_result_t res;
    json_object *list;

    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "one", &res), ASST_TWILIO_SENT);
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "two", &res), ASST_TWILIO_SENT);
    list = fake_requests();
    ck_assert_int_eq(json_object_array_length(list), 2);
    ck_assert_int_eq(peer_of(request_at(list, 0)), peer_of(request_at(list, 1)));
    ck_assert_str_eq(field(form_of(request_at(list, 1)), "Body"), "two");
}
END_TEST

START_TEST(create_refuses_incomplete_conf)
{
    asst_twilio_conf_t conf = base_conf();

    conf.from = NULL;
    ck_assert_ptr_null(asst_twilio_create(pool, &conf));
    conf = base_conf();
    conf.auth_token = "";
    ck_assert_ptr_null(asst_twilio_create(pool, &conf));
    conf = base_conf();
    conf.account_sid = NULL;
    ck_assert_ptr_null(asst_twilio_create(pool, &conf));
}
END_TEST

/* ---- permanent failures ---- */

START_TEST(wrong_token_is_permanent_20003)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;

    conf.auth_token = "not-the-token";
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_PERMANENT);
    ck_assert_int_eq(res.http_status, 401);
    ck_assert_int_eq(res.error_code, ASST_TWILIO_ERR_AUTH);
    ck_assert_ptr_nonnull(res.error_message);
    ck_assert_str_eq(res.more_info, "https://www.twilio.com/docs/errors/20003");
    ck_assert_ptr_null(res.sid);
}
END_TEST

START_TEST(opted_out_recipient_21610)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;

    fake_faults("{\"permanent\": {\"+15550000000\": 21610}}");
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, "+15550000000", "hello", &res),
                     ASST_TWILIO_PERMANENT);
    ck_assert_int_eq(res.http_status, 400);
    ck_assert_int_eq(res.error_code, ASST_TWILIO_ERR_OPTED_OUT);
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_SENT);
}
END_TEST

START_TEST(invalid_to_21211)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;

    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, "12345", "hello", &res),
                     ASST_TWILIO_PERMANENT);
    ck_assert_int_eq(res.error_code, ASST_TWILIO_ERR_INVALID_TO);
}
END_TEST

START_TEST(permanent_errors_do_not_open_the_breaker)
{
    asst_twilio_conf_t conf = breaker_conf(50, 2, 0);
    asst_twilio_t *tw;
    asst_twilio_result_t res;
    int i;

    conf.auth_token = "wrong";
    tw = twilio(&conf);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "x", &res), ASST_TWILIO_PERMANENT);
    ck_assert_int_eq(fake_count(), 4);
    ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_CLOSED);
}
END_TEST

/* ---- retryable failures ---- */

START_TEST(server_error_is_retryable)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;

    fake_faults("{\"fail_rate_5xx\": 1, \"status_5xx\": 503}");
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.transport, ASST_HTTP_OK);
    ck_assert_int_eq(res.http_status, 503);
    ck_assert_int_eq(res.retry_after_ms, -1);
    ck_assert_ptr_null(res.sid);
}
END_TEST

START_TEST(rate_limit_with_retry_after)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;

    fake_faults("{\"rate_429\": 1, \"retry_after\": 3}");
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.http_status, 429);
    ck_assert_int_eq(res.error_code, 20429);
    ck_assert_int_eq(res.retry_after_ms, 3000);
    ck_assert_int_eq(asst_http_backoff_ms(100, 1000, 1, res.retry_after_ms, 0xFFFFFFFFu), 3000);
}
END_TEST

START_TEST(rate_limit_with_http_date)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;
    char date[APR_RFC822_DATE_LEN];
    const char *faults;

    apr_rfc822_date(date, apr_time_now() + apr_time_from_sec(30));
    faults = apr_psprintf(pool, "{\"rate_429\": 1, \"retry_after\": \"%s\"}", date);
    fake_faults(faults);
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_RETRY);
    ck_assert_int_gt(res.retry_after_ms, 25000);
    ck_assert_int_le(res.retry_after_ms, 30000);
}
END_TEST

START_TEST(timeout_is_retryable)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;

    conf.timeout_ms = 300;
    fake_faults("{\"timeout_rate\": 1, \"timeout_ms\": 3000}");
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.transport, ASST_HTTP_TIMEOUT);
    ck_assert_int_eq(res.http_status, 0);
    ck_assert_ptr_nonnull(res.error_message);
    ck_assert_int_eq(fake_count(), 1);
}
END_TEST

START_TEST(connect_error_is_retryable)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;
    int fd, port = asst_unit_bound_port(&fd);

    conf.api_base = apr_psprintf(pool, "http://127.0.0.1:%d", port);
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "hello", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.transport, ASST_HTTP_CONNECT);
    close(fd);
}
END_TEST

/* ---- the circuit breaker ---- */

START_TEST(breaker_opens_fails_fast_and_recovers)
{
    asst_twilio_conf_t conf = breaker_conf(100, 3, 10000);
    asst_twilio_t *tw = twilio(&conf);
    asst_twilio_result_t res;
    int i;

    fake_faults("{\"fail_rate_5xx\": 1}");
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "x", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_OPEN);

    for (i = 0; i < 5; i++) {
        fake_now = i * 1000;
        ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "x", &res), ASST_TWILIO_RETRY);
        ck_assert_int_eq(res.transport, ASST_HTTP_CIRCUIT_OPEN);
        ck_assert_int_eq(res.http_status, 0);
        ck_assert_int_eq(res.retry_after_ms, 10000 - fake_now);   /* not before the probe */
    }
    ck_assert_int_eq(fake_count(), 3);        /* nothing reached Twilio */

    fake_faults("{}");
    fake_now = 9999;
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "x", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(fake_count(), 3);
    fake_now = 10000;
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "probe", &res), ASST_TWILIO_SENT);
    ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_CLOSED);
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "after", &res), ASST_TWILIO_SENT);
    ck_assert_int_eq(fake_count(), 5);
}
END_TEST

START_TEST(breaker_failed_probes_reopen)
{
    asst_twilio_conf_t conf = breaker_conf(50, 2, 1000);
    asst_twilio_t *tw = twilio(&conf);
    asst_twilio_result_t res;

    fake_faults("{\"fail_rate_5xx\": 1, \"status_5xx\": 503}");
    asst_twilio_send(tw, pool, TO, "x", &res);
    asst_twilio_send(tw, pool, TO, "x", &res);
    ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_OPEN);
    fake_now = 1000;
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "probe 1", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.http_status, 503);
    ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_HALF_OPEN);
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "probe 2", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_OPEN);
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "x", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.transport, ASST_HTTP_CIRCUIT_OPEN);
    ck_assert_int_eq(fake_count(), 4);
}
END_TEST

/* ---- 429: that send waits, it is not an outage ---- */

START_TEST(rate_limit_slows_that_send_only)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw;
    asst_twilio_result_t res;

    conf.clock = fake_clock;
    tw = twilio(&conf);
    fake_faults("{\"rate_429\": 1, \"retry_after\": 3}");
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "first", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.http_status, 429);
    ck_assert_int_eq(res.retry_after_ms, 3000);          /* this message waits as asked */
    fake_faults("{}");
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "second", &res), ASST_TWILIO_SENT);
    ck_assert_int_eq(fake_count(), 2);                   /* the next one is not held up */
}
END_TEST

START_TEST(rate_limit_without_retry_after_waits_a_second)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_result_t res;

    fake_faults("{\"rate_429\": 1}");
    ck_assert_int_eq(asst_twilio_send(twilio(&conf), pool, TO, "x", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.http_status, 429);
    ck_assert_int_eq(res.retry_after_ms, ASST_HTTP_429_WAIT_MS);
    ck_assert_int_eq(asst_http_backoff_ms(1000, 300000, 1, res.retry_after_ms, 0), ASST_HTTP_429_WAIT_MS);
}
END_TEST

START_TEST(rate_limit_never_opens_the_breaker)
{
    asst_twilio_conf_t conf = breaker_conf(50, 2, 0);
    asst_twilio_t *tw = twilio(&conf);
    asst_twilio_result_t res;
    int i;

    fake_faults("{\"rate_429\": 1, \"retry_after\": 1}");
    for (i = 0; i < 6; i++) {
        fake_now = i * 1000;
        ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "x", &res), ASST_TWILIO_RETRY);
        ck_assert_int_eq(res.http_status, 429);
        ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_CLOSED);
    }
    ck_assert_int_eq(fake_count(), 6);
}
END_TEST

/* ---- classification without a network ---- */

START_TEST(classify_unparseable_replies)
{
    asst_http_response_t http = { 0 };
    asst_twilio_result_t res;

    http.result = ASST_HTTP_OK;
    http.status = 201;
    http.body = "<html>not json</html>";
    http.body_len = strlen(http.body);
    http.retry_after_ms = -1;
    asst_twilio_classify(pool, &http, &res);
    ck_assert_int_eq(res.outcome, ASST_TWILIO_SENT);
    ck_assert_ptr_null(res.sid);

    http.status = 404;
    asst_twilio_classify(pool, &http, &res);
    ck_assert_int_eq(res.outcome, ASST_TWILIO_PERMANENT);
    ck_assert_int_eq(res.error_code, 0);

    http.status = 502;
    asst_twilio_classify(pool, &http, &res);
    ck_assert_int_eq(res.outcome, ASST_TWILIO_RETRY);
    ck_assert_str_eq(asst_twilio_outcome_name(res.outcome), "retry");
}
END_TEST

/* ---- sending on a multi handle ---- */

typedef struct {
    int calls;
    asst_twilio_outcome_t outcome;
    asst_twilio_result_t res;
    apr_int64_t at_ms;
} answer_t;

static void on_answer(void *baton, asst_twilio_outcome_t outcome, asst_twilio_result_t *res)
{
    answer_t *a = baton;

    a->calls++;
    a->outcome = outcome;
    a->res = *res;
    a->at_ms = asst_clock_monotonic_ms(NULL);
}

static asst_http_multi_t *multi(void)
{
    asst_http_multi_t *m = asst_http_multi_create(pool);

    ck_assert_ptr_nonnull(m);
    return m;
}

/* Runs m until nothing is left on it (10 s at most). */
static void run_all(asst_http_multi_t *m)
{
    apr_int64_t until = asst_clock_monotonic_ms(NULL) + 10000;

    while (asst_http_multi_pending(m) > 0 && asst_clock_monotonic_ms(NULL) < until)
        asst_http_multi_run(m, -1, 100);
    ck_assert_int_eq(asst_http_multi_pending(m), 0);
}

/* One send started and answered on its own multi handle. */
static asst_twilio_outcome_t send_async(asst_twilio_t *tw, const char *to, const char *body, answer_t *a)
{
    asst_http_multi_t *m = multi();

    memset(a, 0, sizeof(*a));
    asst_twilio_send_start(tw, m, pool, to, body, on_answer, a);
    ck_assert_int_eq(a->calls, 0);              /* never from the start itself */
    run_all(m);
    ck_assert_int_eq(a->calls, 1);
    return a->outcome;
}

START_TEST(send_start_runs_sends_at_once)
{
    enum { N = 6, DELAY_MS = 400 };
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw = twilio(&conf);
    asst_http_multi_t *m = multi();
    answer_t answers[N];
    apr_int64_t t0 = asst_clock_monotonic_ms(NULL), took;
    json_object *list;
    int peers = 1;

    memset(answers, 0, sizeof(answers));
    fake_faults(apr_psprintf(pool, "{\"delay_ms\": %d}", DELAY_MS));
    for (int i = 0; i < N; i++)
        asst_twilio_send_start(tw, m, pool, apr_psprintf(pool, "+1555123450%d", i),
                               apr_psprintf(pool, "hello %d", i), on_answer, &answers[i]);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(answers[i].calls, 0);
    run_all(m);
    took = asst_clock_monotonic_ms(NULL) - t0;
    ck_assert_msg(took < 2 * DELAY_MS, "%d sends of %d ms took %" APR_INT64_T_FMT " ms", N, DELAY_MS, took);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(answers[i].calls, 1);
        ck_assert_int_eq(answers[i].outcome, ASST_TWILIO_SENT);
        ck_assert_int_eq(answers[i].res.http_status, 201);
        ck_assert_msg(is_message_sid(answers[i].res.sid), "sid %s", answers[i].res.sid);
        ck_assert_str_eq(answers[i].res.status, "queued");
    }
    list = fake_requests();
    ck_assert_int_eq(json_object_array_length(list), N);
    for (int i = 1; i < N; i++)
        peers += peer_of(request_at(list, i)) != peer_of(request_at(list, 0));
    ck_assert_int_gt(peers, 1);                 /* on connections of their own */
    ck_assert_str_eq(field(request_at(list, 0), "auth_user"), ACCOUNT);
    ck_assert_str_eq(field(form_of(request_at(list, 0)), "From"), FROM);
    ck_assert_str_eq(field(form_of(request_at(list, 0)), "StatusCallback"), CALLBACK);
}
END_TEST

/* Each case sent both ways must come back the same. */
START_TEST(send_start_classifies_as_send_does)
{
    static const struct {
        const char *to, *body;
        asst_twilio_outcome_t outcome;
        int http_status, error_code;
        apr_int64_t retry_after_ms;
    } cases[] = {
        { TO, "fine", ASST_TWILIO_SENT, 201, 0, -1 },
        { "+15550000000", "fine", ASST_TWILIO_PERMANENT, 400, ASST_TWILIO_ERR_OPTED_OUT, -1 },
        { "12345", "fine", ASST_TWILIO_PERMANENT, 400, ASST_TWILIO_ERR_INVALID_TO, -1 },
        { TO, "doomed", ASST_TWILIO_RETRY, 503, 20500, -1 },
        { TO, "slow down", ASST_TWILIO_RETRY, 429, 20429, 3000 },
    };
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw = twilio(&conf);

    fake_faults("{\"permanent\": {\"+15550000000\": 21610}, "
                "\"fail_bodies\": {\"doomed\": 503, \"slow\": 429}, \"retry_after\": 3}");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        asst_twilio_result_t sync;
        answer_t a;

        ck_assert_int_eq(asst_twilio_send(tw, pool, cases[i].to, cases[i].body, &sync), cases[i].outcome);
        ck_assert_int_eq(send_async(tw, cases[i].to, cases[i].body, &a), cases[i].outcome);
        ck_assert_int_eq(a.res.outcome, cases[i].outcome);
        ck_assert_int_eq(a.res.transport, ASST_HTTP_OK);
        ck_assert_int_eq(a.res.http_status, cases[i].http_status);
        ck_assert_int_eq(sync.http_status, cases[i].http_status);
        ck_assert_int_eq(a.res.error_code, cases[i].error_code);
        ck_assert_int_eq(sync.error_code, cases[i].error_code);
        ck_assert_int_eq(a.res.retry_after_ms, cases[i].retry_after_ms);
        ck_assert_int_eq(sync.retry_after_ms, cases[i].retry_after_ms);
        if (cases[i].outcome == ASST_TWILIO_SENT)
            ck_assert_msg(is_message_sid(a.res.sid), "sid %s", a.res.sid);
        else
            ck_assert_str_eq(a.res.error_message, sync.error_message);
    }
    ck_assert_int_eq(fake_count(), 10);
}
END_TEST

START_TEST(send_start_timeout_is_retryable)
{
    asst_twilio_conf_t conf = base_conf();
    answer_t a;

    conf.timeout_ms = 300;
    fake_faults("{\"timeout_rate\": 1, \"timeout_ms\": 3000}");
    ck_assert_int_eq(send_async(twilio(&conf), TO, "hello", &a), ASST_TWILIO_RETRY);
    ck_assert_int_eq(a.res.transport, ASST_HTTP_TIMEOUT);
    ck_assert_int_eq(a.res.http_status, 0);
    ck_assert_ptr_nonnull(a.res.error_message);
}
END_TEST

/* Both ways count in the one breaker; an open circuit answers from the
 * loop too, with nothing sent. */
START_TEST(send_start_shares_the_breaker)
{
    asst_twilio_conf_t conf = breaker_conf(100, 3, 10000);
    asst_twilio_t *tw = twilio(&conf);
    asst_twilio_result_t res;
    answer_t a;

    fake_faults("{\"fail_rate_5xx\": 1}");
    ck_assert_int_eq(asst_twilio_send(tw, pool, TO, "x", &res), ASST_TWILIO_RETRY);
    ck_assert_int_eq(send_async(tw, TO, "x", &a), ASST_TWILIO_RETRY);
    ck_assert_int_eq(send_async(tw, TO, "x", &a), ASST_TWILIO_RETRY);
    ck_assert_int_eq(asst_http_breaker_state(asst_twilio_http(tw)), ASST_BREAKER_OPEN);
    ck_assert_int_eq(send_async(tw, TO, "x", &a), ASST_TWILIO_RETRY);
    ck_assert_int_eq(a.res.transport, ASST_HTTP_CIRCUIT_OPEN);
    ck_assert_int_eq(a.res.retry_after_ms, 10000);
    ck_assert_int_eq(fake_count(), 3);
}
END_TEST

/* ---- looking up what Twilio's log holds ---- */

static const char *sent_sid(asst_twilio_t *tw, const char *to, const char *body)
{
    asst_twilio_result_t res;

    ck_assert_int_eq(asst_twilio_send(tw, pool, to, body, &res), ASST_TWILIO_SENT);
    return res.sid;
}

static apr_array_header_t *find(asst_twilio_t *tw, const char *to, const char *body, apr_time_t since)
{
    apr_array_header_t *found = NULL;
    asst_twilio_result_t res;

    ck_assert_int_eq(asst_twilio_find_sent(tw, pool, to, body, since, &found, &res), 0);
    return found;
}

static const char *found_sid(const apr_array_header_t *found, int i)
{
    return APR_ARRAY_IDX(found, i, asst_twilio_logged_t).sid;
}

static int list_requests(void)
{
    json_object *list = fake_requests();
    int n = 0;

    for (size_t i = 0; i < json_object_array_length(list); i++)
        n += strcmp(field(request_at(list, (int)i), "method"), "GET") == 0;
    return n;
}

START_TEST(lookup_finds_exactly_our_message)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw = twilio(&conf);
    apr_time_t since = apr_time_now() - apr_time_from_sec(60);
    const char *first = sent_sid(tw, TO, "same words");
    apr_array_header_t *found;

    sent_sid(tw, TO, "other words");
    sent_sid(tw, "+15559876543", "same words");
    found = find(tw, TO, "same words", since);
    ck_assert_int_eq(found->nelts, 1);
    ck_assert_str_eq(found_sid(found, 0), first);
    ck_assert_str_eq(APR_ARRAY_IDX(found, 0, asst_twilio_logged_t).status, "queued");
    ck_assert_int_eq(find(tw, TO, "same word", since)->nelts, 0);
    ck_assert_int_eq(find(tw, "+15550000009", "same words", since)->nelts, 0);
    ck_assert_int_eq(list_requests(), 3);
}
END_TEST

START_TEST(lookup_lists_newest_first_across_pages)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw = twilio(&conf);
    const char *sids[45];
    apr_array_header_t *found;

    for (int i = 0; i < 45; i++)
        sids[i] = sent_sid(tw, TO, "again");
    found = find(tw, TO, "again", apr_time_now() - apr_time_from_sec(60));
    ck_assert_int_eq(found->nelts, 45);
    ck_assert_str_eq(found_sid(found, 0), sids[44]);
    ck_assert_str_eq(found_sid(found, 44), sids[0]);
    ck_assert_int_eq(list_requests(), 3);              /* pages of 20 */
}
END_TEST

START_TEST(lookup_stops_at_messages_older_than_the_send)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw = twilio(&conf);

    for (int i = 0; i < 30; i++)
        sent_sid(tw, TO, "before");
    ck_assert_int_eq(find(tw, TO, "before", apr_time_now() + apr_time_from_sec(5))->nelts, 0);
    ck_assert_int_eq(list_requests(), 1);              /* page 1 reached `since` */
}
END_TEST

START_TEST(lookup_with_a_messaging_service)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw;
    json_object *list;
    const char *sid;

    conf.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
    tw = twilio(&conf);
    sid = sent_sid(tw, TO, "via the service");
    ck_assert_str_eq(found_sid(find(tw, TO, "via the service", apr_time_now() - apr_time_from_sec(60)), 0),
                     sid);
    list = fake_requests();
    ck_assert_ptr_null(strstr(field(request_at(list, 1), "path"), "From="));
}
END_TEST

START_TEST(lookup_failure_says_nothing_is_known)
{
    asst_twilio_conf_t conf = base_conf();
    asst_twilio_t *tw = twilio(&conf);
    apr_array_header_t *found = NULL;
    asst_twilio_result_t res;

    sent_sid(tw, TO, "x");
    fake_faults("{\"list_fail_rate\": 1, \"status_5xx\": 503}");
    ck_assert_int_eq(asst_twilio_find_sent(tw, pool, TO, "x", 0, &found, &res), -1);
    ck_assert_ptr_null(found);
    ck_assert_int_eq(res.outcome, ASST_TWILIO_RETRY);
    ck_assert_int_eq(res.http_status, 503);
}
END_TEST

static Suite *twilio_suite(void)
{
    Suite *s = suite_create("twilio");
    TCase *send = tcase_create("send");
    TCase *perm = tcase_create("permanent");
    TCase *retry = tcase_create("retryable");
    TCase *breaker = tcase_create("breaker");
    TCase *throttle = tcase_create("throttle");
    TCase *lookup = tcase_create("lookup");
    TCase *async = tcase_create("async");
    TCase *all[] = { send, perm, retry, breaker, throttle, lookup, async };
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_unchecked_fixture(all[i], fake_start, fake_stop);
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 20);
    }
    tcase_add_test(send, send_arrives_with_fields_and_auth);
    tcase_add_test(send, messaging_service_instead_of_from);
    tcase_add_test(send, connection_is_reused);
    tcase_add_test(send, create_refuses_incomplete_conf);
    tcase_add_test(send, classify_unparseable_replies);
    suite_add_tcase(s, send);

    tcase_add_test(perm, wrong_token_is_permanent_20003);
    tcase_add_test(perm, opted_out_recipient_21610);
    tcase_add_test(perm, invalid_to_21211);
    tcase_add_test(perm, permanent_errors_do_not_open_the_breaker);
    suite_add_tcase(s, perm);

    tcase_add_test(retry, server_error_is_retryable);
    tcase_add_test(retry, rate_limit_with_retry_after);
    tcase_add_test(retry, rate_limit_with_http_date);
    tcase_add_test(retry, timeout_is_retryable);
    tcase_add_test(retry, connect_error_is_retryable);
    suite_add_tcase(s, retry);

    tcase_add_test(breaker, breaker_opens_fails_fast_and_recovers);
    tcase_add_test(breaker, breaker_failed_probes_reopen);
    suite_add_tcase(s, breaker);

    tcase_add_test(throttle, rate_limit_slows_that_send_only);
    tcase_add_test(throttle, rate_limit_without_retry_after_waits_a_second);
    tcase_add_test(throttle, rate_limit_never_opens_the_breaker);
    suite_add_tcase(s, throttle);

    tcase_add_test(lookup, lookup_finds_exactly_our_message);
    tcase_add_test(lookup, lookup_lists_newest_first_across_pages);
    tcase_add_test(lookup, lookup_stops_at_messages_older_than_the_send);
    tcase_add_test(lookup, lookup_with_a_messaging_service);
    tcase_add_test(lookup, lookup_failure_says_nothing_is_known);
    suite_add_tcase(s, lookup);

    tcase_add_test(async, send_start_runs_sends_at_once);
    tcase_add_test(async, send_start_classifies_as_send_does);
    tcase_add_test(async, send_start_timeout_is_retryable);
    tcase_add_test(async, send_start_shares_the_breaker);
    suite_add_tcase(s, async);
    return s;
}

int main(int argc, char **argv)
{
    argv0 = argv[0];
    return asst_unit_run(twilio_suite());
}
