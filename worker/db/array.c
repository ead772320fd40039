#include <apr_strings.h>

#include "array.h"

asst_db_array_t *asst_db_array_make(apr_pool_t *p)
{
    asst_db_array_t *a = apr_pcalloc(p, sizeof(*a));

    a->p = p;
    a->buf = apr_array_make(p, 256, 1);
    return a;
}

static void put(asst_db_array_t *a, char c)
{
    APR_ARRAY_PUSH(a->buf, char) = c;
}

/* Inside double quotes only " and \ need a backslash (array_in). */
void asst_db_array_add(asst_db_array_t *a, const char *v)
{
    if (a->n++ > 0)
        put(a, ',');
    if (!v) {
        for (const char *s = "NULL"; *s; s++)
            put(a, *s);
        return;
    }
    put(a, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            put(a, '\\');
        put(a, *v);
    }
    put(a, '"');
}

void asst_db_array_add_int(asst_db_array_t *a, apr_int64_t v)
{
    asst_db_array_add(a, apr_psprintf(a->p, "%" APR_INT64_T_FMT, v));
}

void asst_db_array_add_bool(asst_db_array_t *a, int v)
{
    asst_db_array_add(a, v ? "t" : "f");
}

const char *asst_db_array_text(asst_db_array_t *a)
{
    return apr_pstrcat(a->p, "{", apr_pstrmemdup(a->p, a->buf->elts, (apr_size_t)a->buf->nelts), "}", NULL);
}
