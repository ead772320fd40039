#ifndef ASST_WHEN_PRIVATE_H
#define ASST_WHEN_PRIVATE_H

#include <libical/ical.h>

#include "when.h"

/* Shared by when_*.c and tests/unit/test_when.c. A wall-clock time is a
 * floating struct icaltimetype (no zone, not a date): what libical's
 * recurrence iterator walks, so a series moves in wall-clock steps and a
 * daily 09:00 stays 09:00 whatever the offset does. */

#define ASST_WHEN_MIN_YEAR 1970
#define ASST_WHEN_MAX_YEAR 2199   /* beyond it, zone rules are guesses anyway */

/* ---- wall clock and zones (when_zone.c) ---- */

/* The zone named (IANA, case as in /usr/share/zoneinfo; "UTC" too), or NULL. */
icaltimezone *asst_when_zone(const char *zone);

/* Seconds since 1970-01-01 00:00 of a wall time read as if it were UTC,
 * and back: calendar arithmetic without any zone. */
long long asst_when_wall_seconds(struct icaltimetype wall);
struct icaltimetype asst_when_wall_at(long long seconds);

/* Day of the week of a wall time: 0 Sunday .. 6 Saturday. */
int asst_when_weekday(struct icaltimetype wall);
int asst_when_days_in_month(int year, int month);

/* The instant of a wall time in z: the spring gap moves it forward by
 * the gap, the autumn fold takes its first occurrence. */
apr_time_t asst_when_wall_instant(icaltimezone *z, struct icaltimetype wall);
/* The same, but a wall time of the fold whose first occurrence is not
 * after `after` is its second: "at 1:30" (or "in 20 minutes") said while
 * the clock goes round 01:00-02:00 again means the 01:30 still to come. */
apr_time_t asst_when_wall_instant_after(icaltimezone *z, struct icaltimetype wall, apr_time_t after);
/* The wall time of an instant in z (whole seconds). */
struct icaltimetype asst_when_wall_of(icaltimezone *z, apr_time_t at);
/* Seconds to add to UTC to get z's wall time at an instant. */
int asst_when_offset(icaltimezone *z, apr_time_t at);

/* "YYYY-MM-DDTHH:MM[:SS]" into *wall: 0, or -1 with *err. */
int asst_when_parse_local(const char *local, struct icaltimetype *wall, const char **err);
void asst_when_format_local(struct icaltimetype wall, char out[20]);

/* ---- recurrence (when_recur.c) ---- */

/* As asst_when_next, with the occurrence's wall time as the series has it
 * (02:30 on a gap day, not the 03:30 it fires at) when wall is not NULL. */
int asst_when_next_wall(const char *dtstart, const char *rrule, const char *zone,
                        apr_time_t after, apr_time_t *next, struct icaltimetype *wall,
                        const char **err);

/* ---- phrases (when_phrase.c): the words, parsed, no clock ---- */

typedef enum {
    WHEN_DAY_NONE,       /* no day said: the next time the clock shows it */
    WHEN_DAY_OFFSET,     /* today + days ("today", "tomorrow", "in 2 days") */
    WHEN_DAY_WEEKDAY,    /* "on friday": today if still ahead, else the next one */
    WHEN_DAY_NEXT,       /* "next monday": the first one after today */
    WHEN_DAY_DATE,       /* "12 march" [year] */
} asst_when_day_t;

typedef enum {
    WHEN_ONCE, WHEN_DAILY, WHEN_WEEKLY, WHEN_MONTHLY, WHEN_YEARLY,
} asst_when_freq_t;

/* Which half of the day an hour said without am/pm is in. */
typedef enum {
    WHEN_HALF_GUESS,     /* nothing says: see when_resolve.c */
    WHEN_HALF_AM,        /* "am", "in the morning" */
    WHEN_HALF_PM,        /* "pm", "tonight", "in the evening" */
    WHEN_HALF_EXACT,     /* 24-hour clock: "17:30", "07:00", "noon" */
} asst_when_half_t;

#define WHEN_NO_TIME (-1)     /* default_minutes: a time must be said ("today") */
#define WHEN_NOW_TIME (-2)    /* default_minutes: the time it is now ("in 2 days") */

typedef struct {
    /* relative to now: "in 20 minutes" (seconds; 0: not relative) */
    long long in_seconds;
    /* the day */
    asst_when_day_t day;
    int days;            /* WHEN_DAY_OFFSET */
    int weekday;         /* WHEN_DAY_WEEKDAY/NEXT: 0 Sunday .. 6 Saturday */
    int year, month, mday;   /* WHEN_DAY_DATE, and a YEARLY/MONTHLY day; year 0:
                              * the next one; mday 0: today's, -1: the last */
    /* the time of day; hour < 0: none said */
    int hour, minute;    /* hour 24: midnight at the end of the day */
    asst_when_half_t half;      /* of the clock as written */
    asst_when_half_t period;    /* of "tonight", "in the morning": AM, PM or GUESS */
    int night;           /* "tonight at 12" is midnight, not noon */
    int default_minutes; /* when no time is said: minutes after midnight, or WHEN_*_TIME */
    /* the recurrence */
    asst_when_freq_t freq;
    int interval;        /* "every other day": 2 */
    int weekdays;        /* WEEKLY: bit 0 Sunday .. bit 6 Saturday; 0: the start's */
} asst_when_parsed_t;

/* The words of a phrase (when_lex.c). */
#define ASST_WHEN_MAX_TOKENS 24

typedef struct {
    int is_num;
    char word[16];   /* lower case */
    int num, digits;           /* a number: its value and how it was written */
    int minute;                /* "7:30": 30; -1: no minutes */
    int ordinal;               /* "1st" */
} asst_when_token_t;

typedef struct {
    asst_when_token_t t[ASST_WHEN_MAX_TOKENS];
    int n, i;                  /* tokens, and the one to read next */
} asst_when_lexer_t;

/* s[0..n) into words and numbers: 0, or -1 for anything else. */
int asst_when_lex(const char *s, size_t n, asst_when_lexer_t *lx);

/* s[0..n) parsed: 0, or -1 when it is not a phrase we know. */
int asst_when_parse(const char *s, size_t n, asst_when_parsed_t *out);

/* ---- words for the person (when_describe.c) ---- */

extern const char *const asst_when_month_names[12];     /* "January" */
extern const char *const asst_when_weekday_names[7];    /* "Sunday" */
/* "3 Mar 2027" style pieces: "Tue 3 Mar, 3:00 PM" of a wall time. */
const char *asst_when_describe_wall(apr_pool_t *p, struct icaltimetype wall, int with_year);

#endif
