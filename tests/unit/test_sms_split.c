/* Unit tests for lib/asst_sms.c: splitting long replies into SMS parts. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>

#include "asst_form.h"
#include "asst_sms.h"
#include "unit_main.h"
#include "unit_pool.h"

static const char *part(const apr_array_header_t *parts, int i)
{
    ck_assert_int_lt(i, parts->nelts);
    return APR_ARRAY_IDX(parts, i, const char *);
}

static char *repeat(const char *unit, int n)
{
    char *s = "";
    int i;

    for (i = 0; i < n; i++)
        s = apr_pstrcat(pool, s, unit, NULL);
    return s;
}

static apr_size_t chars(const char *s)
{
    return asst_utf8_chars(s, strlen(s));
}

/* Every part within limit, valid UTF-8, and without whitespace at a split. */
static void check_parts(const apr_array_header_t *parts, apr_size_t limit)
{
    int i;

    for (i = 0; i < parts->nelts; i++) {
        const char *s = part(parts, i);
        apr_size_t n = strlen(s);
        ck_assert_uint_le(chars(s), limit);
        ck_assert_uint_gt(n, 0);
        ck_assert_msg(asst_utf8_valid(s, n), "part %d is not valid UTF-8", i);
        if (i > 0)
            ck_assert_msg(s[0] != ' ', "part %d starts with a space", i);
        if (i < parts->nelts - 1)
            ck_assert_msg(s[n - 1] != ' ', "part %d ends with a space", i);
    }
}

/* Rejoining the parts with one space gives back the words of the original. */
static char *rejoin(const apr_array_header_t *parts)
{
    char *s = "";
    int i;

    for (i = 0; i < parts->nelts; i++)
        s = apr_pstrcat(pool, s, i ? " " : "", part(parts, i), NULL);
    return s;
}

START_TEST(count_code_points)
{
    ck_assert_uint_eq(chars(""), 0);
    ck_assert_uint_eq(chars("abc"), 3);
    ck_assert_uint_eq(chars("h\xc3\xa9llo"), 5);              /* é: 2 bytes */
    ck_assert_uint_eq(chars("\xe2\x82\xac"), 1);             /* €: 3 bytes */
    ck_assert_uint_eq(chars("\xf0\x9f\x98\x80!"), 2);        /* 😀: 4 bytes */
}
END_TEST

START_TEST(short_body_is_one_part)
{
    apr_array_header_t *parts = asst_sms_split(pool, "hello there", 1600);

    ck_assert_int_eq(parts->nelts, 1);
    ck_assert_str_eq(part(parts, 0), "hello there");
}
END_TEST

START_TEST(exactly_the_limit_is_one_part)
{
    char *body = repeat("a", 1600);
    apr_array_header_t *parts = asst_sms_split(pool, body, ASST_SMS_MAX_CHARS);

    ck_assert_int_eq(parts->nelts, 1);
    ck_assert_str_eq(part(parts, 0), body);
}
END_TEST

START_TEST(limit_counts_code_points_not_bytes)
{
    char *body = repeat("\xc3\xa9", 1600);          /* 1600 chars, 3200 bytes */
    apr_array_header_t *parts = asst_sms_split(pool, body, 1600);

    ck_assert_int_eq(parts->nelts, 1);
}
END_TEST

START_TEST(empty_body)
{
    apr_array_header_t *parts = asst_sms_split(pool, "", 10);

    ck_assert_int_eq(parts->nelts, 1);
    ck_assert_str_eq(part(parts, 0), "");
}
END_TEST

START_TEST(splits_at_word_boundary)
{
    apr_array_header_t *parts = asst_sms_split(pool, "aaa bbb ccc ddd", 8);

    ck_assert_int_eq(parts->nelts, 2);
    ck_assert_str_eq(part(parts, 0), "aaa bbb");
    ck_assert_str_eq(part(parts, 1), "ccc ddd");
}
END_TEST

START_TEST(word_ending_at_limit_stays_whole)
{
    apr_array_header_t *parts = asst_sms_split(pool, "aaa bbb ccc", 7);

    ck_assert_int_eq(parts->nelts, 2);
    ck_assert_str_eq(part(parts, 0), "aaa bbb");
    ck_assert_str_eq(part(parts, 1), "ccc");
}
END_TEST

START_TEST(whitespace_at_split_dropped)
{
    apr_array_header_t *parts = asst_sms_split(pool, "aaa  \n\t  bbb   ccc", 6);

    ck_assert_int_eq(parts->nelts, 3);
    ck_assert_str_eq(part(parts, 0), "aaa");
    ck_assert_str_eq(part(parts, 1), "bbb");
    ck_assert_str_eq(part(parts, 2), "ccc");
}
END_TEST

START_TEST(inner_whitespace_kept)
{
    apr_array_header_t *parts = asst_sms_split(pool, "a\nb  c dddddddd", 8);

    ck_assert_int_eq(parts->nelts, 2);
    ck_assert_str_eq(part(parts, 0), "a\nb  c");
    ck_assert_str_eq(part(parts, 1), "dddddddd");
}
END_TEST

START_TEST(long_word_hard_split)
{
    apr_array_header_t *parts = asst_sms_split(pool, "abcdefghijklmnopqrstuvwxyz", 10);

    ck_assert_int_eq(parts->nelts, 3);
    ck_assert_str_eq(part(parts, 0), "abcdefghij");
    ck_assert_str_eq(part(parts, 1), "klmnopqrst");
    ck_assert_str_eq(part(parts, 2), "uvwxyz");
}
END_TEST

START_TEST(long_word_after_short_one)
{
    apr_array_header_t *parts = asst_sms_split(pool, "hi abcdefghijklmno", 10);

    ck_assert_int_eq(parts->nelts, 3);
    ck_assert_str_eq(part(parts, 0), "hi");
    ck_assert_str_eq(part(parts, 1), "abcdefghij");
    ck_assert_str_eq(part(parts, 2), "klmno");
}
END_TEST

START_TEST(never_splits_a_utf8_sequence)
{
    /* 7 four-byte emoji, limit 3: hard splits must land between them. */
    char *body = repeat("\xf0\x9f\x98\x80", 7);
    apr_array_header_t *parts = asst_sms_split(pool, body, 3);

    ck_assert_int_eq(parts->nelts, 3);
    ck_assert_str_eq(part(parts, 0), repeat("\xf0\x9f\x98\x80", 3));
    ck_assert_str_eq(part(parts, 1), repeat("\xf0\x9f\x98\x80", 3));
    ck_assert_str_eq(part(parts, 2), "\xf0\x9f\x98\x80");
}
END_TEST

START_TEST(multibyte_words)
{
    /* "héé" is 3 chars / 5 bytes: a byte count would split differently. */
    apr_array_header_t *parts = asst_sms_split(pool, "h\xc3\xa9\xc3\xa9 h\xc3\xa9\xc3\xa9 h\xc3\xa9\xc3\xa9", 7);

    ck_assert_int_eq(parts->nelts, 2);
    ck_assert_str_eq(part(parts, 0), "h\xc3\xa9\xc3\xa9 h\xc3\xa9\xc3\xa9");
    ck_assert_str_eq(part(parts, 1), "h\xc3\xa9\xc3\xa9");
}
END_TEST

START_TEST(leading_and_trailing_whitespace)
{
    apr_array_header_t *parts = asst_sms_split(pool, "   aaaa bbbb   ", 6);

    check_parts(parts, 6);
    ck_assert_int_eq(parts->nelts, 2);
    ck_assert_str_eq(rejoin(parts), "aaaa bbbb");
}
END_TEST

START_TEST(only_whitespace_over_limit)
{
    apr_array_header_t *parts = asst_sms_split(pool, "          ", 4);

    ck_assert_int_eq(parts->nelts, 0);
}
END_TEST

START_TEST(long_reply_in_order)
{
    char *body = "";
    apr_array_header_t *parts;
    int i;

    for (i = 0; i < 600; i++)
        body = apr_psprintf(pool, "%s%sword%d", body, i ? " " : "", i);
    parts = asst_sms_split(pool, body, ASST_SMS_MAX_CHARS);
    ck_assert_int_gt(parts->nelts, 2);
    check_parts(parts, ASST_SMS_MAX_CHARS);
    ck_assert_str_eq(rejoin(parts), body);
    for (i = 0; i < parts->nelts - 1; i++)
        ck_assert_uint_gt(chars(part(parts, i)), ASST_SMS_MAX_CHARS - 10);
}
END_TEST

START_TEST(mixed_scripts_every_limit)
{
    const char *body = "caf\xc3\xa9 \xe2\x82\xac" "5 \xf0\x9f\x98\x80\xf0\x9f\x98\x80 "
                       "na\xc3\xafve r\xc3\xa9sum\xc3\xa9 ok \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
    apr_size_t limit;

    for (limit = 1; limit <= 40; limit++) {
        apr_array_header_t *parts = asst_sms_split(pool, body, limit);
        check_parts(parts, limit);
    }
}
END_TEST

START_TEST(zero_limit_means_one)
{
    apr_array_header_t *parts = asst_sms_split(pool, "ab", 0);

    ck_assert_int_eq(parts->nelts, 2);
    ck_assert_str_eq(part(parts, 0), "a");
    ck_assert_str_eq(part(parts, 1), "b");
}
END_TEST

static Suite *sms_suite(void)
{
    Suite *s = suite_create("sms_split");
    TCase *tc = tcase_create("split");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, count_code_points);
    tcase_add_test(tc, short_body_is_one_part);
    tcase_add_test(tc, exactly_the_limit_is_one_part);
    tcase_add_test(tc, limit_counts_code_points_not_bytes);
    tcase_add_test(tc, empty_body);
    tcase_add_test(tc, splits_at_word_boundary);
    tcase_add_test(tc, word_ending_at_limit_stays_whole);
    tcase_add_test(tc, whitespace_at_split_dropped);
    tcase_add_test(tc, inner_whitespace_kept);
    tcase_add_test(tc, long_word_hard_split);
    tcase_add_test(tc, long_word_after_short_one);
    tcase_add_test(tc, never_splits_a_utf8_sequence);
    tcase_add_test(tc, multibyte_words);
    tcase_add_test(tc, leading_and_trailing_whitespace);
    tcase_add_test(tc, only_whitespace_over_limit);
    tcase_add_test(tc, long_reply_in_order);
    tcase_add_test(tc, mixed_scripts_every_limit);
    tcase_add_test(tc, zero_limit_means_one);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return asst_unit_run(sms_suite());
}
