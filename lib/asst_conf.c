#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "asst_conf.h"
#include "asst_redis.h"

const char *asst_conf_parse_long(const char *value, long min, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (!*value || *end || errno == ERANGE)
        return "is not an integer";
    if (v < min)
        return min > 0 ? "must be a positive integer" : "must not be negative";
    *out = v;
    return NULL;
}

const char *asst_conf_read_secret(apr_pool_t *p, const char *path, const char **secret)
{
    char buf[4096];
    size_t len;
    FILE *f = fopen(path, "r");

    if (!f)
        return apr_psprintf(p, "cannot read %s: %s", path, strerror(errno));
    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    len = strcspn(buf, "\r\n");
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        len--;
    buf[len] = '\0';
    *secret = len ? apr_pstrdup(p, buf) : NULL;
    OPENSSL_cleanse(buf, sizeof(buf));
    return len ? NULL : apr_psprintf(p, "%s is empty", path);
}

static const char *parse_enum(apr_pool_t *p, const asst_conf_def_t *def, const char *value, int *out)
{
    const char *c = def->choices;
    int idx = 0;

    while (*c) {
        size_t n = strcspn(c, "|");
        if (strlen(value) == n && strncasecmp(c, value, n) == 0) {
            *out = idx;
            return NULL;
        }
        c += n + (c[n] == '|');
        idx++;
    }
    return apr_psprintf(p, "must be one of %s", def->choices);
}

const char *asst_conf_check_url(const char *value)
{
    const char *host = strncasecmp(value, "https://", 8) == 0 ? value + 8
                     : strncasecmp(value, "http://", 7) == 0 ? value + 7 : NULL;
    if (!host || !*host || *host == '/' || strchr(value, '#'))
        return "is not an absolute http(s) URL without a fragment";
    return NULL;
}

static const char *check_string(apr_pool_t *p, asst_conf_kind_t kind, const char *value)
{
    asst_redis_conf_t rc;
    const char *err = NULL;

    if (!*value)
        return "needs a value";
    if (kind == ASST_CONF_PATH && value[0] != '/')
        return "must be an absolute path";
    if (kind == ASST_CONF_URL)
        return asst_conf_check_url(value);
    if (kind == ASST_CONF_REDIS_ADDR && asst_redis_parse_addr(p, value, &rc, &err) != 0)
        return err;
    return NULL;
}

/* An integer kind, within def->choices ("min..max") when it has one. */
static const char *parse_number(apr_pool_t *p, const asst_conf_def_t *def, const char *value,
                                long *out)
{
    long v, lo, hi;
    const char *err = asst_conf_parse_long(value, def->kind == ASST_CONF_POSITIVE, &v);

    if (err)
        return err;
    if (def->choices && sscanf(def->choices, "%ld..%ld", &lo, &hi) == 2 && (v < lo || v > hi))
        return apr_psprintf(p, "must be between %ld and %ld", lo, hi);
    *out = v;
    return NULL;
}

const char *asst_conf_parse_value(apr_pool_t *p, const asst_conf_def_t *def, const char *value,
                                  void *conf)
{
    void *field = (char *)conf + def->offset;
    const char *err;

    switch (def->kind) {
    case ASST_CONF_INT:
    case ASST_CONF_POSITIVE:
        return parse_number(p, def, value, field);
    case ASST_CONF_ENUM:
        return parse_enum(p, def, value, field);
    case ASST_CONF_SECRET_FILE:
        return asst_conf_read_secret(p, value, field);
    default:
        if ((err = check_string(p, def->kind, value)) != NULL)
            return err;
        *(const char **)field = apr_pstrdup(p, value);
        return NULL;
    }
}

/* ---- the file ---- */

static const asst_conf_def_t *find_def(const asst_conf_def_t *defs, int ndefs, const char *name)
{
    for (int i = 0; i < ndefs; i++)
        if (strcasecmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

static char *trim(char *s)
{
    char *end = s + strlen(s);

    while (isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static char *unquote(char *v)
{
    size_t n = strlen(v);

    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v[n - 1] = '\0';
        return v + 1;
    }
    return v;
}

/* Returns NULL, or the error for this logical line (without position);
 * *applied is the directive it set, if any. */
static const char *apply_line(apr_pool_t *p, char *line, const asst_conf_def_t *defs, int ndefs,
                              void *conf, const asst_conf_def_t **applied)
{
    char *s = trim(line), *value;
    const asst_conf_def_t *def;
    const char *err;
    size_t n;

    if (!*s || *s == '#')
        return NULL;
    n = strcspn(s, " \t");
    value = s[n] ? trim(s + n + 1) : s + n;
    s[n] = '\0';
    if (!(def = find_def(defs, ndefs, s)))
        return apr_psprintf(p, "unknown directive '%s'", s);
    value = unquote(value);
    if ((err = asst_conf_parse_value(p, def, value, conf)) != NULL)
        return apr_psprintf(p, "%s: %s", def->name, err);
    *applied = def;
    return NULL;
}

static int apply_defaults(apr_pool_t *p, const asst_conf_def_t *defs, int ndefs, void *conf,
                          const char **err)
{
    for (int i = 0; i < ndefs; i++) {
        const char *e;
        if (defs[i].dflt && (e = asst_conf_parse_value(p, &defs[i], defs[i].dflt, conf)) != NULL) {
            *err = apr_psprintf(p, "default of %s: %s", defs[i].name, e);
            return -1;
        }
    }
    return 0;
}

/* Reads one logical line (joining backslash continuations) into *line.
 * Returns 0 at end of file; *lineno is the number of its first line. */
/* One physical line, of any length, without its line end; NULL at EOF. */
static char *read_physical_line(apr_pool_t *p, FILE *f)
{
    char *buf = NULL, *line = NULL;
    size_t cap = 0;

    if (getline(&buf, &cap, f) >= 0)
        line = apr_pstrmemdup(p, buf, strcspn(buf, "\r\n"));
    free(buf);
    return line;
}

/* Joins lines ending in a backslash; *lineno is where the logical line
 * started, *next the physical line after it. */
static int read_logical_line(apr_pool_t *p, FILE *f, char **line, int *lineno, int *next)
{
    char *acc = NULL, *part;

    *lineno = *next;
    while ((part = read_physical_line(p, f)) != NULL) {
        size_t n = strlen(part);
        int cont = n > 0 && part[n - 1] == '\\';
        (*next)++;
        if (cont)
            part[n - 1] = ' ';
        acc = acc ? apr_pstrcat(p, acc, part, NULL) : part;
        if (!cont)
            break;
    }
    *line = acc;
    return acc != NULL;
}

int asst_conf_load(apr_pool_t *p, const char *path, const asst_conf_def_t *defs, int ndefs,
                   void *conf, const char **err)
{
    return asst_conf_load_lines(p, path, defs, ndefs, conf, NULL, err);
}

int asst_conf_load_lines(apr_pool_t *p, const char *path, const asst_conf_def_t *defs, int ndefs,
                         void *conf, int *lines, const char **err)
{
    FILE *f;
    char *line;
    int lineno, next = 1, rc = 0;

    if (lines)
        memset(lines, 0, sizeof(*lines) * (size_t)ndefs);
    if (apply_defaults(p, defs, ndefs, conf, err) != 0)
        return -1;
    if (!(f = fopen(path, "r"))) {
        *err = apr_psprintf(p, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && read_logical_line(p, f, &line, &lineno, &next)) {
        const asst_conf_def_t *applied = NULL;
        const char *e = apply_line(p, line, defs, ndefs, conf, &applied);
        if (e) {
            *err = apr_psprintf(p, "%s:%d: %s", path, lineno, e);
            rc = -1;
        }
        if (applied && lines)
            lines[applied - defs] = lineno;
    }
    fclose(f);
    return rc;
}
