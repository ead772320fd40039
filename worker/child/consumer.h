#ifndef ASST_CONSUMER_H
#define ASST_CONSUMER_H

#include <apr_pools.h>

#include "asst_keys.h"
#include "asst_redis.h"

/* Reading the streams mod_assistant writes, as consumer group "workers":
 * new entries with XREADGROUP BLOCK (answer read when its socket is ready), entries a dead consumer left pending
 * with XAUTOCLAIM once idle past ClaimIdle, and entries delivered
 * MaxDeliveries times to the dead-letter stream with the reason. */


typedef struct {
    const char *stream;
    const char *id;
    const char *env;        /* the envelope JSON, NULL if the entry has none */
    long deliveries;        /* including this one */
} asst_entry_t;

typedef struct {
    const char *streams[2]; /* incoming messages, status callbacks */
    int nstreams;
    const char *consumer;   /* host:pid */
    const char *host;       /* this host's name, the consumer's prefix */
    long claim_idle_ms;
    long max_deliveries;
    int timeout_ms;         /* for non-blocking commands */
} asst_consumer_conf_t;

typedef struct asst_consumer asst_consumer_t;

asst_consumer_t *asst_consumer_create(apr_pool_t *p, const asst_consumer_conf_t *conf,
                                      asst_redis_pool_t *redis);

/* An entry to work on without waiting: one a read delivered with others,
 * or (looked for once a second) one a dead consumer left pending past
 * ClaimIdle. Returns 1 with *e filled (strings in p), 0 when there is
 * none, -1 when Redis is unreachable (the caller backs off). Entries past
 * MaxDeliveries never come out: they go to the dead-letter stream. */
int asst_consumer_take(asst_consumer_t *c, apr_pool_t *p, asst_entry_t *e);

/* Sends XREADGROUP ... BLOCK block_ms for new entries on a connection of
 * its own and returns its socket, to poll for reading; -1 when Redis is
 * unreachable. The answer must then be read with asst_consumer_read_end
 * (the entries it brings are this consumer's already). */
int asst_consumer_read_begin(asst_consumer_t *c, int block_ms);
int asst_consumer_reading(const asst_consumer_t *c);
/* Once the socket is readable (or the read is overdue): 1 with *e, 0
 * when the read brought nothing, -1 when it failed (the connection is
 * dropped; an overdue one after the command timeout). */
int asst_consumer_read_end(asst_consumer_t *c, apr_pool_t *p, asst_entry_t *e);
/* The read has had block_ms and the command timeout and not answered. */
int asst_consumer_read_overdue(const asst_consumer_t *c);

/* Done with it (committed): XACK and XDEL in one round trip. */
int asst_consumer_ack(asst_consumer_t *c, const asst_entry_t *e);

/* A consumer on another host is taken for gone after this long without an
 * entry (on this host: when its pid is gone). */
#define ASST_CONSUMER_REMOTE_IDLE_MS (60L * 60 * 1000)

/* Removes from stream's group every consumer but self that is gone (see
 * consumer_prune.c) and holds nothing pending; host is this host's name.
 * Returns how many went, or -1 when the connection failed. */
int asst_consumer_prune(redisContext *rc, const char *stream, const char *self, const char *host);

/* Give up on it: XADD to the dead-letter stream with the reason, then ack. */
int asst_consumer_dead(asst_consumer_t *c, const asst_entry_t *e, const char *reason);

#endif
