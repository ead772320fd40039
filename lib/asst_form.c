#include <string.h>

#include <apr_strings.h>

#include "asst_form.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int asst_utf8_valid(const char *str, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;

    while (s < end) {
        unsigned c = *s;
        apr_size_t n;
        unsigned cp, min;

        if (c < 0x80) { s++; continue; }
        else if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if ((apr_size_t)(end - s) <= n)
            return 0;
        for (apr_size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

/* Decodes src[0..len) ('+' is space, %XX a byte) into dst, which may be
 * src itself: the decoded text is never longer than the encoded one. */
static asst_form_status_t decode(char *dst, const char *src, apr_size_t len, char **out)
{
    char *d = dst;

    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+') {
            *d++ = ' ';
        }
        else if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return ASST_FORM_BAD_ESCAPE;
            hi = hexval((unsigned char)src[i + 1]);
            lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return ASST_FORM_BAD_ESCAPE;
            if (hi == 0 && lo == 0)
                return ASST_FORM_NUL;
            *d++ = (char)(hi << 4 | lo);
            i += 2;
        }
        else if (c == '\0') {
            return ASST_FORM_NUL;
        }
        else {
            *d++ = (char)c;
        }
    }
    *d = '\0';
    if (!asst_utf8_valid(dst, (apr_size_t)(d - dst)))
        return ASST_FORM_BAD_UTF8;
    *out = dst;
    return ASST_FORM_OK;
}

/* pair[0..len) becomes "name\0" and "value\0" in place. */
static asst_form_status_t add_pair(char *pair, apr_size_t len, apr_array_header_t *params)
{
    char *eq = memchr(pair, '=', len);
    apr_size_t nlen = eq ? (apr_size_t)(eq - pair) : len;
    asst_param_t *param = apr_array_push(params);
    char *name, *value = "";
    asst_form_status_t st;

    if (eq && (st = decode(eq + 1, eq + 1, len - nlen - 1, &value)) != ASST_FORM_OK)
        return st;
    if ((st = decode(pair, pair, nlen, &name)) != ASST_FORM_OK)
        return st;
    param->name = name;
    param->value = value;
    return ASST_FORM_OK;
}

asst_form_status_t asst_form_parse_inplace(apr_pool_t *p, char *body, apr_size_t len,
                                           apr_array_header_t **params)
{
    char *s = body, *end = body + len;
    asst_form_status_t st;

    *params = apr_array_make(p, 24, sizeof(asst_param_t));
    while (s < end) {
        char *amp = memchr(s, '&', (apr_size_t)(end - s));
        char *stop = amp ? amp : end;
        if (stop > s && (st = add_pair(s, (apr_size_t)(stop - s), *params)) != ASST_FORM_OK)
            return st;
        s = stop + 1;
    }
    return ASST_FORM_OK;
}

asst_form_status_t asst_form_parse(apr_pool_t *p, const char *body, apr_size_t len,
                                   apr_array_header_t **params)
{
    return asst_form_parse_inplace(p, apr_pstrmemdup(p, body, len), len, params);
}

const char *asst_form_get(const apr_array_header_t *params, const char *name)
{
    const asst_param_t *items = (const asst_param_t *)params->elts;

    for (int i = 0; i < params->nelts; i++)
        if (strcmp(items[i].name, name) == 0)
            return items[i].value;
    return NULL;
}

const char *asst_form_strerror(asst_form_status_t st)
{
    switch (st) {
    case ASST_FORM_OK: return "ok";
    case ASST_FORM_BAD_ESCAPE: return "malformed percent-escape";
    case ASST_FORM_NUL: return "NUL byte in a field";
    case ASST_FORM_BAD_UTF8: return "field is not valid UTF-8";
    }
    return "unknown form error";
}
