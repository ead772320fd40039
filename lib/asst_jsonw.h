#ifndef ASST_JSONW_H
#define ASST_JSONW_H

#include <apr_pools.h>

/* A JSON writer that never calls malloc: it measures, then writes once
 * into an APR pool. In httpd's threaded MPMs malloc-heavy encoders (json-c
 * builds a tree of small heap objects) grow every thread's malloc arena;
 * measured at ~600 KiB per httpd child. Decoding still uses json-c.
 *
 *   asst_jsonw_t w;
 *   asst_jsonw_begin(&w);                  // pass 1: counts bytes
 *   do { write(&w, ...); } while (asst_jsonw_next(&w, p));   // pass 2 writes
 *   text = asst_jsonw_text(&w);
 *
 * Strings are escaped per RFC 8259; they must be valid UTF-8, which is
 * passed through as is. */

typedef struct {
    char *buf;          /* NULL while counting */
    apr_size_t len;
    int need_comma;
} asst_jsonw_t;

void asst_jsonw_begin(asst_jsonw_t *w);

/* After the counting pass: allocates and returns 1 to run the writing
 * pass; after the writing pass returns 0. */
int asst_jsonw_next(asst_jsonw_t *w, apr_pool_t *p);

const char *asst_jsonw_text(const asst_jsonw_t *w);

void asst_jsonw_open(asst_jsonw_t *w, char bracket);     /* '{' or '[' */
void asst_jsonw_close(asst_jsonw_t *w, char bracket);    /* '}' or ']' */
void asst_jsonw_key(asst_jsonw_t *w, const char *key);
void asst_jsonw_string(asst_jsonw_t *w, const char *s);  /* NULL writes "" */
void asst_jsonw_int(asst_jsonw_t *w, apr_int64_t v);

#endif
