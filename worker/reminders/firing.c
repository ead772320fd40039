/* What a due reminder does, by cases: the first row that applies wins. */
#include <string.h>

#include <apr_strings.h>

#include "conf/worker_conf.h"
#include "firing.h"

int asst_firing_is_late(apr_time_t due, apr_time_t now)
{
    return now - due > ASST_FIRING_LATE_USEC;
}

static int is_late(const asst_firing_in_t *in)
{
    return asst_firing_is_late(in->due, in->now);
}

/* The outbox would refuse the text anyway (opted out, blocked): the
 * series moves on without queueing it. */
static int not_reachable(const asst_firing_in_t *in)
{
    return strcmp(in->user_status, "active") != 0;
}

static int missed_and_skipped(const asst_firing_in_t *in)
{
    return is_late(in) && in->missed_policy == ASST_MISSED_SKIP;
}

/* Quiet hours hold a reminder until they end, unless it is urgent: it
 * then comes at their end, on time for what it is (no "late"). */
static int in_quiet_hours(const asst_firing_in_t *in)
{
    return in->quiet_until > in->now && !in->urgent;
}

static int held_until_now(const asst_firing_in_t *in)
{
    return in->held_due != 0;
}

static int always(const asst_firing_in_t *in)
{
    (void)in;
    return 1;
}

static const char *late_text(apr_pool_t *p, const asst_firing_in_t *in)
{
    return apr_psprintf(p, "Reminder (late, was due %s): %s", in->due_label, in->body);
}

static const char *held_text(apr_pool_t *p, const asst_firing_in_t *in)
{
    return apr_psprintf(p, "Reminder (held for your quiet hours, was due %s): %s", in->due_label, in->body);
}

static const char *on_time_text(apr_pool_t *p, const asst_firing_in_t *in)
{
    return apr_pstrcat(p, "Reminder: ", in->body, NULL);
}

static const struct {
    int (*applies)(const asst_firing_in_t *in);
    const char *skipped;                     /* why nothing is sent; NULL: text() is */
    const char *(*text)(apr_pool_t *p, const asst_firing_in_t *in);
    int holds;                               /* 1: it fires again when quiet hours end */
} cases[] = {
    { not_reachable, "not_active", NULL, 0 },
    { missed_and_skipped, "missed", NULL, 0 },
    { in_quiet_hours, "quiet_hours", NULL, 1 },
    { held_until_now, NULL, held_text, 0 },
    { is_late, NULL, late_text, 0 },
    { always, NULL, on_time_text, 0 },
};

void asst_firing_decide(apr_pool_t *p, const asst_firing_in_t *in, asst_firing_t *out)
{
    size_t i = 0;

    while (!cases[i].applies(in))
        i++;
    out->late = is_late(in);
    out->skipped = cases[i].skipped;
    out->send = cases[i].text != NULL;
    out->text = out->send ? cases[i].text(p, in) : NULL;
    out->hold_until = cases[i].holds ? in->quiet_until : 0;
}

apr_time_t asst_firing_resume_after(apr_time_t due, apr_time_t now)
{
    return due > now ? due : now;
}
