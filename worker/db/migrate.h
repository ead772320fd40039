#ifndef ASST_MIGRATE_H
#define ASST_MIGRATE_H

#include <apr_pools.h>

#include "db.h"

/* The schema lives in sql/NNN_name.sql; tools/embed-sql compiles those
 * files into the binaries (migrations.c in the build directory), so a
 * binary always knows exactly which schema it needs. */

typedef struct {
    int version;             /* NNN */
    const char *name;        /* "init" for 001_init.sql */
    const char *sql;
} asst_migration_t;

extern const asst_migration_t asst_migrations[];   /* ascending versions */
extern const int asst_migrations_count;

/* Key of the session-level pg_advisory_lock that serialises migrate runs. */
#define ASST_MIGRATE_LOCK_KEY "7310575123330105601"

/* Newest version this binary carries. */
int asst_migrate_latest(void);

/* Applies every embedded migration the database lacks, in order, each in a
 * transaction of its own together with its schema_migrations row, holding
 * the advisory lock (a second migrate waits, then finds nothing to do).
 * Returns how many were applied (0: already up to date), or -1 with *err
 * (allocated in p) naming the migration that failed; those before it
 * stay applied. */
int asst_migrate(asst_db_t *db, apr_pool_t *p, const char **err);

typedef enum {
    ASST_SCHEMA_OK = 0,
    ASST_SCHEMA_OLD,         /* migrations missing: *err says which command to run */
    ASST_SCHEMA_UNSAFE,      /* connected as a superuser or BYPASSRLS role */
    ASST_SCHEMA_ERROR        /* could not ask (asst_db_error() has the detail) */
} asst_schema_t;

/* For the worker at start-up: is every embedded migration applied, and is
 * the role one that row-level security binds? conf_path goes into the hint
 * ("run `assistant-admin -f CONF migrate`"); *err is allocated in p. */
asst_schema_t asst_db_schema_check(asst_db_t *db, apr_pool_t *p, const char *conf_path,
                                   const char **err);

#endif
