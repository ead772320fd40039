#ifndef ASST_UNIT_POOL_H
#define ASST_UNIT_POOL_H

#include <apr_pools.h>
#include <check.h>

/* A fresh APR pool for each test:
 *   tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown); */

static apr_pool_t *pool;

static void unit_pool_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void unit_pool_teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
}

#endif
