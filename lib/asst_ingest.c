#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "asst_ingest.h"

/* KEYS: seen, stream, rate. ARGV: dedupe ttl, envelope, limit, window.
 * Returns the stream id, 0 for a duplicate, -1 when over the rate limit.
 * A duplicate is checked first so Twilio's retries never count against the
 * sender; the seen key is only set once the entry is really added (a
 * script that errors half-way is not rolled back, so XADD comes first). */
static const char script[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "local limit = tonumber(ARGV[3])\n"
    "if limit > 0 then\n"
    "  local n = redis.call('INCR', KEYS[3])\n"
    "  if n == 1 then redis.call('EXPIRE', KEYS[3], ARGV[4]) end\n"
    "  if n > limit then return -1 end\n"
    "end\n"
    "local id = redis.call('XADD', KEYS[2], '*', 'env', ARGV[2])\n"
    "redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])\n"
    "return id\n";

static char script_sha[SHA_DIGEST_LENGTH * 2 + 1];
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;

static void compute_sha(void)
{
    unsigned char md[SHA_DIGEST_LENGTH];

    SHA1((const unsigned char *)script, strlen(script), md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(script_sha + 2 * i, 3, "%02x", md[i]);
}

const char *asst_ingest_script(void)
{
    return script;
}

const char *asst_ingest_script_sha(void)
{
    pthread_once(&sha_once, compute_sha);
    return script_sha;
}

static redisReply *run(redisContext *c, const char *verb, const char *code, const asst_ingest_t *q)
{
    char ttl[24], limit[24], window[24];
    const char *argv[10];

    snprintf(ttl, sizeof(ttl), "%ld", q->dedupe_ttl_s);
    snprintf(limit, sizeof(limit), "%ld", q->rate_limit);
    snprintf(window, sizeof(window), "%ld", q->rate_window_s > 0 ? q->rate_window_s : 1);
    argv[0] = verb;
    argv[1] = code;
    argv[2] = "3";
    argv[3] = q->seen_key;
    argv[4] = q->stream;
    argv[5] = q->rate_limit > 0 ? q->rate_key : q->seen_key;
    argv[6] = ttl;
    argv[7] = q->envelope;
    argv[8] = limit;
    argv[9] = window;
    return redisCommandArgv(c, 10, argv, NULL);
}

static int is_noscript(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

static asst_ingest_result_t interpret(const redisReply *r, char *id, char *err)
{
    if (r->type == REDIS_REPLY_STRING) {
        snprintf(id, 64, "%s", r->str);
        return ASST_INGEST_ACCEPTED;
    }
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
        return ASST_INGEST_DUPLICATE;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == -1)
        return ASST_INGEST_RATE_LIMITED;
    if (r->type == REDIS_REPLY_ERROR)
        snprintf(err, 128, "Redis error: %.100s", r->str);
    else
        snprintf(err, 128, "unexpected reply type %d from the ingest script", r->type);
    return ASST_INGEST_ERROR;
}

asst_ingest_result_t asst_ingest(redisContext *c, const asst_ingest_t *req, char *id, char *err)
{
    redisReply *r = run(c, "EVALSHA", asst_ingest_script_sha(), req);
    asst_ingest_result_t res;

    if (is_noscript(r)) {
        freeReplyObject(r);
        r = run(c, "EVAL", script, req);
    }
    if (!r) {
        snprintf(err, 128, "Redis I/O error: %.100s", c->errstr[0] ? c->errstr : "no reply");
        return ASST_INGEST_ERROR;
    }
    res = interpret(r, id, err);
    freeReplyObject(r);
    return res;
}
