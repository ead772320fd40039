#include <stdio.h>
#include <string.h>

#include "asst_jsonw.h"

void asst_jsonw_begin(asst_jsonw_t *w)
{
    w->buf = NULL;
    w->len = 0;
    w->need_comma = 0;
}

int asst_jsonw_next(asst_jsonw_t *w, apr_pool_t *p)
{
    if (w->buf)
        return 0;
    w->buf = apr_palloc(p, w->len + 1);
    w->len = 0;
    w->need_comma = 0;
    return 1;
}

const char *asst_jsonw_text(const asst_jsonw_t *w)
{
    w->buf[w->len] = '\0';
    return w->buf;
}

static void put(asst_jsonw_t *w, const char *s, apr_size_t n)
{
    if (w->buf)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void comma(asst_jsonw_t *w)
{
    if (w->need_comma)
        put(w, ",", 1);
    w->need_comma = 1;
}

void asst_jsonw_open(asst_jsonw_t *w, char bracket)
{
    comma(w);
    put(w, &bracket, 1);
    w->need_comma = 0;
}

void asst_jsonw_close(asst_jsonw_t *w, char bracket)
{
    put(w, &bracket, 1);
    w->need_comma = 1;
}

static void escaped(asst_jsonw_t *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    put(w, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *run = s;
        while (c >= 0x20 && c != '"' && c != '\\')
            c = (unsigned char)*++s;
        put(w, run, (apr_size_t)(s - run));
        if (!c)
            break;
        switch (c) {
        case '"':  put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default: {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(w, u, 6);
        }
        }
    }
    put(w, "\"", 1);
}

void asst_jsonw_key(asst_jsonw_t *w, const char *key)
{
    comma(w);
    escaped(w, key);
    put(w, ":", 1);
    w->need_comma = 0;
}

void asst_jsonw_string(asst_jsonw_t *w, const char *s)
{
    comma(w);
    escaped(w, s ? s : "");
}

void asst_jsonw_int(asst_jsonw_t *w, apr_int64_t v)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, v);

    comma(w);
    put(w, num, (apr_size_t)n);
}
