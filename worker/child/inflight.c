#include <string.h>

#include "asst_backoff.h"
#include "asst_log.h"
#include "inflight.h"
#include "net/http.h"

#define BLOCK_MS 1000          /* an XREADGROUP's wait */
#define IDLE_WAIT_MS 1000      /* longest wait with nothing due: how often stop is noticed */
#define BUSY_FIRST_MS 10       /* the person's turn runs in another process: try again, */
#define BUSY_MAX_MS 200        /* less often the longer it takes (a model's turn) */

typedef enum {
    JOB_READY,                 /* to run (or resume) */
    JOB_WAITING,               /* its planner is thinking: wake() makes it READY */
    JOB_LATER,                 /* BUSY or RETRY: READY at due_ms */
    JOB_DELIVERING,            /* acknowledged, its replies going out on the multi
                                * handle: delivered() makes it DELIVERED */
    JOB_DELIVERED              /* finished: to be removed */
} job_state_t;

/* One stream entry, from read to acknowledged and its replies sent. */
typedef struct {
    apr_pool_t *p;
    asst_entry_t entry;
    asst_work_item_t item;
    asst_plan_async_t async;
    job_state_t state;
    apr_int64_t due_ms;
    apr_interval_time_t backoff;     /* after RETRY: doubles */
    apr_int64_t busy_ms;             /* after BUSY: doubles */
} job_t;

typedef struct {
    asst_work_t *w;
    asst_http_multi_t *multi;
    apr_array_header_t *jobs;        /* of job_t *, in arrival order */
    long finished;
    int read_fd;                     /* the outstanding XREADGROUP's socket, or -1 */
    apr_int64_t read_after_ms;       /* Redis failed: no read before */
    apr_interval_time_t read_backoff;
} inflight_t;

static apr_int64_t now_ms(void)
{
    return asst_clock_monotonic_ms(NULL);
}

static job_t *job_at(const inflight_t *f, int i)
{
    return APR_ARRAY_IDX(f->jobs, i, job_t *);
}

static void wake(void *baton)
{
    ((job_t *)baton)->state = JOB_READY;
}

static void delivered(void *baton)
{
    ((job_t *)baton)->state = JOB_DELIVERED;
}

/* Its turn (or its delivery) is in flight on the multi handle. */
static int parked(const job_t *job)
{
    return job->state == JOB_WAITING || job->state == JOB_DELIVERING;
}

static job_t *job_new(inflight_t *f)
{
    apr_pool_t *p;
    job_t *job;

    apr_pool_create(&p, f->w->pool);
    job = apr_pcalloc(p, sizeof(*job));
    job->p = p;
    job->async.multi = f->multi;
    job->async.wake = wake;
    job->async.baton = job;
    return job;
}

/* job->entry is filled: decode it and queue it behind the others. */
static void job_add(inflight_t *f, job_t *job)
{
    asst_work_item_init(f->w, job->p, job->entry.env, asst_work_is_status(f->w, &job->entry), &job->item);
    job->item.turn.async = &job->async;
    APR_ARRAY_PUSH(f->jobs, job_t *) = job;
}

static void job_finish(inflight_t *f, int i)
{
    f->finished++;
    apr_pool_destroy(job_at(f, i)->p);
    memmove(&APR_ARRAY_IDX(f->jobs, i, job_t *), &APR_ARRAY_IDX(f->jobs, i + 1, job_t *),
            sizeof(job_t *) * (size_t)(f->jobs->nelts - i - 1));
    f->jobs->nelts--;
}

/* The person a text is from; NULL for what needs no order (status
 * callbacks, entries that cannot be read). */
static const char *person_of(const job_t *job)
{
    return job->item.is_status || job->item.reject ? NULL : job->item.env.from;
}

/* An earlier text of the same person is still in flight here (its reply
 * being sent counts: one person's replies leave in order). */
static int behind_another(const inflight_t *f, int i)
{
    const char *who = person_of(job_at(f, i));

    for (int j = 0; who && j < i; j++) {
        const char *other = person_of(job_at(f, j));
        if (other && strcmp(other, who) == 0)
            return 1;
    }
    return 0;
}

static int runnable(const inflight_t *f, int i, apr_int64_t now)
{
    const job_t *job = job_at(f, i);

    if (parked(job) || (job->state == JOB_LATER && now < job->due_ms))
        return 0;
    return !behind_another(f, i);
}

static void later(job_t *job, apr_int64_t ms)
{
    job->state = JOB_LATER;
    job->due_ms = now_ms() + ms;
}

/* The turn ended (st): the entry is acknowledged (or dead-lettered, or
 * left pending), then the rows the turn queued go out while the loop runs
 * on. 1 when the job is finished. */
static int job_end(inflight_t *f, job_t *job, asst_turn_status_t st)
{
    if (!asst_work_item_end(f->w, &job->entry, &job->item, st)
        || !asst_work_deliver_start(f->w, f->multi, job->p, &job->item, delivered, job))
        return 1;
    job->state = JOB_DELIVERING;
    return 0;
}

/* Runs one step of job; 1 when it is finished. */
static int job_run(inflight_t *f, job_t *job)
{
    asst_turn_status_t st = asst_work_item_run(f->w, job->p, &job->item);

    switch (st) {
    case ASST_TURN_WAIT:
        job->state = JOB_WAITING;
        return 0;
    case ASST_TURN_BUSY:
        job->busy_ms = asst_backoff_double(job->busy_ms, BUSY_FIRST_MS, BUSY_MAX_MS);
        later(job, job->busy_ms);
        return 0;
    case ASST_TURN_RETRY:
        job->backoff = asst_child_backoff(job->backoff);
        later(job, apr_time_as_msec(job->backoff));
        return 0;
    default:
        return job_end(f, job, st);
    }
}

static void run_ready(inflight_t *f)
{
    for (int i = 0; i < f->jobs->nelts; i++) {
        job_t *job = job_at(f, i);
        if (job->state == JOB_DELIVERED || (runnable(f, i, now_ms()) && job_run(f, job)))
            job_finish(f, i--);
    }
}

static int retiring(const inflight_t *f)
{
    long max = f->w->conf->max_turns_per_child;

    return max > 0 && f->finished + f->jobs->nelts >= max;
}

static int accepting(const inflight_t *f)
{
    return asst_child_should_run() && !retiring(f) && f->jobs->nelts < f->w->conf->turns_in_flight;
}

static void redis_failed(inflight_t *f)
{
    f->read_backoff = asst_child_backoff(f->read_backoff);
    f->read_after_ms = now_ms() + apr_time_as_msec(f->read_backoff);
}

/* Entries to hand without waiting (kept from a read, reclaimed), then a
 * read for new ones, left outstanding. */
static void fill(inflight_t *f)
{
    while (accepting(f) && f->read_fd < 0 && now_ms() >= f->read_after_ms) {
        job_t *job = job_new(f);
        int rv = asst_consumer_take(f->w->consumer, job->p, &job->entry);

        if (rv > 0) {
            job_add(f, job);
            continue;
        }
        apr_pool_destroy(job->p);
        if (rv == 0 && (f->read_fd = asst_consumer_read_begin(f->w->consumer, BLOCK_MS)) >= 0)
            return;
        redis_failed(f);
    }
}

static void finish_read(inflight_t *f)
{
    job_t *job = job_new(f);
    int rv = asst_consumer_read_end(f->w->consumer, job->p, &job->entry);

    f->read_fd = -1;
    if (rv > 0)
        job_add(f, job);
    else
        apr_pool_destroy(job->p);
    if (rv < 0)
        redis_failed(f);
    else
        f->read_backoff = 0;
}

/* Until something is due: a job to run or remove, a retry's time, a read
 * to retry. */
static long wait_ms(const inflight_t *f)
{
    apr_int64_t now = now_ms(), until = now + IDLE_WAIT_MS;

    for (int i = 0; i < f->jobs->nelts; i++) {
        const job_t *job = job_at(f, i);
        if (parked(job) || behind_another(f, i))
            continue;
        if (job->state != JOB_LATER)
            return 0;
        if (job->due_ms < until)
            until = job->due_ms;
    }
    if (f->read_fd < 0 && accepting(f) && f->read_after_ms < until)
        until = f->read_after_ms;
    return until > now ? (long)(until - now) : 0;
}

int asst_inflight_run(asst_work_t *w)
{
    inflight_t f;

    memset(&f, 0, sizeof(f));
    f.w = w;
    if (!(f.multi = asst_http_multi_create(w->pool)))
        return ASST_CHILD_EXIT_STARTUP;
    f.jobs = apr_array_make(w->pool, (int)w->conf->turns_in_flight, sizeof(job_t *));
    f.read_fd = -1;
    for (;;) {
        run_ready(&f);
        fill(&f);
        if (!accepting(&f) && f.jobs->nelts == 0 && f.read_fd < 0)
            break;
        if (asst_http_multi_run(f.multi, f.read_fd, wait_ms(&f)) == 1
            || asst_consumer_read_overdue(w->consumer))
            finish_read(&f);
    }
    if (retiring(&f))
        asst_log(ASST_LOG_INFO, "ASST01004: retiring after %ld turns (MaxTurnsPerChild)", f.finished);
    return ASST_CHILD_EXIT_DONE;
}
