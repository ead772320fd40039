/* Forgetting the consumers of dead children. Each agent child reads as
 * consumer host:pid, so every restart leaves a name behind in the group
 * (XINFO CONSUMERS grows without end). A consumer that holds nothing
 * pending (a dead one's entries are claimed by others after ClaimIdle) is
 * removed when it is gone: on this host, its pid no longer exists; on
 * another host, it has not been handed an entry for ASST_CONSUMER_REMOTE_IDLE_MS
 * (Redis 7.0's idle time does not move on empty reads, so a live but quiet
 * consumer looks idle too). The check and the removal are one script, so
 * an entry handed to it in between is never dropped from the pending list;
 * a live consumer removed while quiet loses nothing: XREADGROUP creates it
 * again with its next entry. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "asst_log.h"
#include "consumer.h"

static const char forget_script[] =
    "if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end "
    "return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])";

static long long number(const redisReply *r)
{
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    return r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
}

static int forget(redisContext *rc, const char *stream, const char *name)
{
    const char *argv[] = { "EVAL", forget_script, "1", stream, ASST_GROUP, name };
    redisReply *r = redisCommandArgv(rc, 6, argv, NULL);
    int gone = r && r->type == REDIS_REPLY_INTEGER && r->integer >= 0;

    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_ERROR)
        asst_log(ASST_LOG_WARN, "ASST01104: cannot remove consumer %s from %s: %s", name, stream, r->str);
    else if (gone)
        asst_log(ASST_LOG_INFO, "ASST01105: removed consumer %s from %s: gone, nothing pending", name, stream);
    freeReplyObject(r);
    return gone;
}

static int pid_gone(const char *pid_text)
{
    char *end;
    long pid = strtol(pid_text, &end, 10);

    return *end == '\0' && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* name is host:pid (see child.c) */
static int gone(const char *name, const char *host, long long idle_ms)
{
    apr_size_t n = strlen(host);

    if (strncmp(name, host, n) == 0 && name[n] == ':')
        return pid_gone(name + n + 1);
    return idle_ms > ASST_CONSUMER_REMOTE_IDLE_MS;
}

static int stale(const redisReply *c, const char *self, const char *host)
{
    const redisReply *name = asst_redis_field(c, "name");

    return name && name->type == REDIS_REPLY_STRING && strcmp(name->str, self) != 0
        && number(asst_redis_field(c, "pending")) == 0 && gone(name->str, host, number(asst_redis_field(c, "idle")));
}

int asst_consumer_prune(redisContext *rc, const char *stream, const char *self, const char *host)
{
    const char *argv[] = { "XINFO", "CONSUMERS", stream, ASST_GROUP };
    redisReply *r = redisCommandArgv(rc, 4, argv, NULL);
    int removed = 0;

    if (!r)
        return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        int rv = stale(r->element[i], self, host) ? forget(rc, stream, asst_redis_field(r->element[i], "name")->str) : 0;
        if (rv < 0) {
            removed = -1;
            break;
        }
        removed += rv;
    }
    freeReplyObject(r);
    return removed;
}
