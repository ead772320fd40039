/* The daily digest's pure parts (digest_plan.h): its times on the
 * person's wall clock, the cases where a due digest sends nothing, and
 * its text within the SMS budget. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_sms_shape.h"
#include "digest_plan.h"
#include "when_private.h"

/* Any day will do: the series is walked from near `after` (when_recur.c). */
#define SERIES_START "1970-01-02T"
#define MIDNIGHT "00:00:00"

/* A zone libical cannot read is UTC rather than no time at all. */
static const char *readable_zone(const char *zone)
{
    return asst_when_zone(zone) ? zone : "UTC";
}

int asst_digest_next(const char *clock, const char *zone, apr_time_t after, apr_time_t *next)
{
    char start[sizeof(SERIES_START) + 8], normal[9];
    const char *err;

    if (asst_when_clock(clock, normal) != 0)
        return -1;
    memcpy(start, SERIES_START, sizeof(SERIES_START) - 1);
    memcpy(start + sizeof(SERIES_START) - 1, normal, 9);
    return asst_when_next(start, "FREQ=DAILY", readable_zone(zone), after, next, &err) == 0 ? 0 : -1;
}

apr_time_t asst_digest_day_end(const char *zone, apr_time_t at)
{
    apr_time_t end;

    if (asst_digest_next(MIDNIGHT, zone, at, &end) != 0)
        end = at + apr_time_from_sec(24 * 60 * 60);   /* not reached: midnight is a clock */
    return end;
}

/* ---- whether a due digest goes out, by cases: the first that applies ---- */

static int not_active(const asst_digest_in_t *in)
{
    return strcmp(in->user_status, "active") != 0;
}

/* Its day is over: it came due while no scheduler ran. */
static int day_over(const asst_digest_in_t *in)
{
    return asst_digest_day_end(in->zone, in->due) <= in->now;
}

static const struct {
    int (*applies)(const asst_digest_in_t *in);
    const char *skipped;
} skips[] = {
    { not_active, "not_active" },
    { day_over, "missed" },
};

const char *asst_digest_skip_reason(const asst_digest_in_t *in)
{
    for (size_t i = 0; i < sizeof(skips) / sizeof(*skips); i++)
        if (skips[i].applies(in))
            return skips[i].skipped;
    return NULL;
}

/* ---- the text ---- */

/* "9:00 AM" on the wall clock in zone. */
static const char *clock_label(apr_pool_t *p, apr_time_t at, const char *zone)
{
    struct icaltimetype wall = asst_when_wall_of(asst_when_zone(readable_zone(zone)), at);

    return apr_psprintf(p, "%d:%02d %s", wall.hour % 12 ? wall.hour % 12 : 12, wall.minute,
                        wall.hour < 12 ? "AM" : "PM");
}

/* text on one line, at most ASST_DIGEST_ITEM_CHARS characters (a UTF-8
 * sequence is never cut). */
static const char *item_text(apr_pool_t *p, const char *text)
{
    char *out = apr_pstrdup(p, text);
    size_t chars = 0, i;

    for (i = 0; out[i]; i++) {
        if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
            out[i] = ' ';
        if (((unsigned char)out[i] & 0xC0) != 0x80 && ++chars > ASST_DIGEST_ITEM_CHARS) {
            out[i] = '\0';
            return apr_pstrcat(p, out, "...", NULL);
        }
    }
    return out;
}

/* Ties keep their order: items come in the order their sources listed them. */
typedef struct {
    asst_digest_item_t item;
    int order;
} ranked_t;

static int by_time(const void *a, const void *b)
{
    const ranked_t *x = a, *y = b;

    if (x->item.at != y->item.at)
        return x->item.at < y->item.at ? -1 : 1;
    return x->order - y->order;
}

static const char *with_first(apr_pool_t *p, const char **lines, int n, int total)
{
    const char *text = apr_pstrcat(p, "Today: ", lines[0], NULL);

    for (int i = 1; i < n; i++)
        text = apr_pstrcat(p, text, "; ", lines[i], NULL);
    return n < total ? apr_psprintf(p, "%s ... and %d more", text, total - n) : text;
}

const char *asst_digest_text(apr_pool_t *p, apr_array_header_t *items, const char *zone, int *shown)
{
    int n = items->nelts;
    ranked_t *ranked = apr_palloc(p, sizeof(*ranked) * (size_t)(n ? n : 1));
    const char **lines = apr_palloc(p, sizeof(*lines) * (size_t)(n ? n : 1));
    const char *text = NULL;

    *shown = 0;
    for (int i = 0; i < n; i++) {
        ranked[i].item = APR_ARRAY_IDX(items, i, asst_digest_item_t);
        ranked[i].order = i;
    }
    qsort(ranked, (size_t)n, sizeof(*ranked), by_time);
    for (int i = 0; i < n; i++)
        lines[i] = apr_pstrcat(p, clock_label(p, ranked[i].item.at, zone), " ", item_text(p, ranked[i].item.text),
                               NULL);
    /* the most that fit; the first always goes (ASST_DIGEST_ITEM_CHARS
     * keeps one well within the budget) */
    for (int k = n; k >= 1 && !*shown; k--) {
        text = with_first(p, lines, k, n);
        if (k == 1 || asst_sms_segments(text) <= ASST_DIGEST_MAX_SEGMENTS)
            *shown = k;
    }
    return text;
}
