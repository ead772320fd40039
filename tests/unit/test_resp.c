/* Unit tests for lib/asst_resp.c: RESP2 commands and replies. Every reply
 * is parsed from a heap copy of exactly its length, so a read past the end
 * shows under ASan. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <check.h>

#include "asst_resp.h"
#include "unit_main.h"
#include "unit_pool.h"

#define LIT(s) (s), (sizeof(s) - 1)


/* ---- commands ---- */

/* Leaves garbage where the next allocation goes, so a missing NUL shows. */
static void dirty_pool(void)
{
    memset(apr_palloc(pool, 2048), 0x5a, 2048);
    apr_pool_clear(pool);
}

static void assert_command(int argc, const char *const *argv, const apr_size_t *lens,
                           const char *want, apr_size_t want_len)
{
    apr_size_t len = 12345;
    char *got;

    dirty_pool();
    got = asst_resp_command(pool, argc, argv, lens, &len);

    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, want_len);
    ck_assert_msg(memcmp(got, want, want_len) == 0, "command bytes differ");
    ck_assert_int_eq(got[len], '\0');
}

START_TEST(command_set)
{
    const char *argv[] = { "SET", "k", "v" };

    assert_command(3, argv, NULL, LIT("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"));
}
END_TEST

START_TEST(command_no_args)
{
    assert_command(0, NULL, NULL, LIT("*0\r\n"));
}
END_TEST

START_TEST(command_empty_arg)
{
    const char *argv[] = { "GET", "" };

    assert_command(2, argv, NULL, LIT("*2\r\n$3\r\nGET\r\n$0\r\n\r\n"));
}
END_TEST

START_TEST(command_binary_args)
{
    const char *argv[] = { "SET", "a\0b\r\nc", "" };
    const apr_size_t lens[] = { 3, 6, 0 };

    assert_command(3, argv, lens,
                   LIT("*3\r\n$3\r\nSET\r\n$6\r\na\0b\r\nc\r\n$0\r\n\r\n"));
}
END_TEST

START_TEST(command_lens_win_over_strlen)
{
    const char *argv[] = { "GETX", "keyname" };
    const apr_size_t lens[] = { 3, 3 };

    assert_command(2, argv, lens, LIT("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"));
}
END_TEST

START_TEST(command_multi_digit_counts)
{
    char big[1000], want[2000];
    const char *argv[12];
    apr_size_t lens[12], n;

    memset(big, 'x', sizeof(big));
    for (int i = 0; i < 12; i++) {
        argv[i] = big;
        lens[i] = i == 0 ? 1000 : i == 1 ? 100 : i == 2 ? 10 : 9;
    }
    n = (apr_size_t)snprintf(want, sizeof(want),
                             "*12\r\n$1000\r\n%.1000s\r\n$100\r\n%.100s\r\n$10\r\n%.10s\r\n",
                             big, big, big);
    for (int i = 3; i < 12; i++)
        n += (apr_size_t)snprintf(want + n, sizeof(want) - n, "$9\r\nxxxxxxxxx\r\n");
    ck_assert_uint_lt(n, sizeof(want));
    assert_command(12, argv, lens, want, n);
}
END_TEST

/* ---- replies ---- */

/* asst_resp_parse over an exact heap copy of s[0..n). */
static long parse(const char *s, apr_size_t n, asst_resp_reply_t *out)
{
    char *copy = malloc(n ? n : 1);
    long r;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, s, n);
    r = asst_resp_parse(copy, n, out);
    free(copy);
    return r;
}

static asst_resp_reply_t parse_ok(const char *s, apr_size_t n)
{
    asst_resp_reply_t r;
    long used = parse(s, n, &r);

    ck_assert_msg(used == (long)n, "parse of %zu bytes took %ld", (size_t)n, used);
    return r;
}

static void assert_text(const asst_resp_reply_t *r, asst_resp_type_t type, const char *want,
                        apr_size_t want_len)
{
    ck_assert_int_eq(r->type, type);
    ck_assert_uint_eq(r->len, want_len);
    ck_assert_msg(memcmp(r->str, want, want_len) == 0, "text differs");
    ck_assert_int_eq(r->str[want_len], '\0');
}

START_TEST(reply_status)
{
    asst_resp_reply_t r = parse_ok(LIT("+OK\r\n"));

    assert_text(&r, ASST_RESP_STATUS, LIT("OK"));
}
END_TEST

START_TEST(reply_empty_status)
{
    asst_resp_reply_t r = parse_ok(LIT("+\r\n"));

    assert_text(&r, ASST_RESP_STATUS, LIT(""));
}
END_TEST

START_TEST(reply_error)
{
    asst_resp_reply_t r = parse_ok(LIT("-ERR unknown command 'FOO'\r\n"));

    assert_text(&r, ASST_RESP_ERROR, LIT("ERR unknown command 'FOO'"));
}
END_TEST

static void assert_integer(const char *s, apr_size_t n, long long want)
{
    asst_resp_reply_t r = parse_ok(s, n);

    ck_assert_int_eq(r.type, ASST_RESP_INTEGER);
    ck_assert_msg(r.integer == want, "%s: got %lld", s, r.integer);
    ck_assert_str_eq(r.str, "");
    ck_assert_uint_eq(r.len, 0);
}

START_TEST(reply_integers)
{
    assert_integer(LIT(":0\r\n"), 0);
    assert_integer(LIT(":42\r\n"), 42);
    assert_integer(LIT(":-7\r\n"), -7);
    assert_integer(LIT(":-0\r\n"), 0);
    assert_integer(LIT(":007\r\n"), 7);
    assert_integer(LIT(":9223372036854775807\r\n"), LLONG_MAX);
    assert_integer(LIT(":-9223372036854775808\r\n"), LLONG_MIN);
}
END_TEST

START_TEST(reply_bulk)
{
    asst_resp_reply_t r = parse_ok(LIT("$5\r\nhello\r\n"));

    assert_text(&r, ASST_RESP_STRING, LIT("hello"));
}
END_TEST

START_TEST(reply_empty_bulk)
{
    asst_resp_reply_t r = parse_ok(LIT("$0\r\n\r\n"));

    assert_text(&r, ASST_RESP_STRING, LIT(""));
}
END_TEST

START_TEST(reply_binary_bulk)
{
    asst_resp_reply_t r = parse_ok(LIT("$7\r\na\0b\r\n$1\r\n"));

    assert_text(&r, ASST_RESP_STRING, LIT("a\0b\r\n$1"));
}
END_TEST

START_TEST(reply_nil)
{
    asst_resp_reply_t r = parse_ok(LIT("$-1\r\n"));

    ck_assert_int_eq(r.type, ASST_RESP_NIL);
    ck_assert_str_eq(r.str, "");
    ck_assert_uint_eq(r.len, 0);
}
END_TEST

static const struct { const char *s; apr_size_t n; } valid[] = {
    { LIT("+OK\r\n") },
    { LIT("+\r\n") },
    { LIT("-ERR wrong number of arguments\r\n") },
    { LIT(":0\r\n") },
    { LIT(":-9223372036854775808\r\n") },
    { LIT("$5\r\nhello\r\n") },
    { LIT("$0\r\n\r\n") },
    { LIT("$7\r\na\0b\r\n$1\r\n") },
    { LIT("$12\r\n+OK\r\n:1\r\n$-1\r\n") },
    { LIT("$-1\r\n") },
};

/* Every proper prefix of a valid reply is "read more", and leaves out alone. */
START_TEST(every_prefix_is_incomplete)
{
    for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
        for (apr_size_t k = 0; k < valid[v].n; k++) {
            asst_resp_reply_t r, before;
            long got;

            memset(&r, 0x5a, sizeof(r));
            before = r;
            got = parse(valid[v].s, k, &r);
            ck_assert_msg(got == 0, "reply %zu, prefix %zu: got %ld", v, (size_t)k, got);
            ck_assert_msg(memcmp(&r, &before, sizeof(r)) == 0, "reply %zu, prefix %zu: out written",
                          v, (size_t)k);
        }
        ck_assert_int_eq(parse(valid[v].s, valid[v].n, &(asst_resp_reply_t){ 0 }),
                         (long)valid[v].n);
    }
}
END_TEST

START_TEST(replies_back_to_back)
{
    static const char buf[] = "+OK\r\n:17\r\n$3\r\nfoo\r\n$-1\r\n-ERR x\r\n$0\r\n\r\n:-1\r\n$4\r\nab";
    apr_size_t at = 0, n = sizeof(buf) - 1;
    asst_resp_reply_t r;
    long used;

    used = parse(buf + at, n - at, &r); ck_assert_int_eq(used, 5); at += (apr_size_t)used;
    assert_text(&r, ASST_RESP_STATUS, LIT("OK"));
    used = parse(buf + at, n - at, &r); ck_assert_int_eq(used, 5); at += (apr_size_t)used;
    ck_assert_int_eq(r.type, ASST_RESP_INTEGER);
    ck_assert_int_eq(r.integer, 17);
    used = parse(buf + at, n - at, &r); ck_assert_int_eq(used, 9); at += (apr_size_t)used;
    assert_text(&r, ASST_RESP_STRING, LIT("foo"));
    used = parse(buf + at, n - at, &r); ck_assert_int_eq(used, 5); at += (apr_size_t)used;
    ck_assert_int_eq(r.type, ASST_RESP_NIL);
    used = parse(buf + at, n - at, &r); ck_assert_int_eq(used, 8); at += (apr_size_t)used;
    assert_text(&r, ASST_RESP_ERROR, LIT("ERR x"));
    used = parse(buf + at, n - at, &r); ck_assert_int_eq(used, 6); at += (apr_size_t)used;
    assert_text(&r, ASST_RESP_STRING, LIT(""));
    used = parse(buf + at, n - at, &r); ck_assert_int_eq(used, 5); at += (apr_size_t)used;
    ck_assert_int_eq(r.type, ASST_RESP_INTEGER);
    ck_assert_int_eq(r.integer, -1);
    ck_assert_int_eq(parse(buf + at, n - at, &r), 0);
    ck_assert_uint_eq(n - at, 6);
}
END_TEST

/* A reply of `type` whose text is n bytes of a repeating pattern. */
static void assert_cut(char type, apr_size_t n)
{
    char buf[400], want[400];
    apr_size_t at = 0;
    asst_resp_reply_t r;

    for (apr_size_t i = 0; i < n; i++)
        want[i] = (char)('a' + i % 26);
    if (type == '$')
        at = (apr_size_t)snprintf(buf, sizeof(buf), "$%zu\r\n", (size_t)n);
    else
        buf[at++] = type;
    memcpy(buf + at, want, n);
    memcpy(buf + at + n, "\r\n", 2);
    r = parse_ok(buf, at + n + 2);
    ck_assert_uint_eq(r.len, n);
    if (n < ASST_RESP_TEXT_MAX) {
        ck_assert_int_eq(memcmp(r.str, want, n), 0);
        ck_assert_int_eq(r.str[n], '\0');
    } else {
        ck_assert_int_eq(memcmp(r.str, want, ASST_RESP_TEXT_MAX - 1), 0);
        ck_assert_int_eq(r.str[ASST_RESP_TEXT_MAX - 1], '\0');
    }
}

START_TEST(long_error_is_cut)
{
    asst_resp_reply_t r;
    char buf[303];

    buf[0] = '-';
    memset(buf + 1, 'E', 300);
    memcpy(buf + 301, "\r\n", 2);
    r = parse_ok(buf, sizeof(buf));
    ck_assert_int_eq(r.type, ASST_RESP_ERROR);
    ck_assert_uint_eq(r.len, 300);
    ck_assert_uint_eq(strlen(r.str), ASST_RESP_TEXT_MAX - 1);
    ck_assert_int_eq(memcmp(r.str, buf + 1, ASST_RESP_TEXT_MAX - 1), 0);
}
END_TEST

START_TEST(cut_at_the_boundary)
{
    static const char types[] = { '+', '-', '$' };

    for (size_t t = 0; t < sizeof(types); t++) {
        assert_cut(types[t], ASST_RESP_TEXT_MAX - 2);
        assert_cut(types[t], ASST_RESP_TEXT_MAX - 1);
        assert_cut(types[t], ASST_RESP_TEXT_MAX);
        assert_cut(types[t], 300);
    }
}
END_TEST

static const struct { const char *s; apr_size_t n; } malformed[] = {
    /* types this parser does not understand */
    { LIT("*1\r\n$1\r\na\r\n") },
    { LIT("*") },
    { LIT("%1\r\n") },
    { LIT("_\r\n") },
    { LIT(",1.5\r\n") },
    { LIT("#t\r\n") },
    { LIT("OK\r\n") },
    { LIT("\r\n") },
    { LIT("\0") },
    /* integers */
    { LIT(":\r\n") },
    { LIT(":-\r\n") },
    { LIT(":abc\r\n") },
    { LIT(":12a\r\n") },
    { LIT(": 1\r\n") },
    { LIT(":+1\r\n") },
    { LIT(":1.0\r\n") },
    { LIT(":--1\r\n") },
    { LIT(":9223372036854775808\r\n") },
    { LIT(":-9223372036854775809\r\n") },
    { LIT(":99999999999999999999\r\n") },
    { LIT(":123456789012345678901") },          /* too long to be a number, no CRLF yet */
    /* bulk lengths */
    { LIT("$\r\n") },
    { LIT("$abc\r\n") },
    { LIT("$-2\r\n") },
    { LIT("$-1x\r\n") },
    { LIT("$1 \r\n") },
    { LIT("$99999999999999999999\r\n") },
    { LIT("$536870913\r\n") },                  /* proto-max-bulk-len + 1 */
    { LIT("$9223372036854775807\r\n") },
    { LIT("$-9223372036854775808\r\n") },
    /* bulk bodies not followed by CRLF */
    { LIT("$5\r\nhelloXY") },
    { LIT("$5\r\nhelloX") },
    { LIT("$5\r\nhello\rX") },
    { LIT("$5\r\nhello\n\r") },
    { LIT("$3\r\nhello\r\n") },
    /* lines: bare CR or LF */
    { LIT("+OK\n") },
    { LIT("+OK\rX") },
    { LIT("+O\nK\r\n") },
    { LIT("-ERR\r\r\n") },
    { LIT(":1\r\r\n") },
    { LIT("$1\n\r\na\r\n") },
};

START_TEST(malformed_is_rejected)
{
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        asst_resp_reply_t r;
        long got = parse(malformed[i].s, malformed[i].n, &r);

        ck_assert_msg(got == -1, "malformed %zu (\"%s\"): got %ld", i, malformed[i].s, got);
    }
}
END_TEST

START_TEST(sane_length_waits_for_the_body)
{
    asst_resp_reply_t r;

    ck_assert_int_eq(parse(LIT("$536870912\r\n"), &r), 0);
    ck_assert_int_eq(parse(LIT("$536870912\r\nabc"), &r), 0);
    ck_assert_int_eq(parse(LIT("$10\r\nabc"), &r), 0);
    ck_assert_int_eq(parse(LIT(""), &r), 0);
}
END_TEST

static Suite *resp_suite(void)
{
    Suite *s = suite_create("resp");
    TCase *cmd = tcase_create("command");
    TCase *rep = tcase_create("reply");
    TCase *bad = tcase_create("malformed");

    tcase_add_checked_fixture(cmd, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(cmd, command_set);
    tcase_add_test(cmd, command_no_args);
    tcase_add_test(cmd, command_empty_arg);
    tcase_add_test(cmd, command_binary_args);
    tcase_add_test(cmd, command_lens_win_over_strlen);
    tcase_add_test(cmd, command_multi_digit_counts);
    suite_add_tcase(s, cmd);

    tcase_add_test(rep, reply_status);
    tcase_add_test(rep, reply_empty_status);
    tcase_add_test(rep, reply_error);
    tcase_add_test(rep, reply_integers);
    tcase_add_test(rep, reply_bulk);
    tcase_add_test(rep, reply_empty_bulk);
    tcase_add_test(rep, reply_binary_bulk);
    tcase_add_test(rep, reply_nil);
    tcase_add_test(rep, every_prefix_is_incomplete);
    tcase_add_test(rep, replies_back_to_back);
    tcase_add_test(rep, long_error_is_cut);
    tcase_add_test(rep, cut_at_the_boundary);
    tcase_add_test(rep, sane_length_waits_for_the_body);
    suite_add_tcase(s, rep);

    tcase_add_test(bad, malformed_is_rejected);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return asst_unit_run(resp_suite());
}
