/* worker/reminders/digest_plan.c: the daily digest's times on the
 * person's wall clock across DST (New York's spring-forward and fall-back
 * days of 2026), whether a due digest goes out, and its text within the
 * SMS budget. */
#define _DEFAULT_SOURCE   /* timegm */
#include <check.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "asst_sms_shape.h"
#include "reminders/digest_plan.h"
#include "unit_main.h"
#include "unit_pool.h"

#define NY "America/New_York"

/* "YYYY-MM-DDTHH:MM:SS" UTC as an instant. */
static apr_time_t utc(const char *s)
{
    struct tm tm = { 0 };

    ck_assert_ptr_nonnull(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm));
    return apr_time_from_sec(timegm(&tm));
}

/* The instant as "YYYY-MM-DDTHH:MM:SS" UTC. */
static const char *utc_text(apr_time_t at)
{
    time_t t = (time_t)apr_time_sec(at);
    struct tm tm;
    char buf[32];

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return apr_pstrdup(pool, buf);
}

static const char *next_after(const char *clock, const char *zone, const char *after)
{
    apr_time_t next;

    ck_assert_int_eq(asst_digest_next(clock, zone, utc(after), &next), 0);
    return utc_text(next);
}

/* 8 March 2026, New York: 02:00 EST becomes 03:00 EDT. */
START_TEST(seven_am_stays_seven_am_across_spring_forward)
{
    ck_assert_str_eq(next_after("07:00:00", NY, "2026-03-07T06:00:00"), "2026-03-07T12:00:00");   /* EST */
    /* strictly after: the one due now is not next */
    ck_assert_str_eq(next_after("07:00:00", NY, "2026-03-07T12:00:00"), "2026-03-08T11:00:00");   /* EDT */
    ck_assert_str_eq(next_after("07:00:00", NY, "2026-03-08T11:00:00"), "2026-03-09T11:00:00");
}
END_TEST

START_TEST(a_time_in_the_spring_gap_comes_after_it)
{
    /* 02:30 does not exist on the 8th: it comes at 03:30 EDT, then 02:30 again */
    ck_assert_str_eq(next_after("02:30:00", NY, "2026-03-07T12:00:00"), "2026-03-08T07:30:00");
    ck_assert_str_eq(next_after("02:30:00", NY, "2026-03-08T07:30:00"), "2026-03-09T06:30:00");
}
END_TEST

/* 1 November 2026: 02:00 EDT becomes 01:00 EST; 01:30 happens twice. */
START_TEST(a_time_in_the_autumn_fold_comes_once)
{
    ck_assert_str_eq(next_after("01:30:00", NY, "2026-10-31T12:00:00"), "2026-11-01T05:30:00");   /* EDT */
    ck_assert_str_eq(next_after("01:30:00", NY, "2026-11-01T05:30:00"), "2026-11-02T06:30:00");   /* EST */
    ck_assert_str_eq(next_after("07:00:00", NY, "2026-11-01T00:00:00"), "2026-11-01T12:00:00");
}
END_TEST

START_TEST(other_zones_and_seconds)
{
    ck_assert_str_eq(next_after("07:00:00", "Europe/Berlin", "2026-03-03T05:00:00"), "2026-03-03T06:00:00");
    ck_assert_str_eq(next_after("07:00:05", "UTC", "2026-03-03T07:00:04"), "2026-03-03T07:00:05");
    ck_assert_str_eq(next_after("07:00", "UTC", "2026-03-03T07:00:00"), "2026-03-04T07:00:00");
    /* a zone libical does not know is UTC */
    ck_assert_str_eq(next_after("07:00:00", "Mars/Olympus", "2026-03-03T05:00:00"), "2026-03-03T07:00:00");
}
END_TEST

START_TEST(a_bad_clock_has_no_next)
{
    apr_time_t next;

    ck_assert_int_eq(asst_digest_next("25:00:00", NY, utc("2026-03-03T05:00:00"), &next), -1);
}
END_TEST

START_TEST(the_day_ends_at_local_midnight)
{
    /* a 23-hour day */
    ck_assert_str_eq(utc_text(asst_digest_day_end(NY, utc("2026-03-08T11:00:00"))), "2026-03-09T04:00:00");
    ck_assert_str_eq(utc_text(asst_digest_day_end(NY, utc("2026-03-07T12:00:00"))), "2026-03-08T05:00:00");
    /* midnight itself begins a day */
    ck_assert_str_eq(utc_text(asst_digest_day_end(NY, utc("2026-03-09T04:00:00"))), "2026-03-10T04:00:00");
    ck_assert_str_eq(utc_text(asst_digest_day_end("UTC", utc("2026-03-03T23:59:59"))), "2026-03-04T00:00:00");
}
END_TEST

static const char *skip(const char *status, const char *due, const char *now)
{
    asst_digest_in_t in = { status, NY, utc(due), utc(now) };

    return asst_digest_skip_reason(&in);
}

START_TEST(a_due_digest_goes_out_on_its_own_day_only)
{
    ck_assert_ptr_null(skip("active", "2026-03-08T11:00:00", "2026-03-08T11:00:00"));
    /* late, but 23:59:59 the same day (EDT) */
    ck_assert_ptr_null(skip("active", "2026-03-08T11:00:00", "2026-03-09T03:59:59"));
    ck_assert_str_eq(skip("active", "2026-03-08T11:00:00", "2026-03-09T04:00:00"), "missed");
    ck_assert_str_eq(skip("active", "2026-03-08T11:00:00", "2026-03-12T11:00:00"), "missed");
    ck_assert_str_eq(skip("opted_out", "2026-03-08T11:00:00", "2026-03-08T11:00:00"), "not_active");
    ck_assert_str_eq(skip("blocked", "2026-03-08T11:00:00", "2026-03-08T11:00:00"), "not_active");
    ck_assert_str_eq(skip("pending", "2026-03-08T11:00:00", "2026-03-12T11:00:00"), "not_active");
}
END_TEST

static apr_array_header_t *items_of(const char *const *texts, const char *const *times, int n)
{
    apr_array_header_t *items = apr_array_make(pool, n, sizeof(asst_digest_item_t));

    for (int i = 0; i < n; i++) {
        asst_digest_item_t *item = apr_array_push(items);
        item->at = utc(times[i]);
        item->text = texts[i];
    }
    return items;
}

START_TEST(nothing_today_is_no_text)
{
    int shown = -1;

    ck_assert_ptr_null(asst_digest_text(pool, apr_array_make(pool, 0, sizeof(asst_digest_item_t)), NY, &shown));
    ck_assert_int_eq(shown, 0);
}
END_TEST

START_TEST(items_in_time_order_on_the_local_clock)
{
    /* New York, 3 March (EST, UTC-5) */
    const char *texts[] = { "dentist", "call mom", "lunch with Ana", "midnight snack", "pills" };
    const char *times[] = { "2026-03-03T20:00:00", "2026-03-03T14:00:00", "2026-03-03T17:30:00",
                            "2026-03-04T04:59:00", "2026-03-03T14:00:00" };
    int shown;
    const char *text = asst_digest_text(pool, items_of(texts, times, 5), NY, &shown);

    /* ties keep the order they came in */
    ck_assert_str_eq(text, "Today: 9:00 AM call mom; 9:00 AM pills; 12:30 PM lunch with Ana; 3:00 PM dentist; "
                           "11:59 PM midnight snack");
    ck_assert_int_eq(shown, 5);
}
END_TEST

START_TEST(midnight_and_noon)
{
    const char *texts[] = { "a", "b" };
    const char *times[] = { "2026-03-03T00:05:00", "2026-03-03T12:00:00" };
    int shown;

    ck_assert_str_eq(asst_digest_text(pool, items_of(texts, times, 2), "UTC", &shown),
                     "Today: 12:05 AM a; 12:00 PM b");
}
END_TEST

START_TEST(more_than_fit_are_counted)
{
    apr_array_header_t *items = apr_array_make(pool, 40, sizeof(asst_digest_item_t));
    int shown;
    const char *text;

    for (int i = 0; i < 40; i++) {
        asst_digest_item_t *item = apr_array_push(items);
        item->at = utc("2026-03-03T08:00:00") + apr_time_from_sec(60 * i);
        item->text = apr_psprintf(pool, "reminder number %d", i + 1);
    }
    text = asst_digest_text(pool, items, "UTC", &shown);
    ck_assert_int_lt(shown, 40);
    ck_assert_int_gt(shown, 5);
    ck_assert_int_le(asst_sms_segments(text), ASST_DIGEST_MAX_SEGMENTS);
    ck_assert_str_eq(text + strlen(text) - strlen(apr_psprintf(pool, " ... and %d more", 40 - shown)),
                     apr_psprintf(pool, " ... and %d more", 40 - shown));
    ck_assert_ptr_nonnull(strstr(text, apr_psprintf(pool, "reminder number %d ...", shown)));
    /* one more would not fit */
    ck_assert_ptr_null(strstr(text, apr_psprintf(pool, "reminder number %d", shown + 1)));
}
END_TEST

START_TEST(non_gsm_text_fits_fewer)
{
    apr_array_header_t *items = apr_array_make(pool, 20, sizeof(asst_digest_item_t));
    int shown_gsm, shown_ucs2;

    for (int i = 0; i < 20; i++) {
        asst_digest_item_t *item = apr_array_push(items);
        item->at = utc("2026-03-03T08:00:00") + apr_time_from_sec(60 * i);
        item->text = "water the plants and the garden";
    }
    asst_digest_text(pool, items, "UTC", &shown_gsm);
    APR_ARRAY_IDX(items, 0, asst_digest_item_t).text = "water the plants \xF0\x9F\x8C\xB1";   /* an emoji */
    ck_assert_int_le(asst_sms_segments(asst_digest_text(pool, items, "UTC", &shown_ucs2)),
                     ASST_DIGEST_MAX_SEGMENTS);
    ck_assert_int_lt(shown_ucs2, shown_gsm);
    ck_assert_int_ge(shown_ucs2, 1);
}
END_TEST

START_TEST(a_long_item_is_cut_and_kept_on_one_line)
{
    char body[301];
    const char *texts[] = { body, "call\nmom" };
    const char *times[] = { "2026-03-03T08:00:00", "2026-03-03T09:00:00" };
    int shown;
    const char *text;

    memset(body, 'x', 300);
    body[300] = '\0';
    text = asst_digest_text(pool, items_of(texts, times, 2), "UTC", &shown);
    ck_assert_int_eq(shown, 2);
    ck_assert_str_eq(text, apr_psprintf(pool, "Today: 8:00 AM %.*s...; 9:00 AM call mom", ASST_DIGEST_ITEM_CHARS,
                                        body));
}
END_TEST

START_TEST(a_cut_never_splits_a_character)
{
    const char *texts[] = { NULL };
    const char *times[] = { "2026-03-03T08:00:00" };
    apr_array_header_t *items;
    const char *text;
    int shown;

    /* 100 two-byte characters */
    texts[0] = "";
    for (int i = 0; i < 100; i++)
        texts[0] = apr_pstrcat(pool, texts[0], "\xC3\xA9", NULL);
    items = items_of(texts, times, 1);
    text = asst_digest_text(pool, items, "UTC", &shown);
    ck_assert_int_eq((int)strlen(text), (int)strlen("Today: 8:00 AM ") + 2 * ASST_DIGEST_ITEM_CHARS + 3);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("digest_plan");
    TCase *times = tcase_create("times"), *text = tcase_create("text");

    tcase_add_checked_fixture(times, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(times, seven_am_stays_seven_am_across_spring_forward);
    tcase_add_test(times, a_time_in_the_spring_gap_comes_after_it);
    tcase_add_test(times, a_time_in_the_autumn_fold_comes_once);
    tcase_add_test(times, other_zones_and_seconds);
    tcase_add_test(times, a_bad_clock_has_no_next);
    tcase_add_test(times, the_day_ends_at_local_midnight);
    tcase_add_test(times, a_due_digest_goes_out_on_its_own_day_only);
    suite_add_tcase(s, times);
    tcase_add_checked_fixture(text, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(text, nothing_today_is_no_text);
    tcase_add_test(text, items_in_time_order_on_the_local_clock);
    tcase_add_test(text, midnight_and_noon);
    tcase_add_test(text, more_than_fit_are_counted);
    tcase_add_test(text, non_gsm_text_fits_fewer);
    tcase_add_test(text, a_long_item_is_cut_and_kept_on_one_line);
    tcase_add_test(text, a_cut_never_splits_a_character);
    suite_add_tcase(s, text);
    return s;
}

int main(void)
{
    return asst_unit_run(suite());
}
