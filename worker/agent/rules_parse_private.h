#ifndef ASST_RULES_PARSE_PRIVATE_H
#define ASST_RULES_PARSE_PRIVATE_H

#include <stddef.h>

#include "rules_parse.h"

/* Shared by rules_parse*.c and tests/unit/test_rules.c. */

/* ---- the phrase table (rules_parse.c) ---- */

/* As asst_rules_parse; returns the index of the row that decided (a
 * "known, asks for nothing" row included), or -1 when none did. */
int asst_rules_parse_row(apr_pool_t *p, const char *text, const char *last_list,
                         asst_rules_call_t *out);
int asst_rules_row_count(void);

/* ---- the pattern matcher (rules_parse_match.c) ---- */

/* A pattern is tokens separated by one space, matched in order from the
 * start of the text to its end (trailing punctuation allowed):
 *   word|word    the first alternative that matches (an ordered choice);
 *   [word|word]  the same, optional; once it matches it is kept;
 *   {slot}       a value: see the slot table in rules_parse_match.c.
 * In a word, letters are lower case and match either case; ' matches an
 * apostrophe (' or U+2019) or none ("don't", "dont"); _ matches spaces, a
 * hyphen or nothing ("time_zone": "timezone", "time zone", "time-zone").
 * A word that ends in a letter or digit must end a word of the text too.
 * A ':' or ',' right after a word is skipped ("note: milk", "hey, ..."). */

#define ASST_RULES_MAX_CAPTURES 4   /* slots in one pattern; more never match */

typedef struct {
    const char *key;       /* the JSON member it fills */
    const char *str;       /* its value; NULL: num is */
    int num;
} asst_rules_capture_t;

typedef struct {
    apr_pool_t *p;
    asst_rules_capture_t cap[ASST_RULES_MAX_CAPTURES];
    int ncap;
} asst_rules_match_t;

/* 1 when text matches pattern, with the values in m; else 0. */
int asst_rules_match(asst_rules_match_t *m, const char *pattern, const char *text);

/* ---- characters, words and values (rules_parse_text.c) ---- */

int asst_rules_is_space(int c);
const char *asst_rules_skip_spaces(const char *s);
/* Bytes of s that pattern word w[0..n) matches, or -1. */
int asst_rules_word(const char *w, size_t n, const char *s);
/* 1 when only spaces and end punctuation are left. */
int asst_rules_at_end(const char *s);
/* The text to match: trimmed, with polite openers ("please", "can you",
 * "hey") and a closing "please" taken off, and the closing '?' of a "can
 * you ...?" question. Inner bytes are the person's. */
const char *asst_rules_tidy(apr_pool_t *p, const char *text);

/* Values that take the rest of the phrase: s[0..n) cleaned, or NULL when
 * it is not one (an empty text, a name that is not a name, ...). */
const char *asst_rules_free_text(apr_pool_t *p, const char *s, size_t n);
const char *asst_rules_query(apr_pool_t *p, const char *s, size_t n);
const char *asst_rules_name(apr_pool_t *p, const char *s, size_t n);
const char *asst_rules_anything(apr_pool_t *p, const char *s, size_t n);
/* A time phrase reminders/when.h understands ("tomorrow at 9"), trimmed. */
const char *asst_rules_when(apr_pool_t *p, const char *s, size_t n);

/* Values of their own length at s: bytes taken, or -1; the value goes to
 * cap->str or cap->num. */
int asst_rules_item(apr_pool_t *p, const char *s, asst_rules_capture_t *cap);
int asst_rules_time(apr_pool_t *p, const char *s, asst_rules_capture_t *cap);
int asst_rules_timezone(apr_pool_t *p, const char *s, asst_rules_capture_t *cap);
/* A zone said on its own: a known place, UTC/GMT or Area/City, never any word. */
int asst_rules_place(apr_pool_t *p, const char *s, asst_rules_capture_t *cap);
int asst_rules_topic(apr_pool_t *p, const char *s, asst_rules_capture_t *cap);
/* "10", "10 minutes", "2 hours", "half an hour": 1..ASST_RULES_MAX_MINUTES. */
int asst_rules_minutes(apr_pool_t *p, const char *s, asst_rules_capture_t *cap);

#endif
