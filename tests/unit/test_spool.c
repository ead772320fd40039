/* Unit tests for lib/asst_spool.c: the spool the edge falls back to when
 * Redis is down. Every test works in its own mkdtemp directory. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>

#include "asst_spool.h"
#include "unit_main.h"

static apr_pool_t *pool;
static char tmpdir[64];

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ck_assert_int_eq(asst_unit_mkdtemp(tmpdir, sizeof(tmpdir), "spool"), 0);
}

static void teardown(void)
{
    asst_unit_remove_tree(tmpdir);
    apr_pool_destroy(pool);
    pool = NULL;
}

/* Number of entries in dir (without . and ..); *only receives the last name. */
static int count_entries(const char *dir, char *only, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (only)
            snprintf(only, size, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = apr_palloc(pool, 4096);

    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    *len = fread(buf, 1, 4095, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static apr_status_t write_str(const char *dir, const char *kind, const char *key,
                              const char *data, const char **what)
{
    *what = NULL;
    return asst_spool_write(pool, dir, kind, key, data, strlen(data), what);
}

/* ---- key validation ---- */

START_TEST(key_ok)
{
    char key64[65];

    memset(key64, 'a', 64);
    key64[64] = '\0';
    ck_assert_int_eq(asst_spool_key_valid("SM0123456789abcdef0123456789abcdef"), 1);
    ck_assert_int_eq(asst_spool_key_valid("a"), 1);
    ck_assert_int_eq(asst_spool_key_valid("A-z_0-9"), 1);
    ck_assert_int_eq(asst_spool_key_valid(key64), 1);
}
END_TEST

START_TEST(key_bad)
{
    char key65[66];

    memset(key65, 'a', 65);
    key65[65] = '\0';
    ck_assert_int_eq(asst_spool_key_valid(""), 0);
    ck_assert_int_eq(asst_spool_key_valid(key65), 0);
    ck_assert_int_eq(asst_spool_key_valid("../x"), 0);
    ck_assert_int_eq(asst_spool_key_valid(".."), 0);
    ck_assert_int_eq(asst_spool_key_valid("a/b"), 0);
    ck_assert_int_eq(asst_spool_key_valid("/etc"), 0);
    ck_assert_int_eq(asst_spool_key_valid("a.json"), 0);
    ck_assert_int_eq(asst_spool_key_valid("a b"), 0);
    ck_assert_int_eq(asst_spool_key_valid("{asst}:seen:SM1"), 0);
    ck_assert_int_eq(asst_spool_key_valid("caf\303\251"), 0);
    ck_assert_int_eq(asst_spool_key_valid("a\n"), 0);
}
END_TEST

/* ---- write ---- */

START_TEST(write_creates_one_file)
{
    const char *data = "{\"v\":1,\"sid\":\"SM1\"}";
    const char *what;
    char name[256];
    size_t len;
    char *got;

    ck_assert_int_eq(write_str(tmpdir, "sms", "SM1", data, &what), APR_SUCCESS);
    ck_assert_int_eq(count_entries(tmpdir, name, sizeof(name)), 1);
    ck_assert_str_eq(name, "sms-SM1.json");
    got = read_file(apr_pstrcat(pool, tmpdir, "/sms-SM1.json", NULL), &len);
    ck_assert_uint_eq(len, strlen(data));
    ck_assert_str_eq(got, data);
}
END_TEST

START_TEST(write_exact_length)
{
    static const char data[] = "abc\0def-and-more";
    const char *what = NULL;
    size_t len;
    char *got;

    ck_assert_int_eq(asst_spool_write(pool, tmpdir, "status", "SM2", data, 7, &what),
                     APR_SUCCESS);
    got = read_file(apr_pstrcat(pool, tmpdir, "/status-SM2.json", NULL), &len);
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(got, data, 7);
}
END_TEST

START_TEST(rewrite_replaces)
{
    const char *what;
    char name[256];
    size_t len;

    ck_assert_int_eq(write_str(tmpdir, "sms", "SM3", "first, longer content", &what),
                     APR_SUCCESS);
    ck_assert_int_eq(write_str(tmpdir, "sms", "SM3", "second", &what), APR_SUCCESS);
    ck_assert_int_eq(count_entries(tmpdir, name, sizeof(name)), 1);
    ck_assert_str_eq(name, "sms-SM3.json");
    ck_assert_str_eq(read_file(apr_pstrcat(pool, tmpdir, "/sms-SM3.json", NULL), &len),
                     "second");
}
END_TEST

START_TEST(distinct_keys_and_kinds)
{
    const char *what;

    ck_assert_int_eq(write_str(tmpdir, "sms", "SM4", "a", &what), APR_SUCCESS);
    ck_assert_int_eq(write_str(tmpdir, "sms", "SM5", "b", &what), APR_SUCCESS);
    ck_assert_int_eq(write_str(tmpdir, "status", "SM4", "c", &what), APR_SUCCESS);
    ck_assert_int_eq(count_entries(tmpdir, NULL, 0), 3);
}
END_TEST

START_TEST(empty_data)
{
    const char *what;
    size_t len;

    ck_assert_int_eq(write_str(tmpdir, "sms", "SM6", "", &what), APR_SUCCESS);
    read_file(apr_pstrcat(pool, tmpdir, "/sms-SM6.json", NULL), &len);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(missing_dir_fails)
{
    const char *dir = apr_pstrcat(pool, tmpdir, "/does/not/exist", NULL);
    const char *what = NULL;
    apr_status_t rv = write_str(dir, "sms", "SM7", "x", &what);

    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_msg(what != NULL && *what, "*what not set");
    ck_assert_int_eq(count_entries(tmpdir, NULL, 0), 0);
}
END_TEST

START_TEST(dir_is_a_file_fails)
{
    const char *dir = apr_pstrcat(pool, tmpdir, "/plainfile", NULL);
    const char *what = NULL;
    FILE *f = fopen(dir, "w");

    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_ne(write_str(dir, "sms", "SM8", "x", &what), APR_SUCCESS);
    ck_assert_msg(what != NULL && *what, "*what not set");
}
END_TEST

START_TEST(unwritable_dir_fails)
{
    const char *dir = apr_pstrcat(pool, tmpdir, "/ro", NULL);
    const char *what = NULL;

    if (geteuid() == 0) {
        /* root ignores mode bits: a directory inside /proc is unwritable even for root */
        dir = "/proc/self";
    }
    else {
        ck_assert_int_eq(mkdir(dir, 0500), 0);
    }
    ck_assert_int_ne(write_str(dir, "sms", "SM9", "x", &what), APR_SUCCESS);
    ck_assert_msg(what != NULL && *what, "*what not set");
    if (geteuid() != 0)
        ck_assert_int_eq(count_entries(dir, NULL, 0), 0);
}
END_TEST

START_TEST(bad_key_refused)
{
    const char *sub = apr_pstrcat(pool, tmpdir, "/spool", NULL);
    const char *what = NULL;

    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_ne(write_str(sub, "sms", "../../escape", "x", &what), APR_SUCCESS);
    ck_assert_int_ne(write_str(sub, "sms", "", "x", &what), APR_SUCCESS);
    ck_assert_int_eq(count_entries(sub, NULL, 0), 0);
    ck_assert_int_eq(count_entries(tmpdir, NULL, 0), 1);   /* just spool/ */
}
END_TEST

static Suite *spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *key = tcase_create("key");
    TCase *wr = tcase_create("write");
    TCase *err = tcase_create("errors");

    tcase_add_test(key, key_ok);
    tcase_add_test(key, key_bad);
    suite_add_tcase(s, key);

    tcase_add_checked_fixture(wr, setup, teardown);
    tcase_add_test(wr, write_creates_one_file);
    tcase_add_test(wr, write_exact_length);
    tcase_add_test(wr, rewrite_replaces);
    tcase_add_test(wr, distinct_keys_and_kinds);
    tcase_add_test(wr, empty_data);
    suite_add_tcase(s, wr);

    tcase_add_checked_fixture(err, setup, teardown);
    tcase_add_test(err, missing_dir_fails);
    tcase_add_test(err, dir_is_a_file_fails);
    tcase_add_test(err, unwritable_dir_fails);
    tcase_add_test(err, bad_key_refused);
    suite_add_tcase(s, err);
    return s;
}

int main(void)
{
    return asst_unit_run(spool_suite());
}
