/* Times and repeats in the person's words: "tomorrow, Wed 4 Mar, 9:00 AM
 * (Europe/Berlin)", "every Monday and Thursday". English, 12-hour clock;
 * the year only when it is not this one. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "when_private.h"

const char *const asst_when_month_names[12] = {
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
};

const char *const asst_when_weekday_names[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* ---- a date-time ---- */

static const char *clock12(apr_pool_t *p, int hour, int minute)
{
    return apr_psprintf(p, "%d:%02d %s", hour % 12 ? hour % 12 : 12, minute, hour < 12 ? "AM" : "PM");
}

const char *asst_when_describe_wall(apr_pool_t *p, struct icaltimetype wall, int with_year)
{
    return apr_psprintf(p, "%.3s %d %.3s%s, %s", asst_when_weekday_names[asst_when_weekday(wall)],
                        wall.day, asst_when_month_names[wall.month - 1],
                        with_year ? apr_psprintf(p, " %d", wall.year) : "",
                        clock12(p, wall.hour, wall.minute));
}

static int same_day(struct icaltimetype a, struct icaltimetype b)
{
    return a.year == b.year && a.month == b.month && a.day == b.day;
}

static const char *lead(struct icaltimetype wall, struct icaltimetype today)
{
    if (same_day(wall, today))
        return "today, ";
    today = asst_when_wall_at(asst_when_wall_seconds(today) + 24 * 60 * 60);
    return same_day(wall, today) ? "tomorrow, " : "";
}

const char *asst_when_describe(apr_pool_t *p, apr_time_t at, apr_time_t now, const char *zone)
{
    icaltimezone *z = asst_when_zone(zone);
    struct icaltimetype wall, today;

    if (!z) {   /* a zone we cannot read: say it in UTC, and say so */
        z = icaltimezone_get_utc_timezone();
        zone = "UTC";
    }
    wall = asst_when_wall_of(z, at);
    today = asst_when_wall_of(z, now);
    return apr_psprintf(p, "%s%s (%s)", lead(wall, today),
                        asst_when_describe_wall(p, wall, wall.year != today.year), zone);
}

/* ---- a repeat ---- */

static int has(const short *by)
{
    return by[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

static int one(const short *by)
{
    return has(by) && by[1] == ICAL_RECURRENCE_ARRAY_MAX;
}

static const char *ordinal(apr_pool_t *p, int n)
{
    static const char *const suffixes[] = { "th", "st", "nd", "rd" };
    int tens = n % 100 / 10, last = n % 10;

    if (n == -1)
        return "last day";
    return apr_psprintf(p, "%d%s", n, tens == 1 || last > 3 ? "th" : suffixes[last]);
}

/* "every day", "every 2 weeks": the unit with the interval. */
static const char *every(apr_pool_t *p, const struct icalrecurrencetype *r, const char *unit)
{
    return r->interval > 1 ? apr_psprintf(p, "every %d %ss", r->interval, unit)
                           : apr_pstrcat(p, "every ", unit, NULL);
}

/* "Monday, Wednesday and Friday" of a BYDAY without positions, or NULL. */
static const char *day_list(apr_pool_t *p, const short *by)
{
    const char *list = "";
    int n = 0;

    while (n < ICAL_BY_DAY_SIZE && by[n] != ICAL_RECURRENCE_ARRAY_MAX)
        n++;
    for (int i = 0; i < n; i++) {
        int dow = icalrecurrencetype_day_day_of_week(by[i]);   /* 1: Sunday */
        if (icalrecurrencetype_day_position(by[i]) != 0 || dow < 1 || dow > 7)
            return NULL;
        list = apr_pstrcat(p, list, i == 0 ? "" : i == n - 1 ? " and " : ", ",
                           asst_when_weekday_names[dow - 1], NULL);
    }
    return list;
}

static const char *weekly(apr_pool_t *p, const struct icalrecurrencetype *r)
{
    const char *days;

    if (!has(r->by_day))
        return every(p, r, "week");
    if ((days = day_list(p, r->by_day)) == NULL)
        return NULL;
    if (strcmp(days, "Monday, Tuesday, Wednesday, Thursday and Friday") == 0)
        days = "weekday";
    return r->interval > 1 ? apr_psprintf(p, "every %d weeks on %s", r->interval, days)
                           : apr_pstrcat(p, "every ", days, NULL);
}

static const char *monthly(apr_pool_t *p, const struct icalrecurrencetype *r)
{
    if (has(r->by_day) || has(r->by_month))
        return NULL;
    if (!has(r->by_month_day))
        return every(p, r, "month");
    if (!one(r->by_month_day))
        return NULL;
    return apr_psprintf(p, "%s on the %s", every(p, r, "month"), ordinal(p, r->by_month_day[0]));
}

static const char *yearly(apr_pool_t *p, const struct icalrecurrencetype *r)
{
    if (has(r->by_day) || has(r->by_year_day) || has(r->by_week_no))
        return NULL;
    if (!has(r->by_month) && !has(r->by_month_day))
        return every(p, r, "year");
    if (!one(r->by_month) || !one(r->by_month_day) || r->by_month_day[0] < 1 ||
        r->by_month[0] < 1 || r->by_month[0] > 12)
        return NULL;
    return apr_psprintf(p, "%s on %d %s", every(p, r, "year"), r->by_month_day[0],
                        asst_when_month_names[r->by_month[0] - 1]);
}

/* Parts none of our words say: BYSETPOS, BYHOUR, ... */
static int plain(const struct icalrecurrencetype *r)
{
    return !has(r->by_second) && !has(r->by_minute) && !has(r->by_hour) &&
           !has(r->by_set_pos) && !has(r->by_year_day) && !has(r->by_week_no);
}

static const char *frequency(apr_pool_t *p, const struct icalrecurrencetype *r)
{
    int simple = !has(r->by_day) && !has(r->by_month_day) && !has(r->by_month);

    if (!plain(r))
        return NULL;
    switch (r->freq) {
    case ICAL_HOURLY_RECURRENCE:
        return simple ? every(p, r, "hour") : NULL;
    case ICAL_DAILY_RECURRENCE:
        return simple ? every(p, r, "day") : NULL;
    case ICAL_WEEKLY_RECURRENCE:
        return has(r->by_month_day) || has(r->by_month) ? NULL : weekly(p, r);
    case ICAL_MONTHLY_RECURRENCE:
        return monthly(p, r);
    case ICAL_YEARLY_RECURRENCE:
        return yearly(p, r);
    default:
        return NULL;
    }
}

/* ", 3 times" / ", until 5 March 2026". */
static const char *bounds(apr_pool_t *p, const struct icalrecurrencetype *r)
{
    if (r->count > 0)
        return r->count == 1 ? ", once" : apr_psprintf(p, ", %d times", r->count);
    if (!icaltime_is_null_time(r->until) && r->until.month >= 1 && r->until.month <= 12)
        return apr_psprintf(p, ", until %d %s %d", r->until.day,
                            asst_when_month_names[r->until.month - 1], r->until.year);
    return "";
}

const char *asst_when_describe_rrule(apr_pool_t *p, const char *rrule)
{
    struct icalrecurrencetype r;
    const char *words, *err;

    if (!rrule || !asst_when_rrule_check(p, rrule, &err))
        return rrule ? rrule : "";
    r = icalrecurrencetype_from_string(strncasecmp(rrule, "RRULE:", 6) == 0 ? rrule + 6 : rrule);
    free(r.rscale);
    words = frequency(p, &r);
    return words ? apr_pstrcat(p, words, bounds(p, &r), NULL) : rrule;
}
