#include <limits.h>
#include <string.h>

#include "asst_resp.h"

/* Redis's proto-max-bulk-len default. Also caps a status or error line, so
 * the bytes a reply takes always fit the long asst_resp_parse returns. */
#define BULK_MAX ((apr_size_t)512 * 1024 * 1024)

/* "-9223372036854775808": the longest integer or length line. */
#define NUMBER_MAX 20

/* ---- commands ---- */

static apr_size_t digits(apr_size_t n)
{
    apr_size_t d = 1;

    for (; n >= 10; n /= 10)
        d++;
    return d;
}

/* "*3\r\n" or "$5\r\n" */
static apr_size_t header_size(apr_size_t n)
{
    return 1 + digits(n) + 2;
}

static char *put_header(char *at, char sigil, apr_size_t n)
{
    apr_size_t d = digits(n);

    at[0] = sigil;
    for (apr_size_t i = d; i > 0; i--, n /= 10)
        at[i] = (char)('0' + n % 10);
    at[d + 1] = '\r';
    at[d + 2] = '\n';
    return at + d + 3;
}

static char *put_bulk(char *at, const char *s, apr_size_t n)
{
    at = put_header(at, '$', n);
    if (n)
        memcpy(at, s, n);
    at[n] = '\r';
    at[n + 1] = '\n';
    return at + n + 2;
}

static apr_size_t arg_len(const char *const *argv, const apr_size_t *lens, int i)
{
    return lens ? lens[i] : strlen(argv[i]);
}

char *asst_resp_command(apr_pool_t *p, int argc, const char *const *argv,
                        const apr_size_t *lens, apr_size_t *out_len)
{
    apr_size_t size = header_size((apr_size_t)argc);
    char *buf, *at;

    for (int i = 0; i < argc; i++) {
        apr_size_t n = arg_len(argv, lens, i);
        size += header_size(n) + n + 2;
    }
    buf = apr_palloc(p, size + 1);
    at = put_header(buf, '*', (apr_size_t)argc);
    for (int i = 0; i < argc; i++)
        at = put_bulk(at, argv[i], arg_len(argv, lens, i));
    *at = '\0';
    if (out_len)
        *out_len = size;
    return buf;
}

/* ---- replies ---- */

/* Whether buf[at..at+2) is "\r\n": 1 yes, 0 not all there yet, -1 no. */
static int crlf_at(const char *buf, apr_size_t len, apr_size_t at)
{
    if (at < len && buf[at] != '\r')
        return -1;
    if (at + 1 < len && buf[at + 1] != '\n')
        return -1;
    return at + 2 <= len ? 1 : 0;
}

/* The line after the type byte is buf[1..*eol), followed by "\r\n" and
 * at most `most` bytes long, without a bare CR or LF: 1, 0 or -1. */
static int line_end(const char *buf, apr_size_t len, apr_size_t most, apr_size_t *eol)
{
    apr_size_t i;

    for (i = 1; i < len && buf[i] != '\r' && buf[i] != '\n'; i++)
        if (i > most)
            return -1;
    *eol = i;
    return crlf_at(buf, len, i);
}

/* A signed decimal, nothing else: 0, or -1 for garbage or overflow.
 * Accumulates downwards so that LLONG_MIN fits. */
static int parse_ll(const char *s, apr_size_t n, long long *out)
{
    int neg = n > 0 && s[0] == '-';
    apr_size_t i = neg ? 1 : 0;
    long long v = 0;

    if (i == n)
        return -1;
    for (; i < n; i++) {
        int d = s[i] - '0';
        if (d < 0 || d > 9 || v < (LLONG_MIN + d) / 10)
            return -1;
        v = v * 10 - d;
    }
    if (!neg && v == LLONG_MIN)
        return -1;
    *out = neg ? v : -v;
    return 0;
}

static void set_text(asst_resp_reply_t *out, asst_resp_type_t type, const char *s,
                     apr_size_t n)
{
    apr_size_t kept = n < sizeof(out->str) - 1 ? n : sizeof(out->str) - 1;

    out->type = type;
    out->integer = 0;
    memcpy(out->str, s, kept);
    out->str[kept] = '\0';
    out->len = n;
}

static void set_no_text(asst_resp_reply_t *out, asst_resp_type_t type, long long v)
{
    out->type = type;
    out->integer = v;
    out->str[0] = '\0';
    out->len = 0;
}

/* +status or -error */
static long parse_line(const char *buf, apr_size_t len, asst_resp_reply_t *out,
                       asst_resp_type_t type)
{
    apr_size_t eol;
    int st = line_end(buf, len, BULK_MAX, &eol);

    if (st <= 0)
        return st;
    set_text(out, type, buf + 1, eol - 1);
    return (long)(eol + 2);
}

static long parse_integer(const char *buf, apr_size_t len, asst_resp_reply_t *out)
{
    apr_size_t eol;
    long long v;
    int st = line_end(buf, len, NUMBER_MAX, &eol);

    if (st <= 0)
        return st;
    if (parse_ll(buf + 1, eol - 1, &v) < 0)
        return -1;
    set_no_text(out, ASST_RESP_INTEGER, v);
    return (long)(eol + 2);
}

/* $N\r\n<N bytes>\r\n, or $-1\r\n */
static long parse_bulk(const char *buf, apr_size_t len, asst_resp_reply_t *out)
{
    apr_size_t eol, body, n;
    long long v;
    int st = line_end(buf, len, NUMBER_MAX, &eol);

    if (st <= 0)
        return st;
    if (parse_ll(buf + 1, eol - 1, &v) < 0 || v < -1 || v > (long long)BULK_MAX)
        return -1;
    if (v == -1) {
        set_no_text(out, ASST_RESP_NIL, 0);
        return (long)(eol + 2);
    }
    body = eol + 2;
    n = (apr_size_t)v;
    st = crlf_at(buf, len, body + n);
    if (st <= 0)
        return st;
    set_text(out, ASST_RESP_STRING, buf + body, n);
    return (long)(body + n + 2);
}

long asst_resp_parse(const char *buf, apr_size_t len, asst_resp_reply_t *out)
{
    if (len == 0)
        return 0;
    switch (buf[0]) {
    case '+': return parse_line(buf, len, out, ASST_RESP_STATUS);
    case '-': return parse_line(buf, len, out, ASST_RESP_ERROR);
    case ':': return parse_integer(buf, len, out);
    case '$': return parse_bulk(buf, len, out);
    default:  return -1;
    }
}
