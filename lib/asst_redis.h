#ifndef ASST_REDIS_H
#define ASST_REDIS_H

#include <apr_pools.h>
#include <hiredis/hiredis.h>

/* Redis addresses, connecting (timeouts, AUTH), and a per-process pool of
 * hiredis contexts for the worker and assistant-admin, thread-safe.
 * Connections are made on demand with a connect timeout, carry a command
 * timeout, AUTH from the configured password, and are dropped when an I/O
 * error leaves them in an unknown state. After a failed connect the pool
 * refuses to dial again for a short hold-down. (httpd children share one
 * pipelined connection instead: asst_pipe.h.) */

typedef struct {
    const char *host;        /* NULL when path is set */
    int port;
    const char *path;        /* unix socket, or NULL */
    const char *password;    /* NULL: no AUTH */
    int timeout_ms;          /* connect and command timeout */
    int max_idle;            /* idle contexts kept for reuse */
} asst_redis_conf_t;

typedef struct asst_redis_pool asst_redis_pool_t;

/* How long a process waits after a failed connect before dialling again. */
#define ASST_REDIS_HOLD_DOWN_USEC (250 * 1000)

typedef struct {
    unsigned open;      /* contexts currently connected (idle + in use) */
    unsigned in_use;
    unsigned long connects;
    unsigned long connect_failures;
} asst_redis_stats_t;

/* Parses "host:port", "host" (port 6379), "[v6]:port", "[v6]" or
 * "unix:/path". An IPv6 address needs the brackets (conf->host gets it
 * without them, as hiredis wants it): a host with ':' is refused. */
int asst_redis_parse_addr(apr_pool_t *p, const char *spec, asst_redis_conf_t *conf,
                          const char **err);

/* stats: where the pool keeps its counters (e.g. in shared memory so other
 * processes can read them), or NULL to keep them inside the pool. It must
 * outlive p: the pool's cleanup updates it. */
asst_redis_pool_t *asst_redis_pool_create(apr_pool_t *p, const asst_redis_conf_t *conf,
                                          asst_redis_stats_t *stats);

/* asst_redis_parse_addr + asst_redis_pool_create: NULL with *err when addr
 * is malformed. */
asst_redis_pool_t *asst_redis_pool_open(apr_pool_t *p, const char *addr, const char *password,
                                        int timeout_ms, int max_idle, asst_redis_stats_t *stats,
                                        const char **err);

/* One new connection with conf's timeouts and AUTH (no pool, no
 * hold-down), or NULL with *err. */
redisContext *asst_redis_dial(const asst_redis_conf_t *conf, const char **err);

/* A connected context, or NULL with *err (static or pool-lived text). */
redisContext *asst_redis_acquire(asst_redis_pool_t *pool, const char **err);

/* Give c back; broken != 0 closes it (after an I/O or protocol error). */
void asst_redis_release(asst_redis_pool_t *pool, redisContext *c, int broken);

void asst_redis_stats(asst_redis_pool_t *pool, asst_redis_stats_t *st);

/* Drops every idle connection; call at child exit. */
void asst_redis_pool_close(asst_redis_pool_t *pool);

/* The value after key `name` in a flat [key, value, ...] reply (a stream
 * entry's fields, an XINFO record), or NULL when pairs is not an array or
 * has no such key. */
const redisReply *asst_redis_field(const redisReply *pairs, const char *name);

#endif
