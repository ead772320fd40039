#ifndef ASST_CONF_H
#define ASST_CONF_H

#include <apr_pools.h>

/* worker.conf: httpd.conf's "Name value" syntax ('#' comment lines, names
 * case-insensitive, a value may be "double quoted", a trailing backslash
 * continues the line). A table of asst_conf_def_t drives parsing,
 * defaults, validation and the generated reference; every error names the
 * file and line. */

typedef enum {
    ASST_CONF_STRING,        /* const char *, non-empty */
    ASST_CONF_INT,           /* long, >= 0 */
    ASST_CONF_POSITIVE,      /* long, > 0 */
    ASST_CONF_ENUM,          /* int: index of the value in choices "a|b|c" */
    ASST_CONF_SECRET_FILE,   /* const char *: the file's first line, never logged */
    ASST_CONF_PATH,          /* const char *, absolute */
    ASST_CONF_URL,           /* const char *, absolute http(s) URL */
    ASST_CONF_REDIS_ADDR     /* const char *, host:port | unix:/path */
} asst_conf_kind_t;

typedef struct {
    const char *name;
    asst_conf_kind_t kind;
    apr_size_t offset;       /* of the field in the caller's struct */
    const char *dflt;        /* parsed like a value before the file; NULL: unset */
    const char *choices;     /* ENUM: "a|b|c"; INT, POSITIVE: "min..max" or NULL */
    const char *syntax;
    const char *help;
} asst_conf_def_t;

/* Applies every default, then the file. Returns 0, or -1 with *err set to
 * "file:line: message" (or "file: message" when the file cannot be read). */
int asst_conf_load(apr_pool_t *p, const char *path, const asst_conf_def_t *defs, int ndefs,
                   void *conf, const char **err);

/* The same; lines[i] (ndefs of them, or NULL) is then the line that last
 * set defs[i], 0 when it kept its default: for checks across directives. */
int asst_conf_load_lines(apr_pool_t *p, const char *path, const asst_conf_def_t *defs, int ndefs,
                         void *conf, int *lines, const char **err);

/* Parses one value of a kind; returns NULL or an error message without
 * file and line. Shared with httpd's directive handlers. */
const char *asst_conf_parse_value(apr_pool_t *p, const asst_conf_def_t *def, const char *value,
                                  void *conf);

/* Single-kind helpers, also used by mod_assistant. */
const char *asst_conf_read_secret(apr_pool_t *p, const char *path, const char **secret);
const char *asst_conf_parse_long(const char *value, long min, long *out);
const char *asst_conf_check_url(const char *value);

#endif
