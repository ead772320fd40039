#ifndef ASST_TWILIO_H
#define ASST_TWILIO_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "http.h"

/* Sending one SMS through Twilio's Messages API:
 *   POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json
 * form-encoded, HTTP Basic AccountSid:AuthToken. One asst_twilio_t per
 * process: it owns the HTTP client (reused connection, circuit breaker).
 * A send blocks (asst_twilio_send) or runs on a multi handle among other
 * requests (asst_twilio_send_start).
 * Splitting long bodies (asst_sms_split) and retry timing
 * (asst_http_backoff_ms) are the caller's. */

/* Twilio error codes callers act on. */
#define ASST_TWILIO_ERR_AUTH 20003          /* wrong AccountSid/AuthToken */
#define ASST_TWILIO_ERR_INVALID_TO 21211    /* flag the number */
#define ASST_TWILIO_ERR_OPTED_OUT 21610     /* the recipient replied STOP */

#define ASST_TWILIO_API_BASE "https://api.twilio.com"
/* A page of the message log (20 bodies of up to 1600 characters, JSON-escaped). */
#define ASST_TWILIO_MAX_RESPONSE (1024 * 1024)

typedef struct {
    const char *api_base;               /* NULL: ASST_TWILIO_API_BASE */
    const char *account_sid;
    const char *auth_token;
    const char *from;                   /* From, unless messaging_service_sid */
    const char *messaging_service_sid;  /* wins over from when both are set */
    const char *status_callback_url;    /* StatusCallback, or NULL */
    long connect_timeout_ms;            /* 0: asst_http_conf_t's defaults */
    long timeout_ms;
    int breaker_failure_rate;           /* percent of breaker_window */
    int breaker_window;                 /* calls */
    int breaker_min_calls;
    long breaker_cooldown_ms;
    asst_clock_fn *clock;               /* NULL: monotonic; tests inject one */
    void *clock_baton;
} asst_twilio_conf_t;

typedef enum {
    ASST_TWILIO_SENT,        /* Twilio accepted it: sid */
    ASST_TWILIO_RETRY,       /* 5xx, 429, timeout, connect error, circuit open
                              * (retry_after_ms: at least this long) */
    ASST_TWILIO_PERMANENT    /* any other 4xx: error_code says why */
} asst_twilio_outcome_t;

typedef struct {
    asst_twilio_outcome_t outcome;
    asst_http_result_t transport;   /* ASST_HTTP_OK when Twilio answered */
    int http_status;                /* 0 without a response */
    const char *sid;                /* SENT: "SM..." (NULL if the reply had none) */
    const char *status;             /* SENT: Twilio's status, e.g. "queued" */
    int error_code;                 /* Twilio's "code", 0 when none */
    const char *error_message;      /* Twilio's "message" or the transport error */
    const char *more_info;
    apr_int64_t retry_after_ms;     /* RETRY: do not retry sooner; -1 when no hint */
} asst_twilio_result_t;

typedef struct asst_twilio asst_twilio_t;

/* NULL (logged) when conf lacks the account, token or a sender, or curl
 * cannot start. Strings are copied into p. */
asst_twilio_t *asst_twilio_create(apr_pool_t *p, const asst_twilio_conf_t *conf);

/* Sends body to to (E.164); res and its strings are allocated in p. */
asst_twilio_outcome_t asst_twilio_send(asst_twilio_t *tw, apr_pool_t *p, const char *to,
                                       const char *body, asst_twilio_result_t *res);

/* Called once per asst_twilio_send_start, from inside asst_http_multi_run
 * (never from asst_twilio_send_start itself); res lives in the pool given
 * to asst_twilio_send_start. */
typedef void asst_twilio_done_fn(void *baton, asst_twilio_outcome_t outcome, asst_twilio_result_t *res);

/* asst_twilio_send on m: the same request, classified and logged the same
 * way, counted by the same breaker, without waiting for the answer. Many
 * may be in flight at once (on connections of m's, not the blocking
 * path's). to and body are copied into p; everything lives in p until
 * done has run. */
void asst_twilio_send_start(asst_twilio_t *tw, asst_http_multi_t *m, apr_pool_t *p, const char *to,
                            const char *body, asst_twilio_done_fn *done, void *baton);

/* Classifies an HTTP outcome of the Messages API (pure, for tests too). */
void asst_twilio_classify(apr_pool_t *p, const asst_http_response_t *http,
                          asst_twilio_result_t *res);

/* A message Twilio's log holds. */
typedef struct {
    const char *sid;
    const char *status;
    apr_time_t created;      /* date_created, 1 s resolution */
} asst_twilio_logged_t;

/* The messages Twilio's log holds that we sent to `to` with exactly `body`
 * and that it created at or after `since`: *found, an array of
 * asst_twilio_logged_t, newest first (allocated in p). Returns 0, or -1
 * when Twilio could not be asked (res says why; nothing is known). */
int asst_twilio_find_sent(asst_twilio_t *tw, apr_pool_t *p, const char *to, const char *body,
                          apr_time_t since, apr_array_header_t **found, asst_twilio_result_t *res);

asst_http_client_t *asst_twilio_http(asst_twilio_t *tw);

/* The longest a send can wait for Twilio's answer (the request timeout). */
long asst_twilio_timeout_ms(const asst_twilio_t *tw);

const char *asst_twilio_outcome_name(asst_twilio_outcome_t outcome);

#endif
