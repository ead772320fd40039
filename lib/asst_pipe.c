#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <apr_errno.h>
#include <apr_time.h>

#include "asst_pipe.h"

#define STAT_ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)

/* Replies are a stream id, an integer or a short error: a reply that does
 * not fit with what is already buffered is not one of ours. */
#define READ_BUF 4096

/* A command in flight, on its caller's stack until it is settled. */
typedef struct waiter {
    struct waiter *next;
    int settled;
    asst_pipe_status_t status;
    asst_resp_reply_t *reply;
    char *err;
} waiter_t;

struct asst_pipe {
    asst_redis_conf_t conf;
    asst_redis_stats_t *stats;
    asst_redis_stats_t own_stats;
    pthread_mutex_t lock;
    pthread_cond_t settled;      /* broadcast whenever waiters settle or the reader leaves */
    redisContext *c;             /* NULL: not connected */
    int reading;                 /* a caller is in read() on c, without the lock */
    int broken;                  /* c failed: closed as soon as nobody reads it */
    waiter_t *head, *tail;       /* in flight on c, in the order written */
    apr_time_t down_until;
    apr_size_t buffered;         /* bytes in buf not yet parsed; only the reader touches buf */
    char buf[READ_BUF];
};

static apr_status_t cleanup(void *data)
{
    asst_pipe_close(data);
    return APR_SUCCESS;
}

asst_pipe_t *asst_pipe_create(apr_pool_t *p, const asst_redis_conf_t *conf,
                              asst_redis_stats_t *stats)
{
    asst_pipe_t *pp = apr_pcalloc(p, sizeof(*pp));

    pp->conf = *conf;
    pp->stats = stats ? stats : &pp->own_stats;
    pthread_mutex_init(&pp->lock, NULL);
    pthread_cond_init(&pp->settled, NULL);
    apr_pool_cleanup_register(p, pp, cleanup, apr_pool_cleanup_null);
    return pp;
}

static waiter_t *pop_locked(asst_pipe_t *pp)
{
    waiter_t *w = pp->head;

    pp->head = w->next;
    if (!pp->head)
        pp->tail = NULL;
    return w;
}

static void settle(waiter_t *w, asst_pipe_status_t status, const char *why)
{
    w->status = status;
    if (why)
        snprintf(w->err, ASST_RESP_TEXT_MAX, "%s", why);
    w->settled = 1;
}

static void close_locked(asst_pipe_t *pp)
{
    redisFree(pp->c);
    pp->c = NULL;
    pp->broken = 0;
    pp->buffered = 0;
    STAT_ADD(pp->stats->open, -1);
}

/* Every command in flight fails with the same verdict: once one reply is
 * lost, which of the others Redis ran is unknown. */
static void fail_all_locked(asst_pipe_t *pp, asst_pipe_status_t status, const char *why)
{
    while (pp->head)
        settle(pop_locked(pp), status, why);
    pp->broken = 1;
    if (pp->reading)
        shutdown(pp->c->fd, SHUT_RDWR);     /* the reader returns now and closes it */
    else
        close_locked(pp);
    pthread_cond_broadcast(&pp->settled);
}

static void fail_io_locked(asst_pipe_t *pp, const char *what, long n, int err)
{
    char why[ASST_RESP_TEXT_MAX], text[80];
    int closed = n == 0 || err == ECONNRESET || err == EPIPE;

    if (n == 0)
        snprintf(why, sizeof(why), "Redis closed the connection during %s", what);
    else if (err == EAGAIN || err == EWOULDBLOCK)
        snprintf(why, sizeof(why), "Redis %s timed out", what);
    else
        snprintf(why, sizeof(why), "Redis %s failed: %s", what, apr_strerror(err, text, sizeof(text)));
    fail_all_locked(pp, closed ? ASST_PIPE_STALE : ASST_PIPE_FAILED, why);
}

static int dial_locked(asst_pipe_t *pp, char *err)
{
    const char *why = NULL;

    if (pp->down_until > apr_time_now()) {
        snprintf(err, ASST_RESP_TEXT_MAX, "Redis unreachable moments ago; not retrying yet");
        return -1;
    }
    pp->c = asst_redis_dial(&pp->conf, &why);
    if (!pp->c) {
        STAT_ADD(pp->stats->connect_failures, 1);
        pp->down_until = apr_time_now() + ASST_REDIS_HOLD_DOWN_USEC;
        snprintf(err, ASST_RESP_TEXT_MAX, "%s", why);
        return -1;
    }
    STAT_ADD(pp->stats->connects, 1);
    STAT_ADD(pp->stats->open, 1);
    pp->down_until = 0;
    return 0;
}

static void write_locked(asst_pipe_t *pp, const char *cmd, apr_size_t len)
{
    while (len > 0) {
        ssize_t n = send(pp->c->fd, cmd, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail_io_locked(pp, "write", -1, n < 0 ? errno : EPIPE);
            return;
        }
        cmd += n;
        len -= (apr_size_t)n;
    }
}

/* Hands the buffered replies to their commands, oldest first. -1 when the
 * bytes are not a reply or no command waits for them. */
static int settle_buffered_locked(asst_pipe_t *pp)
{
    apr_size_t off = 0;

    while (pp->head) {
        long used = asst_resp_parse(pp->buf + off, pp->buffered - off, pp->head->reply);
        if (used < 0)
            return -1;
        if (used == 0)
            break;
        settle(pop_locked(pp), ASST_PIPE_OK, NULL);
        off += (apr_size_t)used;
    }
    if (off < pp->buffered && !pp->head)
        return -1;
    memmove(pp->buf, pp->buf + off, pp->buffered - off);
    pp->buffered -= off;
    return pp->buffered == sizeof(pp->buf) ? -1 : 0;
}

/* Called with the lock held and returns with it held; reads without it so
 * other callers can write their commands meanwhile. */
static void read_replies_locked(asst_pipe_t *pp)
{
    int fd = pp->c->fd, err;
    ssize_t n;

    pp->reading = 1;
    pthread_mutex_unlock(&pp->lock);
    do
        n = read(fd, pp->buf + pp->buffered, sizeof(pp->buf) - pp->buffered);
    while (n < 0 && errno == EINTR);
    err = errno;
    pthread_mutex_lock(&pp->lock);
    pp->reading = 0;
    if (pp->broken)
        close_locked(pp);       /* failed meanwhile; what was read belongs to nobody */
    else if (n <= 0)
        fail_io_locked(pp, "read", (long)n, err);
    else {
        pp->buffered += (apr_size_t)n;
        if (settle_buffered_locked(pp) != 0)
            fail_all_locked(pp, ASST_PIPE_FAILED, "Redis reply out of step with the commands sent");
    }
    pthread_cond_broadcast(&pp->settled);
}

static asst_pipe_status_t send_and_wait_locked(asst_pipe_t *pp, const char *cmd, apr_size_t len,
                                               asst_resp_reply_t *reply, char *err)
{
    waiter_t me = { .next = NULL, .settled = 0, .reply = reply, .err = err };

    if (pp->tail)
        pp->tail->next = &me;
    else
        pp->head = &me;
    pp->tail = &me;
    write_locked(pp, cmd, len);
    while (!me.settled) {
        if (pp->reading)
            pthread_cond_wait(&pp->settled, &pp->lock);
        else
            read_replies_locked(pp);
    }
    return me.status;
}

asst_pipe_status_t asst_pipe_call(asst_pipe_t *pp, const char *cmd, apr_size_t len,
                                  asst_resp_reply_t *reply, char *err)
{
    asst_pipe_status_t st;

    pthread_mutex_lock(&pp->lock);
    while (pp->c && pp->broken)     /* its reader closes it */
        pthread_cond_wait(&pp->settled, &pp->lock);
    if (!pp->c && dial_locked(pp, err) != 0) {
        pthread_mutex_unlock(&pp->lock);
        return ASST_PIPE_DOWN;
    }
    STAT_ADD(pp->stats->in_use, 1);
    st = send_and_wait_locked(pp, cmd, len, reply, err);
    STAT_ADD(pp->stats->in_use, -1);
    pthread_mutex_unlock(&pp->lock);
    return st;
}

void asst_pipe_close(asst_pipe_t *pp)
{
    pthread_mutex_lock(&pp->lock);
    if (pp->c && !pp->broken)
        fail_all_locked(pp, ASST_PIPE_FAILED, "Redis connection closed by its owner");
    pthread_mutex_unlock(&pp->lock);
}
