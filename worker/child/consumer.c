#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "asst_log.h"
#include "consumer.h"

/* How often pending entries of dead consumers are looked for. */
#define RECLAIM_EVERY_USEC (1000 * 1000)
/* How often consumers of dead children are removed: every ClaimIdle,
 * within these bounds. */
#define PRUNE_MIN_USEC (1000 * 1000)
#define PRUNE_MAX_USEC (60 * 1000 * 1000)

struct asst_consumer {
    asst_consumer_conf_t conf;
    asst_redis_pool_t *redis;
    int groups_ready;
    apr_time_t next_reclaim;
    apr_time_t next_prune;
    /* XREADGROUP's COUNT is per stream: one read can deliver an entry of
     * each stream. The ones not returned yet wait here, already ours. */
    apr_pool_t *backlog_pool;
    apr_array_header_t *backlog;      /* of asst_entry_t */
    int backlog_next;
    redisContext *reading;            /* an XREADGROUP sent, its answer not read yet */
    apr_time_t read_due;              /* by when it must have answered */
};

asst_consumer_t *asst_consumer_create(apr_pool_t *p, const asst_consumer_conf_t *conf,
                                      asst_redis_pool_t *redis)
{
    asst_consumer_t *c = apr_pcalloc(p, sizeof(*c));

    c->conf = *conf;
    c->redis = redis;
    apr_pool_create(&c->backlog_pool, p);
    c->backlog = apr_array_make(c->backlog_pool, 2, sizeof(asst_entry_t));
    return c;
}

static int is_error(const redisReply *r, const char *prefix)
{
    return r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, prefix, strlen(prefix)) == 0;
}

/* Group from the stream's beginning, so entries the edge queued before any
 * worker ever ran are not skipped. */
static int ensure_groups(asst_consumer_t *c, redisContext *rc)
{
    for (int i = 0; i < c->conf.nstreams; i++) {
        const char *argv[] = { "XGROUP", "CREATE", c->conf.streams[i], ASST_GROUP, "0", "MKSTREAM" };
        redisReply *r = redisCommandArgv(rc, 6, argv, NULL);
        int ok = r && (r->type == REDIS_REPLY_STATUS || is_error(r, "BUSYGROUP"));
        if (r && !ok)
            asst_log(ASST_LOG_ERR, "ASST01101: cannot create group on %s: %s", c->conf.streams[i], r->str);
        if (r)
            freeReplyObject(r);
        if (!ok)
            return -1;
    }
    c->groups_ready = 1;
    return 0;
}

static const char *field_of(apr_pool_t *p, const redisReply *fields, const char *name)
{
    const redisReply *v = asst_redis_field(fields, name);

    return v && v->type == REDIS_REPLY_STRING ? apr_pstrmemdup(p, v->str, v->len) : NULL;
}

/* entry: [id, [field, value, ...]] */
static void fill_entry(apr_pool_t *p, const char *stream, const redisReply *entry, asst_entry_t *e)
{
    e->stream = apr_pstrdup(p, stream);
    e->id = apr_pstrdup(p, entry->element[0]->str);
    e->env = field_of(p, entry->element[1], "env");
    e->deliveries = 1;
}

static long delivery_count(redisContext *rc, const char *stream, const char *id)
{
    const char *argv[] = { "XPENDING", stream, ASST_GROUP, id, id, "1" };
    redisReply *r = redisCommandArgv(rc, 6, argv, NULL);
    long n = 1;

    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 4)
        n = (long)r->element[0]->element[3]->integer;
    if (r)
        freeReplyObject(r);
    return n;
}

/* One idle entry of any consumer, now ours; 1 found, 0 none, -1 error. */
static int claim_one(asst_consumer_t *c, redisContext *rc, apr_pool_t *p, const char *stream,
                     asst_entry_t *e)
{
    char idle[24];
    const char *argv[] = { "XAUTOCLAIM", stream, ASST_GROUP, c->conf.consumer, idle, "0-0", "COUNT", "1" };
    redisReply *r;
    int found = 0;

    snprintf(idle, sizeof(idle), "%ld", c->conf.claim_idle_ms);
    if (!(r = redisCommandArgv(rc, 8, argv, NULL)))
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && r->element[1]->type == REDIS_REPLY_ARRAY) {
        const redisReply *entries = r->element[1];
        for (size_t i = 0; i < entries->elements && !found; i++) {
            if (entries->element[i]->type != REDIS_REPLY_ARRAY || entries->element[i]->elements < 2)
                continue;             /* deleted meanwhile */
            fill_entry(p, stream, entries->element[i], e);
            found = 1;
        }
    }
    else if (is_error(r, "NOGROUP")) {
        c->groups_ready = 0;
    }
    freeReplyObject(r);
    if (found)
        e->deliveries = delivery_count(rc, stream, e->id);
    return found;
}

static int reclaim(asst_consumer_t *c, redisContext *rc, apr_pool_t *p, asst_entry_t *e)
{
    for (int i = 0; i < c->conf.nstreams; i++) {
        int rv;
        while ((rv = claim_one(c, rc, p, c->conf.streams[i], e)) == 1) {
            if (e->deliveries <= c->conf.max_deliveries) {
                asst_log(ASST_LOG_WARN, "ASST01102: reclaimed %s %s (delivery %ld)",
                         e->stream, e->id, e->deliveries);
                return 1;
            }
            asst_consumer_dead(c, e, apr_psprintf(p, "delivered %ld times without being committed",
                                                  e->deliveries));
        }
        if (rv < 0)
            return -1;
    }
    return 0;
}

static void copy_entry(apr_pool_t *p, const asst_entry_t *from, asst_entry_t *to)
{
    to->stream = apr_pstrdup(p, from->stream);
    to->id = apr_pstrdup(p, from->id);
    to->env = from->env ? apr_pstrdup(p, from->env) : NULL;
    to->deliveries = from->deliveries;
}

static int take_backlog(asst_consumer_t *c, apr_pool_t *p, asst_entry_t *e)
{
    if (c->backlog_next >= c->backlog->nelts)
        return 0;
    copy_entry(p, &APR_ARRAY_IDX(c->backlog, c->backlog_next, asst_entry_t), e);
    if (++c->backlog_next == c->backlog->nelts) {
        apr_pool_clear(c->backlog_pool);
        c->backlog = apr_array_make(c->backlog_pool, 2, sizeof(asst_entry_t));
        c->backlog_next = 0;
    }
    return 1;
}

/* reply: [[stream, [[id, fields], ...]], ...]; every entry goes to the
 * backlog, the first comes out at once. */
static int keep_entries(asst_consumer_t *c, apr_pool_t *p, const redisReply *r, asst_entry_t *e)
{
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *s = r->element[i];
        if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 || s->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        for (size_t j = 0; j < s->element[1]->elements; j++)
            fill_entry(c->backlog_pool, s->element[0]->str, s->element[1]->element[j],
                       apr_array_push(c->backlog));
    }
    return take_backlog(c, p, e);
}

/* XREADGROUP ... BLOCK block_ms, COUNT 1 per stream. */
static int read_args(const asst_consumer_t *c, char *block, size_t len, int block_ms, const char **argv)
{
    int argc = 0;

    snprintf(block, len, "%d", block_ms);
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = ASST_GROUP;
    argv[argc++] = c->conf.consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = "1";
    argv[argc++] = "BLOCK";
    argv[argc++] = block;
    argv[argc++] = "STREAMS";
    for (int i = 0; i < c->conf.nstreams; i++)
        argv[argc++] = c->conf.streams[i];
    for (int i = 0; i < c->conf.nstreams; i++)
        argv[argc++] = ">";
    return argc;
}

/* Sends the read and flushes it, without waiting for the answer. */
static int send_read(asst_consumer_t *c, redisContext *rc, int block_ms)
{
    char block[24];
    const char *argv[16];
    int argc = read_args(c, block, sizeof(block), block_ms, argv), done = 0;

    if (redisAppendCommandArgv(rc, argc, argv, NULL) != REDIS_OK)
        return -1;
    while (!done)
        if (redisBufferWrite(rc, &done) != REDIS_OK)
            return -1;
    return 0;
}

static apr_interval_time_t prune_every(const asst_consumer_t *c)
{
    apr_interval_time_t every = (apr_interval_time_t)c->conf.claim_idle_ms * 1000;

    return every < PRUNE_MIN_USEC ? PRUNE_MIN_USEC : every > PRUNE_MAX_USEC ? PRUNE_MAX_USEC : every;
}

/* After reclaim: a dead consumer's pending entries are claimed first. */
static int prune(asst_consumer_t *c, redisContext *rc)
{
    if (apr_time_now() < c->next_prune)
        return 0;
    c->next_prune = apr_time_now() + prune_every(c);
    for (int i = 0; i < c->conf.nstreams; i++)
        if (asst_consumer_prune(rc, c->conf.streams[i], c->conf.consumer, c->conf.host) < 0)
            return -1;
    return 0;
}

int asst_consumer_take(asst_consumer_t *c, apr_pool_t *p, asst_entry_t *e)
{
    const char *err = NULL;
    redisContext *rc;
    int rv = 0;

    if (take_backlog(c, p, e))
        return 1;
    if (apr_time_now() < c->next_reclaim && c->groups_ready)
        return 0;
    if (!(rc = asst_redis_acquire(c->redis, &err)))
        return -1;
    if (!c->groups_ready && ensure_groups(c, rc) != 0)
        rv = -1;
    if (rv == 0 && apr_time_now() >= c->next_reclaim) {
        c->next_reclaim = apr_time_now() + RECLAIM_EVERY_USEC;
        rv = reclaim(c, rc, p, e);
        if (rv == 0)
            rv = prune(c, rc);
    }
    asst_redis_release(c->redis, rc, rv < 0);
    return rv;
}

int asst_consumer_read_begin(asst_consumer_t *c, int block_ms)
{
    const char *err = NULL;

    if (c->reading)
        return c->reading->fd;
    if (!(c->reading = asst_redis_acquire(c->redis, &err)))
        return -1;
    if (send_read(c, c->reading, block_ms) != 0) {
        asst_redis_release(c->redis, c->reading, 1);
        c->reading = NULL;
        return -1;
    }
    c->read_due = apr_time_now() + apr_time_from_msec(block_ms + c->conf.timeout_ms);
    return c->reading->fd;
}

int asst_consumer_reading(const asst_consumer_t *c)
{
    return c->reading != NULL;
}

int asst_consumer_read_end(asst_consumer_t *c, apr_pool_t *p, asst_entry_t *e)
{
    redisContext *rc = c->reading;
    redisReply *r = NULL;
    int found = 0;

    if (!rc)
        return 0;
    c->reading = NULL;
    if (redisGetReply(rc, (void **)&r) != REDIS_OK || !r) {
        asst_redis_release(c->redis, rc, 1);    /* unanswered: the connection is unusable */
        return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY)
        found = keep_entries(c, p, r, e);
    else if (is_error(r, "NOGROUP"))
        c->groups_ready = 0;
    freeReplyObject(r);
    asst_redis_release(c->redis, rc, 0);
    return found;
}

int asst_consumer_read_overdue(const asst_consumer_t *c)
{
    return c->reading && apr_time_now() > c->read_due;
}

/* Sends every command, then reads every reply: one round trip. */
static int pipeline(asst_consumer_t *c, int n, int argcs[], const char **argvs[])
{
    const char *err = NULL;
    redisContext *rc = asst_redis_acquire(c->redis, &err);
    int ok = rc != NULL;

    for (int i = 0; ok && i < n; i++)
        ok = redisAppendCommandArgv(rc, argcs[i], argvs[i], NULL) == REDIS_OK;
    for (int i = 0; ok && i < n; i++) {
        redisReply *r = NULL;
        ok = redisGetReply(rc, (void **)&r) == REDIS_OK && r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject(r);
    }
    if (rc)
        asst_redis_release(c->redis, rc, !ok);
    return ok ? 0 : -1;
}

int asst_consumer_ack(asst_consumer_t *c, const asst_entry_t *e)
{
    const char *ack[] = { "XACK", e->stream, ASST_GROUP, e->id };
    const char *del[] = { "XDEL", e->stream, e->id };
    int argcs[] = { 4, 3 };
    const char **argvs[] = { ack, del };

    return pipeline(c, 2, argcs, argvs);
}

int asst_consumer_dead(asst_consumer_t *c, const asst_entry_t *e, const char *reason)
{
    char deliveries[24];
    const char *add[] = { "XADD", ASST_STREAM_DEAD, "*", "stream", e->stream, "id", e->id,
                          "reason", reason, "deliveries", deliveries, "env", e->env ? e->env : "" };
    const char *ack[] = { "XACK", e->stream, ASST_GROUP, e->id };
    const char *del[] = { "XDEL", e->stream, e->id };
    int argcs[] = { 13, 4, 3 };
    const char **argvs[] = { add, ack, del };

    snprintf(deliveries, sizeof(deliveries), "%ld", e->deliveries);
    asst_log(ASST_LOG_ERR, "ASST01103: %s %s moved to %s: %s", e->stream, e->id, ASST_STREAM_DEAD, reason);
    return pipeline(c, 3, argcs, argvs);
}
