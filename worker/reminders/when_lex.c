/* The words and numbers of a time phrase: ASCII letters (lower-cased;
 * "o'clock" is "oclock", "a.m." is "am"), numbers with their minutes
 * ("7:30", "7.30") or ordinal ("1st"), "&" for "and" and "@" for "at";
 * spaces, commas, dots, dashes and end punctuation only separate. Letters
 * right after a number are the next word ("5pm", "20min"). Any other
 * byte, a word longer than a time word or too many of them: not a phrase. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "when_private.h"

#define MAX_WORD (sizeof(((asst_when_token_t *)0)->word) - 1)

/* ---- words ---- */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_letter(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_separator(int c)
{
    return c && strchr(" \t\r\n,.;!?-", c) != NULL;
}

/* ' or U+2019 inside a word ("o'clock"): its bytes, else 0. */
static int apostrophe(const char *s, const char *end)
{
    if (s < end && *s == '\'')
        return 1;
    return end - s >= 3 && memcmp(s, "\xE2\x80\x99", 3) == 0 ? 3 : 0;
}

static asst_when_token_t *push(asst_when_lexer_t *lx)
{
    asst_when_token_t *t;

    if (lx->n == ASST_WHEN_MAX_TOKENS)
        return NULL;
    t = &lx->t[lx->n++];
    memset(t, 0, sizeof(*t));
    t->minute = -1;
    return t;
}

/* "a.m." / "p.m." as "am" / "pm". */
static const char *meridiem_dots(const char *s, const char *end, asst_when_token_t *t)
{
    if (t->word[1] || (t->word[0] != 'a' && t->word[0] != 'p') || end - s < 2 || s[0] != '.' ||
        (s[1] != 'm' && s[1] != 'M'))
        return s;
    t->word[1] = 'm';
    s += 2;
    return s < end && *s == '.' ? s + 1 : s;
}

static const char *lex_word(const char *s, const char *end, asst_when_token_t *t)
{
    size_t n = 0;

    for (;;) {
        int skip = n ? apostrophe(s, end) : 0;
        if (skip && s + skip < end && is_letter(s[skip]))
            s += skip;   /* "o'clock" is "oclock" */
        if (s == end || !is_letter(*s))
            break;
        if (n == MAX_WORD)
            return NULL;
        t->word[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
        s++;
    }
    return meridiem_dots(s, end, t);
}

static int two_digits_at(const char *s, const char *end)
{
    return end - s >= 2 && is_digit(s[0]) && is_digit(s[1]) && (end - s == 2 || !is_digit(s[2]));
}

static const char *lex_number(const char *s, const char *end, asst_when_token_t *t)
{
    t->is_num = 1;
    while (s < end && is_digit(*s)) {
        if (++t->digits > 4)
            return NULL;
        t->num = t->num * 10 + (*s++ - '0');
    }
    if (s < end && (*s == ':' || *s == '.') && two_digits_at(s + 1, end)) {
        if (t->digits > 2)
            return NULL;
        t->minute = (s[1] - '0') * 10 + (s[2] - '0');
        s += 3;
    }
    if (end - s >= 2 && t->minute < 0 && (end - s == 2 || !is_letter(s[2]))) {
        static const char *const suffixes[] = { "st", "nd", "rd", "th" };
        for (size_t i = 0; i < 4; i++)
            if (strncasecmp(s, suffixes[i], 2) == 0) {
                t->ordinal = 1;
                return s + 2;
            }
    }
    return s;   /* letters right after ("5pm", "20min") are the next token */
}

int asst_when_lex(const char *s, size_t n, asst_when_lexer_t *lx)
{
    const char *end = s + n;

    lx->n = lx->i = 0;
    while (s < end) {
        asst_when_token_t *t;

        if (is_separator(*s)) {
            s++;
            continue;
        }
        if ((t = push(lx)) == NULL)
            return -1;
        if (*s == '&' || *s == '@') {
            apr_cpystrn(t->word, *s == '&' ? "and" : "at", sizeof(t->word));
            s++;
        } else if (is_digit(*s)) {
            s = lex_number(s, end, t);
        } else if (is_letter(*s)) {
            s = lex_word(s, end, t);
        } else {
            return -1;
        }
        if (!s)
            return -1;
    }
    return 0;
}
