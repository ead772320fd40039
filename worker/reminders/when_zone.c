/* Wall clock <-> instant in an IANA zone. libical reads the zone from the
 * system zoneinfo (Debian builds it without its own copy of tzdata) and
 * says the offset at any UTC instant; which instant a wall time is, we
 * decide here, because the gap and the fold are choices, not facts:
 * a wall time that does not exist moves forward by the gap (02:30 ->
 * 03:30), one that happens twice is the first (the daylight one). */
#include <stdio.h>
#include <string.h>

#include "when_private.h"

#define DAY (24 * 60 * 60)

/* ---- calendar arithmetic (proleptic Gregorian, no zone) ---- */

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d)
{
    long long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d)
{
    long long era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

static long long floor_div(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

long long asst_when_wall_seconds(struct icaltimetype wall)
{
    return days_from_civil(wall.year, wall.month, wall.day) * DAY +
           wall.hour * 3600LL + wall.minute * 60LL + wall.second;
}

struct icaltimetype asst_when_wall_at(long long seconds)
{
    struct icaltimetype wall = icaltime_null_time();
    long long days = floor_div(seconds, DAY), rest = seconds - days * DAY;

    civil_from_days(days, &wall.year, &wall.month, &wall.day);
    wall.hour = (int)(rest / 3600);
    wall.minute = (int)(rest / 60 % 60);
    wall.second = (int)(rest % 60);
    return wall;
}

int asst_when_weekday(struct icaltimetype wall)
{
    long long days = days_from_civil(wall.year, wall.month, wall.day);

    return (int)(((days + 4) % 7 + 7) % 7);   /* 1970-01-01 was a Thursday */
}

int asst_when_days_in_month(int year, int month)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 ? 28 + leap : days[month - 1];
}

/* ---- zones ---- */

/* Zone names are paths under /usr/share/zoneinfo to libical: only the
 * characters of IANA names, and no way up. */
static int plausible_zone_name(const char *zone)
{
    if (!zone || !*zone || *zone == '/' || strlen(zone) > 64 || strstr(zone, ".."))
        return 0;
    return strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-")
           == strlen(zone);
}

icaltimezone *asst_when_zone(const char *zone)
{
    if (!plausible_zone_name(zone))
        return NULL;
    if (strcmp(zone, "UTC") == 0)
        return icaltimezone_get_utc_timezone();
    return icaltimezone_get_builtin_timezone(zone);
}

static int offset_at_second(icaltimezone *z, long long utc_seconds)
{
    struct icaltimetype utc = asst_when_wall_at(utc_seconds);
    int is_daylight = 0;

    return icaltimezone_get_utc_offset_of_utc_time(z, &utc, &is_daylight);
}

int asst_when_offset(icaltimezone *z, apr_time_t at)
{
    return offset_at_second(z, floor_div(at, APR_USEC_PER_SEC));
}

/* The offsets a day before and a day after the wall time are the ones
 * that can apply (no zone changes twice in two days); a candidate instant
 * is real when the zone has that offset then. Two real: the fold (*first
 * < *second). None: the gap, and the offset before it carries the time
 * forward. One instant: both the same. */
static void wall_instants(icaltimezone *z, struct icaltimetype wall, long long *first, long long *second)
{
    long long local = asst_when_wall_seconds(wall);
    int before = offset_at_second(z, local - DAY), after = offset_at_second(z, local + DAY);
    long long a = local - before, b = local - after;
    int a_real = offset_at_second(z, a) == before, b_real = offset_at_second(z, b) == after;

    if (a_real && b_real) {
        *first = a < b ? a : b;
        *second = a < b ? b : a;
    } else
        *first = *second = b_real ? b : a;
}

apr_time_t asst_when_wall_instant(icaltimezone *z, struct icaltimetype wall)
{
    long long first, second;

    wall_instants(z, wall, &first, &second);
    return apr_time_from_sec(first);
}

apr_time_t asst_when_wall_instant_after(icaltimezone *z, struct icaltimetype wall, apr_time_t after)
{
    long long first, second;

    wall_instants(z, wall, &first, &second);
    return apr_time_from_sec(first) > after ? apr_time_from_sec(first) : apr_time_from_sec(second);
}

struct icaltimetype asst_when_wall_of(icaltimezone *z, apr_time_t at)
{
    long long seconds = floor_div(at, APR_USEC_PER_SEC);

    return asst_when_wall_at(seconds + offset_at_second(z, seconds));
}

/* ---- "YYYY-MM-DDTHH:MM[:SS]" ---- */

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int asst_when_clock(const char *text, char out[9])
{
    size_t n = text ? strlen(text) : 0;
    int h = n >= 5 ? digits(text, 2) : -1, m = n >= 5 ? digits(text + 3, 2) : -1;
    int sec = n == 8 ? digits(text + 6, 2) : 0;

    if ((n != 5 && n != 8) || text[2] != ':' || (n == 8 && text[5] != ':') || h < 0 || h > 23 || m < 0
        || m > 59 || sec < 0 || sec > 59)
        return -1;
    snprintf(out, 9, "%02d:%02d:%02d", h, m, sec);
    return 0;
}

static int valid_wall(const struct icaltimetype *w)
{
    return w->year >= ASST_WHEN_MIN_YEAR && w->year <= ASST_WHEN_MAX_YEAR && w->month >= 1 &&
           w->month <= 12 && w->day >= 1 && w->day <= asst_when_days_in_month(w->year, w->month) &&
           w->hour >= 0 && w->hour <= 23 && w->minute >= 0 && w->minute <= 59 &&
           w->second >= 0 && w->second <= 59;
}

static const char *const local_form =
    "a local date-time is YYYY-MM-DDTHH:MM:SS, without a zone or offset";

int asst_when_parse_local(const char *local, struct icaltimetype *wall, const char **err)
{
    struct icaltimetype w = icaltime_null_time();
    size_t n = local ? strlen(local) : 0;

    if ((n != 16 && n != 19) || local[4] != '-' || local[7] != '-' ||
        (local[10] != 'T' && local[10] != ' ') || local[13] != ':' || (n == 19 && local[16] != ':')) {
        *err = local_form;
        return -1;
    }
    w.year = digits(local, 4);
    w.month = digits(local + 5, 2);
    w.day = digits(local + 8, 2);
    w.hour = digits(local + 11, 2);
    w.minute = digits(local + 14, 2);
    w.second = n == 19 ? digits(local + 17, 2) : 0;
    if (!valid_wall(&w)) {
        *err = "no such date-time (years 1970 to 2199)";
        return -1;
    }
    *wall = w;
    return 0;
}

void asst_when_format_local(struct icaltimetype wall, char out[20])
{
    snprintf(out, 20, "%04u-%02u-%02uT%02u:%02u:%02u", (unsigned)wall.year % 10000u,
             (unsigned)wall.month % 100u, (unsigned)wall.day % 100u, (unsigned)wall.hour % 100u,
             (unsigned)wall.minute % 100u, (unsigned)wall.second % 100u);
}

int asst_when_local(const char *local, asst_when_spec_t *out, const char **err)
{
    struct icaltimetype wall;

    if (asst_when_parse_local(local, &wall, err) < 0)
        return -1;
    asst_when_format_local(wall, out->local);
    return 0;
}

int asst_when_instant(const char *local, const char *zone, apr_time_t *at, const char **err)
{
    struct icaltimetype wall;
    icaltimezone *z = asst_when_zone(zone);

    if (!z) {
        *err = "unknown time zone";
        return -1;
    }
    if (asst_when_parse_local(local, &wall, err) < 0)
        return -1;
    *at = asst_when_wall_instant(z, wall);
    return 0;
}
