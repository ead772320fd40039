/* The text side of the rules parser: characters and words (ASCII case
 * folding only, so UTF-8 passes through untouched), politeness, and the
 * values a phrase carries: free text, numbers, times, zones, help topics. */
#include <ctype.h>
#include <string.h>

#include <apr_strings.h>

#include "reminders/when.h"
#include "reminders/zone_place.h"
#include "rules_parse_private.h"

#define END_PUNCT ".!?,;:"

/* ---- characters and words ---- */

int asst_rules_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Letters, digits and every byte of a multi-byte UTF-8 character: "café"
 * is one word, and "noteé" is not "note". */
static int is_word(int c)
{
    unsigned char u = (unsigned char)c;

    return is_digit(u) || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

const char *asst_rules_skip_spaces(const char *s)
{
    while (asst_rules_is_space((unsigned char)*s))
        s++;
    return s;
}

/* ' or U+2019 (phones type the curly one), else 0. Either ends a word:
 * "name's" and "name’s" both start with the word "name". */
static int apostrophe_len(const char *s)
{
    if (*s == '\'')
        return 1;
    return strncmp(s, "\xE2\x80\x99", 3) == 0 ? 3 : 0;
}

/* Spaces, one hyphen, or nothing. */
static const char *skip_join(const char *s)
{
    const char *t = asst_rules_skip_spaces(s);

    return t == s && *s == '-' ? s + 1 : t;
}

int asst_rules_word(const char *w, size_t n, const char *s)
{
    const char *t = s;

    for (size_t i = 0; i < n; i++) {
        if (w[i] == '\'')
            t += apostrophe_len(t);
        else if (w[i] == '_')
            t = skip_join(t);
        else if (w[i] == ' ' && asst_rules_is_space((unsigned char)*t))
            t = asst_rules_skip_spaces(t);
        else if (lower((unsigned char)*t) == (unsigned char)w[i])
            t++;
        else
            return -1;
    }
    if (n && is_word(w[n - 1]) && is_word(*t) && !apostrophe_len(t))
        return -1;
    return (int)(t - s);
}

int asst_rules_at_end(const char *s)
{
    while (asst_rules_is_space((unsigned char)*s) || (*s && strchr(END_PUNCT, *s)))
        s++;
    return *s == '\0';
}

/* ---- politeness ---- */

typedef struct {
    const char *words;
    int asks;      /* makes the text a question: its closing '?' is not the request's */
} opener_t;

/* Openers that ask for nothing by themselves, taken off before matching
 * (repeatedly: "hey, could you please ..."). */
static const opener_t openers[] = {
    { "please", 0 }, { "pls", 0 }, { "plz", 0 }, { "kindly", 0 },
    { "can you", 1 }, { "could you", 1 }, { "would you", 1 }, { "will you", 1 },
    { "can u", 1 }, { "could u", 1 },
    { "hey", 0 }, { "hi", 0 }, { "ok", 0 }, { "okay", 0 },
};

static const char *const closers[] = { "please", "pls", "plz" };

/* s after an opener, or NULL; *asks set when the opener makes a question. */
static const char *strip_opener(const char *s, int *asks)
{
    for (size_t i = 0; i < sizeof(openers) / sizeof(*openers); i++) {
        int len = asst_rules_word(openers[i].words, strlen(openers[i].words), s);
        if (len >= 0) {
            *asks |= openers[i].asks;
            s = asst_rules_skip_spaces(s + len);
            return *s == ',' || *s == ':' ? asst_rules_skip_spaces(s + 1) : s;
        }
    }
    return NULL;
}

/* 1 when s[0..end) ends with word w (either case), standing alone. */
static int ends_with_word(const char *s, size_t end, const char *w)
{
    size_t n = strlen(w), i;

    if (end < n || (end > n && is_word(s[end - n - 1])))
        return 0;
    for (i = 0; i < n && lower((unsigned char)s[end - n + i]) == w[i]; i++)
        ;
    return i == n;
}

/* "..., please!" off the end of s, in place. */
static void strip_closer(char *s)
{
    size_t end = strlen(s);

    while (end && (asst_rules_is_space((unsigned char)s[end - 1]) || strchr(".!?", s[end - 1])))
        end--;
    for (size_t i = 0; i < sizeof(closers) / sizeof(*closers); i++) {
        if (ends_with_word(s, end, closers[i])) {
            end -= strlen(closers[i]);
            while (end && (asst_rules_is_space((unsigned char)s[end - 1]) || s[end - 1] == ','))
                end--;
            s[end] = '\0';
            return;
        }
    }
}

const char *asst_rules_tidy(apr_pool_t *p, const char *text)
{
    const char *s = asst_rules_skip_spaces(text), *next;
    int asks = 0;
    size_t n;
    char *t;

    while ((next = strip_opener(s, &asks)) != NULL)
        s = next;
    n = strlen(s);
    while (n && (asst_rules_is_space((unsigned char)s[n - 1]) || (asks && s[n - 1] == '?')))
        n--;
    t = apr_pstrmemdup(p, s, n);
    strip_closer(t);
    return t;
}

/* ---- values that take the rest of the phrase ---- */

static void trim(const char **s, size_t *n)
{
    while (*n && asst_rules_is_space((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && asst_rules_is_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Trimmed, without the separator a keyword may leave: "note: x", "note - x". */
static void trim_lead(const char **s, size_t *n)
{
    trim(s, n);
    if (*n && (strchr(":;,", **s) || (**s == '-' && *n > 1 && asst_rules_is_space((*s)[1])))) {
        (*s)++;
        (*n)--;
        trim(s, n);
    }
}

static int has_content(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_word(s[i]))
            return 1;
    return 0;
}

/* A note or a fact: one closing '.' or '!' is the sentence's, a '?' is
 * part of what the person wants kept ("is the shop open on sunday?"). */
const char *asst_rules_free_text(apr_pool_t *p, const char *s, size_t n)
{
    trim_lead(&s, &n);
    if (n && (s[n - 1] == '.' || s[n - 1] == '!'))
        n--;
    trim(&s, &n);
    return has_content(s, n) ? apr_pstrmemdup(p, s, n) : NULL;
}

/* Words to look for: closing punctuation, '?' included, is the question's. */
const char *asst_rules_query(apr_pool_t *p, const char *s, size_t n)
{
    trim_lead(&s, &n);
    while (n && (strchr(END_PUNCT, s[n - 1]) || asst_rules_is_space((unsigned char)s[n - 1])))
        n--;
    return has_content(s, n) ? apr_pstrmemdup(p, s, n) : NULL;
}

#define MAX_NAME_WORDS 4

/* What "call me ..." goes on to when it is not a name. */
static const char *const not_names[] = {
    "back", "later", "tomorrow", "tonight", "today", "now", "soon", "asap", "again", "when",
    "if", "at", "in", "on", "after", "before", "around", "maybe", "sometime", "a", "an", "the",
};

static int words_in(const char *s)
{
    int words = 0;

    while (*(s = asst_rules_skip_spaces(s))) {
        words++;
        while (*s && !asst_rules_is_space((unsigned char)*s))
            s++;
    }
    return words;
}

const char *asst_rules_name(apr_pool_t *p, const char *s, size_t n)
{
    const char *name = asst_rules_query(p, s, n);

    if (!name || words_in(name) > MAX_NAME_WORDS)
        return NULL;
    for (size_t i = 0; i < sizeof(not_names) / sizeof(*not_names); i++)
        if (asst_rules_word(not_names[i], strlen(not_names[i]), name) >= 0)
            return NULL;
    return name;
}

/* A time phrase of reminders/when.h: "tomorrow at 9", "every weekday at
 * 7:30". End punctuation is the sentence's, not the time's. */
const char *asst_rules_when(apr_pool_t *p, const char *s, size_t n)
{
    trim(&s, &n);
    while (n && strchr(END_PUNCT, s[n - 1]) && !(n > 2 && (s[n - 2] | 0x20) == 'm' && s[n - 3] == '.'))
        n--;   /* "9 a.m." keeps its dot */
    trim(&s, &n);
    return n && asst_when_is_phrase(s, n) ? apr_pstrmemdup(p, s, n) : NULL;
}

/* Anything at all (the value is dropped): "help me with my taxes". */
const char *asst_rules_anything(apr_pool_t *p, const char *s, size_t n)
{
    (void)p;
    return has_content(s, n) ? "" : NULL;
}

/* ---- values of their own length ---- */

/* "2", "#2". */
int asst_rules_item(apr_pool_t *p, const char *s, asst_rules_capture_t *cap)
{
    const char *t = *s == '#' ? asst_rules_skip_spaces(s + 1) : s;
    int item = 0;

    (void)p;
    if (!is_digit(*t))
        return -1;
    for (; is_digit(*t); t++) {
        item = item * 10 + (*t - '0');
        if (item > ASST_RULES_MAX_ITEM)
            return -1;
    }
    if (item < 1 || is_word(*t))
        return -1;
    cap->num = item;
    return (int)(t - s);
}

typedef struct {
    const char *word;
    int value;
} word_value_t;

/* Hours added to 1..12; listed so "a.m." is tried before "a.m". */
static const word_value_t meridiems[] = {
    { "am", 0 }, { "a.m.", 0 }, { "a.m", 0 }, { "pm", 12 }, { "p.m.", 12 }, { "p.m", 12 },
};

static const word_value_t named_times[] = {   /* minutes after midnight */
    { "noon", 12 * 60 }, { "midday", 12 * 60 }, { "midnight", 0 },
};

/* Bytes of the first word of table at s, its value in *value; else -1. */
static int table_word(const word_value_t *table, size_t rows, const char *s, int *value)
{
    for (size_t i = 0; i < rows; i++) {
        int len = asst_rules_word(table[i].word, strlen(table[i].word), s);
        if (len >= 0) {
            *value = table[i].value;
            return len;
        }
    }
    return -1;
}

/* "7:30" / "07.30" / "22h": the digits after the hour, or -1 for none. */
static int minutes_part(const char **t)
{
    const char *s = *t;

    if ((*s == ':' || *s == '.') && is_digit(s[1]) && is_digit(s[2]) && !is_digit(s[3])) {
        *t = s + 3;
        return (s[1] - '0') * 10 + (s[2] - '0');
    }
    if ((*s == 'h' || *s == 'H') && !is_word(s[1])) {
        *t = s + 1;
        return 0;
    }
    return -1;
}

/* Minutes after midnight of a clock time at s, or -1. A bare number is
 * not a time: "quiet hours 10 to 7" could mean either half of the day,
 * so the person is asked to say 22:00 or 10pm instead. */
static int clock_time(const char **t)
{
    const char *s = *t;
    int hour = 0, minute, shift = -1, len;

    if (!is_digit(*s))
        return -1;
    for (int digits = 0; is_digit(*s) && digits < 2; digits++)
        hour = hour * 10 + (*s++ - '0');
    minute = minutes_part(&s);
    len = table_word(meridiems, sizeof(meridiems) / sizeof(*meridiems),
                     asst_rules_skip_spaces(s), &shift);
    if (len >= 0)
        s = asst_rules_skip_spaces(s) + len;
    else if (minute < 0 || is_word(*s))
        return -1;
    if (minute < 0)
        minute = 0;
    if (minute > 59 || (shift >= 0 ? hour < 1 || hour > 12 : hour > 23))
        return -1;
    *t = s;
    return (shift >= 0 ? hour % 12 + shift : hour) * 60 + minute;
}

int asst_rules_time(apr_pool_t *p, const char *s, asst_rules_capture_t *cap)
{
    const char *t = s;
    int minutes, len;

    len = table_word(named_times, sizeof(named_times) / sizeof(*named_times), s, &minutes);
    if (len >= 0)
        t = s + len;
    else if ((minutes = clock_time(&t)) < 0)
        return -1;
    cap->str = apr_psprintf(p, "%02d:%02d", minutes / 60, minutes % 60);
    return (int)(t - s);
}

/* ---- snooze minutes ---- */

static const word_value_t minute_units[] = {   /* minutes in one */
    { "minutes", 1 }, { "minute", 1 }, { "mins", 1 }, { "min", 1 }, { "m", 1 },
    { "hours", 60 }, { "hour", 60 }, { "hrs", 60 }, { "hr", 60 }, { "h", 60 },
};

static const word_value_t minute_phrases[] = {
    { "half an hour", 30 }, { "an hour", 60 }, { "one hour", 60 }, { "a minute", 1 },
};

/* "10", "10 minutes", "10min", "2 hours", "half an hour": 1..1440. */
int asst_rules_minutes(apr_pool_t *p, const char *s, asst_rules_capture_t *cap)
{
    const char *t = s;
    int minutes = 0, unit = 1, len;

    (void)p;
    if ((len = table_word(minute_phrases, sizeof(minute_phrases) / sizeof(*minute_phrases), s,
                          &minutes)) >= 0) {
        t = s + len;
    } else {
        for (; is_digit(*t) && minutes <= ASST_RULES_MAX_MINUTES; t++)
            minutes = minutes * 10 + (*t - '0');
        if (t == s)
            return -1;
        len = table_word(minute_units, sizeof(minute_units) / sizeof(*minute_units),
                         asst_rules_skip_spaces(t), &unit);
        if (len >= 0)
            t = asst_rules_skip_spaces(t) + len;
        else if (is_word(*t))
            return -1;
        minutes *= unit;
    }
    if (minutes < 1 || minutes > ASST_RULES_MAX_MINUTES)
        return -1;
    cap->num = minutes;
    return (int)(t - s);
}

typedef struct {
    const char *word;
    const char *value;
} word_string_t;

/* Zone words people type that are not PostgreSQL's spelling. */
static const word_string_t zone_aliases[] = {
    { "utc", "UTC" }, { "gmt", "UTC" },
};

/* A place people name for their zone ("new york", "London": its IANA
 * name, reminders/zone_place.h), else one word, as typed
 * ("Europe/Berlin"): the tool checks it against PostgreSQL's zone names,
 * which are case-sensitive there. */
int asst_rules_timezone(apr_pool_t *p, const char *s, asst_rules_capture_t *cap)
{
    size_t len = asst_zone_place_prefix(s, &cap->str), n;

    if (len > 0)
        return (int)len;
    while (s[len] && !asst_rules_is_space((unsigned char)s[len]))
        len++;
    for (n = len; n && strchr(END_PUNCT, s[n - 1]); n--)
        ;
    if (!has_content(s, n))
        return -1;
    cap->str = apr_pstrmemdup(p, s, n);
    for (size_t i = 0; i < sizeof(zone_aliases) / sizeof(*zone_aliases); i++)
        if (asst_rules_word(zone_aliases[i].word, strlen(zone_aliases[i].word), cap->str)
            == (int)n)
            cap->str = zone_aliases[i].value;
    return (int)len;
}

/* As a zone when the text is nothing else ("London", "I'm in Chicago"):
 * a place, UTC/GMT, or a word shaped like an IANA name (Area/City), so a
 * word that is neither is not taken for a zone. */
int asst_rules_place(apr_pool_t *p, const char *s, asst_rules_capture_t *cap)
{
    size_t place = asst_zone_place_prefix(s, &cap->str);
    int len;

    if (place > 0)
        return (int)place;
    if ((len = asst_rules_timezone(p, s, cap)) <= 0 || strcmp(cap->str, "UTC") == 0)
        return len;
    for (const char *c = cap->str; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr("/_+-", *c)))
            return -1;
    return strchr(cap->str, '/') ? len : -1;
}

static const word_string_t topics[] = {
    { "notes", "notes" }, { "note", "notes" },
    { "memories", "memory" }, { "memory", "memory" }, { "remembering", "memory" },
    { "remember", "memory" }, { "forgetting", "memory" }, { "facts", "memory" },
    { "settings", "settings" }, { "setting", "settings" }, { "preferences", "settings" },
    { "time_zones", "settings" }, { "time_zone", "settings" }, { "quiet_hours", "settings" },
    { "name", "settings" }, { "digest", "settings" },
    { "reminders", "reminders" }, { "reminder", "reminders" }, { "reminding", "reminders" },
};

int asst_rules_topic(apr_pool_t *p, const char *s, asst_rules_capture_t *cap)
{
    (void)p;
    for (size_t i = 0; i < sizeof(topics) / sizeof(*topics); i++) {
        int len = asst_rules_word(topics[i].word, strlen(topics[i].word), s);
        if (len >= 0) {
            cap->str = topics[i].value;
            return len;
        }
    }
    return -1;
}
