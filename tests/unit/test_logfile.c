/* Unit tests for worker/logfile.c: the line format, level filter, reopen
 * after logrotate moved the file, failures that keep the old file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <check.h>

#include "master/logfile.h"
#include "unit_main.h"

static apr_pool_t *pool;
static char tmpdir[64];
static char path[128], rotated[128];

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ck_assert_int_eq(asst_unit_mkdtemp(tmpdir, sizeof(tmpdir), "logfile"), 0);
    snprintf(path, sizeof(path), "%s/worker.log", tmpdir);
    snprintf(rotated, sizeof(rotated), "%s/worker.log.1", tmpdir);
}

static void teardown(void)
{
    ck_assert_ptr_null(asst_logfile_open(pool, NULL, ASST_LOG_INFO));
    unlink(path);
    unlink(rotated);
    rmdir(tmpdir);
    apr_pool_destroy(pool);
}

static char *slurp(const char *file)
{
    static char buf[8192];
    FILE *f = fopen(file, "r");
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(format_exact)
{
    struct timespec t = { 1714564800 + 3661, 123456789 };   /* 2024-05-01T13:01:01.123Z */
    char buf[256];
    size_t n = asst_logfile_format(buf, sizeof(buf), &t, ASST_LOG_WARN, 4242,
                                   "ASST01999: hello");

    ck_assert_str_eq(buf, "2024-05-01T13:01:01.123Z [warn] [pid 4242] ASST01999: hello\n");
    ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(format_flattens_newlines)
{
    struct timespec t = { 0, 0 };
    char buf[256];

    asst_logfile_format(buf, sizeof(buf), &t, ASST_LOG_ERR, 1, "ASST01999: a\nb\r\nc");
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z [error] [pid 1] ASST01999: a b  c\n");
}
END_TEST

START_TEST(format_cuts_long_messages_keeping_the_newline)
{
    struct timespec t = { 0, 0 };
    char buf[64], msg[200];
    size_t n;

    memset(msg, 'x', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    n = asst_logfile_format(buf, sizeof(buf), &t, ASST_LOG_DEBUG, 1, msg);
    ck_assert_uint_eq(n, sizeof(buf) - 1);
    ck_assert_int_eq(buf[n - 1], '\n');
    ck_assert_int_eq(buf[n], '\0');
}
END_TEST

START_TEST(writes_lines_filtered_by_level)
{
    char *text, *line2;

    ck_assert_ptr_null(asst_logfile_open(pool, path, ASST_LOG_INFO));
    ck_assert(!asst_logfile_is_stderr());
    asst_log(ASST_LOG_INFO, "ASST01999: one %d", 1);
    asst_log(ASST_LOG_DEBUG, "ASST01999: hidden");
    asst_log(ASST_LOG_ERR, "ASST01999: two");
    text = slurp(path);
    ck_assert_ptr_null(strstr(text, "hidden"));
    ck_assert_ptr_nonnull(strstr(text, "Z [info] [pid "));
    ck_assert_ptr_nonnull(strstr(text, "] ASST01999: one 1\n"));
    ck_assert_ptr_nonnull(line2 = strchr(text, '\n'));
    ck_assert_ptr_nonnull(strstr(line2, "[error]"));
    ck_assert_int_eq(text[4], '-');
    ck_assert_int_eq(text[10], 'T');
    ck_assert_int_eq(text[23], 'Z');
}
END_TEST

START_TEST(reopen_follows_logrotate)
{
    ck_assert_ptr_null(asst_logfile_open(pool, path, ASST_LOG_DEBUG));
    asst_log(ASST_LOG_INFO, "ASST01999: before");
    ck_assert_int_eq(rename(path, rotated), 0);
    asst_log(ASST_LOG_INFO, "ASST01999: still old");
    ck_assert_ptr_null(asst_logfile_reopen(pool));
    asst_log(ASST_LOG_INFO, "ASST01999: after");
    ck_assert_ptr_nonnull(strstr(slurp(rotated), "still old"));
    ck_assert_ptr_null(strstr(slurp(rotated), "after"));
    ck_assert_ptr_nonnull(strstr(slurp(path), "after"));
}
END_TEST

START_TEST(failed_open_keeps_the_old_file)
{
    char bad[160];
    const char *err;

    snprintf(bad, sizeof(bad), "%s/no/such/dir.log", tmpdir);
    ck_assert_ptr_null(asst_logfile_open(pool, path, ASST_LOG_INFO));
    err = asst_logfile_open(pool, bad, ASST_LOG_DEBUG);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, bad));
    asst_log(ASST_LOG_DEBUG, "ASST01999: level unchanged");
    asst_log(ASST_LOG_INFO, "ASST01999: kept");
    ck_assert_ptr_nonnull(strstr(slurp(path), "kept"));
    ck_assert_ptr_null(strstr(slurp(path), "level unchanged"));
}
END_TEST

static Suite *logfile_suite(void)
{
    Suite *s = suite_create("logfile");
    TCase *fmt = tcase_create("format");
    TCase *file = tcase_create("file");

    tcase_add_test(fmt, format_exact);
    tcase_add_test(fmt, format_flattens_newlines);
    tcase_add_test(fmt, format_cuts_long_messages_keeping_the_newline);
    suite_add_tcase(s, fmt);
    tcase_add_checked_fixture(file, setup, teardown);
    tcase_add_test(file, writes_lines_filtered_by_level);
    tcase_add_test(file, reopen_follows_logrotate);
    tcase_add_test(file, failed_open_keeps_the_old_file);
    suite_add_tcase(s, file);
    return s;
}

int main(void)
{
    return asst_unit_run(logfile_suite());
}
