#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "migrate.h"

#define MAX_VERSION 999      /* NNN */

static const char *const lock_args[] = { ASST_MIGRATE_LOCK_KEY };

int asst_migrate_latest(void)
{
    return asst_migrations[asst_migrations_count - 1].version;
}

/* applied[v] = 1 for every version in schema_migrations; *newest = the
 * highest (0 when none). */
static asst_db_rc_t load_applied(asst_db_t *db, char *applied, int *newest)
{
    PGresult *res;
    asst_db_rc_t rc = asst_db_exec(db, &res, "SELECT version FROM schema_migrations", 0, NULL);

    *newest = 0;
    if (rc != ASST_DB_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        int v = atoi(PQgetvalue(res, i, 0));
        if (v > *newest)
            *newest = v;
        if (v > 0 && v <= MAX_VERSION)
            applied[v] = 1;
    }
    PQclear(res);
    return ASST_DB_OK;
}

static void warn_if_newer(int newest)
{
    if (newest > asst_migrate_latest())
        asst_log(ASST_LOG_WARN, "ASST02104: the database schema is at version %d, newer than "
                 "this binary's %d: is an older build running?", newest, asst_migrate_latest());
}

/* 1: t, 0: f, -1: error. */
static int ask_bool(asst_db_t *db, apr_pool_t *p, const char *sql)
{
    asst_db_rc_t rc;
    const char *v = asst_db_value(db, p, &rc, sql, 0, NULL);

    if (rc != ASST_DB_OK)
        return -1;
    return v && strcmp(v, "t") == 0;
}

static int privileged(asst_db_t *db, apr_pool_t *p)
{
    return ask_bool(db, p, "SELECT rolsuper OR rolbypassrls FROM pg_roles "
                           "WHERE rolname = current_user");
}

static asst_db_rc_t lock(asst_db_t *db, apr_pool_t *p)
{
    asst_db_rc_t rc;
    const char *got = asst_db_value(db, p, &rc, "SELECT pg_try_advisory_lock($1::bigint)", 1,
                                    lock_args);

    if (rc != ASST_DB_OK || (got && strcmp(got, "t") == 0))
        return rc;
    asst_log(ASST_LOG_INFO, "ASST02107: another migrate holds the migration lock; waiting for it");
    return asst_db_exec(db, NULL, "SELECT pg_advisory_lock($1::bigint)", 1, lock_args);
}

static void unlock(asst_db_t *db)
{
    (void)asst_db_exec(db, NULL, "SELECT pg_advisory_unlock($1::bigint)", 1, lock_args);
}

static asst_db_rc_t apply_one(asst_db_t *db, const asst_migration_t *m)
{
    char version[16];
    asst_db_rc_t rc;

    apr_snprintf(version, sizeof(version), "%d", m->version);
    if ((rc = asst_db_begin(db)) == ASST_DB_OK &&
        (rc = asst_db_exec_script(db, m->sql)) == ASST_DB_OK &&
        (rc = asst_db_exec(db, NULL, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                           ASST_DB_ARGS(version, m->name))) == ASST_DB_OK &&
        (rc = asst_db_commit(db)) == ASST_DB_OK)
        return ASST_DB_OK;
    asst_db_rollback(db);
    return rc;
}

static int apply_missing(asst_db_t *db, apr_pool_t *p, const char *applied, const char **err)
{
    int done = 0;

    for (int i = 0; i < asst_migrations_count; i++) {
        const asst_migration_t *m = &asst_migrations[i];
        apr_time_t t0 = apr_time_now();

        if (applied[m->version])
            continue;
        asst_log(ASST_LOG_INFO, "ASST02101: applying migration %03d_%s", m->version, m->name);
        if (apply_one(db, m) != ASST_DB_OK) {
            *err = apr_psprintf(p, "migration %03d_%s failed: %s", m->version, m->name,
                                asst_db_error(db));
            asst_log(ASST_LOG_ERR, "ASST02103: %s", *err);
            return -1;
        }
        asst_log(ASST_LOG_INFO, "ASST02102: applied migration %03d_%s in %" APR_TIME_T_FMT " ms",
                 m->version, m->name, apr_time_as_msec(apr_time_now() - t0));
        done++;
    }
    return done;
}

int asst_migrate(asst_db_t *db, apr_pool_t *p, const char **err)
{
    char applied[MAX_VERSION + 1] = { 0 };
    int newest, done;

    if (privileged(db, p) == 1)
        asst_log(ASST_LOG_WARN, "ASST02106: migrating as a superuser or BYPASSRLS role: the "
                 "tables will belong to it, and the worker must not use it (docs/schema.md)");
    if (lock(db, p) != ASST_DB_OK) {
        *err = apr_psprintf(p, "cannot take the migration lock: %s", asst_db_error(db));
        return -1;
    }
    if (asst_db_exec(db, NULL, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                               "version integer PRIMARY KEY, name text NOT NULL, "
                               "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL) != ASST_DB_OK ||
        load_applied(db, applied, &newest) != ASST_DB_OK) {
        *err = apr_psprintf(p, "cannot read schema_migrations: %s", asst_db_error(db));
        unlock(db);
        return -1;
    }
    warn_if_newer(newest);
    done = apply_missing(db, p, applied, err);
    unlock(db);
    if (done == 0)
        asst_log(ASST_LOG_INFO, "ASST02105: the database schema is up to date (version %d)",
                 newest > asst_migrate_latest() ? newest : asst_migrate_latest());
    return done;
}

static const char *hint(apr_pool_t *p, const char *conf_path)
{
    return apr_psprintf(p, "run `assistant-admin -f %s migrate`", conf_path ? conf_path : "worker.conf");
}

static asst_schema_t check_versions(asst_db_t *db, apr_pool_t *p, const char *conf_path,
                                    const char **err)
{
    char applied[MAX_VERSION + 1] = { 0 };
    int newest;

    if (load_applied(db, applied, &newest) != ASST_DB_OK) {
        *err = apr_psprintf(p, "cannot read schema_migrations: %s", asst_db_error(db));
        return ASST_SCHEMA_ERROR;
    }
    warn_if_newer(newest);
    for (int i = 0; i < asst_migrations_count; i++) {
        const asst_migration_t *m = &asst_migrations[i];
        if (!applied[m->version]) {
            *err = apr_psprintf(p, "the database schema is at version %d but this binary needs %d "
                                "(%03d_%s is missing): %s", newest, asst_migrate_latest(),
                                m->version, m->name, hint(p, conf_path));
            return ASST_SCHEMA_OLD;
        }
    }
    return ASST_SCHEMA_OK;
}

asst_schema_t asst_db_schema_check(asst_db_t *db, apr_pool_t *p, const char *conf_path,
                                   const char **err)
{
    int priv = privileged(db, p);
    int exists = priv < 0 ? -1 : ask_bool(db, p, "SELECT to_regclass('schema_migrations') IS NOT NULL");

    if (priv < 0 || exists < 0) {
        *err = apr_psprintf(p, "cannot check the database schema: %s", asst_db_error(db));
        return ASST_SCHEMA_ERROR;
    }
    if (priv) {
        *err = "the PostgreSQL role is a superuser or has BYPASSRLS, so row-level security "
               "would not keep users apart: connect as an ordinary role (docs/schema.md)";
        return ASST_SCHEMA_UNSAFE;
    }
    if (!exists) {
        *err = apr_psprintf(p, "the database has no assistant schema yet: %s", hint(p, conf_path));
        return ASST_SCHEMA_OLD;
    }
    return check_versions(db, p, conf_path, err);
}
