#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <curl/curl.h>

#include "asst_log.h"
#include "http_private.h"

/* One entry of a multi handle: a request (queued, then in flight) or a
 * timer. Entries live in m's pool and are reused, easy handle included,
 * so m's memory is bounded by its busiest moment, not by its age. */
typedef struct entry entry_t;
struct entry {
    entry_t *next;             /* in the queue or the spare list */
    entry_t *all_next;         /* every entry of m, for the cleanup */
    apr_int64_t start_ms;
    asst_http_client_t *c;     /* NULL: a timer */
    apr_pool_t *p;
    const asst_http_request_t *req;
    asst_http_response_t *res;
    asst_http_done_fn *done;
    asst_http_timer_fn *timer;
    void *baton;
    CURL *curl;                /* kept across reuses; NULL until a request needs one */
    int in_flight;
    asst_http_exchange_t x;
    char errbuf[CURL_ERROR_SIZE];
};

struct asst_http_multi {
    apr_pool_t *p;
    CURLM *multi;
    entry_t *queued;           /* by start time, earliest first; FIFO among equals */
    entry_t *spare;
    entry_t *all;
    int queued_count;
    int in_flight;
};

static apr_status_t multi_cleanup(void *data)
{
    asst_http_multi_t *m = data;
    entry_t *e;

    for (e = m->all; e; e = e->all_next) {
        if (e->in_flight)
            curl_multi_remove_handle(m->multi, e->curl);
        if (e->curl)
            curl_easy_cleanup(e->curl);
        curl_slist_free_all(e->x.headers);
        e->curl = NULL;
        e->x.headers = NULL;
    }
    curl_multi_cleanup(m->multi);
    m->multi = NULL;
    return APR_SUCCESS;
}

asst_http_multi_t *asst_http_multi_create(apr_pool_t *p)
{
    asst_http_multi_t *m = apr_pcalloc(p, sizeof(*m));

    m->p = p;
    if (asst_http_global_init() != 0 || (m->multi = curl_multi_init()) == NULL) {
        asst_log(ASST_LOG_ERR, "ASST03011: cannot create a curl multi handle");
        return NULL;
    }
    apr_pool_cleanup_register(p, m, multi_cleanup, apr_pool_cleanup_null);
    return m;
}

int asst_http_multi_pending(const asst_http_multi_t *m)
{
    return m->queued_count + m->in_flight;
}

/* ---- the queue ---- */

static entry_t *take_spare(asst_http_multi_t *m)
{
    entry_t *e = m->spare;

    if (e) {
        m->spare = e->next;
        return e;
    }
    e = apr_pcalloc(m->p, sizeof(*e));
    e->all_next = m->all;
    m->all = e;
    return e;
}

/* Forgets the request (and with curl_easy_reset its password); the handle
 * stays, and the connection it used stays in m's cache. */
static void recycle(asst_http_multi_t *m, entry_t *e)
{
    if (e->curl)
        curl_easy_reset(e->curl);
    e->c = NULL;
    e->p = NULL;
    e->req = NULL;
    e->res = NULL;
    e->done = NULL;
    e->timer = NULL;
    e->baton = NULL;
    e->next = m->spare;
    m->spare = e;
}

static void enqueue(asst_http_multi_t *m, entry_t *e, apr_int64_t start_ms)
{
    entry_t **pp = &m->queued;

    e->start_ms = start_ms;
    while (*pp && (*pp)->start_ms <= start_ms)
        pp = &(*pp)->next;
    e->next = *pp;
    *pp = e;
    m->queued_count++;
}

void asst_http_start(asst_http_client_t *c, asst_http_multi_t *m, apr_pool_t *p,
                     const asst_http_request_t *req, apr_int64_t start_ms,
                     asst_http_done_fn *done, void *baton)
{
    entry_t *e = take_spare(m);

    e->c = c;
    e->p = p;
    e->req = req;
    e->done = done;
    e->baton = baton;
    e->res = apr_palloc(p, sizeof(*e->res));
    asst_http_response_init(e->res);
    enqueue(m, e, start_ms);
}

void asst_http_multi_at(asst_http_multi_t *m, apr_int64_t at_ms, asst_http_timer_fn *fn, void *baton)
{
    entry_t *e = take_spare(m);

    e->timer = fn;
    e->baton = baton;
    enqueue(m, e, at_ms);
}

/* Detaches the entries due at now: what they start or call back may queue
 * more, which waits for the next run instead of looping here. */
static entry_t *take_due(asst_http_multi_t *m, apr_int64_t now)
{
    entry_t *due = m->queued, **pp = &due;

    while (*pp && (*pp)->start_ms <= now) {
        pp = &(*pp)->next;
        m->queued_count--;
    }
    m->queued = *pp;
    *pp = NULL;
    return due;
}

/* ---- starting and finishing ---- */

/* The entry is free again before done runs, so done may queue more. */
static void complete(asst_http_multi_t *m, entry_t *e)
{
    asst_http_done_fn *done = e->done;
    asst_http_timer_fn *timer = e->timer;
    asst_http_response_t *res = e->res;
    void *baton = e->baton;

    recycle(m, e);
    if (timer)
        timer(baton);
    else
        done(baton, res);
}

/* Nothing sent, so nothing for the breaker: the fault is ours. */
static int has_handle(entry_t *e)
{
    if (e->curl || (e->curl = curl_easy_init()) != NULL)
        return 1;
    asst_log(ASST_LOG_ERR, "ASST03013: %s: cannot create a curl handle, %s %s not sent",
             e->c->conf.name, e->req->method, e->req->url);
    e->res->result = ASST_HTTP_ERROR;
    e->res->error = "cannot create a curl handle";
    return 0;
}

static void add_transfer(asst_http_multi_t *m, entry_t *e)
{
    CURLMcode mc;

    asst_http_prepare(e->c, e->curl, e->p, e->req, &e->x, e->errbuf);
    curl_easy_setopt(e->curl, CURLOPT_PRIVATE, (char *)e);
    mc = curl_multi_add_handle(m->multi, e->curl);
    if (mc == CURLM_OK) {
        e->in_flight = 1;
        m->in_flight++;
        return;
    }
    /* allowed by the breaker, so it hears how it went, as for a send that failed */
    snprintf(e->errbuf, CURL_ERROR_SIZE, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
    asst_http_fill(e->c, e->curl, &e->x, CURLE_FAILED_INIT, e->res);
    asst_http_settle(e->c, e->req, e->res);
    complete(m, e);
}

static void begin(asst_http_multi_t *m, entry_t *e)
{
    if (e->timer || !has_handle(e) || !asst_http_may_send(e->c, e->req, e->res))
        complete(m, e);
    else
        add_transfer(m, e);
}

static void start_due(asst_http_multi_t *m)
{
    entry_t *due = take_due(m, asst_clock_monotonic_ms(NULL));

    while (due) {
        entry_t *e = due;
        due = e->next;
        begin(m, e);
    }
}

static void finish(asst_http_multi_t *m, CURL *curl, CURLcode rc)
{
    char *priv = NULL;
    entry_t *e;

    curl_easy_getinfo(curl, CURLINFO_PRIVATE, &priv);
    e = (entry_t *)priv;
    curl_multi_remove_handle(m->multi, curl);
    e->in_flight = 0;
    m->in_flight--;
    asst_http_fill(e->c, curl, &e->x, rc, e->res);
    asst_http_settle(e->c, e->req, e->res);
    complete(m, e);
}

static void finish_done(asst_http_multi_t *m)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            finish(m, msg->easy_handle, msg->data.result);
}

/* ---- the loop ---- */

static int poll_timeout(const asst_http_multi_t *m, long timeout_ms)
{
    apr_int64_t wait = timeout_ms > 0 ? timeout_ms : 0;

    if (m->queued) {
        apr_int64_t until = m->queued->start_ms - asst_clock_monotonic_ms(NULL);
        if (until < wait)
            wait = until > 0 ? until : 0;
    }
    return wait > INT_MAX ? INT_MAX : (int)wait;
}

/* curl reports POLLIN only; a pipe whose writer is gone polls POLLHUP, and
 * left unreported it would wake every run without a caller knowing why. */
static int readable(int fd, const struct curl_waitfd *wfd, int numfds)
{
    struct pollfd pfd = { fd, POLLIN, 0 };

    if (wfd->revents & CURL_WAIT_POLLIN)
        return 1;
    return numfds > 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP | POLLERR));
}

int asst_http_multi_run(asst_http_multi_t *m, int extra_fd, long timeout_ms)
{
    struct curl_waitfd wfd = { extra_fd, CURL_WAIT_POLLIN, 0 };
    int numfds = 0, running, rv = 0;
    CURLMcode mc;

    mc = curl_multi_poll(m->multi, &wfd, extra_fd >= 0 ? 1 : 0, poll_timeout(m, timeout_ms), &numfds);
    if (mc != CURLM_OK) {
        asst_log(ASST_LOG_ERR, "ASST03012: waiting on outbound HTTP failed: %s", curl_multi_strerror(mc));
        rv = -1;
    }
    start_due(m);
    curl_multi_perform(m->multi, &running);
    finish_done(m);
    if (rv == 0 && extra_fd >= 0)
        rv = readable(extra_fd, &wfd, numfds);
    return rv;
}
