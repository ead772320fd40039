/* Unit tests for lib/asst_ingest.c: the one Lua round trip of a webhook
 * (dedupe + rate limit + XADD), against a private redis-server. */
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "asst_ingest.h"
#include "redis_server.h"
#include "unit_main.h"

#define STREAM "{asst}:in"
#define RATE_KEY "{asst}:rl:+14155550123"
#define DEDUPE_TTL 86400L
#define ENVELOPE "{\"v\":1,\"sid\":\"SM1\",\"body\":\"50%s off %d \\r\\n caf\303\251 \360\237\230\200\"}"

static apr_pool_t *pool;
static test_redis_t srv;
static asst_pipe_t *pipe_;

static void setup(void)
{
    asst_redis_conf_t conf = { .path = NULL, .timeout_ms = 2000 };

    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    tr_start_unix(&srv, "ingest");
    conf.path = srv.sock;
    pipe_ = asst_pipe_create(pool, &conf, NULL);
}

static void teardown(void)
{
    tr_stop(&srv, SIGTERM);
    apr_pool_destroy(pool);
    pool = NULL;
}

static asst_ingest_t request(const char *sid, long rate_limit)
{
    asst_ingest_t req;

    memset(&req, 0, sizeof(req));
    req.seen_key = apr_pstrcat(pool, "{asst}:seen:", sid, NULL);
    req.stream = STREAM;
    req.rate_key = RATE_KEY;
    req.envelope = ENVELOPE;
    req.dedupe_ttl_s = DEDUPE_TTL;
    req.rate_limit = rate_limit;
    req.rate_window_s = 60;
    return req;
}

static asst_ingest_result_t ingest(const asst_ingest_t *req, char *id)
{
    char err[128];
    asst_ingest_result_t r;
    int retry;

    memset(err, 0, sizeof(err));
    r = asst_ingest(pipe_, pool, req, id, err, &retry);
    ck_assert_msg(r != ASST_INGEST_ERROR, "ingest error: %s", err);
    return r;
}

static void ingest_accepted(const char *sid, long rate_limit, char id[64])
{
    asst_ingest_t req = request(sid, rate_limit);

    ck_assert_int_eq(ingest(&req, id), ASST_INGEST_ACCEPTED);
}

static long long xlen(void)
{
    return tr_command_int(&srv, "XLEN %s", STREAM);
}

static void assert_entry_id(const char *id)
{
    regex_t re;

    ck_assert_int_eq(regcomp(&re, "^[0-9]+-[0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
    ck_assert_msg(regexec(&re, id, 0, NULL, 0) == 0, "not a stream id: \"%s\"", id);
    regfree(&re);
}

/* ---- ingest ---- */

START_TEST(accepted_adds_entry)
{
    char id[64];
    redisReply *rep, *entry, *fields;
    size_t i;
    int found = 0;

    memset(id, 0, sizeof(id));
    ingest_accepted("SM1", 0, id);
    assert_entry_id(id);
    ck_assert_int_eq(xlen(), 1);
    rep = tr_command(&srv, "XRANGE %s - +", STREAM);
    ck_assert_uint_eq(rep->elements, 1);
    entry = rep->element[0];
    ck_assert_str_eq(entry->element[0]->str, id);
    fields = entry->element[1];
    for (i = 0; i + 1 < fields->elements; i += 2)
        if (strcmp(fields->element[i]->str, "env") == 0) {
            ck_assert_uint_eq(fields->element[i + 1]->len, strlen(ENVELOPE));
            ck_assert_str_eq(fields->element[i + 1]->str, ENVELOPE);
            found = 1;
        }
    ck_assert_msg(found, "no field \"env\" in the stream entry");
    freeReplyObject(rep);
}
END_TEST

START_TEST(duplicate_dropped)
{
    asst_ingest_t req = request("SM2", 0);
    char id[64];

    ck_assert_int_eq(ingest(&req, id), ASST_INGEST_ACCEPTED);
    ck_assert_int_eq(ingest(&req, id), ASST_INGEST_DUPLICATE);
    ck_assert_int_eq(ingest(&req, id), ASST_INGEST_DUPLICATE);
    ck_assert_int_eq(xlen(), 1);
}
END_TEST

START_TEST(rate_limited_after_two)
{
    asst_ingest_t third = request("SM5", 2);
    char id[64];
    long long ttl;

    ingest_accepted("SM3", 2, id);
    ingest_accepted("SM4", 2, id);
    ck_assert_int_eq(ingest(&third, id), ASST_INGEST_RATE_LIMITED);
    ck_assert_int_eq(xlen(), 2);
    ttl = tr_command_int(&srv, "TTL %s", RATE_KEY);
    ck_assert_msg(ttl > 0 && ttl <= 60, "rate key TTL %lld", ttl);
}
END_TEST

START_TEST(rate_limit_per_sender)
{
    asst_ingest_t other = request("SM8", 1);
    char id[64];

    ingest_accepted("SM7", 1, id);
    other.rate_key = "{asst}:rl:+14155550999";
    ck_assert_int_eq(ingest(&other, id), ASST_INGEST_ACCEPTED);
    ck_assert_int_eq(xlen(), 2);
}
END_TEST

START_TEST(retry_is_duplicate_not_rate_limited)
{
    asst_ingest_t req = request("SM9", 1);
    char id[64];

    ck_assert_int_eq(ingest(&req, id), ASST_INGEST_ACCEPTED);
    ck_assert_int_eq(ingest(&req, id), ASST_INGEST_DUPLICATE);   /* a Twilio retry */
    ck_assert_int_eq(xlen(), 1);
}
END_TEST

START_TEST(rate_limit_zero_is_unlimited)
{
    char id[64], sid[16];
    int i;

    for (i = 0; i < 10; i++) {
        snprintf(sid, sizeof(sid), "SMz%d", i);
        ingest_accepted(sid, 0, id);
    }
    ck_assert_int_eq(xlen(), 10);
    ck_assert_int_eq(tr_command_int(&srv, "EXISTS %s", RATE_KEY), 0);
}
END_TEST

START_TEST(dedupe_key_ttl)
{
    char id[64];
    long long ttl;

    ingest_accepted("SM10", 0, id);
    ttl = tr_command_int(&srv, "TTL %s", "{asst}:seen:SM10");
    ck_assert_msg(ttl >= DEDUPE_TTL - 2 && ttl <= DEDUPE_TTL, "dedupe TTL %lld", ttl);
}
END_TEST

START_TEST(ids_increase)
{
    char id1[64], id2[64];
    unsigned long long ms1, seq1, ms2, seq2;

    ingest_accepted("SM11", 0, id1);
    ingest_accepted("SM12", 0, id2);
    ck_assert_int_eq(sscanf(id1, "%llu-%llu", &ms1, &seq1), 2);
    ck_assert_int_eq(sscanf(id2, "%llu-%llu", &ms2, &seq2), 2);
    ck_assert(ms2 > ms1 || (ms2 == ms1 && seq2 > seq1));
}
END_TEST

/* ---- the script cache ---- */

START_TEST(after_script_flush)
{
    char id[64];
    redisReply *rep;

    ingest_accepted("SM13", 0, id);
    freeReplyObject(tr_command(&srv, "SCRIPT FLUSH"));
    ingest_accepted("SM14", 0, id);      /* NOSCRIPT -> EVAL */
    assert_entry_id(id);
    ck_assert_int_eq(xlen(), 2);
    rep = tr_command(&srv, "SCRIPT EXISTS %s", asst_ingest_script_sha());
    ck_assert_uint_eq(rep->elements, 1);
    ck_assert_int_eq(rep->element[0]->integer, 1);   /* EVAL cached it again */
    freeReplyObject(rep);
    ingest_accepted("SM15", 0, id);
    ck_assert_int_eq(xlen(), 3);
}
END_TEST

START_TEST(script_sha_is_sha1)
{
    const char *script = asst_ingest_script();
    unsigned char md[SHA_DIGEST_LENGTH];
    char hex[2 * SHA_DIGEST_LENGTH + 1];
    int i;

    ck_assert_ptr_nonnull(script);
    SHA1((const unsigned char *)script, strlen(script), md);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    ck_assert_str_eq(asst_ingest_script_sha(), hex);
}
END_TEST

START_TEST(script_load_matches)
{
    redisReply *rep = tr_command(&srv, "SCRIPT LOAD %s", asst_ingest_script());

    ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(rep->str, asst_ingest_script_sha());
    freeReplyObject(rep);
}
END_TEST

/* ---- errors ---- */

START_TEST(killed_server_is_error)
{
    asst_ingest_t req = request("SM16", 0);
    char id[64], err[128];
    int retry;

    tr_stop(&srv, SIGKILL);
    memset(err, 0, sizeof(err));
    ck_assert_int_eq(asst_ingest(pipe_, pool, &req, id, err, &retry), ASST_INGEST_ERROR);
    ck_assert_msg(err[0] != '\0', "err is empty");
    ck_assert_ptr_nonnull(memchr(err, '\0', sizeof(err)));
}
END_TEST

START_TEST(failed_xadd_keeps_no_dedupe_mark)
{
    asst_ingest_t req = request("SM17", 0);
    char id[64], err[128];
    int retry;

    freeReplyObject(tr_command(&srv, "SET %s not-a-stream", STREAM));
    memset(err, 0, sizeof(err));
    ck_assert_int_eq(asst_ingest(pipe_, pool, &req, id, err, &retry), ASST_INGEST_ERROR);
    ck_assert_msg(strstr(err, "WRONGTYPE") != NULL, "err: %s", err);
    ck_assert_int_eq(retry, 0);
    /* The message was not queued: Twilio's retry must not be dropped as a duplicate. */
    freeReplyObject(tr_command(&srv, "DEL %s", STREAM));
    ck_assert_int_eq(ingest(&req, id), ASST_INGEST_ACCEPTED);
    ck_assert_int_eq(xlen(), 1);
}
END_TEST

static Suite *ingest_suite(void)
{
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("ingest");
    TCase *script = tcase_create("script");
    TCase *err = tcase_create("errors");

    tcase_add_unchecked_fixture(tc, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, accepted_adds_entry);
    tcase_add_test(tc, duplicate_dropped);
    tcase_add_test(tc, rate_limited_after_two);
    tcase_add_test(tc, rate_limit_per_sender);
    tcase_add_test(tc, retry_is_duplicate_not_rate_limited);
    tcase_add_test(tc, rate_limit_zero_is_unlimited);
    tcase_add_test(tc, dedupe_key_ttl);
    tcase_add_test(tc, ids_increase);
    suite_add_tcase(s, tc);

    tcase_add_unchecked_fixture(script, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(script, setup, teardown);
    tcase_set_timeout(script, 30);
    tcase_add_test(script, after_script_flush);
    tcase_add_test(script, script_sha_is_sha1);
    tcase_add_test(script, script_load_matches);
    suite_add_tcase(s, script);

    tcase_add_unchecked_fixture(err, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(err, setup, teardown);
    tcase_set_timeout(err, 30);
    tcase_add_test(err, killed_server_is_error);
    tcase_add_test(err, failed_xadd_keeps_no_dedupe_mark);
    suite_add_tcase(s, err);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);   /* httpd and the worker ignore it too */
    return asst_unit_run(ingest_suite());
}
