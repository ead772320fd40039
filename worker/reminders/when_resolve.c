/* A parsed phrase (when_phrase.c) + now + the person's zone -> the first
 * wall-clock date-time it means, and its RRULE. The choices, for the
 * person and for the tests:
 *
 * - An hour without am/pm and without a day ("at 7") is the next of the
 *   two: at 8 pm, 07:00 tomorrow. With a day or a repeat ("tomorrow at 7",
 *   "every day at 6") it is the likelier half: 7..11 morning, 12 noon,
 *   1..6 afternoon. "tonight", "in the evening" and the like say pm.
 * - A time without a day that has passed today is tomorrow's; a weekday
 *   ("on friday") is today's while the time is ahead, else next week's;
 *   "next monday" is the first Monday after today.
 * - A date without a year is its next occurrence (1 January said in
 *   December is next year's; 29 February, the next leap year's); a date
 *   or a day said outright that has passed is refused, with the reason.
 * - "in 20 minutes" counts real time from now; "in 2 days" is the same
 *   time of day two days on. (Said in the autumn fold's repeated hour,
 *   "in 20 minutes" may land on the second 01:xx, which as a wall time
 *   is the first one: an hour early, so refused as past. Once a year, at
 *   night; a known limit of storing wall time.)
 * - A repeat starts at its first occurrence after now; every month on the
 *   31st follows RFC 5545 and skips the months without one. */
#include <string.h>

#include <apr_strings.h>

#include "when_private.h"

#define DAY_SECONDS (24 * 60 * 60)
#define MAX_YEARS_AHEAD 8   /* the next 29 February is at most 8 years away */

static const char *const not_understood = "I could not tell when that is.";

/* A day (wall time at 00:00) plus minutes after its midnight (1440: the
 * next midnight). */
static struct icaltimetype at_minutes(struct icaltimetype day, int minutes)
{
    day.hour = day.minute = day.second = 0;
    return asst_when_wall_at(asst_when_wall_seconds(day) + minutes * 60LL);
}

static struct icaltimetype plus_days(struct icaltimetype wall, int days)
{
    return asst_when_wall_at(asst_when_wall_seconds(wall) + (long long)days * DAY_SECONDS);
}

/* ---- the time of day ---- */

/* Which half an hour said without one is in, with a day or a repeat. */
static int likely_hour(int hour)
{
    return hour >= 1 && hour <= 6 ? hour + 12 : hour;
}

/* The minutes after midnight the phrase means, up to two of them (an
 * hour that may be either half): how many. -1 with *err: none said where
 * one is needed. */
static int day_minutes(const asst_when_parsed_t *w, struct icaltimetype now_wall, int minutes[2],
                       const char **err)
{
    asst_when_half_t half = w->half == WHEN_HALF_GUESS ? w->period : w->half;
    int hour = w->hour;

    if (hour < 0) {
        if (w->default_minutes == WHEN_NO_TIME) {
            *err = "What time? For example \"today at 5pm\".";
            return -1;
        }
        minutes[0] = w->default_minutes == WHEN_NOW_TIME
                         ? now_wall.hour * 60 + now_wall.minute
                         : w->default_minutes;
        return 1;
    }
    if (half == WHEN_HALF_AM)
        hour %= 12;
    else if (half == WHEN_HALF_PM)
        hour = hour == 12 && w->night ? 24 : hour % 12 + 12;
    else if (half == WHEN_HALF_GUESS && w->day == WHEN_DAY_NONE && w->freq == WHEN_ONCE) {
        minutes[0] = hour % 12 * 60 + w->minute;
        minutes[1] = (hour % 12 + 12) * 60 + w->minute;
        return 2;
    } else if (half == WHEN_HALF_GUESS)
        hour = likely_hour(hour);
    minutes[0] = hour * 60 + w->minute;
    return 1;
}

/* ---- the day ---- */

typedef struct {
    icaltimezone *z;
    apr_time_t now;
    struct icaltimetype today;     /* now's wall time */
    int minutes[2], nminutes;
} ctx_t;

/* The first of day + minutes[...] after now, trying days at a time, up
 * to tries of them: 0 with *out, or -1. */
static int first_ahead(const ctx_t *c, struct icaltimetype day, int step_days, int tries,
                       struct icaltimetype *out)
{
    for (int i = 0; i < tries; i++, day = plus_days(day, step_days))
        for (int k = 0; k < c->nminutes; k++) {
            struct icaltimetype wall = at_minutes(day, c->minutes[k]);
            if (asst_when_wall_instant(c->z, wall) > c->now) {
                *out = wall;
                return 0;
            }
        }
    return -1;
}

/* The next date month/mday, this year or a later one. */
static int next_date(const ctx_t *c, int month, int mday, struct icaltimetype *out)
{
    for (int y = c->today.year; y <= c->today.year + MAX_YEARS_AHEAD; y++) {
        struct icaltimetype day = c->today;
        if (mday > asst_when_days_in_month(y, month))
            continue;
        day.year = y, day.month = month, day.day = mday;
        if (first_ahead(c, day, 0, 1, out) == 0)
            return 0;
    }
    return -1;
}

static int dated(const ctx_t *c, const asst_when_parsed_t *w, struct icaltimetype *out,
                 const char **err, apr_pool_t *p)
{
    struct icaltimetype day = c->today;

    if (!w->year)
        return next_date(c, w->month, w->mday, out);
    if (w->mday > asst_when_days_in_month(w->year, w->month)) {
        *err = apr_psprintf(p, "There is no %d %s %d.", w->mday,
                            asst_when_month_names[w->month - 1], w->year);
        return -1;
    }
    if (w->year < ASST_WHEN_MIN_YEAR || w->year > ASST_WHEN_MAX_YEAR) {
        *err = w->year > ASST_WHEN_MAX_YEAR ? "That is too far ahead." : "That time has passed.";
        return -1;
    }
    day.year = w->year, day.month = w->month, day.day = w->mday;
    *out = at_minutes(day, c->minutes[0]);
    return 0;
}

/* The one date-time of a phrase that does not repeat; a day said outright
 * may have passed (the caller refuses it). */
static int once(const ctx_t *c, const asst_when_parsed_t *w, struct icaltimetype *out,
                const char **err, apr_pool_t *p)
{
    int ahead = (w->weekday - asst_when_weekday(c->today) + 7) % 7;

    switch (w->day) {
    case WHEN_DAY_NONE:
        return first_ahead(c, c->today, 1, 2, out);
    case WHEN_DAY_OFFSET:
        *out = at_minutes(plus_days(c->today, w->days), c->minutes[0]);
        return 0;
    case WHEN_DAY_WEEKDAY:
        return first_ahead(c, plus_days(c->today, ahead), 7, 2, out);
    case WHEN_DAY_NEXT:
        *out = at_minutes(plus_days(c->today, ahead ? ahead : 7), c->minutes[0]);
        return 0;
    case WHEN_DAY_DATE:
        return dated(c, w, out, err, p);
    }
    return -1;
}

/* ---- repeats ---- */

static const char *const byday_codes[7] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

static const char *byday(apr_pool_t *p, int mask)
{
    const char *list = "";

    for (int d = 1; d <= 7; d++)   /* Monday first, Sunday last, as people list them */
        if (mask & (1 << d % 7))
            list = apr_pstrcat(p, list, *list ? "," : "", byday_codes[d % 7], NULL);
    return list;
}

/* The RRULE of a repeat; a day it leaves open is today's. */
static const char *rule_of(apr_pool_t *p, const asst_when_parsed_t *w, struct icaltimetype today,
                           int with_interval)
{
    const char *interval = with_interval && w->interval > 1
                               ? apr_psprintf(p, ";INTERVAL=%d", w->interval) : "";
    int mday = w->mday ? w->mday : today.day;

    switch (w->freq) {
    case WHEN_DAILY:
        return apr_pstrcat(p, "FREQ=DAILY", interval, NULL);
    case WHEN_WEEKLY:
        return apr_psprintf(p, "FREQ=WEEKLY%s;BYDAY=%s", interval,
                            byday(p, w->weekdays ? w->weekdays : 1 << asst_when_weekday(today)));
    case WHEN_MONTHLY:
        return apr_psprintf(p, "FREQ=MONTHLY%s;BYMONTHDAY=%d", interval, mday);
    case WHEN_YEARLY:
        return apr_psprintf(p, "FREQ=YEARLY%s;BYMONTH=%d;BYMONTHDAY=%d", interval,
                            w->month ? w->month : today.month, mday);
    default:
        return NULL;
    }
}

/* The first occurrence after now, found with the rule without INTERVAL
 * from today: it starts the series, so "every other monday" begins on
 * the coming Monday, not the one after. */
static int repeats(const ctx_t *c, const asst_when_parsed_t *w, const char *zone,
                   struct icaltimetype *out, apr_pool_t *p)
{
    char seed[20];
    apr_time_t next;
    const char *err;

    asst_when_format_local(at_minutes(c->today, c->minutes[0] % (24 * 60)), seed);
    return asst_when_next_wall(seed, rule_of(p, w, c->today, 0), zone, c->now, &next, out, &err);
}

/* ---- the phrase ---- */

static const char *passed(apr_pool_t *p, apr_time_t at, apr_time_t now, const char *zone)
{
    return apr_psprintf(p, "That time has passed: %s.", asst_when_describe(p, at, now, zone));
}

static int in_range(struct icaltimetype wall, const char **err)
{
    if (wall.year > ASST_WHEN_MAX_YEAR) {
        *err = "That is too far ahead.";
        return 0;
    }
    return 1;
}

/* The wall time (and rule) of a parsed phrase: 0, or -1 with *err. */
static int wall_of_phrase(apr_pool_t *p, ctx_t *c, const asst_when_parsed_t *w, const char *zone,
                          struct icaltimetype *wall, const char **rrule, const char **err)
{
    *rrule = NULL;
    if (w->in_seconds) {
        *wall = asst_when_wall_of(c->z, c->now + apr_time_from_sec(w->in_seconds));
        return 0;
    }
    if ((c->nminutes = day_minutes(w, c->today, c->minutes, err)) < 0)
        return -1;
    if (w->freq != WHEN_ONCE) {
        if (repeats(c, w, zone, wall, p) != 0)
            return -1;
        *rrule = rule_of(p, w, *wall, 1);
        return 0;
    }
    if (once(c, w, wall, err, p) < 0)
        return -1;
    if (asst_when_wall_instant(c->z, *wall) <= c->now) {
        *err = passed(p, asst_when_wall_instant(c->z, *wall), c->now, zone);
        return -1;
    }
    return 0;
}

int asst_when_resolve(apr_pool_t *p, const char *phrase, apr_time_t now, const char *zone,
                      asst_when_spec_t *out, const char **err)
{
    asst_when_parsed_t w;
    struct icaltimetype wall;
    const char *rrule;
    ctx_t c = { .z = asst_when_zone(zone), .now = now };

    *err = not_understood;
    if (!c.z) {
        *err = apr_psprintf(p, "I don't know the time zone \"%s\".", zone ? zone : "");
        return -1;
    }
    if (!phrase || asst_when_parse(phrase, strlen(phrase), &w) < 0)
        return -1;
    c.today = asst_when_wall_of(c.z, now);
    if (wall_of_phrase(p, &c, &w, zone, &wall, &rrule, err) < 0 || !in_range(wall, err))
        return -1;
    asst_when_format_local(wall, out->local);
    out->rrule = rrule;
    return 0;
}
