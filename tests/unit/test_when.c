/* Unit tests for worker/reminders/when*.c: the time phrases, wall clock
 * <-> instant across DST in three hemispheres' zones, RFC 5545 series
 * (29 February, the 31st, end of year, COUNT, UNTIL), the rule check and
 * the words for the person. Every "now" is fixed; the real clock is
 * never read. Offsets checked are the zones' published ones (2026: New
 * York 8 Mar / 1 Nov, London 29 Mar / 25 Oct, Sydney 5 Apr / 4 Oct). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <check.h>

#include "reminders/when_private.h"
#include "unit_main.h"
#include "unit_pool.h"

#define NY "America/New_York"
#define LONDON "Europe/London"
#define SYDNEY "Australia/Sydney"
#define BERLIN "Europe/Berlin"
#define HOUR APR_TIME_C(3600000000)
#define DAY (24 * HOUR)

/* ---- helpers ---- */

static apr_time_t instant(const char *local, const char *zone)
{
    apr_time_t at;
    const char *err = NULL;

    ck_assert_msg(asst_when_instant(local, zone, &at, &err) == 0, "%s %s: %s", local, zone, err);
    return at;
}

static apr_time_t utc(const char *iso)
{
    return instant(iso, "UTC");
}

static const char *iso_utc(apr_time_t at)
{
    char out[20];

    asst_when_format_local(asst_when_wall_of(icaltimezone_get_utc_timezone(), at), out);
    return apr_pstrdup(pool, out);
}

static const char *wall_in(apr_time_t at, const char *zone)
{
    char out[20];

    asst_when_format_local(asst_when_wall_of(asst_when_zone(zone), at), out);
    return apr_pstrdup(pool, out);
}

/* The next occurrence after `after` (UTC text), as UTC text; "none". */
static const char *next_utc(const char *dtstart, const char *rrule, const char *zone,
                            apr_time_t after)
{
    apr_time_t next;
    const char *err = NULL;
    int rv = asst_when_next(dtstart, rrule, zone, after, &next, &err);

    ck_assert_msg(rv >= 0, "%s %s: %s", dtstart, rrule ? rrule : "once", err);
    return rv == 1 ? "none" : iso_utc(next);
}

typedef struct {
    const char *zone;
    const char *now;      /* local */
    const char *phrase;
    const char *local;    /* what it resolves to; NULL: refused */
    const char *rrule;    /* NULL: once; or the refusal's words */
} resolve_case_t;

static void check_resolve(const resolve_case_t *c)
{
    asst_when_spec_t spec;
    const char *err = NULL;
    int rv = asst_when_resolve(pool, c->phrase, instant(c->now, c->zone), c->zone, &spec, &err);

    if (!c->local) {
        ck_assert_msg(rv == -1, "\"%s\" at %s: resolved to %s", c->phrase, c->now, spec.local);
        ck_assert_msg(err && strstr(err, c->rrule), "\"%s\": %s", c->phrase, err);
        return;
    }
    ck_assert_msg(rv == 0, "\"%s\" at %s %s: %s", c->phrase, c->now, c->zone, err);
    ck_assert_msg(strcmp(spec.local, c->local) == 0, "\"%s\" at %s: %s, want %s", c->phrase,
                  c->now, spec.local, c->local);
    ck_assert_msg(c->rrule ? spec.rrule && strcmp(spec.rrule, c->rrule) == 0 : !spec.rrule,
                  "\"%s\": rrule %s, want %s", c->phrase, spec.rrule ? spec.rrule : "none",
                  c->rrule ? c->rrule : "none");
}

/* ---- phrases ---- */

/* Tuesday 3 March 2026, 10:00 in Berlin. */
#define TUE "2026-03-03T10:00:00"

static const resolve_case_t listed[] = {
    /* when.h and issue 15, in order */
    { BERLIN, TUE, "in 20 minutes", "2026-03-03T10:20:00", NULL },
    { BERLIN, TUE, "in 2 hours", "2026-03-03T12:00:00", NULL },
    { BERLIN, TUE, "at 5pm", "2026-03-03T17:00:00", NULL },
    { BERLIN, TUE, "at 17:30", "2026-03-03T17:30:00", NULL },
    { BERLIN, TUE, "tomorrow at 9", "2026-03-04T09:00:00", NULL },
    { BERLIN, TUE, "tonight at 8", "2026-03-03T20:00:00", NULL },
    { BERLIN, TUE, "on friday at 3pm", "2026-03-06T15:00:00", NULL },
    { BERLIN, TUE, "next monday", "2026-03-09T09:00:00", NULL },
    { BERLIN, TUE, "on 12 march at 10:30", "2026-03-12T10:30:00", NULL },
    { BERLIN, TUE, "march 12", "2026-03-12T09:00:00", NULL },
    { BERLIN, TUE, "every day at 8", "2026-03-04T08:00:00", "FREQ=DAILY" },
    { BERLIN, TUE, "every weekday at 7:30", "2026-03-04T07:30:00",
      "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" },
    { BERLIN, TUE, "every monday and thursday at 6pm", "2026-03-05T18:00:00",
      "FREQ=WEEKLY;BYDAY=MO,TH" },
    { BERLIN, TUE, "every month on the 1st", "2026-04-01T09:00:00", "FREQ=MONTHLY;BYMONTHDAY=1" },
    { BERLIN, TUE, "every year on 4 july", "2026-07-04T09:00:00",
      "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4" },
};

START_TEST(listed_phrases)
{
    check_resolve(&listed[_i]);
}
END_TEST

static const resolve_case_t more[] = {
    /* an hour without am/pm and without a day: the next of the two */
    { BERLIN, "2026-03-03T20:00:00", "at 7", "2026-03-04T07:00:00", NULL },
    { BERLIN, "2026-03-03T06:00:00", "at 7", "2026-03-03T07:00:00", NULL },
    { BERLIN, "2026-03-03T08:00:00", "at 7", "2026-03-03T19:00:00", NULL },
    { BERLIN, "2026-03-03T13:00:00", "at 12:30", "2026-03-04T00:30:00", NULL },
    /* with a day or a repeat: 7..11 morning, 12 noon, 1..6 afternoon */
    { BERLIN, TUE, "tomorrow at 7", "2026-03-04T07:00:00", NULL },
    { BERLIN, TUE, "tomorrow at 6", "2026-03-04T18:00:00", NULL },
    { BERLIN, TUE, "tomorrow at 12", "2026-03-04T12:00:00", NULL },
    { BERLIN, TUE, "every day at 5", "2026-03-03T17:00:00", "FREQ=DAILY" },
    { BERLIN, TUE, "tomorrow at 07:00", "2026-03-04T07:00:00", NULL },
    { BERLIN, TUE, "tomorrow morning at 6", "2026-03-04T06:00:00", NULL },
    { BERLIN, TUE, "at 9 in the evening", "2026-03-03T21:00:00", NULL },
    { BERLIN, TUE, "tonight at 12", "2026-03-04T00:00:00", NULL },
    { BERLIN, TUE, "tomorrow at 5 p.m.", "2026-03-04T17:00:00", NULL },
    { BERLIN, TUE, "at noon", "2026-03-03T12:00:00", NULL },
    { BERLIN, TUE, "at midnight", "2026-03-04T00:00:00", NULL },
    { BERLIN, TUE, "9 o'clock", "2026-03-03T21:00:00", NULL },
    { BERLIN, TUE, "22h", "2026-03-03T22:00:00", NULL },
    /* a time that has passed today is tomorrow's */
    { BERLIN, TUE, "at 9am", "2026-03-04T09:00:00", NULL },
    { BERLIN, TUE, "at 10am", "2026-03-04T10:00:00", NULL },
    /* days */
    { BERLIN, TUE, "tuesday at 11", "2026-03-03T11:00:00", NULL },
    { BERLIN, TUE, "on tuesday at 9am", "2026-03-10T09:00:00", NULL },
    { BERLIN, TUE, "next tuesday", "2026-03-10T09:00:00", NULL },
    { BERLIN, TUE, "next wednesday", "2026-03-04T09:00:00", NULL },
    { BERLIN, TUE, "this friday", "2026-03-06T09:00:00", NULL },
    { BERLIN, TUE, "the day after tomorrow at 8pm", "2026-03-05T20:00:00", NULL },
    { BERLIN, TUE, "next week", "2026-03-10T09:00:00", NULL },
    { BERLIN, TUE, "in 2 days", "2026-03-05T10:00:00", NULL },
    { BERLIN, TUE, "in 2 days at 9", "2026-03-05T09:00:00", NULL },
    { BERLIN, TUE, "in the morning", "2026-03-04T09:00:00", NULL },
    { BERLIN, TUE, "this afternoon", "2026-03-03T15:00:00", NULL },
    { BERLIN, TUE, "in half an hour", "2026-03-03T10:30:00", NULL },
    { BERLIN, TUE, "in an hour and a half", "2026-03-03T11:30:00", NULL },
    { BERLIN, TUE, "in 1 hour and 15 minutes", "2026-03-03T11:15:00", NULL },
    { BERLIN, TUE, "in twenty five minutes", "2026-03-03T10:25:00", NULL },
    { BERLIN, TUE, "in 30 seconds", "2026-03-03T10:00:30", NULL },
    { BERLIN, TUE, "on the 12th of march 2027 at 5pm", "2027-03-12T17:00:00", NULL },
    { BERLIN, TUE, "March 12th, 2027", "2027-03-12T09:00:00", NULL },
    /* a date without a year is its next occurrence */
    { BERLIN, "2026-12-15T10:00:00", "on 1 january", "2027-01-01T09:00:00", NULL },
    { BERLIN, TUE, "on 3 march at 9", "2027-03-03T09:00:00", NULL },
    { BERLIN, TUE, "on 29 february", "2028-02-29T09:00:00", NULL },
    /* repeats */
    { BERLIN, TUE, "every other monday", "2026-03-09T09:00:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO" },
    { BERLIN, TUE, "every 2 weeks on friday at 5pm", "2026-03-06T17:00:00",
      "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR" },
    { BERLIN, TUE, "at 8 every day", "2026-03-04T08:00:00", "FREQ=DAILY" },
    { BERLIN, TUE, "daily at 11", "2026-03-03T11:00:00", "FREQ=DAILY" },
    { BERLIN, TUE, "every morning at 7", "2026-03-04T07:00:00", "FREQ=DAILY" },
    { BERLIN, TUE, "every week", "2026-03-10T09:00:00", "FREQ=WEEKLY;BYDAY=TU" },
    { BERLIN, TUE, "on mondays and fridays at 6", "2026-03-06T18:00:00",
      "FREQ=WEEKLY;BYDAY=MO,FR" },
    { BERLIN, TUE, "every weekend at 10am", "2026-03-07T10:00:00", "FREQ=WEEKLY;BYDAY=SA,SU" },
    { BERLIN, TUE, "on the 1st of every month", "2026-04-01T09:00:00", "FREQ=MONTHLY;BYMONTHDAY=1" },
    { BERLIN, TUE, "every month on the last day", "2026-03-31T09:00:00",
      "FREQ=MONTHLY;BYMONTHDAY=-1" },
    { BERLIN, "2026-04-10T10:00:00", "every month on the 31st", "2026-05-31T09:00:00",
      "FREQ=MONTHLY;BYMONTHDAY=31" },
    { BERLIN, TUE, "every year on 29 feb", "2028-02-29T09:00:00",
      "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29" },
    { BERLIN, TUE, "every 4 july", "2026-07-04T09:00:00", "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4" },
    /* end of year */
    { LONDON, "2026-12-31T23:30:00", "in 1 hour", "2027-01-01T00:30:00", NULL },
    { LONDON, "2026-12-31T23:30:00", "tomorrow at 9", "2027-01-01T09:00:00", NULL },
    { LONDON, "2026-12-31T23:30:00", "next friday", "2027-01-01T09:00:00", NULL },
    { LONDON, "2026-12-31T23:30:00", "every day at 23:45", "2026-12-31T23:45:00", "FREQ=DAILY" },
    { LONDON, "2026-12-31T23:30:00", "every year on 31 december", "2027-12-31T09:00:00",
      "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31" },
    /* DST: a wall time in the gap stays the wall time said (it fires at 03:30) */
    { NY, "2026-03-07T12:00:00", "tomorrow at 2:30am", "2026-03-08T02:30:00", NULL },
    { NY, "2026-03-07T12:00:00", "every day at 2:30am", "2026-03-08T02:30:00", "FREQ=DAILY" },
    { NY, "2026-03-08T01:50:00", "in 20 minutes", "2026-03-08T03:10:00", NULL },
    /* refused, with the reason */
    { BERLIN, TUE, "today at 9", NULL, "That time has passed: today, Tue 3 Mar, 9:00 AM" },
    { BERLIN, TUE, "this morning", NULL, "has passed" },
    { BERLIN, TUE, "on 12 march 2025", NULL, "has passed" },
    { BERLIN, TUE, "on 29 february 2027", NULL, "There is no 29 February 2027." },
    { BERLIN, TUE, "on 30 february", NULL, "I could not tell when that is." },
    { BERLIN, TUE, "today", NULL, "What time?" },
    { BERLIN, TUE, "whenever", NULL, "I could not tell when that is." },
    { BERLIN, TUE, "on 1 june 2300", NULL, "too far ahead" },
};

START_TEST(more_phrases)
{
    check_resolve(&more[_i]);
}
END_TEST

START_TEST(unknown_zone_is_refused)
{
    asst_when_spec_t spec;
    const char *err = NULL;

    ck_assert_int_eq(asst_when_resolve(pool, "at 5pm", 0, "Mars/Olympus", &spec, &err), -1);
    ck_assert_str_eq(err, "I don't know the time zone \"Mars/Olympus\".");
    ck_assert_int_eq(asst_when_resolve(pool, "at 5pm", 0, "../../etc/passwd", &spec, &err), -1);
    ck_assert_int_eq(asst_when_resolve(pool, "at 5pm", 0, NULL, &spec, &err), -1);
}
END_TEST

START_TEST(what_is_a_phrase)
{
    static const char *const yes[] = {
        "in 20 minutes", "at 5pm", "tomorrow at 9", "on friday at 3pm", "next monday",
        "on 12 march at 10:30", "every day at 8", "every weekday at 7:30",
        "every monday and thursday at 6pm", "every month on the 1st", "every year on 4 july",
        "Tomorrow At 9AM", "at 9 tomorrow", "tmrw 9am", "at 7:30pm.", "monday", "@ 5pm",
        "every mon & thu at 18:00", "in 5 mins", "tonight", "in 2h",
    };
    static const char *const no[] = {
        "", "9", "2 eggs", "call mom", "next", "at", "at 25", "13pm", "at 7:60", "at 0am",
        "tomorrow tomorrow", "in 20 minutes tomorrow", "every day tomorrow", "tomorrow at 9 to",
        "in 20", "every", "on the 32nd", "31 april", "at 5pm café", "mom tomorrow", "in 0 minutes",
        "every year on 4 july 2027",
    };
    char *big = apr_palloc(pool, 301);

    for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
        ck_assert_msg(asst_when_is_phrase(yes[i], strlen(yes[i])), "not a phrase: \"%s\"", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
        ck_assert_msg(!asst_when_is_phrase(no[i], strlen(no[i])), "a phrase: \"%s\"", no[i]);
    /* a span, not a string: the rest is not read */
    ck_assert(asst_when_is_phrase("at 5pm to call mom", 6));
    ck_assert(!asst_when_is_phrase(NULL, 0));
    memset(big, ' ', 300);
    memcpy(big + 290, "at 5pm", 6);
    big[300] = '\0';
    ck_assert(!asst_when_is_phrase(big, 300));
}
END_TEST

/* ---- zones ---- */

typedef struct {
    const char *zone;
    const char *local;
    const char *utc;      /* the instant, as UTC wall time */
} instant_case_t;

static const instant_case_t instants[] = {
    /* standard and daylight time */
    { NY, "2026-01-15T12:00:00", "2026-01-15T17:00:00" },
    { NY, "2026-07-15T12:00:00", "2026-07-15T16:00:00" },
    { LONDON, "2026-01-15T12:00:00", "2026-01-15T12:00:00" },
    { LONDON, "2026-07-15T12:00:00", "2026-07-15T11:00:00" },
    { SYDNEY, "2026-01-15T12:00:00", "2026-01-15T01:00:00" },
    { SYDNEY, "2026-07-15T12:00:00", "2026-07-15T02:00:00" },
    /* New York, spring: 02:00 EST -> 03:00 EDT; the gap moves forward */
    { NY, "2026-03-08T01:59:00", "2026-03-08T06:59:00" },
    { NY, "2026-03-08T02:00:00", "2026-03-08T07:00:00" },
    { NY, "2026-03-08T02:30:00", "2026-03-08T07:30:00" },
    { NY, "2026-03-08T03:00:00", "2026-03-08T07:00:00" },
    { NY, "2026-03-08T03:30:00", "2026-03-08T07:30:00" },
    /* New York, autumn: 02:00 EDT -> 01:00 EST; the fold is its first */
    { NY, "2026-11-01T00:59:00", "2026-11-01T04:59:00" },
    { NY, "2026-11-01T01:30:00", "2026-11-01T05:30:00" },
    { NY, "2026-11-01T02:00:00", "2026-11-01T07:00:00" },
    /* London, spring: 01:00 GMT -> 02:00 BST */
    { LONDON, "2026-03-29T00:30:00", "2026-03-29T00:30:00" },
    { LONDON, "2026-03-29T01:30:00", "2026-03-29T01:30:00" },
    { LONDON, "2026-03-29T02:30:00", "2026-03-29T01:30:00" },
    /* London, autumn: 02:00 BST -> 01:00 GMT */
    { LONDON, "2026-10-25T01:30:00", "2026-10-25T00:30:00" },
    { LONDON, "2026-10-25T02:30:00", "2026-10-25T02:30:00" },
    /* Sydney, autumn in April: 03:00 AEDT -> 02:00 AEST */
    { SYDNEY, "2026-04-05T01:30:00", "2026-04-04T14:30:00" },
    { SYDNEY, "2026-04-05T02:30:00", "2026-04-04T15:30:00" },
    { SYDNEY, "2026-04-05T03:30:00", "2026-04-04T17:30:00" },
    /* Sydney, spring in October: 02:00 AEST -> 03:00 AEDT */
    { SYDNEY, "2026-10-04T01:30:00", "2026-10-03T15:30:00" },
    { SYDNEY, "2026-10-04T02:30:00", "2026-10-03T16:30:00" },
    { SYDNEY, "2026-10-04T03:30:00", "2026-10-03T16:30:00" },
    /* far ahead: the zone's rule still applies */
    { NY, "2150-07-01T12:00:00", "2150-07-01T16:00:00" },
};

START_TEST(wall_clock_to_instant)
{
    const instant_case_t *c = &instants[_i];
    const char *got = iso_utc(instant(c->local, c->zone));

    ck_assert_msg(strcmp(got, c->utc) == 0, "%s %s: %sZ, want %sZ", c->local, c->zone, got, c->utc);
}
END_TEST

START_TEST(instant_to_wall_clock)
{
    /* both instants of the fold read as 01:30, one an hour after the other */
    ck_assert_str_eq(wall_in(utc("2026-11-01T05:30:00"), NY), "2026-11-01T01:30:00");
    ck_assert_str_eq(wall_in(utc("2026-11-01T06:30:00"), NY), "2026-11-01T01:30:00");
    /* nothing reads as 02:30 on the spring day */
    ck_assert_str_eq(wall_in(utc("2026-03-08T06:59:59"), NY), "2026-03-08T01:59:59");
    ck_assert_str_eq(wall_in(utc("2026-03-08T07:00:00"), NY), "2026-03-08T03:00:00");
    ck_assert_str_eq(wall_in(utc("2026-04-04T16:00:00"), SYDNEY), "2026-04-05T02:00:00");
    ck_assert_int_eq(asst_when_offset(asst_when_zone(SYDNEY), utc("2026-04-04T15:59:59")), 11 * 3600);
    ck_assert_int_eq(asst_when_offset(asst_when_zone(SYDNEY), utc("2026-04-04T16:00:00")), 10 * 3600);
}
END_TEST

START_TEST(local_form)
{
    asst_when_spec_t spec = { .rrule = "FREQ=DAILY" };
    const char *err = NULL;
    static const char *const bad[] = {
        "2026-02-30T10:00", "2026-03-03T15:00:00Z", "2026-03-03T15:00:00+01:00", "2026-03-03T24:00",
        "2026-03-03T23:60", "2026-3-3T10:00", "tomorrow", "", "1969-12-31T23:00", "2200-01-01T00:00",
        "2026-03-03T15:00:0", "2026-03-03",
    };

    ck_assert_int_eq(asst_when_local("2026-03-03T15:00", &spec, &err), 0);
    ck_assert_str_eq(spec.local, "2026-03-03T15:00:00");
    ck_assert_str_eq(spec.rrule, "FREQ=DAILY");   /* untouched */
    ck_assert_int_eq(asst_when_local("2028-02-29 23:59:59", &spec, &err), 0);
    ck_assert_str_eq(spec.local, "2028-02-29T23:59:59");
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        err = NULL;
        ck_assert_msg(asst_when_local(bad[i], &spec, &err) == -1 && err, "accepted %s", bad[i]);
    }
    ck_assert_int_eq(asst_when_local(NULL, &spec, &err), -1);
    ck_assert_int_eq(asst_when_instant("2026-03-03T15:00", "Nowhere/Town", &(apr_time_t){ 0 }, &err), -1);
}
END_TEST

/* ---- series ---- */

/* A daily 09:00 across both of a zone's changes stays 09:00 on the wall,
 * so one day is 23 hours and one is 25. */
static void daily_nine_across(const char *zone, const char *start, int days, int short_day,
                              int long_day)
{
    apr_time_t at = instant(start, zone) - 1, prev = 0;

    for (int d = 0; d < days; d++) {
        apr_time_t next;
        const char *err = NULL;

        ck_assert_int_eq(asst_when_next(start, "FREQ=DAILY", zone, at, &next, &err), 0);
        ck_assert_str_eq(wall_in(next, zone) + 10, "T09:00:00");
        if (prev)
            ck_assert_msg(next - prev == (d == short_day ? 23 * HOUR : d == long_day ? 25 * HOUR : DAY),
                          "%s day %d: %lld s", zone, d, (long long)((next - prev) / APR_USEC_PER_SEC));
        prev = at = next;
    }
}

START_TEST(daily_stays_nine_across_dst)
{
    daily_nine_across(NY, "2026-03-01T09:00:00", 14, 7, -1);
    daily_nine_across(NY, "2026-10-25T09:00:00", 14, -1, 7);
    daily_nine_across(LONDON, "2026-03-22T09:00:00", 14, 7, -1);
    daily_nine_across(LONDON, "2026-10-18T09:00:00", 14, -1, 7);
    daily_nine_across(SYDNEY, "2026-03-29T09:00:00", 14, -1, 7);
    daily_nine_across(SYDNEY, "2026-09-27T09:00:00", 14, 7, -1);
    /* and the instants themselves: EST then EDT */
    ck_assert_str_eq(next_utc("2026-03-01T09:00:00", "FREQ=DAILY", NY, utc("2026-03-07T00:00:00")),
                     "2026-03-07T14:00:00");
    ck_assert_str_eq(next_utc("2026-03-01T09:00:00", "FREQ=DAILY", NY, utc("2026-03-08T00:00:00")),
                     "2026-03-08T13:00:00");
}
END_TEST

/* A one-off time of the fold said during its second pass is the 01:30
 * still to come, not the one an hour ago ("in 20 minutes" at 01:10 EST). */
START_TEST(a_single_time_in_the_fold_is_the_one_to_come)
{
    apr_time_t second_pass = utc("2026-11-01T06:10:00");          /* 01:10 EST */
    asst_when_spec_t spec;
    const char *err = NULL;

    ck_assert_str_eq(wall_in(second_pass, NY), "2026-11-01T01:10:00");
    ck_assert_int_eq(asst_when_resolve(pool, "in 20 minutes", second_pass, NY, &spec, &err), 0);
    ck_assert_str_eq(spec.local, "2026-11-01T01:30:00");
    ck_assert_str_eq(next_utc(spec.local, NULL, NY, second_pass), "2026-11-01T06:30:00");
    /* said before the fold, 01:30 is still its first occurrence */
    ck_assert_str_eq(next_utc("2026-11-01T01:30:00", NULL, NY, utc("2026-11-01T04:50:00")),
                     "2026-11-01T05:30:00");
    /* both passed: the past */
    ck_assert_str_eq(next_utc("2026-11-01T01:30:00", NULL, NY, utc("2026-11-01T06:40:00")), "none");
}
END_TEST

/* A time of day (quiet hours, the digest): "HH:MM[:SS]", 24 h. */
START_TEST(clock_is_normalised)
{
    char out[9];

    ck_assert_int_eq(asst_when_clock("07:30", out), 0);
    ck_assert_str_eq(out, "07:30:00");
    ck_assert_int_eq(asst_when_clock("23:59:58", out), 0);
    ck_assert_str_eq(out, "23:59:58");
    ck_assert_int_eq(asst_when_clock("00:00", out), 0);
    ck_assert_str_eq(out, "00:00:00");
    ck_assert_int_eq(asst_when_clock("24:00", out), -1);
    ck_assert_int_eq(asst_when_clock("7:30", out), -1);
    ck_assert_int_eq(asst_when_clock("07:60", out), -1);
    ck_assert_int_eq(asst_when_clock("07:30:60", out), -1);
    ck_assert_int_eq(asst_when_clock("07-30", out), -1);
    ck_assert_int_eq(asst_when_clock("", out), -1);
    ck_assert_int_eq(asst_when_clock(NULL, out), -1);
}
END_TEST

START_TEST(fold_fires_once_gap_moves_forward)
{
    /* 01:30 daily in New York: once on 1 November, at the first 01:30 (EDT) */
    ck_assert_str_eq(next_utc("2026-10-30T01:30:00", "FREQ=DAILY", NY, utc("2026-10-31T12:00:00")),
                     "2026-11-01T05:30:00");
    ck_assert_str_eq(next_utc("2026-10-30T01:30:00", "FREQ=DAILY", NY, utc("2026-11-01T05:30:00")),
                     "2026-11-02T06:30:00");
    /* 02:30 daily: 03:30 EDT on 8 March only, 02:30 again the day after */
    ck_assert_str_eq(next_utc("2026-03-06T02:30:00", "FREQ=DAILY", NY, utc("2026-03-07T12:00:00")),
                     "2026-03-08T07:30:00");
    ck_assert_str_eq(wall_in(utc("2026-03-08T07:30:00"), NY), "2026-03-08T03:30:00");
    ck_assert_str_eq(next_utc("2026-03-06T02:30:00", "FREQ=DAILY", NY, utc("2026-03-08T07:30:00")),
                     "2026-03-09T06:30:00");
    /* hourly through the gap: 02:30 and 03:30 are one instant, one occurrence of the COUNT */
    ck_assert_str_eq(next_utc("2026-03-08T00:30:00", "FREQ=HOURLY;COUNT=4", NY, utc("2026-03-08T07:00:00")),
                     "2026-03-08T07:30:00");
    ck_assert_str_eq(next_utc("2026-03-08T00:30:00", "FREQ=HOURLY;COUNT=4", NY, utc("2026-03-08T07:30:00")),
                     "2026-03-08T08:30:00");
    ck_assert_str_eq(next_utc("2026-03-08T00:30:00", "FREQ=HOURLY;COUNT=4", NY, utc("2026-03-08T08:30:00")),
                     "none");
    /* hourly through the fold: the second 01:30 is not one */
    ck_assert_str_eq(next_utc("2026-11-01T00:30:00", "FREQ=HOURLY", NY, utc("2026-11-01T05:30:00")),
                     "2026-11-01T07:30:00");
    /* Sydney's fold and gap, the same way */
    ck_assert_str_eq(next_utc("2026-04-01T02:30:00", "FREQ=DAILY", SYDNEY, utc("2026-04-04T00:00:00")),
                     "2026-04-04T15:30:00");
    ck_assert_str_eq(next_utc("2026-04-01T02:30:00", "FREQ=DAILY", SYDNEY, utc("2026-04-04T15:30:00")),
                     "2026-04-05T16:30:00");
    ck_assert_str_eq(next_utc("2026-10-01T02:30:00", "FREQ=DAILY", SYDNEY, utc("2026-10-03T00:00:00")),
                     "2026-10-03T16:30:00");
}
END_TEST

START_TEST(leap_day_yearly)
{
    const char *start = "2028-02-29T09:00:00";

    ck_assert_str_eq(next_utc(start, "FREQ=YEARLY", "UTC", utc("2028-02-29T09:00:00")),
                     "2032-02-29T09:00:00");
    ck_assert_str_eq(next_utc(start, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", BERLIN,
                              utc("2028-03-01T00:00:00")), "2032-02-29T08:00:00");
    ck_assert_str_eq(next_utc(start, "FREQ=YEARLY", "UTC", utc("2096-03-01T00:00:00")),
                     "2104-02-29T09:00:00");   /* 2100 is not a leap year */
}
END_TEST

START_TEST(the_31st_skips_short_months)
{
    static const char *const want[] = {
        "2026-01-31T09:00:00", "2026-03-31T09:00:00", "2026-05-31T09:00:00", "2026-07-31T09:00:00",
        "2026-08-31T09:00:00", "2026-10-31T09:00:00", "2026-12-31T09:00:00", "2027-01-31T09:00:00",
    };
    apr_time_t after = utc("2026-01-01T00:00:00");

    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
        const char *got = next_utc("2026-01-31T09:00:00", "FREQ=MONTHLY;BYMONTHDAY=31", "UTC", after);
        ck_assert_str_eq(got, want[i]);
        after = utc(got);
    }
    ck_assert_str_eq(next_utc("2026-01-31T09:00:00", "FREQ=MONTHLY", "UTC", utc("2026-02-01T00:00:00")),
                     "2026-03-31T09:00:00");
    ck_assert_str_eq(next_utc("2026-01-31T09:00:00", "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC",
                              utc("2026-02-01T00:00:00")), "2026-02-28T09:00:00");
}
END_TEST

START_TEST(end_of_year)
{
    ck_assert_str_eq(next_utc("2026-12-31T23:30:00", "FREQ=DAILY", LONDON, utc("2026-12-31T23:30:00")),
                     "2027-01-01T23:30:00");
    ck_assert_str_eq(next_utc("2026-12-31T23:30:00", "FREQ=HOURLY", LONDON, utc("2026-12-31T23:30:00")),
                     "2027-01-01T00:30:00");
    ck_assert_str_eq(next_utc("2026-12-28T09:00:00", "FREQ=WEEKLY;BYDAY=MO", SYDNEY,
                              utc("2026-12-28T00:00:00")), "2027-01-03T22:00:00");
}
END_TEST

START_TEST(count_and_until)
{
    const char *start = "2026-03-01T09:00:00";   /* Berlin: 08:00Z */

    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;COUNT=3", BERLIN, 0), "2026-03-01T08:00:00");
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;COUNT=3", BERLIN, utc("2026-03-02T08:00:00")),
                     "2026-03-03T08:00:00");
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;COUNT=3", BERLIN, utc("2026-03-03T08:00:00")), "none");
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;COUNT=1", BERLIN, utc("2026-03-01T08:00:00")), "none");
    /* UNTIL is inclusive: in UTC, as a wall time, or as a whole day */
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;UNTIL=20260305T080000Z", BERLIN,
                              utc("2026-03-04T12:00:00")), "2026-03-05T08:00:00");
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;UNTIL=20260305T075959Z", BERLIN,
                              utc("2026-03-04T12:00:00")), "none");
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;UNTIL=20260305T085959", BERLIN,
                              utc("2026-03-04T12:00:00")), "none");
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;UNTIL=20260305", BERLIN, utc("2026-03-04T12:00:00")),
                     "2026-03-05T08:00:00");
    ck_assert_str_eq(next_utc(start, "FREQ=DAILY;UNTIL=20260305", BERLIN, utc("2026-03-05T12:00:00")),
                     "none");
    /* a single time: itself while ahead, then nothing */
    ck_assert_str_eq(next_utc(start, NULL, BERLIN, utc("2026-03-01T07:59:59")), "2026-03-01T08:00:00");
    ck_assert_str_eq(next_utc(start, NULL, BERLIN, utc("2026-03-01T08:00:00")), "none");
    ck_assert_str_eq(next_utc(start, "", BERLIN, 0), "2026-03-01T08:00:00");
}
END_TEST

/* Without COUNT the walk starts near `after`; with a COUNT it cannot
 * skip, so a huge COUNT gives the slow answer to compare with. */
START_TEST(skipping_ahead_changes_nothing)
{
    static const char *const rules[] = {
        "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=YEARLY",
        "FREQ=HOURLY;INTERVAL=7", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "FREQ=DAILY;INTERVAL=3",
        "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=HOURLY",
    };
    static const char *const afters[] = {
        "2026-03-08T07:00:00", "2027-11-01T05:59:59", "2031-02-28T12:00:00", "2026-01-01T00:00:00",
    };

    for (size_t r = 0; r < sizeof(rules) / sizeof(*rules); r++)
        for (size_t a = 0; a < sizeof(afters) / sizeof(*afters); a++) {
            const char *fast = next_utc("2025-12-31T01:30:00", rules[r], NY, utc(afters[a]));
            const char *slow = next_utc("2025-12-31T01:30:00",
                                        apr_pstrcat(pool, rules[r], ";COUNT=1000000", NULL), NY,
                                        utc(afters[a]));
            ck_assert_msg(strcmp(fast, slow) == 0, "%s after %s: %s, walked %s", rules[r],
                          afters[a], fast, slow);
        }
}
END_TEST

START_TEST(rrule_check)
{
    static const struct {
        const char *rule;
        const char *normal;   /* NULL: refused */
    } cases[] = {
        { "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=WEEKLY;BYDAY=MO,TH" },
        { "FREQ=WEEKLY;BYDAY=TH,MO", "FREQ=WEEKLY;BYDAY=MO,TH" },
        { "RRULE:FREQ=DAILY", "FREQ=DAILY" },
        { "FREQ=DAILY;COUNT=3", "FREQ=DAILY;COUNT=3" },
        { "FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=MONTHLY;BYMONTHDAY=31" },
        { "FREQ=HOURLY;INTERVAL=2", "FREQ=HOURLY;INTERVAL=2" },
        { NULL, NULL }, { "", NULL }, { "garbage", NULL }, { "FREQ=FOO", NULL },
        { "FREQ=MINUTELY", NULL }, { "FREQ=SECONDLY", NULL }, { "FREQ=DAILY;BYSECOND=5", NULL },
        { "FREQ=DAILY;COUNT=2;UNTIL=20260101T000000Z", NULL }, { "FREQ=DAILY;COUNT=0", NULL },
        { "FREQ=DAILY;INTERVAL=0", NULL }, { "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", NULL },
        { "FREQ=DAILY;X-FOO=1", NULL }, { "BYDAY=MO", NULL }, { "FREQ=DAILY;BYHOUR=25", NULL },
    };
    char *big = apr_palloc(pool, 600);
    const char *err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const char *got;
        err = NULL;
        got = asst_when_rrule_check(pool, cases[i].rule, &err);
        if (cases[i].normal)
            ck_assert_msg(got && strcmp(got, cases[i].normal) == 0, "%s: %s", cases[i].rule,
                          got ? got : err);
        else
            ck_assert_msg(!got && err && *err, "%s accepted: %s", cases[i].rule, got);
    }
    memset(big, ';', 599);
    memcpy(big, "FREQ=DAILY", 10);
    big[599] = '\0';
    ck_assert_ptr_null(asst_when_rrule_check(pool, big, &err));
    ck_assert_int_eq(asst_when_next("2026-01-01T09:00:00", "FREQ=MINUTELY", "UTC", 0,
                                    &(apr_time_t){ 0 }, &err), -1);
    ck_assert_int_eq(asst_when_next("2026-01-01T09:00:00", "FREQ=DAILY", "Nowhere/Town", 0,
                                    &(apr_time_t){ 0 }, &err), -1);
}
END_TEST

/* ---- words ---- */

START_TEST(describe_for_the_person)
{
    apr_time_t now = instant(TUE, BERLIN);

    ck_assert_str_eq(asst_when_describe(pool, instant("2026-03-03T15:00:00", BERLIN), now, BERLIN),
                     "today, Tue 3 Mar, 3:00 PM (Europe/Berlin)");
    ck_assert_str_eq(asst_when_describe(pool, instant("2026-03-04T00:30:00", BERLIN), now, BERLIN),
                     "tomorrow, Wed 4 Mar, 12:30 AM (Europe/Berlin)");
    ck_assert_str_eq(asst_when_describe(pool, instant("2026-03-06T12:05:00", BERLIN), now, BERLIN),
                     "Fri 6 Mar, 12:05 PM (Europe/Berlin)");
    ck_assert_str_eq(asst_when_describe(pool, instant("2027-01-01T09:00:00", BERLIN), now, BERLIN),
                     "Fri 1 Jan 2027, 9:00 AM (Europe/Berlin)");
    /* the same instant, in New York, is another day */
    ck_assert_str_eq(asst_when_describe(pool, instant("2026-03-04T03:00:00", BERLIN), now, NY),
                     "today, Tue 3 Mar, 9:00 PM (America/New_York)");
    /* the gap's 02:30 fires at 03:30, and says so */
    ck_assert_str_eq(asst_when_describe(pool, instant("2026-03-08T02:30:00", NY), now, NY),
                     "Sun 8 Mar, 3:30 AM (America/New_York)");
    ck_assert_str_eq(asst_when_describe(pool, utc("2026-03-03T23:00:00"), now, "No/Such"),
                     "today, Tue 3 Mar, 11:00 PM (UTC)");
}
END_TEST

START_TEST(describe_rrule)
{
    static const struct {
        const char *rule;
        const char *words;
    } cases[] = {
        { "FREQ=DAILY", "every day" },
        { "FREQ=DAILY;INTERVAL=2", "every 2 days" },
        { "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday" },
        { "FREQ=WEEKLY;BYDAY=MO,TH", "every Monday and Thursday" },
        { "FREQ=WEEKLY;BYDAY=MO,WE,FR", "every Monday, Wednesday and Friday" },
        { "FREQ=WEEKLY;BYDAY=SU", "every Sunday" },
        { "FREQ=WEEKLY", "every week" },
        { "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "every 2 weeks on Monday" },
        { "FREQ=MONTHLY", "every month" },
        { "FREQ=MONTHLY;BYMONTHDAY=1", "every month on the 1st" },
        { "FREQ=MONTHLY;BYMONTHDAY=22", "every month on the 22nd" },
        { "FREQ=MONTHLY;BYMONTHDAY=13", "every month on the 13th" },
        { "FREQ=MONTHLY;BYMONTHDAY=-1", "every month on the last day" },
        { "FREQ=YEARLY", "every year" },
        { "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4", "every year on 4 July" },
        { "FREQ=HOURLY", "every hour" },
        { "FREQ=DAILY;COUNT=3", "every day, 3 times" },
        { "FREQ=DAILY;UNTIL=20260305T080000Z", "every day, until 5 March 2026" },
        { "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR" },
        { "FREQ=DAILY;BYHOUR=9,17", "FREQ=DAILY;BYHOUR=9,17" },
        { "nonsense", "nonsense" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        ck_assert_str_eq(asst_when_describe_rrule(pool, cases[i].rule), cases[i].words);
}
END_TEST

static Suite *when_suite(void)
{
    Suite *s = suite_create("when");
    TCase *phrases = tcase_create("phrases");
    TCase *zones = tcase_create("zones");
    TCase *series = tcase_create("series");
    TCase *words = tcase_create("words");

    tcase_add_checked_fixture(phrases, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(phrases, listed_phrases, 0, sizeof(listed) / sizeof(*listed));
    tcase_add_loop_test(phrases, more_phrases, 0, sizeof(more) / sizeof(*more));
    tcase_add_test(phrases, unknown_zone_is_refused);
    tcase_add_test(phrases, what_is_a_phrase);
    suite_add_tcase(s, phrases);

    tcase_add_checked_fixture(zones, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(zones, wall_clock_to_instant, 0, sizeof(instants) / sizeof(*instants));
    tcase_add_test(zones, instant_to_wall_clock);
    tcase_add_test(zones, local_form);
    suite_add_tcase(s, zones);

    tcase_add_checked_fixture(series, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(series, daily_stays_nine_across_dst);
    tcase_add_test(series, fold_fires_once_gap_moves_forward);
    tcase_add_test(zones, clock_is_normalised);
    tcase_add_test(series, a_single_time_in_the_fold_is_the_one_to_come);
    tcase_add_test(series, leap_day_yearly);
    tcase_add_test(series, the_31st_skips_short_months);
    tcase_add_test(series, end_of_year);
    tcase_add_test(series, count_and_until);
    tcase_add_test(series, skipping_ahead_changes_nothing);
    tcase_add_test(series, rrule_check);
    suite_add_tcase(s, series);

    tcase_add_checked_fixture(words, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(words, describe_for_the_person);
    tcase_add_test(words, describe_rrule);
    suite_add_tcase(s, words);
    return s;
}

int main(void)
{
    return asst_unit_run(when_suite());
}
