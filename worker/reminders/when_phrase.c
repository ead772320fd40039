/* The time phrases people text, parsed without a clock: what
 * asst_when_is_phrase accepts is exactly what when_resolve.c turns into a
 * date-time. A phrase is a few parts in any order, each at most once:
 *
 *   relative  "in 20 minutes", "in an hour and 30 minutes", "in 2 days"
 *   day       "today", "tonight", "tomorrow", "the day after tomorrow",
 *             "[on] [this] friday", "next monday", "next week",
 *             "[on] [the] 12[th] [of] march [2027]", "march 12[th] [2027]"
 *   time      "[at] 5pm", "[at] 17:30", "at 5", "at seven", "at 9 o'clock",
 *             "22h", "noon", "midnight"
 *   period    "in the morning", "this evening", "[at] night", "afternoon"
 *   repeat    "every [other|N] day|week|month|year", "every weekday",
 *             "every weekend", "every monday and thursday", "every morning",
 *             "every month on the 1st|last day", "every year on 4 july",
 *             "every 4 july", "on mondays", "on weekdays", "daily", "weekly",
 *             "monthly", "yearly", "on the 1st of every month"
 *
 * A number alone is not a time ("2 eggs"): it needs "at", am/pm, minutes
 * or "o'clock". The words come from when_lex.c. */
#include <string.h>

#include "when_private.h"

#define MAX_PHRASE 200   /* bytes: a time said in more is not one we know */

/* ---- reading tokens ---- */

static const asst_when_token_t *token_at(const asst_when_lexer_t *lx, int i)
{
    return i < lx->n ? &lx->t[i] : NULL;
}

/* Index in alternatives ("a|b|c") of the word at i, or -1. */
static int word_at(const asst_when_lexer_t *lx, int i, const char *alternatives)
{
    const asst_when_token_t *t = token_at(lx, i);
    size_t len;
    int index = 0;

    if (!t || t->is_num || !t->word[0])
        return -1;
    len = strlen(t->word);
    for (const char *a = alternatives; *a; index++) {
        size_t n = strcspn(a, "|");
        if (n == len && memcmp(a, t->word, n) == 0)
            return index;
        a += n + (a[n] == '|');
    }
    return -1;
}

/* Takes the current word when it is one of alternatives: its index, or -1. */
static int take_in(asst_when_lexer_t *lx, const char *alternatives)
{
    int index = word_at(lx, lx->i, alternatives);

    if (index >= 0)
        lx->i++;
    return index;
}

static int take(asst_when_lexer_t *lx, const char *alternatives)
{
    return take_in(lx, alternatives) >= 0;
}

/* The row of table (alternatives per row) the current word is in, taken; or -1. */
static int take_row(asst_when_lexer_t *lx, const char *const *table, int rows)
{
    for (int row = 0; row < rows; row++)
        if (take(lx, table[row]))
            return row;
    return -1;
}

/* The current token when it is a plain number (no minutes, no "th"). */
static const asst_when_token_t *plain_number(const asst_when_lexer_t *lx)
{
    const asst_when_token_t *t = token_at(lx, lx->i);

    return t && t->is_num && t->minute < 0 && !t->ordinal ? t : NULL;
}

/* Fails a part: back to where it started. */
static int back(asst_when_lexer_t *lx, int start)
{
    lx->i = start;
    return 0;
}

/* ---- tables ---- */

#define TOMORROW "tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow"

static const char *const weekday_words[7] = {
    "sunday|sun|sundays", "monday|mon|mondays", "tuesday|tue|tues|tuesdays",
    "wednesday|wed|weds|wednesdays", "thursday|thu|thur|thurs|thursdays", "friday|fri|fridays",
    "saturday|sat|saturdays",
};
#define WEEKDAY_PLURALS "sundays|mondays|tuesdays|wednesdays|thursdays|fridays|saturdays"

static const char *const month_words[12] = {
    "january|jan", "february|feb", "march|mar", "april|apr", "may", "june|jun", "july|jul",
    "august|aug", "september|sep|sept", "october|oct", "november|nov", "december|dec",
};

static const char *const unit_words[] = {
    "second|seconds|sec|secs|s", "minute|minutes|min|mins|m", "hour|hours|hr|hrs|h",
    "day|days|d", "week|weeks|wk|wks|w",
};
static const long long unit_seconds[] = { 1, 60, 60 * 60, 24 * 60 * 60, 7 * 24 * 60 * 60 };
#define UNIT_HOUR 2
#define UNIT_DAY 3
#define MAX_COUNT 9999

#define SMALL_NUMBERS "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|" \
    "thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
#define TENS "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
#define DIGIT_WORDS "one|two|three|four|five|six|seven|eight|nine"

static const char *const period_words[] = { "morning", "afternoon", "evening", "night|nite" };
static const asst_when_half_t period_halves[] = {
    WHEN_HALF_AM, WHEN_HALF_PM, WHEN_HALF_PM, WHEN_HALF_PM,
};
static const int period_minutes[] = { 9 * 60, 15 * 60, 18 * 60, 20 * 60 };
#define PERIOD_NIGHT 3

#define WEEKDAYS_MASK 0x3E   /* Monday .. Friday */
#define WEEKEND_MASK 0x41    /* Saturday, Sunday */

/* ---- numbers ---- */

/* A number written in words: "seven", "twenty five"; -1 if none. */
static int take_number_words(asst_when_lexer_t *lx)
{
    int small = take_in(lx, SMALL_NUMBERS), ten;

    if (small >= 0)
        return small;
    if ((ten = take_in(lx, TENS)) < 0)
        return -1;
    small = take_in(lx, DIGIT_WORDS);
    return (ten + 2) * 10 + small + 1;
}

/* A count: "20", "twenty", "a", "an"; -1 if none. */
static int take_count(asst_when_lexer_t *lx)
{
    const asst_when_token_t *t = plain_number(lx);

    if (t) {
        lx->i++;
        return t->num;
    }
    if (take(lx, "a|an"))
        return 1;
    return take_number_words(lx);
}

/* A day of the month: "12", "12th", "1st", "first"; 0 if none. */
static int take_mday(asst_when_lexer_t *lx)
{
    const asst_when_token_t *t = token_at(lx, lx->i);

    if (t && t->is_num && t->minute < 0 && t->digits <= 2 && t->num >= 1 && t->num <= 31) {
        lx->i++;
        return t->num;
    }
    return take(lx, "first") ? 1 : 0;
}

static int take_year(asst_when_lexer_t *lx)
{
    const asst_when_token_t *t = plain_number(lx);

    if (!t || t->digits != 4)
        return 0;
    lx->i++;
    return t->num;
}

/* ---- parts ---- */

enum { PART_RELATIVE = 1, PART_DAY = 2, PART_TIME = 4, PART_PERIOD = 8, PART_REPEAT = 16 };

/* "20 minutes", "an hour": added to *seconds; *whole_days cleared by a
 * unit under a day. */
static int take_amount(asst_when_lexer_t *lx, long long *seconds, int *whole_days, int *unit)
{
    int start = lx->i, count = take_count(lx), row;

    if (count < 1 || count > MAX_COUNT || (row = take_row(lx, unit_words, 5)) < 0)
        return back(lx, start);
    *seconds += count * unit_seconds[row];
    *whole_days &= row >= UNIT_DAY;
    *unit = row;
    return 1;
}

/* "in 20 minutes", "in an hour and 30 minutes", "in an hour and a half",
 * "in half an hour", "in 2 days" (a day: with a time, or at this time). */
static int relative(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i, whole_days = 1, unit = UNIT_HOUR, mark;
    long long seconds = 0;

    if (!take(lx, "in"))
        return 0;
    if (take(lx, "half")) {
        if (!take(lx, "a|an") || !take(lx, unit_words[UNIT_HOUR]))
            return back(lx, start);
        seconds = unit_seconds[UNIT_HOUR] / 2, whole_days = 0;
    } else if (!take_amount(lx, &seconds, &whole_days, &unit)) {
        return back(lx, start);
    }
    for (;;) {   /* "and 30 minutes", "30 minutes" */
        mark = lx->i;
        take(lx, "and");
        if (!take_amount(lx, &seconds, &whole_days, &unit))
            break;
    }
    lx->i = mark;
    if (take(lx, "and") && take(lx, "a") && take(lx, "half"))
        seconds += unit_seconds[unit] / 2, whole_days = 0;
    else
        lx->i = mark;
    if (whole_days) {
        out->day = WHEN_DAY_OFFSET;
        out->days = (int)(seconds / unit_seconds[UNIT_DAY]);
        out->default_minutes = WHEN_NOW_TIME;
    } else {
        out->in_seconds = seconds;
    }
    return 1;
}

/* "12 march", "the 12th of march 2027", "march 12th": 1 with year (0:
 * none said), month and day, which the month has in a leap year. */
static int date(asst_when_lexer_t *lx, int *year, int *month, int *mday)
{
    int start = lx->i, m = 0, d;

    take(lx, "the");
    if ((d = take_mday(lx)) > 0) {
        take(lx, "of");
        m = take_row(lx, month_words, 12) + 1;
    } else if ((m = take_row(lx, month_words, 12) + 1) > 0) {
        take(lx, "the");
        d = take_mday(lx);
    }
    if (m < 1 || d < 1 || d > asst_when_days_in_month(2000, m))
        return back(lx, start);
    *year = take_year(lx);
    *month = m, *mday = d;
    return 1;
}

static void set_offset(asst_when_parsed_t *out, int days)
{
    out->day = WHEN_DAY_OFFSET;
    out->days = days;
}

static void set_period(asst_when_parsed_t *out, int row)
{
    out->period = period_halves[row];
    out->night = row == PERIOD_NIGHT;
    out->default_minutes = period_minutes[row];
}

static int day_after_tomorrow(asst_when_lexer_t *lx)
{
    int start = lx->i;

    take(lx, "the");
    if (take(lx, "day") && take(lx, "after") && take(lx, TOMORROW))
        return 1;
    return back(lx, start);
}

/* "today", "tonight", "tomorrow", "the day after tomorrow". */
static int named_day(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    if (take(lx, "today")) {
        set_offset(out, 0);
        out->default_minutes = WHEN_NO_TIME;
    } else if (take(lx, "tonight|tonite")) {
        set_offset(out, 0);
        set_period(out, PERIOD_NIGHT);
    } else if (take(lx, TOMORROW)) {
        set_offset(out, 1);
    } else if (day_after_tomorrow(lx)) {
        set_offset(out, 2);
    } else {
        return 0;
    }
    return 1;
}

/* "next monday", "next week". */
static int next_day(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i;

    if (!take(lx, "next"))
        return 0;
    if (take(lx, "week")) {
        set_offset(out, 7);
        return 1;
    }
    if ((out->weekday = take_row(lx, weekday_words, 7)) < 0)
        return back(lx, start);
    out->day = WHEN_DAY_NEXT;
    return 1;
}

/* "friday", "this friday". */
static int weekday(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i;

    take(lx, "this");
    if (word_at(lx, lx->i, WEEKDAY_PLURALS) >= 0 ||   /* "mondays" repeat */
        (out->weekday = take_row(lx, weekday_words, 7)) < 0)
        return back(lx, start);
    out->day = WHEN_DAY_WEEKDAY;
    return 1;
}

static int on_date(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    if (!date(lx, &out->year, &out->month, &out->mday))
        return 0;
    out->day = WHEN_DAY_DATE;
    return 1;
}

static int day(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i;

    take(lx, "on");
    if (named_day(lx, out) || next_day(lx, out) || weekday(lx, out) || on_date(lx, out))
        return 1;
    return back(lx, start);
}

/* An hour in digits: "5", "17:30", "07:00"; a 24-hour clock says which
 * half of the day it is. */
static int digit_hour(asst_when_lexer_t *lx, int *hour, int *minute, asst_when_half_t *half)
{
    const asst_when_token_t *t = token_at(lx, lx->i);

    if (!t || !t->is_num || t->ordinal || t->digits > 2)
        return 0;
    lx->i++;
    *hour = t->num, *minute = t->minute;
    *half = t->num == 0 || t->num > 12 || (t->digits == 2 && t->num < 10) ? WHEN_HALF_EXACT
                                                                          : WHEN_HALF_GUESS;
    return 1;
}

static int set_clock(asst_when_parsed_t *out, int hour, int minute, asst_when_half_t half)
{
    int twelve = half == WHEN_HALF_AM || half == WHEN_HALF_PM;

    if (minute > 59 || (twelve ? hour < 1 || hour > 12 : hour > 23))
        return 0;
    out->hour = hour, out->minute = minute < 0 ? 0 : minute, out->half = half;
    return 1;
}

/* "5pm", "at 5", "17:30", "at seven", "9 o'clock", "22h", "noon". A
 * number is a time only when something says so: "at", am/pm, minutes. */
static int clock_time(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i, said_at = take(lx, "at|around|about|by"), hour, minute = -1, marked;
    asst_when_half_t half = WHEN_HALF_GUESS;

    if (take(lx, "noon|midday"))
        return set_clock(out, 12, 0, WHEN_HALF_EXACT);
    if (take(lx, "midnight")) {
        out->hour = 24, out->minute = 0, out->half = WHEN_HALF_EXACT;
        return 1;
    }
    if (!digit_hour(lx, &hour, &minute, &half) && (!said_at || (hour = take_number_words(lx)) < 1))
        return back(lx, start);
    marked = said_at || minute >= 0;
    marked |= take(lx, "oclock");
    if (take(lx, "am|a"))
        half = WHEN_HALF_AM, marked = 1;
    else if (take(lx, "pm|p"))
        half = WHEN_HALF_PM, marked = 1;
    else if (minute < 0 && take(lx, "h"))
        half = WHEN_HALF_EXACT, marked = 1;
    if (!marked || !set_clock(out, hour, minute, half))
        return back(lx, start);
    return 1;
}

/* "in the morning", "this evening" (today), "at night", "afternoon". */
static int period(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i, this = 0, row;

    if (take(lx, "in"))
        take(lx, "the");
    else if (!(this = take(lx, "this")))
        take(lx, "at");
    if ((row = take_row(lx, period_words, 4)) < 0)
        return back(lx, start);
    set_period(out, row);
    if (this && out->day == WHEN_DAY_NONE)
        set_offset(out, 0);
    return 1;
}

/* "monday and thursday", "mondays, wednesdays & fridays": a mask, or 0. */
static int weekday_list(asst_when_lexer_t *lx)
{
    int mask = 0, row, mark;

    for (;;) {
        mark = lx->i;
        if (mask)
            take(lx, "and");
        if ((row = take_row(lx, weekday_words, 7)) < 0) {
            lx->i = mark;
            return mask;
        }
        mask |= 1 << row;
    }
}

/* "every 2 weeks": N before a unit, not "every 4 july". */
static int take_interval(asst_when_lexer_t *lx)
{
    const asst_when_token_t *t = plain_number(lx);

    if (take(lx, "other"))
        return 2;
    if (!t || t->num < 2 || t->num > 99 ||
        word_at(lx, lx->i + 1, "days|weeks|months|years") < 0)
        return 1;
    lx->i++;
    return t->num;
}

/* "month [on the 1st|last day]". */
static int every_month(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    out->freq = WHEN_MONTHLY;
    if (!take(lx, "on"))
        return 1;
    take(lx, "the");
    if (take(lx, "last")) {
        out->mday = -1;
        return take(lx, "day");
    }
    out->mday = take_mday(lx);
    take(lx, "day");
    return out->mday > 0;
}

/* What follows "every [other|N]": day, morning, weekday, monday and
 * thursday, week [on ...], month [on the 1st], year [on 4 july], 4 july. */
static int every(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int row, year = 0;

    if (take(lx, "day|days")) {
        out->freq = WHEN_DAILY;
    } else if ((row = take_row(lx, period_words, 4)) >= 0) {
        out->freq = WHEN_DAILY;
        set_period(out, row);
    } else if ((row = take_in(lx, "weekday|weekdays|weekend|weekends")) >= 0) {
        out->freq = WHEN_WEEKLY, out->weekdays = row < 2 ? WEEKDAYS_MASK : WEEKEND_MASK;
    } else if ((out->weekdays = weekday_list(lx)) != 0) {
        out->freq = WHEN_WEEKLY;
    } else if (take(lx, "week|weeks")) {
        out->freq = WHEN_WEEKLY;
        return !take(lx, "on") || (out->weekdays = weekday_list(lx)) != 0;
    } else if (take(lx, "month|months")) {
        return every_month(lx, out);
    } else if (take(lx, "year|years")) {
        out->freq = WHEN_YEARLY;
        return !take(lx, "on") || (date(lx, &year, &out->month, &out->mday) && !year);
    } else if (date(lx, &year, &out->month, &out->mday) && !year) {
        out->freq = WHEN_YEARLY;
    } else {
        return 0;
    }
    return 1;
}

/* "daily", "weekly", "monthly", "yearly". */
static int adverb(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    static const asst_when_freq_t freqs[] = { WHEN_DAILY, WHEN_WEEKLY, WHEN_MONTHLY, WHEN_YEARLY,
                                              WHEN_YEARLY };
    int row = take_in(lx, "daily|weekly|monthly|yearly|annually");

    if (row < 0)
        return 0;
    out->freq = freqs[row];
    return 1;
}

/* "on weekdays", "on mondays and thursdays". */
static int plural_days(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i, row;

    take(lx, "on");
    if ((row = take_in(lx, "weekdays|weekends")) >= 0)
        out->weekdays = row == 0 ? WEEKDAYS_MASK : WEEKEND_MASK;
    else if (word_at(lx, lx->i, WEEKDAY_PLURALS) < 0 || (out->weekdays = weekday_list(lx)) == 0)
        return back(lx, start);
    out->freq = WHEN_WEEKLY;
    return 1;
}

/* "on the 1st of every month". */
static int day_of_every_month(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i;

    take(lx, "on");
    take(lx, "the");
    if (!(out->mday = take_mday(lx)) || !take(lx, "of") || !take(lx, "every|each") ||
        !take(lx, "month"))
        return back(lx, start);
    out->freq = WHEN_MONTHLY;
    return 1;
}

static int repeat(asst_when_lexer_t *lx, asst_when_parsed_t *out)
{
    int start = lx->i;

    if (take(lx, "every|each")) {
        out->interval = take_interval(lx);
        if (every(lx, out))
            return 1;
    } else if (adverb(lx, out) || plural_days(lx, out) || day_of_every_month(lx, out)) {
        return 1;
    }
    return back(lx, start);
}

/* ---- the phrase ---- */

typedef int part_fn(asst_when_lexer_t *lx, asst_when_parsed_t *out);

typedef struct {
    int part;
    part_fn *parse;
} part_t;

/* Tried in this order at each position: "every day" before "day", and
 * "in 20 minutes" before "in the morning". */
static const part_t parts[] = {
    { PART_REPEAT, repeat }, { PART_RELATIVE, relative }, { PART_DAY, day },
    { PART_TIME, clock_time }, { PART_PERIOD, period },
};

static void init(asst_when_parsed_t *out)
{
    memset(out, 0, sizeof(*out));
    out->day = WHEN_DAY_NONE;
    out->hour = -1;
    out->half = out->period = WHEN_HALF_GUESS;
    out->default_minutes = 9 * 60;
    out->freq = WHEN_ONCE;
    out->interval = 1;
}

/* Parts that do not go together: "in 20 minutes" is the whole phrase;
 * "in 2 days" is the day; a repeat has its own days. */
static int consistent(int seen, const asst_when_parsed_t *out)
{
    if (out->in_seconds)
        return seen == PART_RELATIVE;
    if ((seen & PART_RELATIVE) && (seen & PART_DAY))
        return 0;
    if ((seen & PART_REPEAT) && (seen & (PART_DAY | PART_RELATIVE)))
        return 0;
    return seen != 0;
}

/* The next part at lx's position that was not seen yet: its bit, or 0.
 * A part that does not match leaves lx and out as they were. */
static int next_part(asst_when_lexer_t *lx, int seen, asst_when_parsed_t *out)
{
    for (size_t k = 0; k < sizeof(parts) / sizeof(*parts); k++) {
        asst_when_parsed_t trial = *out;
        if (!(seen & parts[k].part) && parts[k].parse(lx, &trial)) {
            *out = trial;
            return parts[k].part;
        }
    }
    return 0;
}

int asst_when_parse(const char *s, size_t n, asst_when_parsed_t *out)
{
    asst_when_lexer_t lx;
    int seen = 0, part;

    init(out);
    if (!s || n > MAX_PHRASE || asst_when_lex(s, n, &lx) < 0 || lx.n == 0)
        return -1;
    while (lx.i < lx.n) {
        if ((part = next_part(&lx, seen, out)) == 0)
            return -1;
        seen |= part;
    }
    return consistent(seen, out) ? 0 : -1;
}

int asst_when_is_phrase(const char *s, size_t n)
{
    asst_when_parsed_t parsed;

    return asst_when_parse(s, n, &parsed) == 0;
}
