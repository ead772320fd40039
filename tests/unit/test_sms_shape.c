/* What a reply costs and looks like on a phone (lib/asst_sms_shape.c). */
#include <string.h>

#include <apr_strings.h>

#include <check.h>

#include "asst_sms_shape.h"
#include "unit_main.h"
#include "unit_pool.h"

static const char *repeat(const char *unit, int n)
{
    char *s = apr_palloc(pool, strlen(unit) * (size_t)n + 1), *o = s;

    for (int i = 0; i < n; i++)
        o = stpcpy(o, unit);
    return s;
}

START_TEST(typography_folds_to_gsm)
{
    ck_assert_str_eq(asst_sms_plain(pool, "It\xE2\x80\x99s \xE2\x80\x9C" "fine\xE2\x80\x9D \xE2\x80\x94 really\xE2\x80\xA6"),
                     "It's \"fine\" - really...");
    ck_assert_str_eq(asst_sms_plain(pool, "10\xC2\xA0km \xE2\x80\x93 5 \xE2\x80\x98ok\xE2\x80\x99"), "10 km - 5 'ok'");
}
END_TEST

START_TEST(emoji_and_other_scripts_stay)
{
    ck_assert_str_eq(asst_sms_plain(pool, "Done \xF0\x9F\x91\x8D"), "Done \xF0\x9F\x91\x8D");
    ck_assert_str_eq(asst_sms_plain(pool, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"),
                     "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
}
END_TEST

START_TEST(markdown_goes)
{
    ck_assert_str_eq(asst_sms_plain(pool, "## Your notes\n* **milk**\n+ `eggs`\n- bread"),
                     "Your notes\n- milk\n- eggs\n- bread");
    ck_assert_str_eq(asst_sms_plain(pool, "See [the docs](https://example.org/x) now"),
                     "See the docs (https://example.org/x) now");
    ck_assert_str_eq(asst_sms_plain(pool, "2 * 3 = 6, a_b, #hashtag"), "2 * 3 = 6, a_b, #hashtag");
}
END_TEST

START_TEST(gsm_segments)
{
    ck_assert_int_eq(asst_sms_segments(""), 0);
    ck_assert_int_eq(asst_sms_segments(repeat("a", 160)), 1);
    ck_assert_int_eq(asst_sms_segments(repeat("a", 161)), 2);
    ck_assert_int_eq(asst_sms_segments(repeat("a", 306)), 2);
    ck_assert_int_eq(asst_sms_segments(repeat("a", 307)), 3);
    ck_assert_int_eq(asst_sms_segments(repeat("\xC3\xA9", 160)), 1);   /* é is GSM-7 */
    ck_assert_int_eq(asst_sms_segments(repeat("{", 80)), 1);          /* extension: 2 each */
    ck_assert_int_eq(asst_sms_segments(repeat("{", 81)), 2);
    ck_assert_int_eq(asst_sms_segments(repeat("\xE2\x82\xAC", 81)), 2);   /* the euro sign too */
}
END_TEST

START_TEST(one_curly_quote_makes_it_ucs2)
{
    const char *text = apr_pstrcat(pool, repeat("a", 100), "\xE2\x80\x99", NULL);

    ck_assert_int_eq(asst_sms_segments(text), 2);                       /* 101 UCS-2 units */
    ck_assert_int_eq(asst_sms_segments(asst_sms_plain(pool, text)), 1); /* folded: GSM-7 */
    ck_assert_int_eq(asst_sms_segments(repeat("\xE2\x80\x99", 70)), 1);
    ck_assert_int_eq(asst_sms_segments(repeat("\xE2\x80\x99", 71)), 2);
    ck_assert_int_eq(asst_sms_segments(repeat("\xF0\x9F\x91\x8D", 35)), 1);   /* 2 units each */
    ck_assert_int_eq(asst_sms_segments(repeat("\xF0\x9F\x91\x8D", 36)), 2);
    ck_assert_int_eq(asst_sms_segments(repeat("`", 10)), 1);            /* no GSM-7 backtick */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sms_shape");
    TCase *tc = tcase_create("shape");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, typography_folds_to_gsm);
    tcase_add_test(tc, emoji_and_other_scripts_stay);
    tcase_add_test(tc, markdown_goes);
    tcase_add_test(tc, gsm_segments);
    tcase_add_test(tc, one_curly_quote_makes_it_ucs2);
    suite_add_tcase(s, tc);
    return asst_unit_run(s);
}
