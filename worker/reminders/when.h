#ifndef ASST_WHEN_H
#define ASST_WHEN_H

#include <stddef.h>

#include <apr_pools.h>
#include <apr_time.h>

/* Times of reminders, in the person's own zone: the phrases people text,
 * wall-clock date-times in an IANA zone, and RFC 5545 recurrence (libical).
 * Pure but for the zone database (/usr/share/zoneinfo through libical).
 *
 * DST: a wall-clock time that does not exist (the spring gap) moves
 * forward by the gap (02:30 -> 03:30); one that occurs twice (the autumn
 * fold) is its first occurrence, and a series fires once there. A
 * recurring 09:00 stays 09:00 local across DST. Series follow RFC 5545: a
 * day a month or year lacks is skipped ("every month on the 31st" fires
 * in the seven months that have one, a yearly 29 February in leap years).
 * Wall-clock years are 1970..2199. */

/* A wall-clock date-time in the zone and an optional recurrence: what the
 * reminders tool takes ("at", "rrule") and stores (dtstart, rrule). */
typedef struct {
    char local[20];          /* "YYYY-MM-DDTHH:MM:SS" */
    const char *rrule;       /* NULL, or an RRULE value: "FREQ=WEEKLY;BYDAY=MO,TH" */
} asst_when_spec_t;

/* 1 when s[0..n) is a time phrase asst_when_resolve understands; needs
 * no clock (the rules parser's {when} slot). */
int asst_when_is_phrase(const char *s, size_t n);

/* The first local date-time (and recurrence) the phrase means after now,
 * in zone: "in 20 minutes", "in 2 hours", "at 5pm", "at 17:30", "tomorrow
 * at 9", "tonight at 8", "on friday at 3pm", "next monday" (09:00 when no
 * time is said), "on 12 march at 10:30", "march 12", "every day at 8",
 * "every weekday at 7:30", "every monday and thursday at 6pm", "every
 * month on the 1st", "every year on 4 july". A time without a day that has
 * passed today is tomorrow's; one without am/pm is the next of the two
 * ("at 7" at 8 pm: 07:00 tomorrow); with a day or a repeat it is the
 * likelier half (7..11 am, 12 noon, 1..6 pm). A date without a year is its
 * next occurrence ("on 1 january" in December: next year's); a day or a
 * date said outright that has passed is refused. More phrases and every
 * choice: when_phrase.c, when_resolve.c. 0, or -1 with *err, a sentence
 * for the person ("I could not tell when that is.", "That time has passed:
 * today, Tue 3 Mar, 9:00 AM (Europe/Berlin)."). */
int asst_when_resolve(apr_pool_t *p, const char *phrase, apr_time_t now, const char *zone,
                      asst_when_spec_t *out, const char **err);

/* local ("YYYY-MM-DDTHH:MM" or with ":SS"; a space for the T is taken
 * too) parsed and normalised into out->local (seconds added; out->rrule
 * is left alone); 0, or -1 with *err. A zone or offset ("Z", "+01:00")
 * is refused: the time is the person's wall clock. */
int asst_when_local(const char *local, asst_when_spec_t *out, const char **err);

/* A time of day, "HH:MM" or "HH:MM:SS" (24 h), normalised into out
 * ("HH:MM:SS"): 0, or -1 when it is not one (quiet hours, the digest). */
int asst_when_clock(const char *text, char out[9]);

/* The UTC instant of a wall-clock time in zone (gap: forward; fold:
 * first). 0, or -1 with *err (bad local time or unknown zone). */
int asst_when_instant(const char *local, const char *zone, apr_time_t *at, const char **err);

/* The first occurrence strictly after `after` of the series that starts at
 * dtstart (wall clock in zone) and repeats by rrule (NULL: just once): 0
 * with *next; 1 when there is none left (COUNT or UNTIL reached, or a
 * single time already past); -1 with *err for a rule libical refuses.
 * COUNT counts instants from dtstart (two wall times the gap makes one
 * instant are one occurrence); UNTIL is inclusive: a UTC instant ("Z"), a
 * wall time, or a whole local day (a date). */
int asst_when_next(const char *dtstart, const char *rrule, const char *zone, apr_time_t after,
                   apr_time_t *next, const char **err);

/* An RRULE value checked by libical (FREQ required; SECONDLY, MINUTELY
 * and BYSECOND refused: a person's reminders are not that frequent; a
 * leading "RRULE:" is dropped), in libical's normal form, in p; NULL with
 * *err. */
const char *asst_when_rrule_check(apr_pool_t *p, const char *rrule, const char **err);

/* For the person, in zone: "Tue 3 Mar, 3:00 PM (Europe/Berlin)", led by
 * "today, " or "tomorrow, " when it is one of those, relative to now; with
 * the year when it is not now's ("Fri 1 Jan 2027, ..."). An unknown zone
 * is said in UTC, as "(UTC)". */
const char *asst_when_describe(apr_pool_t *p, apr_time_t at, apr_time_t now, const char *zone);

/* The recurrence in words: "every day", "every weekday", "every Monday
 * and Thursday", "every 2 weeks on Monday", "every month", "every month on
 * the 1st", "every year", "every year on 4 July", with ", 3 times" or
 * ", until 5 March 2026"; or the rule itself when words would lose some
 * of it (BYSETPOS, BYHOUR, ...). */
const char *asst_when_describe_rrule(apr_pool_t *p, const char *rrule);

#endif
