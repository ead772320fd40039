/* Unit tests for worker/pidfile.c: O_EXCL creation, refusal while the
 * named process lives, stale-file recovery. Each test has its own mkdtemp. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <check.h>

#include "asst_log.h"
#include "master/pidfile.h"
#include "unit_main.h"

static apr_pool_t *pool;
static char tmpdir[64];
static char path[128];

static void quiet(void *baton, asst_log_level_t level, const char *msg)
{
    (void)baton, (void)level, (void)msg;
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    ck_assert_int_eq(asst_unit_mkdtemp(tmpdir, sizeof(tmpdir), "pidfile"), 0);
    snprintf(path, sizeof(path), "%s/worker.pid", tmpdir);
    asst_log_set(quiet, NULL, ASST_LOG_DEBUG);
}

static void teardown(void)
{
    unlink(path);
    rmdir(tmpdir);
    apr_pool_destroy(pool);
}

static void write_text(const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void read_text(char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* A pid that certainly names no process: a child that was reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return pid;
}

START_TEST(creates_with_pid_and_newline)
{
    char buf[32];

    ck_assert_ptr_null(asst_pidfile_create(pool, path, 4242));
    read_text(buf, sizeof(buf));
    ck_assert_str_eq(buf, "4242\n");
    ck_assert_int_eq(asst_pidfile_read(path), 4242);
}
END_TEST

START_TEST(refuses_while_the_pid_lives)
{
    char buf[32], want[32];
    const char *err;

    snprintf(want, sizeof(want), "%ld\n", (long)getppid());
    write_text(want);
    err = asst_pidfile_create(pool, path, getpid());
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "already running"));
    ck_assert_ptr_nonnull(strstr(err, path));
    read_text(buf, sizeof(buf));
    ck_assert_str_eq(buf, want);
}
END_TEST

START_TEST(refuses_for_a_live_pid_of_another_user)
{
    /* pid 1 always lives; as non-root kill(1, 0) is EPERM, which counts. */
    write_text("1\n");
    ck_assert_ptr_nonnull(asst_pidfile_create(pool, path, getpid()));
}
END_TEST

START_TEST(stale_pid_is_replaced)
{
    char text[32];

    snprintf(text, sizeof(text), "%ld\n", (long)dead_pid());
    write_text(text);
    ck_assert_ptr_null(asst_pidfile_create(pool, path, 777));
    ck_assert_int_eq(asst_pidfile_read(path), 777);
}
END_TEST

START_TEST(garbage_is_stale)
{
    write_text("not a pid\n");
    ck_assert_int_eq(asst_pidfile_read(path), 0);
    ck_assert_ptr_null(asst_pidfile_create(pool, path, 778));
    ck_assert_int_eq(asst_pidfile_read(path), 778);
}
END_TEST

START_TEST(empty_is_stale)
{
    write_text("");
    ck_assert_ptr_null(asst_pidfile_create(pool, path, 779));
    ck_assert_int_eq(asst_pidfile_read(path), 779);
}
END_TEST

START_TEST(missing_dir_is_an_error)
{
    char bad[160];
    const char *err;

    snprintf(bad, sizeof(bad), "%s/nope/worker.pid", tmpdir);
    err = asst_pidfile_create(pool, bad, 1234);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "cannot create"));
}
END_TEST

START_TEST(remove_only_our_own)
{
    write_text("4243\n");
    asst_pidfile_remove(path, 4242);
    ck_assert_int_eq(access(path, F_OK), 0);
    asst_pidfile_remove(path, 4243);
    ck_assert_int_ne(access(path, F_OK), 0);
    asst_pidfile_remove(path, 4243);        /* gone already: harmless */
    asst_pidfile_remove(NULL, 4243);        /* no PidFile */
}
END_TEST

static Suite *pidfile_suite(void)
{
    Suite *s = suite_create("pidfile");
    TCase *tc = tcase_create("pidfile");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, creates_with_pid_and_newline);
    tcase_add_test(tc, refuses_while_the_pid_lives);
    tcase_add_test(tc, refuses_for_a_live_pid_of_another_user);
    tcase_add_test(tc, stale_pid_is_replaced);
    tcase_add_test(tc, garbage_is_stale);
    tcase_add_test(tc, empty_is_stale);
    tcase_add_test(tc, missing_dir_is_an_error);
    tcase_add_test(tc, remove_only_our_own);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return asst_unit_run(pidfile_suite());
}
