/* The time zone guessed from a number, for the first time-dependent
 * request's question (worker/reminders/zone_guess.c). */
#include <check.h>

#include "reminders/zone_guess.h"
#include "unit_main.h"

START_TEST(common_countries)
{
    ck_assert_str_eq(asst_zone_guess("+15005550006"), "America/New_York");
    ck_assert_str_eq(asst_zone_guess("+447700900123"), "Europe/London");
    ck_assert_str_eq(asst_zone_guess("+4915112345678"), "Europe/Berlin");
    ck_assert_str_eq(asst_zone_guess("+61412345678"), "Australia/Sydney");
    ck_assert_str_eq(asst_zone_guess("+919812345678"), "Asia/Kolkata");
}
END_TEST

START_TEST(the_longest_code_wins)
{
    ck_assert_str_eq(asst_zone_guess("+353851234567"), "Europe/Dublin");     /* not +35x */
    ck_assert_str_eq(asst_zone_guess("+351912345678"), "Europe/Lisbon");
    ck_assert_str_eq(asst_zone_guess("+971501234567"), "Asia/Dubai");
}
END_TEST

START_TEST(unknown_or_missing)
{
    ck_assert_ptr_null(asst_zone_guess("+2601234567"));     /* Zambia: not in the table */
    ck_assert_ptr_null(asst_zone_guess("0049151"));         /* not E.164 */
    ck_assert_ptr_null(asst_zone_guess(""));
    ck_assert_ptr_null(asst_zone_guess(NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zone_guess");
    TCase *tc = tcase_create("zone_guess");

    tcase_add_test(tc, common_countries);
    tcase_add_test(tc, the_longest_code_wins);
    tcase_add_test(tc, unknown_or_missing);
    suite_add_tcase(s, tc);
    return asst_unit_run(s);
}
