/* Unit tests for worker/db/db.c and db_exec.c: the connection holder's
 * backoff (with an injected clock, against a closed port) always; and,
 * when ASST_TEST_PG_DSN names a database (tests/it/test_admin.py runs this
 * binary so), statements, error classes, a connection killed inside and
 * outside a transaction, and the RLS scope helpers against a real server. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>

#include "asst_log.h"
#include "db/db.h"
#include "unit_main.h"

static apr_pool_t *pool;
static apr_time_t fake_now;
static int dial_failures;        /* ASST02001 lines seen */
static int lost;                 /* ASST02004 lines seen */

static apr_time_t fake_clock(void *baton)
{
    (void)baton;
    return fake_now;
}

static void count_log(void *baton, asst_log_level_t level, const char *msg)
{
    (void)baton;
    (void)level;
    dial_failures += strncmp(msg, "ASST02001", 9) == 0;
    lost += strncmp(msg, "ASST02004", 9) == 0;
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    asst_log_set(count_log, NULL, ASST_LOG_DEBUG);
    fake_now = apr_time_from_sec(1000);
    dial_failures = lost = 0;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
    asst_log_set(NULL, NULL, ASST_LOG_INFO);
}

/* A loopback port nobody listens on: connections are refused at once. */
static const char *closed_port_dsn(void)
{
    int fd, port = asst_unit_bound_port(&fd);

    close(fd);
    return apr_psprintf(pool, "host=127.0.0.1 port=%d dbname=x user=x", port);
}

static asst_db_t *offline_db(void)
{
    asst_db_t *db = asst_db_create(pool, closed_port_dsn());
    asst_db_set_clock(db, fake_clock, NULL);
    return db;
}

static int taken_n;
static const char *const *taken_v;

static void take(int n, const char *const *v)
{
    taken_n = n;
    taken_v = v;
}

START_TEST(args_macro_counts)
{
    const char *a = "x";

    take(ASST_DB_ARGS(a, NULL, "z"));
    ck_assert_int_eq(taken_n, 3);
    ck_assert_str_eq(taken_v[0], "x");
    ck_assert_ptr_null(taken_v[1]);
    ck_assert_str_eq(taken_v[2], "z");
}
END_TEST

START_TEST(backoff_doubles_and_caps)
{
    asst_db_t *db = offline_db();
    const char *err = NULL;
    apr_interval_time_t expect = apr_time_from_msec(100);

    ck_assert_int_eq(asst_db_retry_in(db), 0);
    for (int i = 1; i <= 9; i++) {
        ck_assert_ptr_null(asst_db_conn(db, &err));
        ck_assert_int_eq(dial_failures, i);
        ck_assert_int_eq(asst_db_retry_in(db), expect);
        /* no dial before the deadline: same error, no new attempt */
        fake_now += expect - 1;
        ck_assert_ptr_null(asst_db_conn(db, &err));
        ck_assert_int_eq(dial_failures, i);
        ck_assert_ptr_nonnull(strstr(err, "refused"));
        fake_now += 1;
        expect = expect * 2 > apr_time_from_sec(5) ? apr_time_from_sec(5) : expect * 2;
    }
    ck_assert_int_eq(asst_db_retry_in(db), 0);
}
END_TEST

START_TEST(exec_while_unreachable_is_econn)
{
    asst_db_t *db = offline_db();
    PGresult *res = (PGresult *)1;

    ck_assert_int_eq(asst_db_exec(db, &res, "SELECT $1", ASST_DB_ARGS("1")), ASST_DB_ECONN);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(asst_db_begin(db), ASST_DB_ECONN);
    ck_assert_int_eq(asst_db_set_user(db, 7), ASST_DB_ECONN);
    ck_assert_str_eq(asst_db_sqlstate(db), "");
    asst_db_rollback(db);                    /* harmless without a connection */
    ck_assert_int_eq(dial_failures, 1);      /* one dial, then the backoff */
}
END_TEST

START_TEST(custom_backoff)
{
    asst_db_t *db = offline_db();
    const char *err;

    asst_db_set_backoff(db, apr_time_from_msec(10), apr_time_from_msec(15));
    ck_assert_ptr_null(asst_db_conn(db, &err));
    ck_assert_int_eq(asst_db_retry_in(db), apr_time_from_msec(10));
    fake_now += apr_time_from_msec(10);
    ck_assert_ptr_null(asst_db_conn(db, &err));
    ck_assert_int_eq(asst_db_retry_in(db), apr_time_from_msec(15));
}
END_TEST

/* ---- against a real server (ASST_TEST_PG_DSN) ---- */

static const char *dsn(void)
{
    return getenv("ASST_TEST_PG_DSN");
}

static asst_db_t *live_db(void)
{
    asst_db_t *db = asst_db_create(pool, dsn());
    const char *err = NULL;

    ck_assert_msg(asst_db_conn(db, &err) != NULL, "connect: %s", err);
    return db;
}

/* Ends db's session from another connection, as a server restart would. */
static void kill_session(asst_db_t *db)
{
    asst_db_t *other = live_db();
    const char *err;
    char pid[16];

    apr_snprintf(pid, sizeof(pid), "%d", PQbackendPID(asst_db_conn(db, &err)));
    ck_assert_int_eq(asst_db_exec(other, NULL, "SELECT pg_terminate_backend($1::int)", ASST_DB_ARGS(pid)),
                     ASST_DB_OK);
    asst_db_close(other);
    usleep(100 * 1000);
}

START_TEST(live_params_and_values)
{
    asst_db_t *db;
    PGresult *res;

    if (!dsn())
        return;
    db = live_db();
    ck_assert_int_eq(asst_db_exec(db, &res, "SELECT $1::text || $2, $3::text IS NULL",
                                  ASST_DB_ARGS("a'; DROP TABLE x; --", "b", NULL)), ASST_DB_OK);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "a'; DROP TABLE x; --b");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), "t");
    PQclear(res);
    ck_assert_str_eq(asst_db_value(db, pool, NULL, "SELECT 42", 0, NULL), "42");
    ck_assert_ptr_null(asst_db_value(db, pool, NULL, "SELECT 1 WHERE false", 0, NULL));
}
END_TEST

START_TEST(live_statement_error_aborts_tx)
{
    asst_db_t *db;
    asst_db_rc_t rc;

    if (!dsn())
        return;
    db = live_db();
    ck_assert_int_eq(asst_db_begin(db), ASST_DB_OK);
    ck_assert_int_eq(asst_db_exec(db, NULL, "SELECT 1/0", 0, NULL), ASST_DB_ESTMT);
    ck_assert_str_eq(asst_db_sqlstate(db), "22012");
    ck_assert_ptr_nonnull(strstr(asst_db_error(db), "division by zero"));
    /* COMMIT of an aborted transaction is a failure, not a success */
    ck_assert_int_eq(asst_db_commit(db), ASST_DB_ESTMT);
    ck_assert_str_eq(asst_db_value(db, pool, &rc, "SELECT 'still usable'", 0, NULL), "still usable");
    ck_assert_int_eq(lost, 0);
}
END_TEST

START_TEST(live_reconnects_after_kill)
{
    asst_db_t *db;
    asst_db_rc_t rc;

    if (!dsn())
        return;
    db = live_db();
    kill_session(db);
    ck_assert_int_eq(asst_db_exec(db, NULL, "SELECT 1", 0, NULL), ASST_DB_ECONN);
    ck_assert_int_eq(lost, 1);
    /* outside a transaction the next statement simply redials */
    ck_assert_str_eq(asst_db_value(db, pool, &rc, "SELECT 'back'", 0, NULL), "back");
}
END_TEST

START_TEST(live_lost_transaction_stays_lost)
{
    asst_db_t *db;
    asst_db_rc_t rc;

    if (!dsn())
        return;
    db = live_db();
    ck_assert_int_eq(asst_db_begin(db), ASST_DB_OK);
    ck_assert_int_eq(asst_db_exec(db, NULL, "SELECT 1", 0, NULL), ASST_DB_OK);
    kill_session(db);
    ck_assert_int_eq(asst_db_exec(db, NULL, "SELECT 2", 0, NULL), ASST_DB_ECONN);
    /* the rest of the lost transaction must not run in autocommit */
    ck_assert_int_eq(asst_db_exec(db, NULL, "SELECT 3", 0, NULL), ASST_DB_ECONN);
    ck_assert_int_eq(asst_db_commit(db), ASST_DB_ECONN);
    asst_db_rollback(db);
    ck_assert_str_eq(asst_db_value(db, pool, &rc, "SELECT 'again'", 0, NULL), "again");
}
END_TEST

START_TEST(live_scope_helpers)
{
    asst_db_t *db;

    if (!dsn())
        return;
    db = live_db();
    ck_assert_int_eq(asst_db_begin(db), ASST_DB_OK);
    ck_assert_int_eq(asst_db_set_system(db), ASST_DB_OK);
    ck_assert_str_eq(asst_db_value(db, pool, NULL, "SELECT current_setting('asst.scope')", 0, NULL), "system");
    ck_assert_int_eq(asst_db_set_user(db, 1234567890123LL), ASST_DB_OK);
    ck_assert_str_eq(asst_db_value(db, pool, NULL, "SELECT current_setting('asst.user_id')", 0, NULL),
                     "1234567890123");
    ck_assert_ptr_null(asst_db_value(db, pool, NULL, "SELECT NULLIF(current_setting('asst.scope'), '')", 0, NULL));
    ck_assert_int_eq(asst_db_commit(db), ASST_DB_OK);
    /* SET LOCAL: gone with the transaction */
    ck_assert_ptr_null(asst_db_value(db, pool, NULL, "SELECT NULLIF(current_setting('asst.user_id', true), '')",
                                     0, NULL));
}
END_TEST

static Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *off = tcase_create("offline");
    TCase *live = tcase_create("live");

    tcase_add_checked_fixture(off, setup, teardown);
    tcase_add_test(off, args_macro_counts);
    tcase_add_test(off, backoff_doubles_and_caps);
    tcase_add_test(off, exec_while_unreachable_is_econn);
    tcase_add_test(off, custom_backoff);
    suite_add_tcase(s, off);

    tcase_add_checked_fixture(live, setup, teardown);
    tcase_add_test(live, live_params_and_values);
    tcase_add_test(live, live_statement_error_aborts_tx);
    tcase_add_test(live, live_reconnects_after_kill);
    tcase_add_test(live, live_lost_transaction_stays_lost);
    tcase_add_test(live, live_scope_helpers);
    suite_add_tcase(s, live);
    return s;
}

int main(void)
{
    if (!dsn())
        printf("ASST_TEST_PG_DSN unset: the live PostgreSQL cases return at once\n");
    return asst_unit_run(db_suite());
}
