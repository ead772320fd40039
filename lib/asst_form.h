#ifndef ASST_FORM_H
#define ASST_FORM_H

#include <apr_pools.h>
#include <apr_tables.h>

/* application/x-www-form-urlencoded, as Twilio posts it. */

typedef struct {
    const char *name;
    const char *value;
} asst_param_t;

typedef enum {
    ASST_FORM_OK = 0,
    ASST_FORM_BAD_ESCAPE,   /* '%' not followed by two hex digits */
    ASST_FORM_NUL,          /* %00 decodes to a byte C strings cannot hold */
    ASST_FORM_BAD_UTF8      /* a name or value is not valid UTF-8 */
} asst_form_status_t;

/* Parses body[0..len) into an array of asst_param_t in the order received.
 * Empty pairs ("a=1&&b=2") are skipped; "a" alone is name "a", value "". */
asst_form_status_t asst_form_parse(apr_pool_t *p, const char *body, apr_size_t len,
                                   apr_array_header_t **params);

/* The same, decoding body[0..len) in place (it must be writable and have
 * room for a NUL at body[len]): names and values point into it. Saves a
 * copy of the body in httpd's request pool. */
asst_form_status_t asst_form_parse_inplace(apr_pool_t *p, char *body, apr_size_t len,
                                           apr_array_header_t **params);

/* First value of name, or NULL. */
const char *asst_form_get(const apr_array_header_t *params, const char *name);

const char *asst_form_strerror(asst_form_status_t st);

/* 1 if s is valid UTF-8 (no overlongs, no surrogates). */
int asst_utf8_valid(const char *s, apr_size_t len);

#endif
