#ifndef ASST_HTTP_H
#define ASST_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "breaker.h"

/* The one outbound HTTP client (libcurl). One client per provider, used by
 * one thread at a time: it keeps a curl easy handle so connections are
 * reused, applies connect and total timeouts, bounds the response it keeps,
 * parses Retry-After, and owns the provider's circuit breaker. Requests go
 * one at a time (asst_http_request, blocking) or many at once on a multi
 * handle (asst_http_start, http_multi.c); both are set up, read, logged and
 * counted by the breaker the same way. Secrets (the password,
 * Authorization headers) are never logged; URLs are. */

/* Milliseconds on a monotonic clock; injectable so tests control time. */
typedef apr_int64_t asst_clock_fn(void *baton);

apr_int64_t asst_clock_monotonic_ms(void *baton);

/* ---- retry policy (pure) ---- */

/* Delay before retry number attempt (1 = the first retry): full jitter,
 * i.e. rnd scaled into [0, min(cap_ms, base_ms * 2^(attempt-1))]. rnd is a
 * uniformly random 32-bit value (asst_http_random() in production).
 * retry_after_ms >= 0 is the provider's Retry-After and wins when larger. */
apr_int64_t asst_http_backoff_ms(apr_int64_t base_ms, apr_int64_t cap_ms, unsigned attempt,
                                 apr_int64_t retry_after_ms, apr_uint32_t rnd);

apr_uint32_t asst_http_random(void);

/* Retry-After as milliseconds from now_ms (apr_time_t, microseconds since
 * the epoch, for the HTTP-date form): delta-seconds or an HTTP-date (a date
 * in the past is 0). -1 when value is NULL or unparseable. */
apr_int64_t asst_http_parse_retry_after(const char *value, apr_time_t now);

/* ---- the client ---- */

typedef struct {
    const char *name;              /* provider, for logs: "twilio" */
    long connect_timeout_ms;       /* 0: 5000 */
    long timeout_ms;               /* whole request; 0: 30000 */
    apr_size_t max_response;       /* body bytes kept; 0: 64 KiB */
    int breaker_failure_rate;      /* percent; 0: ASST_BREAKER_DEFAULT_FAILURE_RATE */
    int breaker_window;            /* calls; 0: ASST_BREAKER_DEFAULT_WINDOW */
    int breaker_min_calls;         /* 0: ASST_BREAKER_DEFAULT_MIN_CALLS */
    long breaker_cooldown_ms;      /* 0: ASST_BREAKER_DEFAULT_COOLDOWN_MS */
    asst_clock_fn *clock;          /* NULL: asst_clock_monotonic_ms */
    void *clock_baton;
} asst_http_conf_t;

/* A 429 is the provider asking that request to wait: at least this long
 * when it does not say (Retry-After). It is not an outage: the breaker
 * does not count it. */
#define ASST_HTTP_429_WAIT_MS 1000

typedef struct asst_http_client asst_http_client_t;

typedef enum {
    ASST_HTTP_OK = 0,          /* a response arrived; see status */
    ASST_HTTP_TIMEOUT,         /* connect or total timeout */
    ASST_HTTP_CONNECT,         /* resolve, connect or TLS handshake failed */
    ASST_HTTP_CIRCUIT_OPEN,    /* failed fast, nothing sent; retry_after_ms is
                                * what is left of the cool-down (-1 half-open) */
    ASST_HTTP_ERROR            /* other transport error (reset, bad reply) */
} asst_http_result_t;

typedef struct {
    const char *method;                 /* "GET", "POST", ... */
    const char *url;
    const char *const *headers;         /* NULL-terminated "Name: value", or NULL */
    const apr_array_header_t *form;     /* asst_param_t: a form-encoded body, or NULL */
    const char *body;                   /* a raw body (e.g. JSON) when form is NULL */
    apr_size_t body_len;
    const char *content_type;           /* of body; NULL: application/json */
    const char *user;                   /* HTTP Basic, or NULL */
    const char *password;
    long timeout_ms;                    /* > 0: this request's total timeout, when shorter
                                         * than the client's (a deadline drawing near) */
} asst_http_request_t;

typedef struct {
    asst_http_result_t result;
    int status;                /* HTTP status, 0 without a response */
    const char *body;          /* NUL-terminated, at most max_response bytes */
    apr_size_t body_len;
    int truncated;             /* the body was longer than max_response */
    apr_int64_t retry_after_ms;    /* -1 without a usable Retry-After; a 429 without
                                    * one gets ASST_HTTP_429_WAIT_MS */
    const char *error;         /* transport failures: what went wrong */
    apr_int64_t elapsed_ms;
} asst_http_response_t;

/* NULL (logged) when libcurl cannot make a handle. The handle is released
 * with p. Create it in the process that uses it (after fork), so no two
 * processes share a connection. */
asst_http_client_t *asst_http_client_create(apr_pool_t *p, const asst_http_conf_t *conf);

/* Performs req unless the breaker says not now; res (allocated in p) is
 * always filled. */
asst_http_result_t asst_http_request(asst_http_client_t *c, apr_pool_t *p,
                                     const asst_http_request_t *req, asst_http_response_t *res);

/* ---- many requests at once ---- */

typedef struct asst_http_multi asst_http_multi_t;

/* Called once per request started with asst_http_start, from inside
 * asst_http_multi_run (never from asst_http_start itself). res lives in the
 * pool given to asst_http_start. */
typedef void asst_http_done_fn(void *baton, asst_http_response_t *res);

/* A set of concurrent requests on one libcurl multi handle (connections
 * reused across them), plus requests waiting for a later start time.
 * Released with p. One per process, used by one thread. NULL (logged) when
 * libcurl cannot make a multi handle. */
asst_http_multi_t *asst_http_multi_create(apr_pool_t *p);

/* Queues req on m to start at start_ms (asst_clock_monotonic_ms scale; 0 or
 * a past time: as soon as m runs). When it starts, c's breaker is asked,
 * exactly as asst_http_request does; if it says no, done gets
 * ASST_HTTP_CIRCUIT_OPEN with nothing sent. The outcome is recorded in c's
 * breaker and logged exactly as for asst_http_request. req (and every
 * string it points to) must stay valid until done runs; res is allocated
 * in p. */
void asst_http_start(asst_http_client_t *c, asst_http_multi_t *m, apr_pool_t *p,
                     const asst_http_request_t *req, apr_int64_t start_ms,
                     asst_http_done_fn *done, void *baton);

typedef void asst_http_timer_fn(void *baton);

/* Queues a timer on m: fn(baton) is called once, from inside
 * asst_http_multi_run, when at_ms has come (0: the next run). It counts in
 * asst_http_multi_pending like a request. For a call that ends without a
 * request (no time left) yet must answer from the loop, as one with a
 * request does, never from inside its own start function. */
void asst_http_multi_at(asst_http_multi_t *m, apr_int64_t at_ms, asst_http_timer_fn *fn, void *baton);

/* Waits at most timeout_ms (0: do not wait) for progress on m's transfers,
 * for the next queued start time, or for extra_fd (-1: none) to become
 * readable (curl_multi_poll with extra_fds); then starts what is due,
 * moves data and calls done for every finished request. Returns 1 when
 * extra_fd is readable (or hung up: a read would not block), 0 otherwise,
 * -1 on a poll failure (logged; transfers still move). A signal (EINTR)
 * just returns early with 0. Not to be called from a done or timer
 * callback. */
int asst_http_multi_run(asst_http_multi_t *m, int extra_fd, long timeout_ms);

/* Requests (and timers) queued or in flight on m. */
int asst_http_multi_pending(const asst_http_multi_t *m);

/* 1 when res is worth retrying: a transport failure, an open circuit, 429
 * or 5xx. Other 4xx are permanent. */
int asst_http_retryable(const asst_http_response_t *res);

/* What res tells the breaker about the provider's health. */
asst_breaker_outcome_t asst_http_breaker_outcome(const asst_http_response_t *res);

asst_breaker_state_t asst_http_breaker_state(asst_http_client_t *c);

/* The whole-request timeout in force (the configured one, or the default). */
long asst_http_timeout_ms(const asst_http_client_t *c);

/* name=value&... with RFC 3986 unreserved characters kept, all else %XX. */
const char *asst_http_form_encode(apr_pool_t *p, const apr_array_header_t *params);

/* s percent-encoded the same way, e.g. for a path segment. */
const char *asst_http_escape(apr_pool_t *p, const char *s);

const char *asst_http_result_name(asst_http_result_t r);

#endif
