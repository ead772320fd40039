/* The pattern matcher of the rules parser (the language is described in
 * rules_parse_private.h). Ordered choices and kept optionals make a
 * pattern read like a PEG; only a slot that takes the rest of the phrase
 * backtracks, over where it ends. */
#include <string.h>

#include "rules_parse_private.h"

/* A slot either takes free text up to where the rest of the pattern can
 * match (rest), or reads a value of its own length (sized). A rest slot
 * takes the longest such span, or with `shortest` the shortest: in
 * "remind me to {what} {when}" the time is all of the end that is one. */
typedef struct {
    const char *name;    /* in the pattern: {name} */
    const char *key;     /* the JSON member it fills; NULL: none */
    const char *(*rest)(apr_pool_t *p, const char *s, size_t n);
    int (*sized)(apr_pool_t *p, const char *s, asst_rules_capture_t *cap);
    int shortest;
} slot_t;

static const slot_t slots[] = {
    { "text",    "text",        asst_rules_free_text, NULL, 0 },
    { "what",    "text",        asst_rules_free_text, NULL, 1 },
    { "when",    "when",        asst_rules_when,      NULL, 0 },
    { "query",   "query",       asst_rules_query,     NULL, 0 },
    { "name",    "name",        asst_rules_name,      NULL, 0 },
    { "any",     NULL,          asst_rules_anything,  NULL, 0 },
    { "item",    "item",        NULL, asst_rules_item, 0 },
    { "start",   "quiet_start", NULL, asst_rules_time, 0 },
    { "end",     "quiet_end",   NULL, asst_rules_time, 0 },
    { "digest",  "digest_at",   NULL, asst_rules_time, 0 },
    { "tz",      "timezone",    NULL, asst_rules_timezone, 0 },
    { "place",   "timezone",    NULL, asst_rules_place, 0 },
    { "topic",   "topic",       NULL, asst_rules_topic, 0 },
    { "minutes", "minutes",     NULL, asst_rules_minutes, 0 },
};

typedef struct {
    const char *s;      /* the alternatives, or the slot's name */
    size_t n;
    int optional;
    int is_slot;
    const slot_t *slot;   /* NULL for a name not in slots[]: never matches */
} token_t;

static const slot_t *slot_named(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(slots) / sizeof(*slots); i++)
        if (strlen(slots[i].name) == n && memcmp(slots[i].name, name, n) == 0)
            return &slots[i];
    return NULL;
}

/* The token at pat into t; returns what follows it, or NULL at the end. */
static const char *next_token(const char *pat, token_t *t)
{
    size_t n;
    int bracketed;

    while (*pat == ' ')
        pat++;
    if (!*pat)
        return NULL;
    n = strcspn(pat, " ");
    bracketed = *pat == '[' || *pat == '{';
    t->s = pat + bracketed;
    t->n = n - 2 * bracketed;
    t->optional = *pat == '[';
    t->is_slot = *pat == '{';
    t->slot = t->is_slot ? slot_named(t->s, t->n) : NULL;
    return pat + n;
}

/* Bytes taken by the first alternative of t that matches at s, or -1. */
static int choice_len(const token_t *t, const char *s)
{
    const char *alt = t->s, *end = t->s + t->n;

    while (alt < end) {
        const char *bar = memchr(alt, '|', (size_t)(end - alt));
        size_t n = (size_t)((bar ? bar : end) - alt);
        int len = asst_rules_word(alt, n, s);
        if (len >= 0)
            return len;
        alt += n + 1;
    }
    return -1;
}

static const char *skip_separator(const char *s)
{
    s = asst_rules_skip_spaces(s);
    return *s == ':' || *s == ',' ? s + 1 : s;
}

static int match_from(asst_rules_match_t *m, const char *pat, const char *s);

/* Reserves the next capture for slot; NULL when the slot fills none. */
static asst_rules_capture_t *capture(asst_rules_match_t *m, const slot_t *slot)
{
    asst_rules_capture_t *cap;

    if (!slot->key)
        return NULL;
    cap = &m->cap[m->ncap++];
    cap->key = slot->key;
    cap->str = NULL;
    cap->num = 0;
    return cap;
}

static int match_sized(asst_rules_match_t *m, const slot_t *slot, const char *pat,
                       const char *s)
{
    int saved = m->ncap;
    asst_rules_capture_t scratch, *cap = capture(m, slot);
    int len = slot->sized(m->p, s, cap ? cap : &scratch);

    if (len > 0 && match_from(m, pat, s + len))
        return 1;
    m->ncap = saved;
    return 0;
}

/* s[0..n) as the slot's value, if the rest of the pattern matches after it. */
static int match_span(asst_rules_match_t *m, const slot_t *slot, const char *pat,
                      const char *s, size_t n)
{
    int saved = m->ncap;
    asst_rules_capture_t *cap = capture(m, slot);
    const char *value;

    if (match_from(m, pat, s + n) && (value = slot->rest(m->p, s, n)) != NULL) {
        if (cap)
            cap->str = value;
        return 1;
    }
    m->ncap = saved;
    return 0;
}

static int span_ends_at(const char *s, size_t n)
{
    return !s[n] || asst_rules_is_space((unsigned char)s[n]);
}

/* Last in the pattern the slot takes the whole rest; else the longest
 * (or shortest) span, ending at a space or the end, after which the
 * pattern matches ("add {text} to my notes"). */
static int match_rest(asst_rules_match_t *m, const slot_t *slot, const char *pat,
                      const char *s)
{
    token_t next;
    size_t len = strlen(s);

    if (!next_token(pat, &next))
        return match_span(m, slot, pat, s, len);
    if (slot->shortest) {
        for (size_t n = 1; n <= len; n++)
            if (span_ends_at(s, n) && match_span(m, slot, pat, s, n))
                return 1;
        return 0;
    }
    for (size_t n = len; n > 0; n--)
        if (span_ends_at(s, n) && match_span(m, slot, pat, s, n))
            return 1;
    return 0;
}

static int match_from(asst_rules_match_t *m, const char *pat, const char *s)
{
    token_t t;
    const char *rest = next_token(pat, &t);
    int len;

    s = asst_rules_skip_spaces(s);
    if (!rest)
        return asst_rules_at_end(s);
    if (t.is_slot && (!t.slot || m->ncap == ASST_RULES_MAX_CAPTURES))
        return 0;
    if (t.slot)
        return t.slot->rest ? match_rest(m, t.slot, rest, s) : match_sized(m, t.slot, rest, s);
    len = choice_len(&t, s);
    if (len < 0)
        return t.optional && match_from(m, rest, s);
    return match_from(m, rest, skip_separator(s + len));
}

int asst_rules_match(asst_rules_match_t *m, const char *pattern, const char *text)
{
    m->ncap = 0;
    return match_from(m, pattern, text);
}
