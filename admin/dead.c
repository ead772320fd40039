#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "admin.h"
#include "child/consumer.h"

#define PAGE "100"

/* Moves one dead letter back, atomically and at most once: re-reads the
 * entry, XADDs its env to KEYS[2], XDELs it. nil when it is already gone. */
static const char replay_script[] =
    "local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])\n"
    "if #e == 0 then return false end\n"
    "local f = e[1][2]\n"
    "for i = 1, #f - 1, 2 do\n"
    "  if f[i] == 'env' and f[i + 1] ~= '' then\n"
    "    local id = redis.call('XADD', KEYS[2], '*', 'env', f[i + 1])\n"
    "    redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "    return id\n"
    "  end\n"
    "end\n"
    "return redis.error_reply('the entry has no envelope')\n";

typedef struct {
    const char *id;
    const char *stream;      /* where it came from, as the consumer recorded it */
    const char *reason;
    const char *env;
} dead_t;

static const char *reply_error(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply";
}

static const char *field(const redisReply *fields, const char *name)
{
    const redisReply *v = asst_redis_field(fields, name);

    return v && v->type == REDIS_REPLY_STRING ? v->str : NULL;
}

/* One XRANGE page after `after` ("-" for the start); NULL on error. */
static redisReply *page(redisContext *c, const char *after, const char *last)
{
    const char *argv[] = { "XRANGE", ASST_STREAM_DEAD, after, last, "COUNT", PAGE };
    redisReply *r = redisCommandArgv(c, 6, argv, NULL);

    if (r && r->type != REDIS_REPLY_ARRAY) {
        asst_admin_fail("XRANGE %s: %s", ASST_STREAM_DEAD, reply_error(r));
        freeReplyObject(r);
        return NULL;
    }
    if (!r)
        asst_admin_fail("Redis: %s", c->errstr);
    return r;
}

/* sid and from of the envelope, when it parses. */
static void print_envelope(const char *env)
{
    json_object *o = env ? json_tokener_parse(env) : NULL;
    json_object *v;

    if (!o) {
        printf(" env=%s", env && *env ? "(not JSON)" : "(none)");
        return;
    }
    if (json_object_object_get_ex(o, "sid", &v))
        printf(" sid=%s", json_object_get_string(v));
    if (json_object_object_get_ex(o, "from", &v))
        printf(" from=%s", json_object_get_string(v));
    json_object_put(o);
}

static void print_entry(const redisReply *e)
{
    const redisReply *f = e->element[1];

    printf("%s", e->element[0]->str);
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const char *k = f->element[i]->str, *v = f->element[i + 1]->str;
        if (!k || !v || strcmp(k, "env") == 0)
            continue;
        printf(strpbrk(v, " \t\"=") ? " %s=\"%s\"" : " %s=%s", k, v);
    }
    print_envelope(field(f, "env"));
    putchar('\n');
}

static int valid_entry(const redisReply *e)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
           e->element[0]->type == REDIS_REPLY_STRING && e->element[1]->type == REDIS_REPLY_ARRAY;
}

typedef int each_fn(asst_admin_t *a, redisContext *c, const redisReply *entry);

/* Calls fn on every dead letter, page by page; ADMIN_FAIL when Redis
 * failed or fn did for any entry. *n counts the entries seen. */
static int for_each_dead(asst_admin_t *a, redisContext *c, each_fn *fn, long *n)
{
    const char *after = "-";
    int rc = ADMIN_OK;

    *n = 0;
    for (;;) {
        redisReply *r = page(c, after, "+");
        size_t got;

        if (!r)
            return ADMIN_FAIL;
        got = r->elements;
        for (size_t i = 0; i < got; i++)
            if (valid_entry(r->element[i]) && fn(a, c, r->element[i]) != ADMIN_OK)
                rc = ADMIN_FAIL;
        if (got > 0)
            after = apr_pstrcat(a->pool, "(", r->element[got - 1]->element[0]->str, NULL);
        freeReplyObject(r);
        if (got == 0)
            return rc;
        *n += (long)got;
    }
}

static int list_one(asst_admin_t *a, redisContext *c, const redisReply *e)
{
    print_entry(e);
    return ADMIN_OK;
}

static int dead_list(asst_admin_t *a, redisContext *c)
{
    long n;

    if (for_each_dead(a, c, list_one, &n) != ADMIN_OK)
        return ADMIN_FAIL;
    printf(n ? "%ld dead letters\n" : "(no dead letters)\n", n);
    return ADMIN_OK;
}

static dead_t parse_dead(asst_admin_t *a, const redisReply *e)
{
    const redisReply *f = e->element[1];
    const char *s, *r = field(f, "reason"), *env = field(f, "env");
    dead_t d;

    d.id = apr_pstrdup(a->pool, e->element[0]->str);
    s = field(f, "stream");
    /* Only back onto a stream the worker reads; anything else goes to Stream. */
    d.stream = s && strcmp(s, a->conf->status_stream) == 0 ? a->conf->status_stream : a->conf->stream;
    d.reason = r ? apr_pstrdup(a->pool, r) : "";
    d.env = env ? apr_pstrdup(a->pool, env) : NULL;
    return d;
}

static json_object *event_data(const dead_t *d, const char *new_id)
{
    json_object *data = json_object_new_object(), *env = d->env ? json_tokener_parse(d->env) : NULL;
    json_object *sid;

    json_object_object_add(data, "dead_id", json_object_new_string(d->id));
    json_object_object_add(data, "stream", json_object_new_string(d->stream));
    json_object_object_add(data, "new_id", json_object_new_string(new_id));
    json_object_object_add(data, "reason", json_object_new_string(d->reason));
    if (env && json_object_object_get_ex(env, "sid", &sid))
        json_object_object_add(data, "sid", json_object_get(sid));
    json_object_put(env);
    return data;
}

/* EVAL the script: the new id, or NULL after saying why. */
static const char *move_back(asst_admin_t *a, redisContext *c, const dead_t *d)
{
    const char *argv[] = { "EVAL", replay_script, "2", ASST_STREAM_DEAD, d->stream, d->id };
    redisReply *r = redisCommandArgv(c, 6, argv, NULL);
    const char *id = NULL;

    if (!r)
        asst_admin_fail("Redis: %s", c->errstr);
    else if (r->type == REDIS_REPLY_STRING)
        id = apr_pstrdup(a->pool, r->str);
    else if (r->type == REDIS_REPLY_NIL)
        asst_admin_fail("dead letter %s is gone (replayed by someone else?)", d->id);
    else
        asst_admin_fail("dead letter %s left in place: %s", d->id, reply_error(r));
    if (r)
        freeReplyObject(r);
    return id;
}

/* The events row goes in the same PostgreSQL transaction, committed only
 * once Redis has moved the entry. */
static int replay_one(asst_admin_t *a, redisContext *c, const redisReply *e)
{
    dead_t d = parse_dead(a, e);
    const char *new_id;

    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (!(new_id = move_back(a, c, &d))) {
        asst_db_rollback(a->db);
        return ADMIN_FAIL;
    }
    if (asst_admin_event(a, NULL, "dead_replayed", event_data(&d, new_id)) != ASST_DB_OK ||
        asst_admin_commit(a) != ADMIN_OK) {
        asst_db_rollback(a->db);
        return asst_admin_fail("replayed %s as %s %s, but the event row was not written: %s", d.id,
                               d.stream, new_id, asst_db_error(a->db));
    }
    printf("replayed %s to %s as %s\n", d.id, d.stream, new_id);
    return ADMIN_OK;
}

static int replay_id(asst_admin_t *a, redisContext *c, const char *id)
{
    redisReply *r = page(c, id, id);
    int rc;

    if (!r)
        return ADMIN_FAIL;
    if (r->elements == 1 && valid_entry(r->element[0]))
        rc = replay_one(a, c, r->element[0]);
    else
        rc = asst_admin_fail("no dead letter %s in %s", id, ASST_STREAM_DEAD);
    freeReplyObject(r);
    return rc;
}

static int replay_all(asst_admin_t *a, redisContext *c)
{
    long n;
    int rc = for_each_dead(a, c, replay_one, &n);

    printf("%ld dead letters processed\n", n);
    return rc;
}

static int valid_id(const char *s)
{
    size_t n = strspn(s, "0123456789");

    if (n == 0)
        return 0;
    if (s[n] == '\0')
        return 1;
    return s[n] == '-' && s[n + 1] && strspn(s + n + 1, "0123456789") == strlen(s + n + 1);
}

/* dead list | dead replay ID|--all */
int asst_admin_dead(asst_admin_t *a, int argc, const char *const *argv)
{
    int list = argc == 1 && strcmp(argv[0], "list") == 0;
    int replay = argc == 2 && strcmp(argv[0], "replay") == 0;
    redisContext *c;
    int rc;

    if (!list && !(replay && (strcmp(argv[1], "--all") == 0 || valid_id(argv[1]))))
        return asst_admin_usage("usage: dead list | dead replay ID|--all");
    if (!(c = asst_admin_redis(a)))
        return ADMIN_FAIL;
    if (list)
        rc = dead_list(a, c);
    else
        rc = strcmp(argv[1], "--all") == 0 ? replay_all(a, c) : replay_id(a, c, argv[1]);
    asst_redis_release(a->redis, c, c->err != 0);
    return rc;
}
