#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* SHA1_Init/Update/Final (deprecated in OpenSSL 3): the one-shot SHA1()
 * goes through EVP and initialises all of OpenSSL (config file, error
 * strings: ~14,000 mallocs) in whichever process calls it first. */
#define OPENSSL_SUPPRESS_DEPRECATED
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
    SHA_CTX ctx;

    SHA1_Init(&ctx);
    SHA1_Update(&ctx, script, strlen(script));
    SHA1_Final(md, &ctx);
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

static const char *command(apr_pool_t *p, const char *verb, const char *code,
                           const asst_ingest_t *q, apr_size_t *len)
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
    return asst_resp_command(p, 10, argv, NULL, len);
}

static asst_pipe_status_t run(asst_pipe_t *pp, apr_pool_t *p, const char *verb, const char *code,
                              const asst_ingest_t *q, asst_resp_reply_t *r, char *err)
{
    apr_size_t len;
    const char *cmd = command(p, verb, code, q, &len);

    return asst_pipe_call(pp, cmd, len, r, err);
}

static int is_noscript(const asst_resp_reply_t *r)
{
    return r->type == ASST_RESP_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

static asst_ingest_result_t interpret(const asst_resp_reply_t *r, char *id, char *err)
{
    if (r->type == ASST_RESP_STRING && r->len < 64) {
        memcpy(id, r->str, r->len + 1);
        return ASST_INGEST_ACCEPTED;
    }
    if (r->type == ASST_RESP_INTEGER && r->integer == 0)
        return ASST_INGEST_DUPLICATE;
    if (r->type == ASST_RESP_INTEGER && r->integer == -1)
        return ASST_INGEST_RATE_LIMITED;
    if (r->type == ASST_RESP_ERROR)
        snprintf(err, 128, "Redis error: %.100s", r->str);
    else
        snprintf(err, 128, "unexpected reply type %d from the ingest script", (int)r->type);
    return ASST_INGEST_ERROR;
}

asst_ingest_result_t asst_ingest(asst_pipe_t *pp, apr_pool_t *p, const asst_ingest_t *req,
                                 char *id, char *err, int *retry)
{
    asst_resp_reply_t r;
    char why[ASST_RESP_TEXT_MAX];
    asst_pipe_status_t st = run(pp, p, "EVALSHA", asst_ingest_script_sha(), req, &r, why);

    if (st == ASST_PIPE_OK && is_noscript(&r))
        st = run(pp, p, "EVAL", script, req, &r, why);
    *retry = st == ASST_PIPE_STALE;
    if (st != ASST_PIPE_OK) {
        snprintf(err, 128, "%s", why);
        return ASST_INGEST_ERROR;
    }
    return interpret(&r, id, err);
}
