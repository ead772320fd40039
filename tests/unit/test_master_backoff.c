/* Unit tests for worker/backoff.c: the master's respawn throttle. */
#include <stdlib.h>
#include <sys/wait.h>

#include <check.h>

#include "master/backoff.h"
#include "child/child.h"
#include "unit_main.h"

/* Wait statuses as waitpid() reports them (Linux encoding). */
#define EXITED(code) (((code) & 0xff) << 8)
#define KILLED(sig) ((sig) & 0x7f)

START_TEST(status_encoding_matches_libc)
{
    ck_assert(WIFEXITED(EXITED(3)) && WEXITSTATUS(EXITED(3)) == 3);
    ck_assert(WIFSIGNALED(KILLED(9)) && WTERMSIG(KILLED(9)) == 9);
}
END_TEST

START_TEST(retirement_is_never_throttled)
{
    ck_assert_int_eq(asst_backoff_delay(0, 5, EXITED(ASST_CHILD_EXIT_DONE)), 0);
    ck_assert_int_eq(asst_backoff_delay(8000, 5, EXITED(ASST_CHILD_EXIT_DONE)), 0);
    ck_assert_int_eq(asst_backoff_delay(ASST_BACKOFF_MAX_MS, 0, EXITED(ASST_CHILD_EXIT_DONE)), 0);
}
END_TEST

START_TEST(young_crash_starts_at_one_second)
{
    ck_assert_int_eq(asst_backoff_delay(0, 100, KILLED(9)), ASST_BACKOFF_FIRST_MS);
    ck_assert_int_eq(asst_backoff_delay(0, 100, EXITED(1)), ASST_BACKOFF_FIRST_MS);
    ck_assert_int_eq(ASST_BACKOFF_FIRST_MS, 1000);
}
END_TEST

START_TEST(doubles_up_to_the_cap)
{
    long d = 0, seen[10];

    for (int i = 0; i < 10; i++)
        seen[i] = d = asst_backoff_delay(d, 50, KILLED(11));
    ck_assert_int_eq(seen[0], 1000);
    ck_assert_int_eq(seen[1], 2000);
    ck_assert_int_eq(seen[2], 4000);
    ck_assert_int_eq(seen[5], 32000);
    ck_assert_int_eq(seen[6], ASST_BACKOFF_MAX_MS);
    ck_assert_int_eq(seen[9], ASST_BACKOFF_MAX_MS);
}
END_TEST

START_TEST(stable_child_resets)
{
    ck_assert_int_eq(asst_backoff_delay(16000, ASST_BACKOFF_STABLE_MS, KILLED(9)), 0);
    ck_assert_int_eq(asst_backoff_delay(ASST_BACKOFF_MAX_MS, 3600000, EXITED(1)), 0);
    ck_assert_int_eq(asst_backoff_delay(16000, ASST_BACKOFF_STABLE_MS - 1, KILLED(11)), 32000);
}
END_TEST

START_TEST(kill9_from_outside_is_not_throttled)
{
    ck_assert_int_eq(asst_backoff_delay(0, ASST_BACKOFF_KILLED_MIN_MS, KILLED(9)), 0);
    ck_assert_int_eq(asst_backoff_delay(8000, 3000, KILLED(9)), 0);
    /* killed before it got going: as good as a failed start */
    ck_assert_int_eq(asst_backoff_delay(8000, ASST_BACKOFF_KILLED_MIN_MS - 1, KILLED(9)), 16000);
    /* a crash is not an outside hand */
    ck_assert_int_eq(asst_backoff_delay(0, 3000, KILLED(11)), 1000);
    ck_assert_int_eq(asst_backoff_delay(0, 3000, KILLED(6)), 1000);
}
END_TEST

START_TEST(startup_failure_throttled_however_long_it_tried)
{
    ck_assert_int_eq(asst_backoff_delay(0, 3600000, EXITED(ASST_CHILD_EXIT_STARTUP)), 1000);
    ck_assert_int_eq(asst_backoff_delay(4000, 30000, EXITED(ASST_CHILD_EXIT_STARTUP)), 8000);
    ck_assert_int_eq(asst_backoff_delay(ASST_BACKOFF_MAX_MS, 0, EXITED(ASST_CHILD_EXIT_STARTUP)),
                     ASST_BACKOFF_MAX_MS);
}
END_TEST

START_TEST(next_step_for_failed_fork)
{
    ck_assert_int_eq(asst_backoff_next(0), 1000);
    ck_assert_int_eq(asst_backoff_next(-5), 1000);
    ck_assert_int_eq(asst_backoff_next(1000), 2000);
    ck_assert_int_eq(asst_backoff_next(40000), ASST_BACKOFF_MAX_MS);
    ck_assert_int_eq(asst_backoff_next(ASST_BACKOFF_MAX_MS), ASST_BACKOFF_MAX_MS);
}
END_TEST

static Suite *backoff_suite(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("delay");

    tcase_add_test(tc, status_encoding_matches_libc);
    tcase_add_test(tc, kill9_from_outside_is_not_throttled);
    tcase_add_test(tc, retirement_is_never_throttled);
    tcase_add_test(tc, young_crash_starts_at_one_second);
    tcase_add_test(tc, doubles_up_to_the_cap);
    tcase_add_test(tc, stable_child_resets);
    tcase_add_test(tc, startup_failure_throttled_however_long_it_tried);
    tcase_add_test(tc, next_step_for_failed_fork);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return asst_unit_run(backoff_suite());
}
