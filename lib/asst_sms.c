#include <string.h>

#include <apr_strings.h>

#include "asst_sms.h"

static int is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

apr_size_t asst_utf8_chars(const char *s, apr_size_t len)
{
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++)
        if (!is_continuation((unsigned char)s[i]))
            n++;
    return n;
}

/* Byte offset just past the first max code points of s[0..len), or len. */
static apr_size_t skip_chars(const char *s, apr_size_t len, apr_size_t max)
{
    apr_size_t i = 0, n = 0;

    while (i < len) {
        if (!is_continuation((unsigned char)s[i]) && n++ == max)
            break;
        i++;
    }
    return i;
}

/* Where a part of s[0..end) should stop: the start of the last whitespace
 * run that follows a word, or end when the window holds no such run (one
 * long word: a hard cut) or when s[end] itself is whitespace. */
static apr_size_t cut_point(const char *s, apr_size_t len, apr_size_t end)
{
    apr_size_t i;

    if (end >= len || is_space(s[end]))
        return end;
    for (i = end - 1; i > 0; i--)
        if (is_space(s[i]) && !is_space(s[i - 1]))
            return i;
    return end;
}

static apr_size_t skip_space(const char *s, apr_size_t len, apr_size_t i)
{
    while (i < len && is_space(s[i]))
        i++;
    return i;
}

static apr_size_t trim_end(const char *s, apr_size_t start, apr_size_t end)
{
    while (end > start && is_space(s[end - 1]))
        end--;
    return end;
}

apr_array_header_t *asst_sms_split(apr_pool_t *p, const char *body, apr_size_t limit)
{
    apr_array_header_t *parts = apr_array_make(p, 2, sizeof(const char *));
    apr_size_t len = strlen(body), pos = 0;

    if (limit == 0)
        limit = 1;
    if (asst_utf8_chars(body, len) <= limit) {
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrdup(p, body);
        return parts;
    }
    pos = skip_space(body, len, 0);
    while (pos < len) {
        const char *rest = body + pos;
        apr_size_t rest_len = len - pos;
        apr_size_t end = skip_chars(rest, rest_len, limit);
        apr_size_t cut = cut_point(rest, rest_len, end);
        apr_size_t stop = trim_end(rest, 0, cut);

        if (stop > 0)
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, rest, stop);
        pos = skip_space(body, len, pos + cut);
    }
    return parts;
}
