#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "child/consumer.h"

typedef struct {
    long long pending;
    long long consumers;
    int found;
} group_info_t;

static long long int_field(const redisReply *group, const char *name)
{
    const redisReply *v = asst_redis_field(group, name);

    return v && v->type == REDIS_REPLY_INTEGER ? v->integer : 0;
}

static int is_named(const redisReply *group, const char *name)
{
    const redisReply *v = asst_redis_field(group, "name");

    return v && v->type == REDIS_REPLY_STRING && strcmp(v->str, name) == 0;
}

/* XINFO GROUPS: a missing stream is an error reply, i.e. no group. */
static int group_info(redisContext *c, const char *stream, group_info_t *g)
{
    const char *argv[] = { "XINFO", "GROUPS", stream };
    redisReply *r = redisCommandArgv(c, 3, argv, NULL);

    g->found = 0;
    if (!r)
        return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *grp = r->element[i];
        if (grp->type == REDIS_REPLY_ARRAY && is_named(grp, ASST_GROUP)) {
            g->found = 1;
            g->pending = int_field(grp, "pending");
            g->consumers = int_field(grp, "consumers");
        }
    }
    freeReplyObject(r);
    return 0;
}

static int xlen(redisContext *c, const char *key, long long *n)
{
    const char *argv[] = { "XLEN", key };
    redisReply *r = redisCommandArgv(c, 2, argv, NULL);
    int ok = r && r->type == REDIS_REPLY_INTEGER;

    *n = ok ? r->integer : 0;
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

static int show_stream(redisContext *c, const char *stream)
{
    long long n;
    group_info_t g;

    if (xlen(c, stream, &n) != 0 || group_info(c, stream, &g) != 0)
        return -1;
    if (g.found)
        printf("stream %s: %lld entries, %lld pending in group %s (%lld consumers)\n", stream, n,
               g.pending, ASST_GROUP, g.consumers);
    else
        printf("stream %s: %lld entries, no group %s yet\n", stream, n, ASST_GROUP);
    return 0;
}

static int redis_part(asst_admin_t *a)
{
    redisContext *c = asst_admin_redis(a);
    long long dead;
    int bad;

    if (!c)
        return ADMIN_FAIL;
    bad = show_stream(c, a->conf->stream) != 0 || show_stream(c, a->conf->status_stream) != 0 ||
          xlen(c, ASST_STREAM_DEAD, &dead) != 0;
    if (!bad)
        printf("dead letters %s: %lld entries\n", ASST_STREAM_DEAD, dead);
    else
        asst_admin_fail("Redis %s: %s", a->conf->redis, c->err ? c->errstr : "unexpected reply");
    asst_redis_release(a->redis, c, bad);
    return bad ? ADMIN_FAIL : ADMIN_OK;
}

static int outbox_part(asst_admin_t *a)
{
    PGresult *res;

    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (asst_db_exec(a->db, &res,
                     "SELECT count(*) FILTER (WHERE status = 'pending'), "
                     "       count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now()), "
                     "       count(*) FILTER (WHERE status = 'sending'), "
                     "       count(*) FILTER (WHERE status = 'unknown'), "
                     "       count(*) FILTER (WHERE status = 'sent'), "
                     "       count(*) FILTER (WHERE status = 'failed') FROM outbox",
                     0, NULL) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot count the outbox");
    printf("outbox: pending %s (due %s), sending %s, unknown %s, sent %s, failed %s\n",
           PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
           PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
    PQclear(res);
    return asst_admin_commit(a);
}

/* queue: the front door (Redis) and the way out (outbox), each reported
 * even when the other is down. */
int asst_admin_queue(asst_admin_t *a, int argc, const char *const *argv)
{
    int r, o;

    if (argc != 0)
        return asst_admin_usage("usage: queue");
    r = redis_part(a);
    o = outbox_part(a);
    return r != ADMIN_OK ? r : o;
}
