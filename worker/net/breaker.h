#ifndef ASST_BREAKER_H
#define ASST_BREAKER_H

#include <apr.h>

/* A circuit breaker per provider (pure: time is an argument, so it is
 * unit-tested and simulated alone; the HTTP client owns one). */

/* The resilience4j count-based model: the outcomes of the last `window`
 * calls decide, so a streak of random faults cannot open it but an outage
 * does within about failure_rate% of a window. */

#define ASST_BREAKER_MAX_WINDOW 100   /* the ring's capacity; worker.conf's limit */
#define ASST_BREAKER_PROBES 3         /* calls let through while half-open */

/* Measured, not guessed (tests/unit/test_http.c, docs/decisions.md): with
 * 20% random 5xx it opens about once in 8 million calls; with the provider
 * down it opens after 11 calls (10 from a cold start). worker.conf's
 * defaults are the same numbers (a unit test compares them). */
#define ASST_BREAKER_DEFAULT_FAILURE_RATE 90
#define ASST_BREAKER_DEFAULT_WINDOW 12
#define ASST_BREAKER_DEFAULT_MIN_CALLS 10
#define ASST_BREAKER_DEFAULT_COOLDOWN_MS 5000

typedef enum {
    ASST_BREAKER_CLOSED,     /* calls go through; outcomes fill the window */
    ASST_BREAKER_OPEN,       /* calls fail fast until the cool-down ends */
    ASST_BREAKER_HALF_OPEN   /* ASST_BREAKER_PROBES probes go out; others fail fast */
} asst_breaker_state_t;

typedef enum {
    ASST_BREAKER_SUCCESS,    /* the provider answered: 2xx, or a 4xx about the request */
    ASST_BREAKER_FAILURE,    /* transport failure or 5xx */
    ASST_BREAKER_UNCOUNTED   /* 429: the provider is up but wants us slower */
} asst_breaker_outcome_t;

typedef struct {
    int failure_rate;          /* percent of the window that opens it, 1..100 */
    int window;                /* outcomes kept, 1..ASST_BREAKER_MAX_WINDOW */
    int min_calls;             /* outcomes needed before it may open, 1..window */
    apr_int64_t cooldown_ms;   /* how long it stays open */
    asst_breaker_state_t state;
    unsigned char failed[ASST_BREAKER_MAX_WINDOW];   /* ring: 1 = that call failed */
    int next;                  /* ring slot the next outcome goes to */
    int recorded;              /* outcomes in the ring, <= window */
    int failures;              /* failures among them */
    int probes_sent;           /* half-open: allowed, reported or not */
    int probes_reported;
    int probe_failures;
    apr_int64_t opened_at_ms;  /* open: since; half-open: when the last probe went */
    int opened_count;          /* times it opened from closed, for tests and logs */
} asst_breaker_t;

/* Out-of-range arguments are clamped into the ranges above. */
void asst_breaker_init(asst_breaker_t *b, int failure_rate, int window, int min_calls,
                       apr_int64_t cooldown_ms);

/* 1: make the call (when open and cooled down it becomes a half-open probe);
 * 0: fail fast. */
int asst_breaker_allow(asst_breaker_t *b, apr_int64_t now_ms);

/* Outcome of an allowed call; returns the new state. */
asst_breaker_state_t asst_breaker_record(asst_breaker_t *b, asst_breaker_outcome_t outcome,
                                         apr_int64_t now_ms);

/* While open, the milliseconds until the cool-down ends (no call goes
 * before); -1 otherwise. */
apr_int64_t asst_breaker_wait_ms(const asst_breaker_t *b, apr_int64_t now_ms);

/* Percent of failures in the window now (0 when empty), for logs. */
int asst_breaker_failure_percent(const asst_breaker_t *b);

const char *asst_breaker_state_name(asst_breaker_state_t state);

#endif
