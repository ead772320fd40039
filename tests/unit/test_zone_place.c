/* Places people name for their time zone (worker/reminders/zone_place.c),
 * as the answer to "are you on New York time?". */
#include <string.h>

#include <check.h>

#include "reminders/zone_place.h"
#include "unit_main.h"

static const char *place(const char *s)
{
    return asst_zone_of_place(s, strlen(s));
}

START_TEST(cities_and_regions)
{
    ck_assert_str_eq(place("London"), "Europe/London");
    ck_assert_str_eq(place("new york"), "America/New_York");
    ck_assert_str_eq(place("NYC"), "America/New_York");
    ck_assert_str_eq(place("Chicago"), "America/Chicago");
    ck_assert_str_eq(place("Pacific"), "America/Los_Angeles");
    ck_assert_str_eq(place("PST"), "America/Los_Angeles");
    ck_assert_str_eq(place("buenos aires"), "America/Argentina/Buenos_Aires");
    ck_assert_str_eq(place("Tokyo"), "Asia/Tokyo");
}
END_TEST

START_TEST(case_and_separators_are_forgiven)
{
    ck_assert_str_eq(place("NEW YORK"), "America/New_York");
    ck_assert_str_eq(place("New-York"), "America/New_York");
    ck_assert_str_eq(place("new_york"), "America/New_York");
    ck_assert_str_eq(place("  new   york  "), "America/New_York");
    ck_assert_str_eq(place("St. Louis"), "America/Chicago");
    ck_assert_str_eq(asst_zone_of_place("londonderry", 6), "Europe/London");   /* only n bytes */
}
END_TEST

START_TEST(anything_else_is_no_place)
{
    ck_assert_ptr_null(place("Narnia"));
    ck_assert_ptr_null(place("Europe/London"));     /* a zone's name is not a place: callers take it as it is */
    ck_assert_ptr_null(place("york"));
    ck_assert_ptr_null(place("new york please"));
    ck_assert_ptr_null(place(""));
    ck_assert_ptr_null(place("a very long text that is certainly not the name of any city at all"));
    ck_assert_ptr_null(asst_zone_of_place(NULL, 3));
}
END_TEST

START_TEST(the_longest_place_a_text_starts_with)
{
    const char *zone = NULL;

    ck_assert_uint_eq(asst_zone_place_prefix("new york time", &zone), 8);
    ck_assert_str_eq(zone, "America/New_York");
    ck_assert_uint_eq(asst_zone_place_prefix("New York City!", &zone), 13);
    ck_assert_str_eq(zone, "America/New_York");
    ck_assert_uint_eq(asst_zone_place_prefix("london.", &zone), 6);
    ck_assert_str_eq(zone, "Europe/London");
    ck_assert_uint_eq(asst_zone_place_prefix("salt lake city time", &zone), 14);
    ck_assert_str_eq(zone, "America/Denver");
    ck_assert_uint_eq(asst_zone_place_prefix("newyork", &zone), 0);
    ck_assert_uint_eq(asst_zone_place_prefix("Mars", &zone), 0);
    ck_assert_uint_eq(asst_zone_place_prefix("", &zone), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zone_place");
    TCase *tc = tcase_create("zone_place");

    tcase_add_test(tc, cities_and_regions);
    tcase_add_test(tc, case_and_separators_are_forgiven);
    tcase_add_test(tc, anything_else_is_no_place);
    tcase_add_test(tc, the_longest_place_a_text_starts_with);
    suite_add_tcase(s, tc);
    return asst_unit_run(s);
}
