#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "asst_sms.h"
#include "schema.h"

/* Bounds that keep every message under ASST_SCHEMA_ERR_MAX: the longest is
 * `argument "<path>" must be one of: <list>`, 10 + 63 + 18 + 99 bytes. */
#define PATH_BYTES 64     /* quoted path, "..." and NUL included */
#define LIST_BYTES 100    /* enum list, ", ..." and NUL included */
#define MAX_DEPTH 8       /* path steps remembered; deeper ones print as "..." */

enum {
    T_NULL = 1 << 0,
    T_BOOLEAN = 1 << 1,
    T_OBJECT = 1 << 2,
    T_ARRAY = 1 << 3,
    T_NUMBER = 1 << 4,
    T_INTEGER = 1 << 5,
    T_STRING = 1 << 6,
    T_UNKNOWN = 1 << 7    /* a type name we do not support: matches nothing */
};

static const struct {
    const char *name;
    const char *phrase;
    unsigned bit;
} types[] = {
    {"object", "an object", T_OBJECT},   {"array", "an array", T_ARRAY},
    {"string", "a string", T_STRING},    {"integer", "an integer", T_INTEGER},
    {"number", "a number", T_NUMBER},    {"boolean", "a boolean", T_BOOLEAN},
    {"null", "null", T_NULL},
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))

typedef struct {
    const char *name;   /* NULL: an array index */
    size_t index;
} step_t;

/* Where the walk is, rendered into the message only when something fails. */
typedef struct {
    step_t steps[MAX_DEPTH];
    int depth;
    char *err;
    size_t errlen;
} walk_t;

typedef struct {
    char *buf;
    size_t size;   /* NUL included */
    size_t len;
} text_t;

static int check_value(walk_t *w, const json_object *schema, const json_object *v);

/* ---- text: bounded, never splits a UTF-8 sequence ---- */

static size_t seq_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Quotes and backslashes could end the quoted path early, control bytes
 * could break a log line: names and enum values are shown without them. */
static char clean(unsigned char c)
{
    return c < 0x20 || c == 0x7F || c == '"' || c == '\\' ? '?' : (char)c;
}

/* Appends what fits of s[0..n); 1 if all of it did. */
static int text_put(text_t *t, const char *s, size_t n)
{
    size_t i = 0;
    int all = 1;

    while (i < n) {
        size_t k = seq_len((unsigned char)s[i]);
        if (k > n - i)
            k = n - i;
        if (t->len + k >= t->size) {
            all = 0;
            break;
        }
        while (k--)
            t->buf[t->len++] = clean((unsigned char)s[i++]);
    }
    t->buf[t->len] = '\0';
    return all;
}

static int text_put_str(text_t *t, const char *s)
{
    return text_put(t, s, strlen(s));
}

/* ---- what a value is, what a schema wants ---- */

static unsigned double_kinds(double d)
{
    const double exact = 9007199254740992.0;   /* 2^53: every double beyond is whole */

    if (!isfinite(d))   /* not JSON, though json-c's parser takes NaN */
        return 0;
    if (d >= exact || d <= -exact || d == (double)(int64_t)d)
        return T_NUMBER | T_INTEGER;
    return T_NUMBER;
}

static unsigned kinds(const json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:    return T_NULL;
    case json_type_boolean: return T_BOOLEAN;
    case json_type_int:     return T_NUMBER | T_INTEGER;
    case json_type_double:  return double_kinds(json_object_get_double(v));
    case json_type_string:  return T_STRING;
    case json_type_object:  return T_OBJECT;
    case json_type_array:   return T_ARRAY;
    }
    return 0;
}

static unsigned type_bit(const json_object *name)
{
    size_t i;

    if (json_object_is_type(name, json_type_string))
        for (i = 0; i < N_TYPES; i++)
            if (strcmp(json_object_get_string((json_object *)name), types[i].name) == 0)
                return types[i].bit;
    return T_UNKNOWN;
}

/* The types "type" allows; 0 when it is absent (any type). */
static unsigned schema_types(const json_object *schema)
{
    json_object *t;
    unsigned mask = 0;
    size_t i;

    if (!json_object_object_get_ex(schema, "type", &t))
        return 0;
    if (!json_object_is_type(t, json_type_array))
        return type_bit(t);
    for (i = 0; i < json_object_array_length(t); i++)
        mask |= type_bit(json_object_array_get_idx(t, i));
    mask &= ~(unsigned)T_UNKNOWN;   /* an unknown name beside known ones adds nothing */
    return mask ? mask : T_UNKNOWN;  /* but alone, or "type": [], allows nothing */
}

/* "a string", "a string or null", "an integer, a string or null". */
static void type_phrase(unsigned mask, char *buf, size_t size)
{
    text_t t = {buf, size, 0};
    size_t i, n = 0, total = 0;

    buf[0] = '\0';
    for (i = 0; i < N_TYPES; i++)
        total += (mask & types[i].bit) != 0;
    for (i = 0; i < N_TYPES; i++) {
        if (!(mask & types[i].bit))
            continue;
        if (n++)
            text_put_str(&t, n == total ? " or " : ", ");
        text_put_str(&t, types[i].phrase);
    }
}

/* A JSON scalar as the model would write it, strings unquoted. */
static const char *scalar_text(const json_object *v, char *buf, size_t size)
{
    text_t t = {buf, size, 0};

    switch (json_object_get_type(v)) {
    case json_type_string:
        /* json-c's getter is not const-qualified, but only reads */
        text_put(&t, json_object_get_string((json_object *)v),
                 (size_t)json_object_get_string_len(v));
        return buf;
    case json_type_int:
        snprintf(buf, size, "%" PRId64, json_object_get_int64(v));
        return buf;
    case json_type_double:
        snprintf(buf, size, "%.15g", json_object_get_double(v));
        return buf;
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    case json_type_null:
        return "null";
    default:
        return "?";   /* objects and arrays are not enum members here */
    }
}

/* <0, 0 or >0 as a is below, equal to or above b; both are numbers. */
static int num_cmp(const json_object *a, const json_object *b)
{
    if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int)) {
        int64_t x = json_object_get_int64(a), y = json_object_get_int64(b);
        return (x > y) - (x < y);
    } else {
        double x = json_object_get_double(a), y = json_object_get_double(b);
        return (x > y) - (x < y);
    }
}

/* JSON equality of scalars: same type and value, 1 and 1.0 being one number. */
static int scalar_equal(const json_object *a, const json_object *b)
{
    if ((kinds(a) & T_NUMBER) && (kinds(b) & T_NUMBER))
        return num_cmp(a, b) == 0;
    if (json_object_get_type(a) != json_object_get_type(b))
        return 0;
    switch (json_object_get_type(a)) {
    case json_type_null:
        return 1;
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string:
        return json_object_get_string_len(a) == json_object_get_string_len(b)
            && memcmp(json_object_get_string((json_object *)a),
                      json_object_get_string((json_object *)b),
                      (size_t)json_object_get_string_len(a)) == 0;
    default:
        return 0;
    }
}

/* ---- the path and the message ---- */

static void enter(walk_t *w, const char *name, size_t index)
{
    if (w->depth < MAX_DEPTH)
        w->steps[w->depth] = (step_t){name, index};
    w->depth++;
}

static void leave(walk_t *w)
{
    w->depth--;
}

/* "when.hour", "tags[2]"; cut with "..." when too long or too deep. */
static void path_render(const walk_t *w, char *buf, size_t size)
{
    text_t t = {buf, size - 3, 0};   /* room kept for "..." */
    char index[32];
    int i, all = 1;

    buf[0] = '\0';
    for (i = 0; i < w->depth && all; i++) {
        const step_t *s = &w->steps[i];
        if (i >= MAX_DEPTH) {
            all = 0;
        } else if (s->name) {
            all = (i == 0 || text_put_str(&t, ".")) && text_put_str(&t, s->name);
        } else {
            snprintf(index, sizeof(index), "[%zu]", s->index);
            all = text_put_str(&t, index);
        }
    }
    if (!all)
        memcpy(buf + t.len, "...", 4);
}

/* Always -1, so that callers can `return report(...)`. */
static int __attribute__((format(printf, 2, 3))) report(walk_t *w, const char *fmt, ...)
{
    char msg[ASST_SCHEMA_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w->err && w->errlen)
        snprintf(w->err, w->errlen, "%s", msg);
    return -1;
}

/* `argument "when.hour" <what>`, or `arguments <what>` at the top. */
static int __attribute__((format(printf, 2, 3))) fail_arg(walk_t *w, const char *fmt, ...)
{
    char path[PATH_BYTES], what[ASST_SCHEMA_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (w->depth == 0)
        return report(w, "arguments %s", what);
    path_render(w, path, sizeof(path));
    return report(w, "argument \"%s\" %s", path, what);
}

/* `missing required argument "when.hour"`, `unknown argument "foo"`. */
static int fail_name(walk_t *w, const char *name, const char *what)
{
    char path[PATH_BYTES];

    enter(w, name, 0);
    path_render(w, path, sizeof(path));
    return report(w, "%s argument \"%s\"", what, path);
}

/* ---- keywords ---- */

static int check_type(walk_t *w, const json_object *schema, const json_object *v)
{
    unsigned want = schema_types(schema);
    char phrase[96];

    if (!want || (want & kinds(v)))
        return 0;
    if (want == T_UNKNOWN)
        return fail_arg(w, "has no supported type in the tool schema");
    type_phrase(want, phrase, sizeof(phrase));
    return fail_arg(w, "must be %s", phrase);
}

/* "add, list, search", or as many as fit and then "...". */
static void enum_list(const json_object *e, char *buf, size_t size)
{
    text_t t = {buf, size - 5, 0};   /* room kept for ", ..." */
    char item[LIST_BYTES];
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < json_object_array_length(e); i++) {
        const char *s = scalar_text(json_object_array_get_idx(e, i), item, sizeof(item));
        if (t.len + (i ? 2 : 0) + strlen(s) >= t.size) {
            memcpy(buf + t.len, i ? ", ..." : "...", i ? 6 : 4);
            return;
        }
        text_put_str(&t, i ? ", " : "");
        text_put_str(&t, s);
    }
}

static int check_enum(walk_t *w, const json_object *schema, const json_object *v)
{
    json_object *e;
    char list[LIST_BYTES];
    size_t i;

    if (!json_object_object_get_ex(schema, "enum", &e) || !json_object_is_type(e, json_type_array))
        return 0;
    for (i = 0; i < json_object_array_length(e); i++)
        if (scalar_equal(v, json_object_array_get_idx(e, i)))
            return 0;
    enum_list(e, list, sizeof(list));
    return fail_arg(w, "must be one of: %s", list);
}

/* A non-negative whole-number keyword such as minLength; 0 if absent. */
static int count_bound(const json_object *schema, const char *key, size_t *bound)
{
    json_object *b;
    int64_t n;

    if (!json_object_object_get_ex(schema, key, &b) || !(kinds(b) & T_INTEGER))
        return 0;
    n = json_object_get_int64(b);
    if (n < 0)
        return 0;
    *bound = (size_t)n;
    return 1;
}

static int check_count(walk_t *w, const json_object *schema, size_t n, const char *min_key,
                       const char *max_key, const char *unit)
{
    size_t bound;

    if (count_bound(schema, min_key, &bound) && n < bound)
        return fail_arg(w, "must have at least %zu %s%s", bound, unit, bound == 1 ? "" : "s");
    if (count_bound(schema, max_key, &bound) && n > bound)
        return fail_arg(w, "must have at most %zu %s%s", bound, unit, bound == 1 ? "" : "s");
    return 0;
}

static int check_string(walk_t *w, const json_object *schema, const json_object *s)
{
    const char *text = json_object_get_string((json_object *)s);
    size_t chars = asst_utf8_chars(text, (size_t)json_object_get_string_len(s));

    return check_count(w, schema, chars, "minLength", "maxLength", "character");
}

static int check_range(walk_t *w, const json_object *schema, const json_object *v)
{
    json_object *b;
    char text[32];

    if (!(kinds(v) & T_NUMBER))
        return 0;
    if (json_object_object_get_ex(schema, "minimum", &b) && (kinds(b) & T_NUMBER)
        && num_cmp(v, b) < 0)
        return fail_arg(w, "must be at least %s", scalar_text(b, text, sizeof(text)));
    if (json_object_object_get_ex(schema, "maximum", &b) && (kinds(b) & T_NUMBER)
        && num_cmp(v, b) > 0)
        return fail_arg(w, "must be at most %s", scalar_text(b, text, sizeof(text)));
    return 0;
}

static int check_array(walk_t *w, const json_object *schema, const json_object *arr)
{
    size_t i, n = json_object_array_length(arr);
    json_object *items;

    if (check_count(w, schema, n, "minItems", "maxItems", "item"))
        return -1;
    if (!json_object_object_get_ex(schema, "items", &items)
        || !json_object_is_type(items, json_type_object))
        return 0;
    for (i = 0; i < n; i++) {
        enter(w, NULL, i);
        if (check_value(w, items, json_object_array_get_idx(arr, i)))
            return -1;
        leave(w);
    }
    return 0;
}

/* obj NULL stands for {} (a call with no arguments). */
static int check_required(walk_t *w, const json_object *schema, const json_object *obj)
{
    json_object *req, *name;
    size_t i;

    if (!json_object_object_get_ex(schema, "required", &req)
        || !json_object_is_type(req, json_type_array))
        return 0;
    for (i = 0; i < json_object_array_length(req); i++) {
        name = json_object_array_get_idx(req, i);
        if (json_object_is_type(name, json_type_string)
            && !json_object_object_get_ex(obj, json_object_get_string(name), NULL))
            return fail_name(w, json_object_get_string(name), "missing required");
    }
    return 0;
}

static int check_unknown(walk_t *w, const json_object *schema, const json_object *props,
                         const json_object *obj)
{
    json_object *extra;

    if (!obj || !json_object_object_get_ex(schema, "additionalProperties", &extra)
        || !json_object_is_type(extra, json_type_boolean) || json_object_get_boolean(extra))
        return 0;
    json_object_object_foreach(obj, key, val) {
        (void)val;
        if (!json_object_object_get_ex(props, key, NULL))
            return fail_name(w, key, "unknown");
    }
    return 0;
}

static int check_properties(walk_t *w, const json_object *props, const json_object *obj)
{
    json_object *v;

    if (!obj || !json_object_is_type(props, json_type_object))
        return 0;
    json_object_object_foreach(props, name, sub) {
        if (!json_object_object_get_ex(obj, name, &v))
            continue;
        enter(w, name, 0);
        if (check_value(w, sub, v))
            return -1;
        leave(w);
    }
    return 0;
}

/* Required first: a missing argument explains more than a wrong one. */
static int check_object(walk_t *w, const json_object *schema, const json_object *obj)
{
    json_object *props = NULL;

    json_object_object_get_ex(schema, "properties", &props);
    if (check_required(w, schema, obj) || check_unknown(w, schema, props, obj))
        return -1;
    return check_properties(w, props, obj);
}

/* Keywords for another type than the value's are ignored, as in JSON Schema. */
static int check_value(walk_t *w, const json_object *schema, const json_object *v)
{
    if (check_type(w, schema, v) || check_enum(w, schema, v))
        return -1;
    switch (json_object_get_type(v)) {
    case json_type_object: return check_object(w, schema, v);
    case json_type_array:  return check_array(w, schema, v);
    case json_type_string: return check_string(w, schema, v);
    case json_type_int:
    case json_type_double: return check_range(w, schema, v);
    default:               return 0;
    }
}

int asst_schema_validate(const json_object *schema, const json_object *args, char *errbuf,
                         size_t errlen)
{
    walk_t w = {.depth = 0, .err = errbuf, .errlen = errlen};

    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!schema)
        return 0;
    if (!args && (schema_types(schema) & T_OBJECT))
        return check_object(&w, schema, NULL);
    return check_value(&w, schema, args);
}
