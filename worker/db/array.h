#ifndef ASST_DB_ARRAY_H
#define ASST_DB_ARRAY_H

#include <apr_pools.h>
#include <apr_tables.h>

/* A PostgreSQL array literal built element by element, to pass a column
 * of values as one parameter ($1::bigint[], unnest): a batch of rows then
 * costs one statement, not one per row. Elements are always quoted, so
 * the same builder serves text, bigint, bool and timestamps. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *buf;   /* of char, unterminated */
    int n;
} asst_db_array_t;

asst_db_array_t *asst_db_array_make(apr_pool_t *p);

/* Appends v, or SQL NULL when v is NULL. */
void asst_db_array_add(asst_db_array_t *a, const char *v);

void asst_db_array_add_int(asst_db_array_t *a, apr_int64_t v);

void asst_db_array_add_bool(asst_db_array_t *a, int v);

/* The literal, "{...}"; valid until the next add. */
const char *asst_db_array_text(asst_db_array_t *a);

#endif
