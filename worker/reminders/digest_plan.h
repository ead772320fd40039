#ifndef ASST_DIGEST_PLAN_H
#define ASST_DIGEST_PLAN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* The daily digest's pure parts: when it is due, whether a due one still
 * goes out, and its text. The clock, the zone and the items come in;
 * digest.c does the rest in the database. Times of day are the person's
 * wall clock in their zone, through reminders/when.h (libical): a 07:00
 * digest stays 07:00 across DST, one in the spring gap (02:30) comes at
 * the gap's end plus as much (03:30), one in the autumn fold at its first
 * occurrence. A zone libical does not know is taken as UTC. */

/* The digest is one SMS of at most this many segments (GSM-7 153 each,
 * UCS-2 67: asst_sms_segments); what does not fit is counted instead. */
#define ASST_DIGEST_MAX_SEGMENTS 3
/* An item's text is cut to this many characters ("..." added): a digest
 * is a glance at the day, and the reminder itself says it all. */
#define ASST_DIGEST_ITEM_CHARS 80

/* One thing in the person's day: a reminder's occurrence or snooze (later
 * a calendar event). */
typedef struct {
    apr_time_t at;
    const char *text;
} asst_digest_item_t;

/* The first instant strictly after `after` when the wall clock in zone
 * shows clock ("HH:MM:SS"): 0 with *next, -1 for a bad clock. */
int asst_digest_next(const char *clock, const char *zone, apr_time_t after, apr_time_t *next);

/* The end of the person's day that `at` falls in: the next local
 * midnight after it (the end of a 23- or 25-hour day on a DST change). */
apr_time_t asst_digest_day_end(const char *zone, apr_time_t at);

typedef struct {
    const char *user_status;     /* users.status: only 'active' people get texts */
    const char *zone;
    apr_time_t due;              /* digests.next_at as claimed */
    apr_time_t now;
} asst_digest_in_t;

/* Why a due digest sends nothing, whatever the day holds: "not_active"
 * (opted out, blocked, pending), "missed" (no scheduler ran on the day it
 * was due: a digest goes out late only on its own day); NULL: it goes
 * out if the day holds anything. */
const char *asst_digest_skip_reason(const asst_digest_in_t *in);

/* The text: "Today: 9:00 AM call mom; 3:00 PM dentist" with items (of
 * asst_digest_item_t, sorted here by time, ties kept in order) at their
 * time on the wall clock in zone, as many as fit ASST_DIGEST_MAX_SEGMENTS,
 * then " ... and 3 more". *shown: how many it names. NULL when there are
 * no items. */
const char *asst_digest_text(apr_pool_t *p, apr_array_header_t *items, const char *zone, int *shown);

#endif
