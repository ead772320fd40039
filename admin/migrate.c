#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "db/migrate.h"

static int check(asst_admin_t *a)
{
    const char *err;

    if (!asst_db_conn(a->db, &err))
        return asst_admin_fail("cannot connect to PostgreSQL: %s", err);
    if (asst_db_schema_check(a->db, a->pool, a->conf->path, &err) != ASST_SCHEMA_OK)
        return asst_admin_fail("%s", err);
    printf("schema up to date (version %d)\n", asst_migrate_latest());
    return ADMIN_OK;
}

/* migrate [--check] */
int asst_admin_migrate(asst_admin_t *a, int argc, const char *const *argv)
{
    const char *err;
    int n;

    if (argc == 1 && strcmp(argv[0], "--check") == 0)
        return check(a);
    if (argc != 0)
        return asst_admin_usage("usage: migrate [--check]");
    if (!asst_db_conn(a->db, &err))
        return asst_admin_fail("cannot connect to PostgreSQL: %s", err);
    if ((n = asst_migrate(a->db, a->pool, &err)) < 0)
        return asst_admin_fail("%s", err);
    if (n == 0)
        printf("schema up to date (version %d): nothing to do\n", asst_migrate_latest());
    else
        printf("applied %d migration%s: schema at version %d\n", n, n == 1 ? "" : "s",
               asst_migrate_latest());
    return ADMIN_OK;
}
