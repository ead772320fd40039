#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>

#include "asst_log.h"
#include "asst_redis.h"

/* Counters may live in shared memory and be shared by several pools, so
 * they change atomically even though each pool also has its own lock. */
#define STAT_ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)

struct asst_redis_pool {
    asst_redis_conf_t conf;
    apr_thread_mutex_t *lock;
    redisContext **idle;
    int nidle;
    apr_time_t down_until;
    asst_redis_stats_t own_stats;
    asst_redis_stats_t *stats;
};

static int parse_port(const char *s, int *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

#define NEEDS_BRACKETS "IPv6 addresses (and any host with ':') need brackets: [::1]:6379"

/* "[v6]" or "[v6]:port"; *port_text is NULL without a port. The host is
 * kept without brackets, as hiredis wants it. */
static int split_bracketed(apr_pool_t *p, const char *spec, asst_redis_conf_t *conf,
                           const char **port_text, const char **err)
{
    const char *rb = strchr(spec, ']');

    if (!rb) {
        *err = "missing ']' after the IPv6 address: [::1]:6379";
        return -1;
    }
    if (rb == spec + 1 || memchr(spec + 1, '[', (apr_size_t)(rb - spec - 1))) {
        *err = "no IPv6 address between '[' and ']'";
        return -1;
    }
    if (rb[1] && rb[1] != ':') {
        *err = "only ':port' may follow ']'";
        return -1;
    }
    conf->host = apr_pstrmemdup(p, spec + 1, (apr_size_t)(rb - spec - 1));
    *port_text = rb[1] ? rb + 2 : NULL;
    return 0;
}

/* "host" or "host:port", the host without ':' (bare IPv6 is ambiguous). */
static int split_plain(apr_pool_t *p, const char *spec, asst_redis_conf_t *conf,
                       const char **port_text, const char **err)
{
    const char *colon = strchr(spec, ':');

    if (colon && strchr(colon + 1, ':')) {
        *err = NEEDS_BRACKETS;
        return -1;
    }
    if (colon == spec) {
        *err = "missing host";
        return -1;
    }
    conf->host = colon ? apr_pstrmemdup(p, spec, (apr_size_t)(colon - spec)) : apr_pstrdup(p, spec);
    *port_text = colon ? colon + 1 : NULL;
    return 0;
}

static int parse_unix(apr_pool_t *p, const char *spec, asst_redis_conf_t *conf, const char **err)
{
    if (spec[5] != '/') {
        *err = "unix: needs an absolute socket path";
        return -1;
    }
    conf->path = apr_pstrdup(p, spec + 5);
    return 0;
}

int asst_redis_parse_addr(apr_pool_t *p, const char *spec, asst_redis_conf_t *conf,
                          const char **err)
{
    const char *port_text;

    conf->host = NULL;
    conf->path = NULL;
    conf->port = 6379;
    if (!spec || !*spec) {
        *err = "empty Redis address";
        return -1;
    }
    if (strncmp(spec, "unix:", 5) == 0)
        return parse_unix(p, spec, conf, err);
    if ((spec[0] == '[' ? split_bracketed(p, spec, conf, &port_text, err)
                        : split_plain(p, spec, conf, &port_text, err)) != 0)
        return -1;
    if (port_text && parse_port(port_text, &conf->port) != 0) {
        *err = "port must be 1..65535";
        return -1;
    }
    return 0;
}

static apr_status_t pool_cleanup(void *data)
{
    asst_redis_pool_close(data);
    return APR_SUCCESS;
}

asst_redis_pool_t *asst_redis_pool_create(apr_pool_t *p, const asst_redis_conf_t *conf,
                                          asst_redis_stats_t *stats)
{
    asst_redis_pool_t *pool = apr_pcalloc(p, sizeof(*pool));

    pool->stats = stats ? stats : &pool->own_stats;

    pool->conf = *conf;
    if (pool->conf.max_idle < 1)
        pool->conf.max_idle = 1;
    pool->idle = apr_pcalloc(p, sizeof(redisContext *) * (apr_size_t)pool->conf.max_idle);
    apr_thread_mutex_create(&pool->lock, APR_THREAD_MUTEX_DEFAULT, p);
    apr_pool_cleanup_register(p, pool, pool_cleanup, apr_pool_cleanup_null);
    return pool;
}

asst_redis_pool_t *asst_redis_pool_open(apr_pool_t *p, const char *addr, const char *password,
                                        int timeout_ms, int max_idle, asst_redis_stats_t *stats,
                                        const char **err)
{
    asst_redis_conf_t rc;

    if (asst_redis_parse_addr(p, addr, &rc, err) != 0)
        return NULL;
    rc.password = password;
    rc.timeout_ms = timeout_ms;
    rc.max_idle = max_idle;
    return asst_redis_pool_create(p, &rc, stats);
}

static struct timeval timeout_tv(int ms)
{
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

/* The AUTH reply is checked, the password never appears in any message. */
static int authenticate(redisContext *c, const char *password, const char **err)
{
    const char *argv[2] = { "AUTH", password };
    redisReply *r = redisCommandArgv(c, 2, argv, NULL);
    int ok = r && r->type == REDIS_REPLY_STATUS;

    if (!ok)
        *err = r ? "Redis refused AUTH (wrong password in AssistantRedisPasswordFile?)"
                 : "Redis closed the connection during AUTH";
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

redisContext *asst_redis_dial(const asst_redis_conf_t *conf, const char **err)
{
    struct timeval tv = timeout_tv(conf->timeout_ms);
    redisContext *c = conf->path ? redisConnectUnixWithTimeout(conf->path, tv)
                                 : redisConnectWithTimeout(conf->host, conf->port, tv);

    if (!c) {
        *err = "out of memory creating Redis context";
        return NULL;
    }
    if (c->err) {
        *err = "cannot connect to Redis";
        asst_log(ASST_LOG_DEBUG, "ASST00101: connect to Redis failed: %s", c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK || (conf->password && authenticate(c, conf->password, err) != 0)) {
        if (c->err)
            *err = "cannot set Redis command timeout";
        redisFree(c);
        return NULL;
    }
    return c;
}

static void count_connect(asst_redis_pool_t *pool, int ok)
{
    apr_thread_mutex_lock(pool->lock);
    if (ok) {
        STAT_ADD(pool->stats->connects, 1);
        STAT_ADD(pool->stats->open, 1);
        STAT_ADD(pool->stats->in_use, 1);
        pool->down_until = 0;
    }
    else {
        STAT_ADD(pool->stats->connect_failures, 1);
        pool->down_until = apr_time_now() + ASST_REDIS_HOLD_DOWN_USEC;
    }
    apr_thread_mutex_unlock(pool->lock);
}

redisContext *asst_redis_acquire(asst_redis_pool_t *pool, const char **err)
{
    redisContext *c = NULL;
    int held_down;

    apr_thread_mutex_lock(pool->lock);
    if (pool->nidle > 0) {
        c = pool->idle[--pool->nidle];
        STAT_ADD(pool->stats->in_use, 1);
    }
    held_down = !c && pool->down_until > apr_time_now();
    apr_thread_mutex_unlock(pool->lock);
    if (c)
        return c;
    if (held_down) {
        *err = "Redis unreachable moments ago; not retrying yet";
        return NULL;
    }
    c = asst_redis_dial(&pool->conf, err);
    count_connect(pool, c != NULL);
    return c;
}

void asst_redis_release(asst_redis_pool_t *pool, redisContext *c, int broken)
{
    int keep;

    apr_thread_mutex_lock(pool->lock);
    STAT_ADD(pool->stats->in_use, -1);
    keep = !broken && !c->err && pool->nidle < pool->conf.max_idle;
    if (keep)
        pool->idle[pool->nidle++] = c;
    else
        STAT_ADD(pool->stats->open, -1);
    apr_thread_mutex_unlock(pool->lock);
    if (!keep)
        redisFree(c);
}

void asst_redis_stats(asst_redis_pool_t *pool, asst_redis_stats_t *st)
{
    apr_thread_mutex_lock(pool->lock);
    *st = *pool->stats;
    apr_thread_mutex_unlock(pool->lock);
}

void asst_redis_pool_close(asst_redis_pool_t *pool)
{
    apr_thread_mutex_lock(pool->lock);
    while (pool->nidle > 0) {
        redisFree(pool->idle[--pool->nidle]);
        STAT_ADD(pool->stats->open, -1);
    }
    apr_thread_mutex_unlock(pool->lock);
}

static int is_key(const redisReply *k, const char *name)
{
    return (k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) && strcmp(k->str, name) == 0;
}

const redisReply *asst_redis_field(const redisReply *pairs, const char *name)
{
    if (!pairs || pairs->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < pairs->elements; i += 2)
        if (is_key(pairs->element[i], name))
            return pairs->element[i + 1];
    return NULL;
}
