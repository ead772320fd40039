/* worker/reminders/firing.c: what a due reminder does, on a fixed clock:
 * on time, late by MissedPolicy, to a person who cannot be texted, and
 * where a series goes on after downtime. */
#include <check.h>

#include "conf/worker_conf.h"
#include "reminders/firing.h"
#include "unit_main.h"
#include "unit_pool.h"

#define NOW apr_time_from_sec(1772550000)   /* a fixed clock */

static asst_firing_t decide_held(apr_time_t late_by, int policy, const char *status, apr_time_t quiet_until,
                                 int urgent, apr_time_t held_due)
{
    asst_firing_in_t in = { "call mom", status, NOW - late_by, NOW, "9:00 AM", policy, quiet_until, urgent,
                            held_due };
    asst_firing_t f;

    asst_firing_decide(pool, &in, &f);
    return f;
}

static asst_firing_t decide_quiet(apr_time_t late_by, int policy, const char *status, apr_time_t quiet_until,
                                  int urgent)
{
    return decide_held(late_by, policy, status, quiet_until, urgent, 0);
}

static asst_firing_t decide(apr_time_t late_by, int policy, const char *status)
{
    return decide_quiet(late_by, policy, status, 0, 0);
}

START_TEST(on_time_says_reminder)
{
    asst_firing_t f = decide(apr_time_from_msec(300), ASST_MISSED_FIRE, "active");

    ck_assert_int_eq(f.send, 1);
    ck_assert_int_eq(f.late, 0);
    ck_assert_str_eq(f.text, "Reminder: call mom");
    ck_assert_ptr_null(f.skipped);
}
END_TEST

START_TEST(a_minute_is_still_on_time)
{
    asst_firing_t f = decide(ASST_FIRING_LATE_USEC, ASST_MISSED_SKIP, "active");

    ck_assert_int_eq(f.send, 1);
    ck_assert_int_eq(f.late, 0);
    ck_assert_str_eq(f.text, "Reminder: call mom");
}
END_TEST

START_TEST(late_with_fire_says_when_it_was_due)
{
    asst_firing_t f = decide(ASST_FIRING_LATE_USEC + 1, ASST_MISSED_FIRE, "active");

    ck_assert_int_eq(f.send, 1);
    ck_assert_int_eq(f.late, 1);
    ck_assert_str_eq(f.text, "Reminder (late, was due 9:00 AM): call mom");
}
END_TEST

START_TEST(late_with_skip_sends_nothing)
{
    asst_firing_t f = decide(apr_time_from_sec(3600), ASST_MISSED_SKIP, "active");

    ck_assert_int_eq(f.send, 0);
    ck_assert_int_eq(f.late, 1);
    ck_assert_ptr_null(f.text);
    ck_assert_str_eq(f.skipped, "missed");
}
END_TEST

START_TEST(nobody_to_text_sends_nothing)
{
    const char *statuses[] = { "opted_out", "blocked", "pending" };

    for (size_t i = 0; i < 3; i++) {
        asst_firing_t f = decide(0, ASST_MISSED_FIRE, statuses[i]);
        ck_assert_int_eq(f.send, 0);
        ck_assert_str_eq(f.skipped, "not_active");
    }
}
END_TEST

START_TEST(a_series_resumes_after_now)
{
    ck_assert(asst_firing_resume_after(NOW - apr_time_from_sec(86400 * 3), NOW) == NOW);
    ck_assert(asst_firing_resume_after(NOW - 5, NOW) == NOW);
    ck_assert(asst_firing_resume_after(NOW + 5, NOW) == NOW + 5);
}
END_TEST

START_TEST(lateness_is_strictly_over_a_minute)
{
    ck_assert_int_eq(asst_firing_is_late(NOW - ASST_FIRING_LATE_USEC, NOW), 0);
    ck_assert_int_eq(asst_firing_is_late(NOW - ASST_FIRING_LATE_USEC - 1, NOW), 1);
    ck_assert_int_eq(asst_firing_is_late(NOW + 1, NOW), 0);
}
END_TEST

START_TEST(quiet_hours_hold_it_until_they_end)
{
    apr_time_t end = NOW + apr_time_from_sec(3600);
    asst_firing_t f = decide_quiet(0, ASST_MISSED_FIRE, "active", end, 0);

    ck_assert_int_eq(f.send, 0);
    ck_assert_str_eq(f.skipped, "quiet_hours");
    ck_assert(f.hold_until == end);
}
END_TEST

START_TEST(urgent_comes_through_quiet_hours)
{
    asst_firing_t f = decide_quiet(0, ASST_MISSED_FIRE, "active", NOW + apr_time_from_sec(3600), 1);

    ck_assert_int_eq(f.send, 1);
    ck_assert_str_eq(f.text, "Reminder: call mom");
    ck_assert(f.hold_until == 0);
}
END_TEST

START_TEST(quiet_hours_over_is_no_hold)
{
    asst_firing_t f = decide_quiet(0, ASST_MISSED_FIRE, "active", NOW, 0);

    ck_assert_int_eq(f.send, 1);
    ck_assert(f.hold_until == 0);
}
END_TEST

/* Missed while nobody ran, in quiet hours: skip wins (nothing to hold),
 * fire holds it and it then comes on time, without "late". */
START_TEST(missed_in_quiet_hours_by_policy)
{
    apr_time_t end = NOW + apr_time_from_sec(600);
    asst_firing_t skip = decide_quiet(apr_time_from_sec(3600), ASST_MISSED_SKIP, "active", end, 0);
    asst_firing_t fire = decide_quiet(apr_time_from_sec(3600), ASST_MISSED_FIRE, "active", end, 0);

    ck_assert_str_eq(skip.skipped, "missed");
    ck_assert(skip.hold_until == 0);
    ck_assert_str_eq(fire.skipped, "quiet_hours");
    ck_assert(fire.hold_until == end);
}
END_TEST

START_TEST(nobody_to_text_is_not_held)
{
    asst_firing_t f = decide_quiet(0, ASST_MISSED_FIRE, "opted_out", NOW + apr_time_from_sec(600), 0);

    ck_assert_str_eq(f.skipped, "not_active");
    ck_assert(f.hold_until == 0);
}
END_TEST

/* When quiet hours end, the held occurrence says when it was due. */
START_TEST(a_held_reminder_says_it_was_held)
{
    asst_firing_t f = decide_held(0, ASST_MISSED_FIRE, "active", 0, 0, NOW - apr_time_from_sec(8 * 3600));

    ck_assert_int_eq(f.send, 1);
    ck_assert_str_eq(f.text, "Reminder (held for your quiet hours, was due 9:00 AM): call mom");
    ck_assert(f.hold_until == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("firing");
    TCase *tc = tcase_create("decide");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, on_time_says_reminder);
    tcase_add_test(tc, a_minute_is_still_on_time);
    tcase_add_test(tc, late_with_fire_says_when_it_was_due);
    tcase_add_test(tc, late_with_skip_sends_nothing);
    tcase_add_test(tc, nobody_to_text_sends_nothing);
    tcase_add_test(tc, a_series_resumes_after_now);
    tcase_add_test(tc, lateness_is_strictly_over_a_minute);
    tcase_add_test(tc, quiet_hours_hold_it_until_they_end);
    tcase_add_test(tc, urgent_comes_through_quiet_hours);
    tcase_add_test(tc, quiet_hours_over_is_no_hold);
    tcase_add_test(tc, missed_in_quiet_hours_by_policy);
    tcase_add_test(tc, nobody_to_text_is_not_held);
    tcase_add_test(tc, a_held_reminder_says_it_was_held);
    suite_add_tcase(s, tc);
    return asst_unit_run(s);
}
