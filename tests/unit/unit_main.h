#ifndef ASST_UNIT_MAIN_H
#define ASST_UNIT_MAIN_H

#include <stdlib.h>

#include <apr_general.h>
#include <check.h>

/* Runs one libcheck suite with APR initialised and returns the exit
 * status `make check` expects. */
static inline int asst_unit_run(Suite *suite)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
