/* RFC 5545 recurrence with libical, walked in wall-clock time: the
 * iterator yields wall times from DTSTART (floating), each becomes an
 * instant in the zone (when_zone.c). So a daily 09:00 is 09:00 on both
 * sides of a DST change, a 02:30 in the spring gap fires at 03:30 that day
 * only, and a 01:30 in the autumn fold fires once, at the first 01:30.
 *
 * COUNT and UNTIL are applied here, not by libical: libical would count
 * wall times (two of which can be one instant in the gap) and compare a
 * UTC UNTIL with floating wall times as if they were UTC.
 *
 * What RFC 5545 says and libical does, which we follow: a day that a
 * month or year lacks is skipped, not moved ("every month on the 31st"
 * fires in the seven months that have one; a yearly 29 February, in leap
 * years). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "when_private.h"

#define MAX_RULE_LEN 512
#define MAX_STEPS 1000000   /* wall times looked at for one answer */
#define SKIP_MARGIN (2 * 24 * 60 * 60)   /* more than any UTC offset */

typedef enum { UNTIL_NONE, UNTIL_INSTANT, UNTIL_WALL, UNTIL_DATE } until_kind_t;

typedef struct {
    struct icalrecurrencetype rule;   /* without COUNT and UNTIL */
    int count;                        /* 0: no COUNT */
    until_kind_t until_kind;
    struct icaltimetype until;
} series_t;

/* ---- checking a rule ---- */

/* "RRULE:FREQ=..." as models like to write it: the value only. */
static const char *rule_value(const char *rrule)
{
    return strncasecmp(rrule, "RRULE:", 6) == 0 ? rrule + 6 : rrule;
}

static const char *refusal(const struct icalrecurrencetype *r)
{
    if (r->freq == ICAL_NO_RECURRENCE)
        return "not a recurrence rule (RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO)";
    if (r->freq == ICAL_SECONDLY_RECURRENCE || r->freq == ICAL_MINUTELY_RECURRENCE ||
        r->by_second[0] != ICAL_RECURRENCE_ARRAY_MAX)
        return "reminders repeat at most every hour";
    if (r->rscale)
        return "only the Gregorian calendar is supported (no RSCALE)";
    if (r->count < 0 || r->interval < 1)
        return "COUNT and INTERVAL must be positive";
    return NULL;
}

/* libical refuses some rules only when asked to walk them. */
static int walkable(struct icalrecurrencetype r)
{
    struct icaltimetype start = asst_when_wall_at(0);
    icalrecur_iterator *it;

    start.year = 2026;
    if ((it = icalrecur_iterator_new(r, start)) == NULL)
        return 0;
    icalrecur_iterator_free(it);
    return 1;
}

static int parse_rule(const char *rrule, struct icalrecurrencetype *r, const char **err)
{
    const char *value = rrule ? rule_value(rrule) : "";

    if (!*value || strlen(value) > MAX_RULE_LEN) {
        *err = "not a recurrence rule (RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO)";
        return -1;
    }
    icalerror_clear_errno();
    *r = icalrecurrencetype_from_string(value);
    *err = refusal(r);
    free(r->rscale);   /* strdup'd by libical; never used (refused above) */
    r->rscale = NULL;
    if (!*err && !walkable(*r))
        *err = "a recurrence rule that cannot occur";
    return *err ? -1 : 0;
}

const char *asst_when_rrule_check(apr_pool_t *p, const char *rrule, const char **err)
{
    struct icalrecurrencetype r;
    char *text;
    const char *out;

    if (parse_rule(rrule, &r, err) < 0)
        return NULL;
    text = icalrecurrencetype_as_string_r(&r);
    out = apr_pstrdup(p, text);
    icalmemory_free_buffer(text);
    return out;
}

/* ---- walking a series ---- */

static int series_of(const char *rrule, series_t *s, const char **err)
{
    if (parse_rule(rrule, &s->rule, err) < 0)
        return -1;
    s->count = s->rule.count;
    s->rule.count = 0;
    s->until = s->rule.until;
    s->until_kind = icaltime_is_null_time(s->until) ? UNTIL_NONE
                    : s->until.is_date           ? UNTIL_DATE
                    : icaltime_is_utc(s->until)  ? UNTIL_INSTANT
                                                 : UNTIL_WALL;
    s->rule.until = icaltime_null_time();
    return 0;
}

/* 1 when the occurrence (wall, at) is past UNTIL, which is inclusive:
 * an instant (UTC), a wall time, or a whole day of the wall clock. */
static int past_until(const series_t *s, struct icaltimetype wall, apr_time_t at)
{
    long long until = asst_when_wall_seconds(s->until);

    switch (s->until_kind) {
    case UNTIL_INSTANT:
        return at > apr_time_from_sec(until);
    case UNTIL_WALL:
        return asst_when_wall_seconds(wall) > until;
    case UNTIL_DATE:
        return asst_when_wall_seconds(wall) >= until + 24 * 60 * 60;
    default:
        return 0;
    }
}

/* Without COUNT the walk may start near `after` instead of at DTSTART.
 * libical 3.0 loses the phase of HOURLY with an INTERVAL when it does, so
 * those walk from the start. */
static void skip_ahead(icalrecur_iterator *it, const series_t *s, icaltimezone *z,
                       struct icaltimetype dtstart, apr_time_t after)
{
    struct icaltimetype near = asst_when_wall_of(z, after);
    long long from = asst_when_wall_seconds(near) - SKIP_MARGIN;

    if (s->count || (s->rule.freq < ICAL_DAILY_RECURRENCE && s->rule.interval > 1) ||
        from <= asst_when_wall_seconds(dtstart))
        return;
    icalrecur_iterator_set_start(it, asst_when_wall_at(from));
}

typedef struct {
    apr_time_t at;
    struct icaltimetype wall;
} occurrence_t;

/* 0 with the first occurrence after `after`; 1: none left; -1: too many
 * steps to say. */
static int walk(const series_t *s, icaltimezone *z, struct icaltimetype dtstart, apr_time_t after,
                occurrence_t *out)
{
    icalrecur_iterator *it = icalrecur_iterator_new(s->rule, dtstart);
    apr_time_t last = -1;
    int seen = 0, rv = -1;

    if (!it)
        return 1;
    skip_ahead(it, s, z, dtstart, after);
    for (long steps = 0; steps < MAX_STEPS; steps++) {
        struct icaltimetype wall = icalrecur_iterator_next(it);
        apr_time_t at;

        if (icaltime_is_null_time(wall) || past_until(s, wall, at = asst_when_wall_instant(z, wall))) {
            rv = 1;
            break;
        }
        if (at <= last)
            continue;   /* a gap made two wall times one instant: one occurrence */
        last = at;
        if (s->count && ++seen > s->count) {
            rv = 1;
            break;
        }
        if (at > after) {
            out->at = at;
            out->wall = wall;
            rv = 0;
            break;
        }
    }
    icalrecur_iterator_free(it);
    return rv;
}

int asst_when_next_wall(const char *dtstart, const char *rrule, const char *zone,
                        apr_time_t after, apr_time_t *next, struct icaltimetype *wall,
                        const char **err)
{
    icaltimezone *z = asst_when_zone(zone);
    struct icaltimetype start;
    occurrence_t o;
    series_t s;
    int rv;

    if (!z) {
        *err = "unknown time zone";
        return -1;
    }
    if (asst_when_parse_local(dtstart, &start, err) < 0)
        return -1;
    if (!rrule || !*rrule) {
        o.at = asst_when_wall_instant_after(z, start, after);
        o.wall = start;
        rv = o.at > after ? 0 : 1;
    } else {
        if (series_of(rrule, &s, err) < 0)
            return -1;
        if ((rv = walk(&s, z, start, after, &o)) < 0)
            *err = "the rule repeats too often to follow";
    }
    if (rv == 0) {
        *next = o.at;
        if (wall)
            *wall = o.wall;
    }
    return rv;
}

int asst_when_next(const char *dtstart, const char *rrule, const char *zone, apr_time_t after,
                   apr_time_t *next, const char **err)
{
    return asst_when_next_wall(dtstart, rrule, zone, after, next, NULL, err);
}
