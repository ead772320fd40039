#include <string.h>

#include <apr_strings.h>

#include "asst_sms_shape.h"

/* ---- UTF-8 ---- */

/* The code point at s (advancing *len bytes); U+FFFD for a bad sequence. */
static unsigned decode(const unsigned char *s, size_t *len)
{
    unsigned cp;
    size_t n;

    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    cp = n == 4 ? s[0] & 0x07u : n == 3 ? s[0] & 0x0Fu : s[0] & 0x1Fu;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *len = i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    *len = n;
    return n == 1 ? 0xFFFD : cp;
}

/* ---- GSM 03.38 ---- */

static const unsigned gsm_basic_latin1[] = {
    0xA1, 0xA3, 0xA4, 0xA5, 0xA7, 0xBF, 0xC4, 0xC5, 0xC6, 0xC7, 0xC9, 0xD1, 0xD6, 0xD8, 0xDC, 0xDF,
    0xE0, 0xE4, 0xE5, 0xE6, 0xE8, 0xE9, 0xEC, 0xF1, 0xF2, 0xF6, 0xF8, 0xF9, 0xFC,
    0x393, 0x394, 0x398, 0x39B, 0x39E, 0x3A0, 0x3A3, 0x3A6, 0x3A8, 0x3A9,
};

/* Septets cp takes in GSM-7 (2 for the extension set), 0 when it has none. */
static int gsm_septets(unsigned cp)
{
    if (cp == '\n' || cp == '\r')
        return 1;
    if (cp >= 0x20 && cp < 0x7F)
        return cp == '`' ? 0 : strchr("^{}\\[~]|", (int)cp) ? 2 : 1;
    if (cp == 0x20AC || cp == '\f')
        return 2;
    for (size_t i = 0; i < sizeof(gsm_basic_latin1) / sizeof(gsm_basic_latin1[0]); i++)
        if (gsm_basic_latin1[i] == cp)
            return 1;
    return 0;
}

static int parts(size_t units, size_t single, size_t per_part)
{
    if (units == 0)
        return 0;
    return units <= single ? 1 : (int)((units + per_part - 1) / per_part);
}

int asst_sms_segments(const char *text)
{
    size_t septets = 0, utf16 = 0, len;
    int gsm = 1;

    for (const unsigned char *s = (const unsigned char *)text; *s; s += len) {
        unsigned cp = decode(s, &len);
        int n = gsm_septets(cp);
        gsm = gsm && n > 0;
        septets += (size_t)n;
        utf16 += cp > 0xFFFF ? 2 : 1;
    }
    return gsm ? parts(septets, 160, 153) : parts(utf16, 70, 67);
}

/* ---- folding ---- */

static const struct {
    unsigned cp;
    const char *gsm;
} folds[] = {
    { 0x2018, "'" }, { 0x2019, "'" }, { 0x201A, "'" }, { 0x2032, "'" },
    { 0x201C, "\"" }, { 0x201D, "\"" }, { 0x201E, "\"" }, { 0x2033, "\"" },
    { 0x2010, "-" }, { 0x2011, "-" }, { 0x2013, "-" }, { 0x2014, "-" }, { 0x2212, "-" },
    { 0x2026, "..." }, { 0x2022, "-" },
    { 0x00A0, " " }, { 0x2009, " " }, { 0x202F, " " },
};

static const char *fold(unsigned cp)
{
    for (size_t i = 0; i < sizeof(folds) / sizeof(folds[0]); i++)
        if (folds[i].cp == cp)
            return folds[i].gsm;
    return NULL;
}

/* ---- markdown ---- */

/* Writes line (len bytes, no newline) to out as plain text. */
static char *plain_line(char *out, const char *line, size_t len)
{
    size_t i = 0, n;

    while (i < len && line[i] == '#')
        i++;
    if (i > 0 && i < len && line[i] == ' ')
        i++;
    else
        i = 0;
    if (len - i >= 2 && (line[i] == '*' || line[i] == '+') && line[i + 1] == ' ') {
        *out++ = '-';
        i++;
    }
    while (i < len) {
        const char *g;
        unsigned cp;

        if ((line[i] == '*' || line[i] == '_') && i + 1 < len && line[i + 1] == line[i]) {
            i += 2;                                       /* ** or __ */
            continue;
        }
        if (line[i] == '`') {
            i++;
            continue;
        }
        if (line[i] == ']' && i + 1 < len && line[i + 1] == '(') {   /* [label](url) */
            memcpy(out, " (", 2);
            out += 2;
            i += 2;
            continue;
        }
        if (line[i] == '[' && memchr(line + i, ']', len - i)) {
            i++;
            continue;
        }
        cp = decode((const unsigned char *)line + i, &n);
        if ((g = fold(cp)) != NULL) {
            out = stpcpy(out, g);
        } else {
            memcpy(out, line + i, n);
            out += n;
        }
        i += n;
    }
    return out;
}

const char *asst_sms_plain(apr_pool_t *p, const char *text)
{
    size_t len = strlen(text);
    char *buf = apr_palloc(p, len * 3 + 1), *out = buf;   /* a fold is at most 3 bytes for 3 */
    const char *line = text;

    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        out = plain_line(out, line, n);
        if (!nl)
            break;
        *out++ = '\n';
        line = nl + 1;
    }
    *out = '\0';
    return buf;
}
