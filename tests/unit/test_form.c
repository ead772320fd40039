/* Unit tests for lib/asst_form.c: application/x-www-form-urlencoded bodies
 * as Twilio posts them. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <check.h>

#include "asst_form.h"
#include "unit_main.h"
#include "unit_pool.h"

/* Parses a NUL-terminated body that must parse OK. */
static apr_array_header_t *parse_ok(const char *body)
{
    apr_array_header_t *params = NULL;
    asst_form_status_t st = asst_form_parse(pool, body, strlen(body), &params);

    ck_assert_msg(st == ASST_FORM_OK, "parse of \"%s\": status %d (%s)", body, (int)st,
                  asst_form_strerror(st));
    ck_assert_ptr_nonnull(params);
    return params;
}

static asst_form_status_t parse_status(const char *body)
{
    apr_array_header_t *params = NULL;

    return asst_form_parse(pool, body, strlen(body), &params);
}

static const asst_param_t *param_at(const apr_array_header_t *params, int i)
{
    ck_assert_int_lt(i, params->nelts);
    return &APR_ARRAY_IDX(params, i, asst_param_t);
}

static void assert_param(const apr_array_header_t *params, int i, const char *name,
                         const char *value)
{
    const asst_param_t *pa = param_at(params, i);

    ck_assert_str_eq(pa->name, name);
    ck_assert_str_eq(pa->value, value);
}

/* ---- decoding ---- */

START_TEST(plus_is_space)
{
    apr_array_header_t *p = parse_ok("Body=call+mom+now");

    ck_assert_int_eq(p->nelts, 1);
    assert_param(p, 0, "Body", "call mom now");
}
END_TEST

START_TEST(percent20_is_space_and_2B_is_plus)
{
    apr_array_header_t *p = parse_ok("Body=1%20%2B%201&From=%2B14155550123");

    ck_assert_int_eq(p->nelts, 2);
    assert_param(p, 0, "Body", "1 + 1");
    assert_param(p, 1, "From", "+14155550123");
}
END_TEST

START_TEST(lowercase_hex_escape)
{
    apr_array_header_t *p = parse_ok("a=%2b%3d%2f");

    assert_param(p, 0, "a", "+=/");
}
END_TEST

START_TEST(escaped_name)
{
    apr_array_header_t *p = parse_ok("Media%55rl0=x");

    assert_param(p, 0, "MediaUrl0", "x");
}
END_TEST

START_TEST(utf8_multibyte)
{
    /* é (2 bytes), 明 (3 bytes), 😀 (4 bytes) */
    apr_array_header_t *p = parse_ok("Body=caf%C3%A9+%E6%98%8E+%F0%9F%98%80");

    assert_param(p, 0, "Body", "caf\303\251 \346\230\216 \360\237\230\200");
}
END_TEST

START_TEST(raw_utf8_bytes_accepted)
{
    apr_array_header_t *p = parse_ok("Body=caf\303\251");

    assert_param(p, 0, "Body", "caf\303\251");
}
END_TEST

START_TEST(order_kept_and_repeats_kept)
{
    apr_array_header_t *p = parse_ok("To=%2B1&Tag=b&From=%2B2&Tag=a");

    ck_assert_int_eq(p->nelts, 4);
    assert_param(p, 0, "To", "+1");
    assert_param(p, 1, "Tag", "b");
    assert_param(p, 2, "From", "+2");
    assert_param(p, 3, "Tag", "a");
}
END_TEST

START_TEST(empty_values)
{
    apr_array_header_t *p = parse_ok("Body=&NumMedia=0&Empty=");

    ck_assert_int_eq(p->nelts, 3);
    assert_param(p, 0, "Body", "");
    assert_param(p, 1, "NumMedia", "0");
    assert_param(p, 2, "Empty", "");
}
END_TEST

START_TEST(name_without_equals)
{
    apr_array_header_t *p = parse_ok("a&b=2&c");

    ck_assert_int_eq(p->nelts, 3);
    assert_param(p, 0, "a", "");
    assert_param(p, 1, "b", "2");
    assert_param(p, 2, "c", "");
}
END_TEST

START_TEST(value_keeps_later_equals)
{
    apr_array_header_t *p = parse_ok("Body=x=y%3Dz");

    assert_param(p, 0, "Body", "x=y=z");
}
END_TEST

START_TEST(empty_pairs_skipped)
{
    apr_array_header_t *p = parse_ok("&a=1&&b=2&&&");

    ck_assert_int_eq(p->nelts, 2);
    assert_param(p, 0, "a", "1");
    assert_param(p, 1, "b", "2");
}
END_TEST

START_TEST(empty_body)
{
    apr_array_header_t *p = parse_ok("");

    ck_assert_int_eq(p->nelts, 0);
}
END_TEST

START_TEST(length_is_respected)
{
    /* The body is not NUL-terminated at len: bytes after it must be ignored. */
    static const char body[] = "a=1&b=2";
    apr_array_header_t *p = NULL;

    ck_assert_int_eq(asst_form_parse(pool, body, 3, &p), ASST_FORM_OK);
    ck_assert_int_eq(p->nelts, 1);
    assert_param(p, 0, "a", "1");
}
END_TEST

START_TEST(length_cuts_an_escape)
{
    static const char body[] = "a=%41";
    apr_array_header_t *p = NULL;

    ck_assert_int_eq(asst_form_parse(pool, body, 4, &p), ASST_FORM_BAD_ESCAPE);
}
END_TEST

/* ---- errors ---- */

START_TEST(bad_escape_non_hex)
{
    ck_assert_int_eq(parse_status("a=%G1"), ASST_FORM_BAD_ESCAPE);
    ck_assert_int_eq(parse_status("a=%1G"), ASST_FORM_BAD_ESCAPE);
    ck_assert_int_eq(parse_status("%ZZ=1"), ASST_FORM_BAD_ESCAPE);
}
END_TEST

START_TEST(bad_escape_trailing_percent)
{
    ck_assert_int_eq(parse_status("a=%"), ASST_FORM_BAD_ESCAPE);
    ck_assert_int_eq(parse_status("a=%4"), ASST_FORM_BAD_ESCAPE);
    ck_assert_int_eq(parse_status("a=1&b%"), ASST_FORM_BAD_ESCAPE);
}
END_TEST

START_TEST(nul_rejected)
{
    ck_assert_int_eq(parse_status("Body=a%00b"), ASST_FORM_NUL);
    ck_assert_int_eq(parse_status("a%00=b"), ASST_FORM_NUL);
}
END_TEST

START_TEST(raw_nul_byte_rejected)
{
    static const char body[] = "a=x\0y";
    apr_array_header_t *p = NULL;
    asst_form_status_t st = asst_form_parse(pool, body, sizeof(body) - 1, &p);

    ck_assert_msg(st != ASST_FORM_OK, "a raw NUL inside the body was accepted");
}
END_TEST

START_TEST(overlong_utf8_rejected)
{
    ck_assert_int_eq(parse_status("a=%C0%AF"), ASST_FORM_BAD_UTF8);       /* '/' in 2 bytes */
    ck_assert_int_eq(parse_status("a=%E0%80%AF"), ASST_FORM_BAD_UTF8);    /* '/' in 3 bytes */
    ck_assert_int_eq(parse_status("a=%F0%80%80%AF"), ASST_FORM_BAD_UTF8); /* '/' in 4 bytes */
    ck_assert_int_eq(parse_status("a=%C1%BF"), ASST_FORM_BAD_UTF8);
}
END_TEST

START_TEST(surrogate_rejected)
{
    ck_assert_int_eq(parse_status("a=%ED%A0%80"), ASST_FORM_BAD_UTF8);    /* U+D800 */
    ck_assert_int_eq(parse_status("a=%ED%BF%BF"), ASST_FORM_BAD_UTF8);    /* U+DFFF */
}
END_TEST

START_TEST(truncated_utf8_rejected)
{
    ck_assert_int_eq(parse_status("a=%E2%82"), ASST_FORM_BAD_UTF8);
    ck_assert_int_eq(parse_status("a=%E2%82&b=1"), ASST_FORM_BAD_UTF8);
    ck_assert_int_eq(parse_status("a=%F0%9F%98"), ASST_FORM_BAD_UTF8);
}
END_TEST

START_TEST(stray_bytes_rejected)
{
    ck_assert_int_eq(parse_status("a=%80"), ASST_FORM_BAD_UTF8);          /* lone continuation */
    ck_assert_int_eq(parse_status("a=%FF"), ASST_FORM_BAD_UTF8);
    ck_assert_int_eq(parse_status("a=%F4%90%80%80"), ASST_FORM_BAD_UTF8); /* > U+10FFFF */
    ck_assert_int_eq(parse_status("a=caf\351"), ASST_FORM_BAD_UTF8);      /* raw Latin-1 */
}
END_TEST

START_TEST(bad_utf8_in_name_rejected)
{
    ck_assert_int_eq(parse_status("%C0%AF=1"), ASST_FORM_BAD_UTF8);
}
END_TEST

/* ---- asst_form_get / strerror ---- */

START_TEST(get_first_value)
{
    apr_array_header_t *p = parse_ok("Tag=one&Body=hi&Tag=two");

    ck_assert_str_eq(asst_form_get(p, "Tag"), "one");
    ck_assert_str_eq(asst_form_get(p, "Body"), "hi");
}
END_TEST

START_TEST(get_missing_and_case)
{
    apr_array_header_t *p = parse_ok("Body=hi&Empty=");

    ck_assert_ptr_null(asst_form_get(p, "From"));
    ck_assert_ptr_null(asst_form_get(p, "body"));   /* field names are case-sensitive */
    ck_assert_ptr_null(asst_form_get(p, "Bod"));
    ck_assert_str_eq(asst_form_get(p, "Empty"), "");
}
END_TEST

START_TEST(strerror_texts)
{
    const char *ok = asst_form_strerror(ASST_FORM_OK);
    const char *esc = asst_form_strerror(ASST_FORM_BAD_ESCAPE);
    const char *nul = asst_form_strerror(ASST_FORM_NUL);
    const char *utf = asst_form_strerror(ASST_FORM_BAD_UTF8);

    ck_assert_ptr_nonnull(ok);
    ck_assert_ptr_nonnull(esc);
    ck_assert_ptr_nonnull(nul);
    ck_assert_ptr_nonnull(utf);
    ck_assert_int_gt(strlen(esc), 0);
    ck_assert_str_ne(esc, nul);
    ck_assert_str_ne(esc, utf);
    ck_assert_str_ne(nul, utf);
}
END_TEST

/* ---- asst_utf8_valid ---- */

START_TEST(utf8_valid_direct)
{
    static const char s[] = "a\303\251\346\230\216\360\237\230\200\364\217\277\277";

    ck_assert_int_eq(asst_utf8_valid("", 0), 1);
    ck_assert_int_eq(asst_utf8_valid("plain ascii", 11), 1);
    ck_assert_int_eq(asst_utf8_valid(s, sizeof(s) - 1), 1);   /* up to U+10FFFF */
    ck_assert_int_eq(asst_utf8_valid("\357\273\277", 3), 1);  /* BOM is a valid char */
}
END_TEST

START_TEST(utf8_invalid_direct)
{
    ck_assert_int_eq(asst_utf8_valid("\300\257", 2), 0);
    ck_assert_int_eq(asst_utf8_valid("\340\237\277", 3), 0);   /* overlong U+07FF */
    ck_assert_int_eq(asst_utf8_valid("\355\240\200", 3), 0);   /* surrogate */
    ck_assert_int_eq(asst_utf8_valid("\364\220\200\200", 4), 0);
    ck_assert_int_eq(asst_utf8_valid("\370\210\200\200\200", 5), 0);
    ck_assert_int_eq(asst_utf8_valid("\303", 1), 0);
    ck_assert_int_eq(asst_utf8_valid("\303(", 2), 0);
}
END_TEST

START_TEST(utf8_length_bounds)
{
    /* Only len bytes count: a sequence cut by len is truncated. */
    ck_assert_int_eq(asst_utf8_valid("\303\251", 1), 0);
    ck_assert_int_eq(asst_utf8_valid("ab\377", 2), 1);
}
END_TEST

static Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *dec = tcase_create("decode");
    TCase *err = tcase_create("errors");
    TCase *get = tcase_create("get");
    TCase *utf = tcase_create("utf8");

    tcase_add_checked_fixture(dec, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(dec, plus_is_space);
    tcase_add_test(dec, percent20_is_space_and_2B_is_plus);
    tcase_add_test(dec, lowercase_hex_escape);
    tcase_add_test(dec, escaped_name);
    tcase_add_test(dec, utf8_multibyte);
    tcase_add_test(dec, raw_utf8_bytes_accepted);
    tcase_add_test(dec, order_kept_and_repeats_kept);
    tcase_add_test(dec, empty_values);
    tcase_add_test(dec, name_without_equals);
    tcase_add_test(dec, value_keeps_later_equals);
    tcase_add_test(dec, empty_pairs_skipped);
    tcase_add_test(dec, empty_body);
    tcase_add_test(dec, length_is_respected);
    tcase_add_test(dec, length_cuts_an_escape);
    suite_add_tcase(s, dec);

    tcase_add_checked_fixture(err, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(err, bad_escape_non_hex);
    tcase_add_test(err, bad_escape_trailing_percent);
    tcase_add_test(err, nul_rejected);
    tcase_add_test(err, raw_nul_byte_rejected);
    tcase_add_test(err, overlong_utf8_rejected);
    tcase_add_test(err, surrogate_rejected);
    tcase_add_test(err, truncated_utf8_rejected);
    tcase_add_test(err, stray_bytes_rejected);
    tcase_add_test(err, bad_utf8_in_name_rejected);
    suite_add_tcase(s, err);

    tcase_add_checked_fixture(get, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(get, get_first_value);
    tcase_add_test(get, get_missing_and_case);
    tcase_add_test(get, strerror_texts);
    suite_add_tcase(s, get);

    tcase_add_test(utf, utf8_valid_direct);
    tcase_add_test(utf, utf8_invalid_direct);
    tcase_add_test(utf, utf8_length_bounds);
    suite_add_tcase(s, utf);
    return s;
}

int main(void)
{
    return asst_unit_run(form_suite());
}
