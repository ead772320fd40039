#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <apr_date.h>
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "asst_backoff.h"
#include "asst_form.h"
#include "asst_log.h"
#include "http_private.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_RESPONSE (64 * 1024)
#define MAX_BACKOFF_MS ((apr_int64_t)1 << 31)

apr_int64_t asst_clock_monotonic_ms(void *baton)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- retry policy ---- */

apr_int64_t asst_http_backoff_ms(apr_int64_t base_ms, apr_int64_t cap_ms, unsigned attempt,
                                 apr_int64_t retry_after_ms, apr_uint32_t rnd)
{
    apr_int64_t ceiling, delay;

    if (cap_ms > MAX_BACKOFF_MS)
        cap_ms = MAX_BACKOFF_MS;
    ceiling = base_ms > 0 && cap_ms > 0 ? asst_backoff_nth(base_ms, cap_ms, attempt) : 0;
    delay = (apr_int64_t)(((apr_uint64_t)rnd * (apr_uint64_t)(ceiling + 1)) >> 32);
    return retry_after_ms > delay ? retry_after_ms : delay;
}

apr_uint32_t asst_http_random(void)
{
    apr_uint32_t r;

    if (apr_generate_random_bytes((unsigned char *)&r, sizeof(r)) != APR_SUCCESS)
        r = (apr_uint32_t)random() ^ ((apr_uint32_t)random() << 16);
    return r;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!apr_isdigit(*s))
            return 0;
    return 1;
}

apr_int64_t asst_http_parse_retry_after(const char *value, apr_time_t now)
{
    apr_time_t when;

    if (!value)
        return -1;
    while (apr_isspace(*value))
        value++;
    if (all_digits(value)) {
        if (strlen(value) > 9)
            return -1;
        return (apr_int64_t)atol(value) * 1000;
    }
    when = apr_date_parse_http(value);
    if (when == APR_DATE_BAD)
        return -1;
    return when > now ? (when - now) / 1000 : 0;
}

/* ---- encoding ---- */

static int unreserved(unsigned char c)
{
    return apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static char *escape_into(char *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c))
            *out++ = (char)c;
        else {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        }
    }
    return out;
}

const char *asst_http_escape(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1);

    *escape_into(out, s) = '\0';
    return out;
}

const char *asst_http_form_encode(apr_pool_t *p, const apr_array_header_t *params)
{
    apr_size_t size = 1;
    char *out, *w;
    int i;

    for (i = 0; i < params->nelts; i++) {
        const asst_param_t *kv = &APR_ARRAY_IDX(params, i, asst_param_t);
        size += 3 * (strlen(kv->name) + strlen(kv->value)) + 2;
    }
    w = out = apr_palloc(p, size);
    for (i = 0; i < params->nelts; i++) {
        const asst_param_t *kv = &APR_ARRAY_IDX(params, i, asst_param_t);
        if (i > 0)
            *w++ = '&';
        w = escape_into(w, kv->name);
        *w++ = '=';
        w = escape_into(w, kv->value);
    }
    *w = '\0';
    return out;
}

const char *asst_http_result_name(asst_http_result_t r)
{
    switch (r) {
    case ASST_HTTP_OK: return "ok";
    case ASST_HTTP_TIMEOUT: return "timeout";
    case ASST_HTTP_CONNECT: return "connect failed";
    case ASST_HTTP_CIRCUIT_OPEN: return "circuit open";
    case ASST_HTTP_ERROR: return "transport error";
    }
    return "?";
}

/* ---- the client ---- */

static apr_status_t client_cleanup(void *data)
{
    asst_http_client_t *c = data;

    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
    return APR_SUCCESS;
}

int asst_http_global_init(void)
{
    static int done;

    if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        asst_log(ASST_LOG_ERR, "ASST03009: curl_global_init failed");
        return -1;
    }
    done = 1;
    return 0;
}

static void apply_defaults(asst_http_conf_t *conf)
{
    if (!conf->name)
        conf->name = "http";
    if (conf->connect_timeout_ms <= 0)
        conf->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    if (conf->timeout_ms <= 0)
        conf->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (conf->max_response == 0)
        conf->max_response = DEFAULT_MAX_RESPONSE;
    if (conf->breaker_failure_rate <= 0)
        conf->breaker_failure_rate = ASST_BREAKER_DEFAULT_FAILURE_RATE;
    if (conf->breaker_window <= 0)
        conf->breaker_window = ASST_BREAKER_DEFAULT_WINDOW;
    if (conf->breaker_min_calls <= 0)
        conf->breaker_min_calls = ASST_BREAKER_DEFAULT_MIN_CALLS;
    if (conf->breaker_cooldown_ms <= 0)
        conf->breaker_cooldown_ms = ASST_BREAKER_DEFAULT_COOLDOWN_MS;
    if (!conf->clock)
        conf->clock = asst_clock_monotonic_ms;
}

asst_http_client_t *asst_http_client_create(apr_pool_t *p, const asst_http_conf_t *conf)
{
    asst_http_client_t *c = apr_pcalloc(p, sizeof(*c));

    c->conf = *conf;
    apply_defaults(&c->conf);
    c->conf.name = apr_pstrdup(p, c->conf.name);
    if (asst_http_global_init() != 0 || (c->curl = curl_easy_init()) == NULL) {
        asst_log(ASST_LOG_ERR, "ASST03007: %s: cannot create a curl handle", c->conf.name);
        return NULL;
    }
    asst_breaker_init(&c->breaker, c->conf.breaker_failure_rate, c->conf.breaker_window,
                      c->conf.breaker_min_calls, c->conf.breaker_cooldown_ms);
    apr_pool_cleanup_register(p, c, client_cleanup, apr_pool_cleanup_null);
    return c;
}

long asst_http_timeout_ms(const asst_http_client_t *c)
{
    return c->conf.timeout_ms;
}

asst_breaker_state_t asst_http_breaker_state(asst_http_client_t *c)
{
    return c->breaker.state;
}

apr_int64_t asst_http_now_ms(asst_http_client_t *c)
{
    return c->conf.clock(c->conf.clock_baton);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    asst_http_exchange_t *s = userdata;
    apr_size_t n = size * nmemb, keep = n;

    if (s->len + keep > s->max) {
        keep = s->max - s->len;
        s->truncated = 1;
    }
    if (s->len + keep + 1 > s->cap) {
        apr_size_t cap = s->cap ? s->cap : 1024;
        char *grown;
        while (cap < s->len + keep + 1)
            cap *= 2;
        grown = apr_palloc(s->p, cap);
        if (s->len)
            memcpy(grown, s->buf, s->len);
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, keep);
    s->len += keep;
    return n;
}

static int header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);

    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    asst_http_exchange_t *s = userdata;
    size_t n = size * nmemb, start, end;

    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0)
        s->retry_after = NULL;   /* a new response (after a 100 Continue) */
    else if (header_is(line, n, "Retry-After")) {
        start = sizeof("Retry-After:") - 1;
        end = n;
        while (start < end && apr_isspace(line[start]))
            start++;
        while (end > start && apr_isspace(line[end - 1]))
            end--;
        s->retry_after = apr_pstrmemdup(s->p, line + start, end - start);
    }
    return n;
}

static struct curl_slist *build_headers(const asst_http_request_t *req, const char **body,
                                        apr_size_t *body_len, apr_pool_t *p)
{
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");
    int i;

    if (req->form) {
        *body = asst_http_form_encode(p, req->form);
        *body_len = strlen(*body);
        list = curl_slist_append(list, "Content-Type: application/x-www-form-urlencoded");
    }
    else if (req->body) {
        *body = req->body;
        *body_len = req->body_len;
        list = curl_slist_append(list, apr_pstrcat(p, "Content-Type: ",
            req->content_type ? req->content_type : "application/json", NULL));
    }
    for (i = 0; req->headers && req->headers[i]; i++)
        list = curl_slist_append(list, req->headers[i]);
    return list;
}

static void set_method(CURL *curl, const char *method, const char *body, apr_size_t body_len)
{
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, body ? "POST" : "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
}

static long request_timeout_ms(const asst_http_client_t *c, const asst_http_request_t *req)
{
    return req->timeout_ms > 0 && req->timeout_ms < c->conf.timeout_ms ? req->timeout_ms : c->conf.timeout_ms;
}

static void set_options(asst_http_client_t *c, CURL *curl, const asst_http_request_t *req,
                        asst_http_exchange_t *x)
{
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, c->conf.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request_timeout_ms(c, req));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "mod_assistant-worker");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, x);
    if (req->user) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, req->user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, req->password ? req->password : "");
    }
}

static asst_http_result_t classify_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return ASST_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return ASST_HTTP_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return ASST_HTTP_CONNECT;
    default:
        return ASST_HTTP_ERROR;
    }
}

int asst_http_retryable(const asst_http_response_t *res)
{
    return res->result != ASST_HTTP_OK || res->status == 429 || res->status >= 500;
}

/* A 4xx other than 429 is about the request: the provider is up. */
asst_breaker_outcome_t asst_http_breaker_outcome(const asst_http_response_t *res)
{
    if (res->result != ASST_HTTP_OK || res->status >= 500)
        return ASST_BREAKER_FAILURE;
    return res->status == 429 ? ASST_BREAKER_UNCOUNTED : ASST_BREAKER_SUCCESS;
}

static void note_breaker(asst_http_client_t *c, asst_breaker_state_t before, asst_breaker_state_t after)
{
    const asst_breaker_t *b = &c->breaker;

    if (before == after)
        return;
    if (after == ASST_BREAKER_CLOSED)
        asst_log(ASST_LOG_INFO, "ASST03005: %s: circuit closed, the provider answers again", c->conf.name);
    else if (before == ASST_BREAKER_HALF_OPEN)
        asst_log(ASST_LOG_WARN, "ASST03006: %s: %d of %d probes failed, circuit open again for %ld ms",
                 c->conf.name, b->probe_failures, b->probes_reported, c->conf.breaker_cooldown_ms);
    else
        asst_log(ASST_LOG_WARN, "ASST03003: %s: circuit open: %d of the last %d calls failed "
                 "(%d%%, threshold %d%% of a %d-call window), failing fast for %ld ms",
                 c->conf.name, b->failures, b->recorded, asst_breaker_failure_percent(b),
                 b->failure_rate, b->window, c->conf.breaker_cooldown_ms);
}

/* A 429 makes that request wait; it says nothing about an outage. */
static void wait_after_429(asst_http_response_t *res)
{
    if (res->status == 429 && res->retry_after_ms < ASST_HTTP_429_WAIT_MS)
        res->retry_after_ms = ASST_HTTP_429_WAIT_MS;
}

static void log_outcome(asst_http_client_t *c, const asst_http_request_t *req,
                        const asst_http_response_t *res)
{
    if (res->result != ASST_HTTP_OK)
        asst_log(ASST_LOG_WARN, "ASST03002: %s: %s %s failed after %ld ms: %s (%s)",
                 c->conf.name, req->method, req->url, (long)res->elapsed_ms,
                 asst_http_result_name(res->result), res->error);
    else
        asst_log(ASST_LOG_DEBUG, "ASST03001: %s: %s %s: HTTP %d in %ld ms", c->conf.name,
                 req->method, req->url, res->status, (long)res->elapsed_ms);
    if (res->truncated)
        asst_log(ASST_LOG_WARN, "ASST03010: %s: %s %s: response over %lu bytes, truncated",
                 c->conf.name, req->method, req->url, (unsigned long)c->conf.max_response);
}

void asst_http_prepare(asst_http_client_t *c, CURL *curl, apr_pool_t *p, const asst_http_request_t *req,
                       asst_http_exchange_t *x, char *errbuf)
{
    const char *body = NULL;
    apr_size_t body_len = 0;

    memset(x, 0, sizeof(*x));
    x->p = p;
    x->max = c->conf.max_response;
    x->errbuf = errbuf;
    x->errbuf[0] = '\0';
    x->headers = build_headers(req, &body, &body_len, p);
    set_options(c, curl, req, x);
    set_method(curl, req->method, body, body_len);
    x->started_ms = asst_http_now_ms(c);
}

void asst_http_fill(asst_http_client_t *c, CURL *curl, asst_http_exchange_t *x, CURLcode rc,
                    asst_http_response_t *res)
{
    long status = 0;

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    res->result = classify_curl(rc);
    res->status = res->result == ASST_HTTP_OK ? (int)status : 0;
    res->body = x->buf ? x->buf : "";
    if (x->buf)
        x->buf[x->len] = '\0';
    res->body_len = x->len;
    res->truncated = x->truncated;
    res->retry_after_ms = asst_http_parse_retry_after(x->retry_after, apr_time_now());
    res->error = rc == CURLE_OK ? NULL
               : apr_pstrdup(x->p, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    res->elapsed_ms = asst_http_now_ms(c) - x->started_ms;
    curl_slist_free_all(x->headers);
    x->headers = NULL;
}

void asst_http_response_init(asst_http_response_t *res)
{
    memset(res, 0, sizeof(*res));
    res->body = "";
    res->retry_after_ms = -1;
}

int asst_http_may_send(asst_http_client_t *c, const asst_http_request_t *req, asst_http_response_t *res)
{
    asst_breaker_state_t before = c->breaker.state;

    if (!asst_breaker_allow(&c->breaker, asst_http_now_ms(c))) {
        res->result = ASST_HTTP_CIRCUIT_OPEN;
        res->retry_after_ms = asst_breaker_wait_ms(&c->breaker, asst_http_now_ms(c));
        res->error = "nothing sent";
        asst_log(ASST_LOG_DEBUG, "ASST03008: %s: circuit open, %s %s not sent",
                 c->conf.name, req->method, req->url);
        return 0;
    }
    if (c->breaker.state != before)
        asst_log(ASST_LOG_INFO, "ASST03004: %s: circuit half-open, letting up to %d probes through",
                 c->conf.name, ASST_BREAKER_PROBES);
    return 1;
}

void asst_http_settle(asst_http_client_t *c, const asst_http_request_t *req, asst_http_response_t *res)
{
    asst_breaker_state_t before = c->breaker.state, after;
    asst_breaker_outcome_t outcome = asst_http_breaker_outcome(res);

    log_outcome(c, req, res);
    wait_after_429(res);
    after = asst_breaker_record(&c->breaker, outcome, asst_http_now_ms(c));
    note_breaker(c, before, after);
}

static void perform(asst_http_client_t *c, apr_pool_t *p, const asst_http_request_t *req,
                    asst_http_response_t *res)
{
    asst_http_exchange_t x;
    CURLcode rc;

    asst_http_prepare(c, c->curl, p, req, &x, c->errbuf);
    rc = curl_easy_perform(c->curl);
    asst_http_fill(c, c->curl, &x, rc, res);
    curl_easy_reset(c->curl);   /* forget the password; connections stay */
}

asst_http_result_t asst_http_request(asst_http_client_t *c, apr_pool_t *p,
                                     const asst_http_request_t *req, asst_http_response_t *res)
{
    asst_http_response_init(res);
    if (!asst_http_may_send(c, req, res))
        return res->result;
    perform(c, p, req, res);
    asst_http_settle(c, req, res);
    return res->result;
}
