#include <string.h>

#include "breaker.h"

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void window_clear(asst_breaker_t *b)
{
    memset(b->failed, 0, sizeof(b->failed));
    b->next = b->recorded = b->failures = 0;
}

void asst_breaker_init(asst_breaker_t *b, int failure_rate, int window, int min_calls,
                       apr_int64_t cooldown_ms)
{
    memset(b, 0, sizeof(*b));
    b->failure_rate = clamp(failure_rate, 1, 100);
    b->window = clamp(window, 1, ASST_BREAKER_MAX_WINDOW);
    b->min_calls = clamp(min_calls, 1, b->window);
    b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 0;
    b->state = ASST_BREAKER_CLOSED;
}

/* The oldest outcome leaves once the ring is full. */
static void window_push(asst_breaker_t *b, int failed)
{
    if (b->recorded == b->window)
        b->failures -= b->failed[b->next];
    else
        b->recorded++;
    b->failed[b->next] = (unsigned char)failed;
    b->failures += failed;
    b->next = (b->next + 1) % b->window;
}

/* Integer percentages: failures/calls >= rate% without rounding. */
static int at_rate(const asst_breaker_t *b, int failures, int calls)
{
    return (long)failures * 100 >= (long)b->failure_rate * calls;
}

apr_int64_t asst_breaker_wait_ms(const asst_breaker_t *b, apr_int64_t now_ms)
{
    apr_int64_t left = b->opened_at_ms + b->cooldown_ms - now_ms;

    if (b->state != ASST_BREAKER_OPEN)
        return -1;
    return left > 0 ? left : 0;
}

int asst_breaker_failure_percent(const asst_breaker_t *b)
{
    return b->recorded ? b->failures * 100 / b->recorded : 0;
}

/* The window is kept until it closes again, for the log line. */
static void breaker_open(asst_breaker_t *b, apr_int64_t now_ms)
{
    b->state = ASST_BREAKER_OPEN;
    b->opened_at_ms = now_ms;
}

static void half_open(asst_breaker_t *b)
{
    b->state = ASST_BREAKER_HALF_OPEN;
    b->probes_sent = b->probes_reported = b->probe_failures = 0;
}

/* Probes that never reported back free their slots after another
 * cool-down, so a lost outcome cannot wedge the breaker half-open. */
static int probe_slot(asst_breaker_t *b, apr_int64_t now_ms)
{
    if (b->probes_sent >= ASST_BREAKER_PROBES && now_ms - b->opened_at_ms >= b->cooldown_ms)
        b->probes_sent = b->probes_reported;
    if (b->probes_sent >= ASST_BREAKER_PROBES)
        return 0;
    b->probes_sent++;
    b->opened_at_ms = now_ms;
    return 1;
}

int asst_breaker_allow(asst_breaker_t *b, apr_int64_t now_ms)
{
    if (b->state == ASST_BREAKER_CLOSED)
        return 1;
    if (b->state == ASST_BREAKER_OPEN) {
        if (now_ms - b->opened_at_ms < b->cooldown_ms)
            return 0;
        half_open(b);
    }
    return probe_slot(b, now_ms);
}

static void record_closed(asst_breaker_t *b, int failed, apr_int64_t now_ms)
{
    window_push(b, failed);
    if (b->recorded >= b->min_calls && at_rate(b, b->failures, b->recorded)) {
        b->opened_count++;
        breaker_open(b, now_ms);
    }
}

/* Decides as soon as the probes' failure rate is settled either way: the
 * provider that is back closes it after the first probes that answer. */
static void record_probe(asst_breaker_t *b, int failed, apr_int64_t now_ms)
{
    int unreported = ASST_BREAKER_PROBES - ++b->probes_reported;

    b->probe_failures += failed;
    if (at_rate(b, b->probe_failures, ASST_BREAKER_PROBES))
        breaker_open(b, now_ms);
    else if (!at_rate(b, b->probe_failures + unreported, ASST_BREAKER_PROBES)) {
        b->state = ASST_BREAKER_CLOSED;
        window_clear(b);
    }
}

asst_breaker_state_t asst_breaker_record(asst_breaker_t *b, asst_breaker_outcome_t outcome,
                                         apr_int64_t now_ms)
{
    int failed = outcome == ASST_BREAKER_FAILURE;

    if (outcome == ASST_BREAKER_UNCOUNTED) {
        /* a half-open probe answered 429 said nothing about health: its slot is free again */
        if (b->state == ASST_BREAKER_HALF_OPEN && b->probes_sent > b->probes_reported)
            b->probes_sent--;
        return b->state;
    }
    if (b->state == ASST_BREAKER_CLOSED)
        record_closed(b, failed, now_ms);
    else if (b->state == ASST_BREAKER_HALF_OPEN)
        record_probe(b, failed, now_ms);
    return b->state;
}

const char *asst_breaker_state_name(asst_breaker_state_t state)
{
    switch (state) {
    case ASST_BREAKER_CLOSED: return "closed";
    case ASST_BREAKER_OPEN: return "open";
    case ASST_BREAKER_HALF_OPEN: return "half-open";
    }
    return "?";
}
