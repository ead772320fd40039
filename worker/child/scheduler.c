#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "asst_log.h"
#include "db/listen.h"
#include "reminders/digest.h"
#include "reminders/fire.h"
#include "scheduler.h"
#include "spool_drain.h"

#define CHANNEL "asst_scheduler"
#define REMINDER_BATCH 500
#define DIGEST_BATCH 100
#define OUTBOX_BATCH 20
/* Nothing due: sleep this long at most (the master's death arrives as a
 * SIGTERM, PR_SET_PDEATHSIG, so this is only a backstop). */
#define LONGEST_SLEEP apr_time_from_sec(300)
/* Something is due but could not be done (held by another host, waiting
 * behind an earlier text), or the database cannot say: look again then. */
#define RETRY_SLEEP apr_time_from_sec(1)
/* ASST_OUTBOX_AGENT_GRACE, and a little: then a row the agent has not
 * sent is the scheduler's. */
#define FRESH_GRACE apr_time_from_msec(2100)
/* A TERM or QUIT that lands between the stop check and poll() does not
 * interrupt it: the sleep is cut in slices this long (no query, a
 * syscall) so the child still stops within one. */
#define STOP_CHECK apr_time_from_sec(1)

typedef struct {
    asst_work_t *w;
    asst_reminders_t *reminders;
    asst_digests_t *digests;
    asst_db_listener_t *listener;
    int spool_fd;                  /* inotify on SpoolDir, or -1 */
} scheduler_t;

/* One pass over everything that may be due; how much it did. *full: a
 * batch was full, so more is waiting. */
static int pass(scheduler_t *s, apr_pool_t *p, int *full)
{
    asst_work_t *w = s->w;
    int fired = asst_reminders_fire_due(s->reminders, p, REMINDER_BATCH);
    /* after the reminders: one due now has gone out by itself, not in the digest */
    int digests = asst_digests_send_due(s->digests, p, DIGEST_BATCH);
    int swept = asst_outbox_sweep_orphans(w->outbox, p);
    int looked = asst_outbox_reconcile_due(w->outbox, p, OUTBOX_BATCH);
    int sent = asst_outbox_deliver_due(w->outbox, p, OUTBOX_BATCH);
    int drained = w->conf->spool_dir ? asst_spool_drain(w, p, w->conf->spool_dir) : 0;

    *full = fired >= REMINDER_BATCH || digests == DIGEST_BATCH || looked == OUTBOX_BATCH || sent == OUTBOX_BATCH;
    return (fired > 0) + (digests > 0) + (swept > 0) + (looked > 0) + (sent > 0) + (drained > 0);
}

/* The earliest next due time of the reminders, the digests and the
 * outbox (*due); LONGEST_SLEEP from now when nothing is due; -1 when the
 * database could not tell. */
static int next_due(scheduler_t *s, apr_pool_t *p, apr_time_t *due)
{
    apr_time_t at;
    int rv;

    *due = apr_time_now() + LONGEST_SLEEP;
    if ((rv = asst_reminders_next_due(s->reminders, p, &at)) < 0)
        return -1;
    if (rv == 0 && at < *due)
        *due = at;
    if ((rv = asst_digests_next_due(s->digests, p, &at)) < 0)
        return -1;
    if (rv == 0 && at < *due)
        *due = at;
    if ((rv = asst_outbox_next_due(s->w->outbox, p, &at)) < 0)
        return -1;
    if (rv == 0 && at < *due)
        *due = at;
    return 0;
}

/* A file landing in the spool: mod_assistant writes it while Redis is down. */
static int watch_spool(const char *dir)
{
    int fd;

    if (!dir || (fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        return -1;
    if (inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        asst_log(ASST_LOG_WARN, "ASST01011: cannot watch SpoolDir %s (%s): it is looked at every second", dir,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void drain_events(int fd)
{
    char buf[4096];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

/* The wait after a pass that began at `began` and did `did` things: none
 * when a batch was full, or when something came due that the pass may
 * not have seen; otherwise until the next due time (RETRY_SLEEP when that
 * had come before the pass began, yet the pass could do nothing: another
 * host holds it, or it waits behind an earlier text). */
static apr_interval_time_t wait_after(scheduler_t *s, apr_pool_t *p, apr_time_t began, int did, int full)
{
    apr_interval_time_t wait;
    apr_time_t due;

    if (full)
        return 0;
    if (next_due(s, p, &due) < 0)
        return RETRY_SLEEP;
    wait = due - apr_time_now();
    if (wait <= 0)
        wait = did || due > began ? 0 : RETRY_SLEEP;
    /* files left for later wake nobody: look again every second, as
     * without inotify */
    if (s->w->conf->spool_dir && wait > RETRY_SLEEP
        && (s->spool_fd < 0 || asst_spool_waiting(p, s->w->conf->spool_dir) > 0))
        wait = RETRY_SLEEP;
    return wait;
}

/* Sleeps wait, or until woken. A row just queued is the agent's to send
 * for FRESH_GRACE: it only brings the wake-up that close (a pass for
 * each would cost a pass per reply under load). */
static void sleep_until_due(scheduler_t *s, apr_interval_time_t wait)
{
    apr_time_t until = apr_time_now() + wait;
    const char *why;
    int rv;

    if (wait <= 0)
        return;
    if (asst_db_listener_ready(s->listener) != 0) {
        asst_child_nap(RETRY_SLEEP);       /* the database is away: what is due must wait */
        return;
    }
    for (;;) {
        apr_interval_time_t left = until - apr_time_now();
        if (left <= 0 || !asst_child_should_run())
            return;
        rv = asst_db_listener_wait(s->listener, s->spool_fd, left < STOP_CHECK ? left : STOP_CHECK, &why);
        if (rv == 0)
            continue;                      /* a slice over, or a signal: look at stop */
        if (rv != 1 || !why || strcmp(why, "fresh") != 0)
            break;
        if (apr_time_now() + FRESH_GRACE < until)
            until = apr_time_now() + FRESH_GRACE;
    }
    if (rv == 2)
        drain_events(s->spool_fd);
    else if (rv < 0)
        asst_child_nap(RETRY_SLEEP);
}

int asst_scheduler_run(asst_work_t *w)
{
    scheduler_t s = { w, NULL, NULL, NULL, -1 };
    /* reminders' and digests' texts share one multi handle (and its
     * connections to Twilio); NULL: they go one at a time */
    asst_http_multi_t *multi = asst_http_multi_create(w->pool);

    s.reminders = asst_reminders_create(w->pool, w->db, w->outbox, w->conf->missed_policy, multi);
    s.digests = asst_digests_create(w->pool, w->db, w->outbox, multi);
    s.listener = asst_db_listener_create(w->pool, w->db, CHANNEL);
    s.spool_fd = watch_spool(w->conf->spool_dir);
    while (asst_child_should_run()) {
        apr_time_t began = apr_time_now();
        apr_pool_t *p;
        int full, did;

        apr_pool_create(&p, w->pool);
        asst_db_listener_ready(s.listener);   /* before the pass: nothing committed during it is missed */
        did = pass(&s, p, &full);
        sleep_until_due(&s, wait_after(&s, p, began, did, full));
        apr_pool_destroy(p);
    }
    if (s.spool_fd >= 0)
        close(s.spool_fd);
    return ASST_CHILD_EXIT_DONE;
}
