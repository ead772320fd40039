#ifndef ASST_FIRING_H
#define ASST_FIRING_H

#include <apr_pools.h>
#include <apr_time.h>

/* What one due reminder does when the scheduler takes it: the text it
 * sends, or why it sends nothing. Pure: the clock and the person's state
 * come in, fire.c does the rest in the database. */

/* Past this, a firing is late: it came due while no scheduler ran. */
#define ASST_FIRING_LATE_USEC apr_time_from_sec(60)

typedef struct {
    const char *body;            /* what to remind */
    const char *user_status;     /* users.status: only 'active' people get texts */
    apr_time_t due;              /* the occurrence (or snooze) being fired */
    apr_time_t now;
    const char *due_label;       /* the due time the text names (held_due's, else due's) in the
                                  * person's zone: "9:00 AM", or with the day */
    int missed_policy;           /* ASST_MISSED_FIRE | ASST_MISSED_SKIP (conf/worker_conf.h) */
    apr_time_t quiet_until;      /* now is in the person's quiet hours, which end then; 0: it is not */
    int urgent;                  /* the person asked for it to come even in quiet hours */
    apr_time_t held_due;         /* this snooze lets through an occurrence quiet hours held, due
                                  * then; 0 otherwise */
} asst_firing_in_t;

typedef struct {
    int send;                    /* 1: text goes to the person */
    int late;                    /* due more than ASST_FIRING_LATE_USEC ago */
    const char *text;            /* when send: "Reminder: call mom" */
    const char *skipped;         /* when not: why, for the event ("missed", "not_active", "quiet_hours") */
    apr_time_t hold_until;       /* held for quiet hours: it fires then instead; 0 otherwise */
} asst_firing_t;

/* 1 when a firing at now of what was due then is late. */
int asst_firing_is_late(apr_time_t due, apr_time_t now);

void asst_firing_decide(apr_pool_t *p, const asst_firing_in_t *in, asst_firing_t *out);

/* Where a series goes on after a firing: its first occurrence after
 * this. After downtime that is now, so a series fires once for all it
 * missed rather than once per missed occurrence. */
apr_time_t asst_firing_resume_after(apr_time_t due, apr_time_t now);

#endif
