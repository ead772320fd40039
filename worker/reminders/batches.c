#include "batches.h"

static int one_by_one(const asst_batches_t *b, void *baton, apr_pool_t *p, int limit)
{
    int n = 0;

    while (n < limit) {
        asst_db_rc_t rc;
        const char *key;
        int got = b->batch(baton, p, 1, &rc, &key);

        if (got == 0)
            break;
        if (got < 0 && (rc != ASST_DB_ESTMT || !key))
            return n ? n : -1;
        if (got < 0)
            b->put_off(baton, p, key);
        n++;
    }
    return n;
}

int asst_batches_take(const asst_batches_t *b, void *baton, apr_pool_t *p, int limit)
{
    asst_db_rc_t rc;
    const char *first;
    int n = b->batch(baton, p, limit, &rc, &first);

    if (n < 0 && rc == ASST_DB_ESTMT)
        n = one_by_one(b, baton, p, limit);
    return n;
}
