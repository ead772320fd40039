#ifndef ASST_HTTP_H
#define ASST_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* The one outbound HTTP client (libcurl). One client per provider, used by
 * one thread at a time: it keeps a curl easy handle so connections are
 * reused, applies connect and total timeouts, bounds the response it keeps,
 * parses Retry-After, and owns the provider's circuit breaker. Secrets
 * (the password, Authorization headers) are never logged; URLs are. */

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

/* ---- circuit breaker (pure: time is an argument) ---- */

typedef enum {
    ASST_BREAKER_CLOSED,     /* calls go through */
    ASST_BREAKER_OPEN,       /* calls fail fast until the cool-down ends */
    ASST_BREAKER_HALF_OPEN   /* one probe is out; others fail fast */
} asst_breaker_state_t;

typedef struct {
    int threshold;             /* consecutive failures that open it */
    apr_int64_t cooldown_ms;   /* how long it stays open */
    asst_breaker_state_t state;
    int failures;              /* consecutive, while closed */
    apr_int64_t opened_at_ms;
} asst_breaker_t;

void asst_breaker_init(asst_breaker_t *b, int threshold, apr_int64_t cooldown_ms);

/* 1: make the call (when open and cooled down this is the half-open probe);
 * 0: fail fast. */
int asst_breaker_allow(asst_breaker_t *b, apr_int64_t now_ms);

/* Outcome of an allowed call; returns the new state. */
asst_breaker_state_t asst_breaker_record(asst_breaker_t *b, int success, apr_int64_t now_ms);

const char *asst_breaker_state_name(asst_breaker_state_t state);

/* ---- the client ---- */

typedef struct {
    const char *name;              /* provider, for logs: "twilio" */
    long connect_timeout_ms;       /* 0: 5000 */
    long timeout_ms;               /* whole request; 0: 30000 */
    apr_size_t max_response;       /* body bytes kept; 0: 64 KiB */
    int breaker_threshold;         /* 0: 5 */
    long breaker_cooldown_ms;      /* 0: 30000 */
    asst_clock_fn *clock;          /* NULL: asst_clock_monotonic_ms */
    void *clock_baton;
} asst_http_conf_t;

typedef struct asst_http_client asst_http_client_t;

typedef enum {
    ASST_HTTP_OK = 0,          /* a response arrived; see status */
    ASST_HTTP_TIMEOUT,         /* connect or total timeout */
    ASST_HTTP_CONNECT,         /* resolve, connect or TLS handshake failed */
    ASST_HTTP_CIRCUIT_OPEN,    /* failed fast, nothing sent */
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
} asst_http_request_t;

typedef struct {
    asst_http_result_t result;
    int status;                /* HTTP status, 0 without a response */
    const char *body;          /* NUL-terminated, at most max_response bytes */
    apr_size_t body_len;
    int truncated;             /* the body was longer than max_response */
    apr_int64_t retry_after_ms;    /* -1 without a usable Retry-After */
    const char *error;         /* transport failures: what went wrong */
    apr_int64_t elapsed_ms;
} asst_http_response_t;

/* NULL (logged) when libcurl cannot make a handle. The handle is released
 * with p. Create it in the process that uses it (after fork), so no two
 * processes share a connection. */
asst_http_client_t *asst_http_client_create(apr_pool_t *p, const asst_http_conf_t *conf);

/* Performs req through the breaker; res (allocated in p) is always filled. */
asst_http_result_t asst_http_request(asst_http_client_t *c, apr_pool_t *p,
                                     const asst_http_request_t *req, asst_http_response_t *res);

/* 1 when res is worth retrying and counts against the breaker: a transport
 * failure, an open circuit, 429 or 5xx. Other 4xx are permanent. */
int asst_http_retryable(const asst_http_response_t *res);

asst_breaker_state_t asst_http_breaker_state(asst_http_client_t *c);

/* name=value&... with RFC 3986 unreserved characters kept, all else %XX. */
const char *asst_http_form_encode(apr_pool_t *p, const apr_array_header_t *params);

/* s percent-encoded the same way, e.g. for a path segment. */
const char *asst_http_escape(apr_pool_t *p, const char *s);

const char *asst_http_result_name(asst_http_result_t r);

#endif
