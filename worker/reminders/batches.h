#ifndef ASST_BATCHES_H
#define ASST_BATCHES_H

#include <apr_pools.h>

#include "db/db.h"

/* Due rows taken in batches, one transaction each (reminders: fire.c,
 * digests: digest.c). A batch that fails on a statement is taken again
 * one row per transaction, and the row that fails on its own is put off,
 * so one bad row holds up no other. */
typedef struct {
    /* One transaction over up to limit rows: how many, or -1 with *rc;
     * *first: the key of the first row it claimed (NULL: none). */
    int (*batch)(void *baton, apr_pool_t *p, int limit, asst_db_rc_t *rc, const char **first);
    /* Puts off row `key` (its own transaction; logs why). */
    void (*put_off)(void *baton, apr_pool_t *p, const char *key);
} asst_batches_t;

/* How many rows were taken, or -1 when the database failed. */
int asst_batches_take(const asst_batches_t *b, void *baton, apr_pool_t *p, int limit);

#endif
