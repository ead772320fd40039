/* Unit tests for lib/asst_pipe.c: one pipelined Redis connection shared by
 * the threads of a process, against a private redis-server.
 *
 * Worker threads never call ck_assert (it is not thread-safe and under
 * CK_FORK=no would longjmp across threads): they count what went wrong and
 * keep the first message, and the test's own thread asserts after joining. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <check.h>
#include <hiredis/hiredis.h>

#include "asst_pipe.h"
#include "asst_resp.h"
#include "redis_server.h"
#include "unit_main.h"

#define MAX_ARGS 8

static apr_pool_t *pool;
static test_redis_t srv;
static asst_redis_stats_t stats;

static void setup_pool(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    memset(&stats, 0, sizeof(stats));
}

static void setup(void)
{
    setup_pool();
    tr_start_unix(&srv, "pipe");
}

static void teardown(void)
{
    tr_stop(&srv, SIGTERM);
    apr_pool_destroy(pool);
    pool = NULL;
}

static asst_pipe_t *make_pipe(int timeout_ms)
{
    asst_redis_conf_t conf;
    asst_pipe_t *pp;

    memset(&conf, 0, sizeof(conf));
    conf.path = srv.sock;
    conf.timeout_ms = timeout_ms;
    conf.max_idle = 1;
    pp = asst_pipe_create(pool, &conf, &stats);
    ck_assert_ptr_nonnull(pp);
    return pp;
}

/* Formats the NULL-terminated arguments with asst_resp_command into p and
 * sends them; safe from any thread that owns p. */
static asst_pipe_status_t vcall(asst_pipe_t *pp, apr_pool_t *p, asst_resp_reply_t *reply, char *err,
                                const char *first, va_list ap)
{
    const char *argv[MAX_ARGS];
    apr_size_t len;
    const char *cmd;
    int argc = 0;

    for (const char *a = first; a && argc < MAX_ARGS; a = va_arg(ap, const char *))
        argv[argc++] = a;
    cmd = asst_resp_command(p, argc, argv, NULL, &len);
    memset(reply, 0, sizeof(*reply));
    err[0] = '\0';
    return asst_pipe_call(pp, cmd, len, reply, err);
}

static asst_pipe_status_t call(asst_pipe_t *pp, apr_pool_t *p, asst_resp_reply_t *reply, char *err,
                               const char *first, ...)
{
    asst_pipe_status_t st;
    va_list ap;

    va_start(ap, first);
    st = vcall(pp, p, reply, err, first, ap);
    va_end(ap);
    return st;
}

/* Main thread only: the call must be ASST_PIPE_OK. */
static asst_resp_reply_t call_ok(asst_pipe_t *pp, const char *first, ...)
{
    asst_resp_reply_t r;
    char err[ASST_RESP_TEXT_MAX];
    asst_pipe_status_t st;
    va_list ap;

    va_start(ap, first);
    st = vcall(pp, pool, &r, err, first, ap);
    va_end(ap);
    ck_assert_msg(st == ASST_PIPE_OK, "%s: status %d: %s", first, (int)st, err);
    return r;
}

#define CALL(pp, r, err, ...) call((pp), pool, (r), (err), __VA_ARGS__, (const char *)NULL)
#define CALL_OK(pp, ...) call_ok((pp), __VA_ARGS__, (const char *)NULL)

/* A numeric field ("name:123") of an INFO reply, or -1. */
static long long info_field(const char *info, const char *name)
{
    size_t n = strlen(name);

    for (const char *at = info; at && *at; at = strchr(at, '\n')) {
        if (*at == '\n')
            at++;
        if (strncmp(at, name, n) == 0 && at[n] == ':')
            return atoll(at + n + 1);
    }
    return -1;
}

static long long server_info(const char *name)
{
    redisReply *rep = tr_command(&srv, "INFO");
    long long v;

    ck_assert_msg(rep->type == REDIS_REPLY_STRING, "INFO type %d", rep->type);
    v = info_field(rep->str, name);
    freeReplyObject(rep);
    ck_assert_msg(v >= 0, "INFO has no %s", name);
    return v;
}

static int has(const char *s, const char *what)
{
    return strstr(s, what) != NULL;
}

/* ---- basic ---- */

START_TEST(set_get_incr)
{
    asst_pipe_t *pp = make_pipe(1000);
    asst_resp_reply_t r;

    r = CALL_OK(pp, "SET", "greeting", "hello");
    ck_assert_int_eq(r.type, ASST_RESP_STATUS);
    ck_assert_str_eq(r.str, "OK");

    r = CALL_OK(pp, "GET", "greeting");
    ck_assert_int_eq(r.type, ASST_RESP_STRING);
    ck_assert_str_eq(r.str, "hello");
    ck_assert_uint_eq(r.len, 5);

    r = CALL_OK(pp, "INCR", "n");
    ck_assert_int_eq(r.type, ASST_RESP_INTEGER);
    ck_assert_int_eq(r.integer, 1);
    r = CALL_OK(pp, "INCR", "n");
    ck_assert_int_eq(r.integer, 2);

    r = CALL_OK(pp, "GET", "no-such-key");
    ck_assert_int_eq(r.type, ASST_RESP_NIL);

    /* the values really are in Redis */
    ck_assert_int_eq(tr_command_int(&srv, "INCRBY n 0"), 2);
    ck_assert_uint_eq(stats.connects, 1);
    ck_assert_uint_eq(stats.open, 1);
    ck_assert_uint_eq(stats.in_use, 0);
}
END_TEST

START_TEST(binary_argument_round_trip)
{
    static const char value[] = "caf\303\251\r\n$3\r\n\0*1 end";
    asst_pipe_t *pp = make_pipe(1000);
    const char *argv[] = { "SET", "bin", value };
    apr_size_t lens[] = { 3, 3, sizeof(value) - 1 };
    asst_resp_reply_t r;
    char err[ASST_RESP_TEXT_MAX];
    apr_size_t len;
    char *cmd = asst_resp_command(pool, 3, argv, lens, &len);

    ck_assert_int_eq(asst_pipe_call(pp, cmd, len, &r, err), ASST_PIPE_OK);
    ck_assert_int_eq(r.type, ASST_RESP_STATUS);
    r = CALL_OK(pp, "GET", "bin");
    ck_assert_int_eq(r.type, ASST_RESP_STRING);
    ck_assert_uint_eq(r.len, sizeof(value) - 1);
    ck_assert_int_eq(memcmp(r.str, value, sizeof(value) - 1), 0);
    /* the bytes after the NUL did not end the command early */
    ck_assert_int_eq(tr_command_int(&srv, "STRLEN bin"), (long long)sizeof(value) - 1);
}
END_TEST

START_TEST(error_reply_keeps_connection)
{
    asst_pipe_t *pp = make_pipe(1000);
    asst_resp_reply_t r;
    char err[ASST_RESP_TEXT_MAX];

    CALL_OK(pp, "SET", "s", "a string");
    ck_assert_int_eq(CALL(pp, &r, err, "LPUSH", "s", "x"), ASST_PIPE_OK);
    ck_assert_int_eq(r.type, ASST_RESP_ERROR);
    ck_assert_msg(strncmp(r.str, "WRONGTYPE", 9) == 0, "error reply: %s", r.str);

    ck_assert_int_eq(CALL(pp, &r, err, "NO-SUCH-COMMAND"), ASST_PIPE_OK);
    ck_assert_int_eq(r.type, ASST_RESP_ERROR);
    ck_assert_msg(has(r.str, "unknown command"), "error reply: %s", r.str);

    r = CALL_OK(pp, "GET", "s");
    ck_assert_int_eq(r.type, ASST_RESP_STRING);
    ck_assert_str_eq(r.str, "a string");
    ck_assert_uint_eq(stats.connects, 1);   /* the error replies dropped nothing */
    ck_assert_uint_eq(stats.open, 1);
}
END_TEST

START_TEST(close_then_redial)
{
    asst_pipe_t *pp = make_pipe(1000);

    CALL_OK(pp, "PING");
    asst_pipe_close(pp);
    ck_assert_uint_eq(stats.open, 0);
    ck_assert_int_eq(CALL_OK(pp, "INCR", "n").integer, 1);
    ck_assert_uint_eq(stats.connects, 2);
    ck_assert_uint_eq(stats.open, 1);
}
END_TEST

/* ---- many threads, one connection ---- */

/* Each thread cycles INCR counter / RPUSH list:<id> <i> / ECHO <id>-<i>;
 * every reply is checked against what that thread alone can expect: its
 * INCRs increase, its RPUSH returns its own list's length, its ECHO its
 * own text. A reply handed to the wrong caller fails one of the three. */
typedef struct {
    asst_pipe_t *pp;
    apr_pool_t *p;
    int id;
    int calls;
    long long *incrs;     /* INCR replies, in order */
    int nincr;
    int pushes;
    int bad;              /* calls not OK or with another caller's reply */
    char first_bad[256];
} mix_t;

static void mix_bad(mix_t *w, const char *fmt, ...)
{
    va_list ap;

    if (w->bad++ > 0)
        return;
    va_start(ap, fmt);
    vsnprintf(w->first_bad, sizeof(w->first_bad), fmt, ap);
    va_end(ap);
}

static void *mix_thread(void *arg)
{
    mix_t *w = arg;
    char list[32], val[32], echo[48], err[ASST_RESP_TEXT_MAX];
    long long last = 0;
    asst_resp_reply_t r;
    asst_pipe_status_t st;

    snprintf(list, sizeof(list), "list:%d", w->id);
    for (int i = 0; i < w->calls; i++) {
        apr_pool_clear(w->p);
        switch (i % 3) {
        case 0:
            st = call(w->pp, w->p, &r, err, "INCR", "counter", (const char *)NULL);
            if (st != ASST_PIPE_OK)
                mix_bad(w, "thread %d call %d INCR: status %d: %s", w->id, i, (int)st, err);
            else if (r.type != ASST_RESP_INTEGER || r.integer <= last)
                mix_bad(w, "thread %d call %d INCR: type %d integer %lld str '%s' after %lld",
                        w->id, i, (int)r.type, r.integer, r.str, last);
            else
                w->incrs[w->nincr++] = last = r.integer;
            break;
        case 1:
            snprintf(val, sizeof(val), "%d", i);
            st = call(w->pp, w->p, &r, err, "RPUSH", list, val, (const char *)NULL);
            if (st != ASST_PIPE_OK)
                mix_bad(w, "thread %d call %d RPUSH: status %d: %s", w->id, i, (int)st, err);
            else if (r.type != ASST_RESP_INTEGER || r.integer != w->pushes + 1)
                mix_bad(w, "thread %d call %d RPUSH: type %d integer %lld str '%s', expected %d",
                        w->id, i, (int)r.type, r.integer, r.str, w->pushes + 1);
            else
                w->pushes++;
            break;
        default:
            snprintf(echo, sizeof(echo), "%d-%d", w->id, i);
            st = call(w->pp, w->p, &r, err, "ECHO", echo, (const char *)NULL);
            if (st != ASST_PIPE_OK)
                mix_bad(w, "thread %d call %d ECHO: status %d: %s", w->id, i, (int)st, err);
            else if (r.type != ASST_RESP_STRING || strcmp(r.str, echo) != 0)
                mix_bad(w, "thread %d call %d ECHO %s: got type %d str '%s' integer %lld", w->id,
                        i, echo, (int)r.type, r.str, r.integer);
        }
    }
    return NULL;
}

/* Runs nthreads mix_threads of `calls` calls each; every call must have
 * been OK with the caller's own reply. */
static mix_t *run_mix(asst_pipe_t *pp, int nthreads, int calls)
{
    mix_t *ws = apr_pcalloc(pool, sizeof(*ws) * (size_t)nthreads);
    pthread_t *tids = apr_pcalloc(pool, sizeof(*tids) * (size_t)nthreads);
    int incrs_per_thread = (calls + 2) / 3, bad = 0;

    for (int t = 0; t < nthreads; t++) {
        ws[t].pp = pp;
        ws[t].id = t;
        ws[t].calls = calls;
        ws[t].incrs = apr_pcalloc(pool, sizeof(long long) * (size_t)incrs_per_thread);
        ck_assert_int_eq(apr_pool_create(&ws[t].p, pool), APR_SUCCESS);
    }
    for (int t = 0; t < nthreads; t++)
        ck_assert_int_eq(pthread_create(&tids[t], NULL, mix_thread, &ws[t]), 0);
    for (int t = 0; t < nthreads; t++)
        ck_assert_int_eq(pthread_join(tids[t], NULL), 0);

    for (int t = 0; t < nthreads; t++)
        bad += ws[t].bad;
    for (int t = 0; t < nthreads; t++)
        ck_assert_msg(ws[t].bad == 0, "%d of %d calls failed or got another caller's reply; first: %s",
                      bad, nthreads * calls, ws[t].first_bad);
    return ws;
}

/* What Redis holds after run_mix: every INCR ran once and each caller got a
 * different count; every list holds its thread's values in order. */
static void check_mix_data(const mix_t *ws, int nthreads, int calls)
{
    int incrs_per_thread = (calls + 2) / 3, total;
    char *seen;

    total = nthreads * incrs_per_thread;
    ck_assert_int_eq(tr_command_int(&srv, "INCRBY counter 0"), total);
    seen = apr_pcalloc(pool, (size_t)total + 1);
    for (int t = 0; t < nthreads; t++) {
        ck_assert_int_eq(ws[t].nincr, incrs_per_thread);
        for (int k = 0; k < ws[t].nincr; k++) {
            long long v = ws[t].incrs[k];
            ck_assert_msg(v >= 1 && v <= total, "INCR reply %lld out of 1..%d", v, total);
            ck_assert_msg(!seen[v], "INCR reply %lld handed to two callers", v);
            seen[v] = 1;
        }
    }

    /* every list holds its thread's values, in the order sent */
    for (int t = 0; t < nthreads; t++) {
        redisReply *rep = tr_command(&srv, "LRANGE list:%d 0 -1", t);
        int k = 0;

        ck_assert_int_eq(rep->type, REDIS_REPLY_ARRAY);
        ck_assert_uint_eq(rep->elements, (size_t)ws[t].pushes);
        for (int i = 1; i < calls; i += 3, k++) {
            char want[16];
            snprintf(want, sizeof(want), "%d", i);
            ck_assert_str_eq(rep->element[k]->str, want);
        }
        freeReplyObject(rep);
    }
}

START_TEST(threads_share_one_connection)
{
    asst_pipe_t *pp = make_pipe(2000);
    long long received = server_info("total_connections_received");
    long t0 = tr_now_ms();
    const mix_t *ws;
    redisReply *rep;
    int pipe_clients = 0;

    ws = run_mix(pp, 16, 2000);
    fprintf(stderr, "threads_share_one_connection: 16 x 2000 calls in %ld ms\n", tr_now_ms() - t0);

    /* the pipe dialled once: this INFO's own connection is the other one */
    ck_assert_int_eq(server_info("total_connections_received") - received, 2);
    /* and CLIENT LIST shows one client whose last command was ours */
    rep = tr_command(&srv, "CLIENT LIST");
    ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
    for (const char *line = rep->str; line && *line; line = strchr(line + 1, '\n')) {
        const char *eol = strchr(line + 1, '\n'), *cmd = strstr(line, " cmd=");
        if (cmd && (!eol || cmd < eol) &&
            (strncmp(cmd, " cmd=incr ", 10) == 0 || strncmp(cmd, " cmd=rpush ", 11) == 0 ||
             strncmp(cmd, " cmd=echo ", 10) == 0))
            pipe_clients++;
    }
    ck_assert_msg(pipe_clients == 1, "%d pipe clients in CLIENT LIST:\n%s", pipe_clients, rep->str);
    freeReplyObject(rep);
    ck_assert_uint_eq(stats.connects, 1);
    ck_assert_uint_eq(stats.connect_failures, 0);
    ck_assert_uint_eq(stats.open, 1);
    ck_assert_uint_eq(stats.in_use, 0);
    check_mix_data(ws, 16, 2000);
}
END_TEST

/* Any number of callers at once (more than httpd's usual 25 threads per
 * child): each still gets its own reply, on the one connection. */
START_TEST(many_callers)
{
    asst_pipe_t *pp = make_pipe(2000);

    check_mix_data(run_mix(pp, 64, 300), 64, 300);
    ck_assert_uint_eq(stats.connects, 1);
    ck_assert_uint_eq(stats.open, 1);
    ck_assert_uint_eq(stats.in_use, 0);
}
END_TEST

/* ---- failures ---- */

/* Threads calling ECHO in a loop until told to stop, counting outcomes. */
typedef struct {
    asst_pipe_t *pp;
    apr_pool_t *p;
    int id;
    long ok, down, failed, stale, other;
    long empty_err;       /* non-OK without a reason */
    long mismatched;      /* OK with another caller's reply */
    long max_ms;          /* slowest call */
    char first_bad[256];
} loop_t;

/* Shared with the loop threads under loop_lock (a mutex rather than
 * atomics, so helgrind and drd judge the pipe and not these flags). */
static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static int loop_stop;              /* set by the test thread */
static int loop_restarted;         /* set once Redis is back */
static long loop_first_ok_ms;      /* first OK after loop_restarted, 0 none */

static int loop_get(const int *flag)
{
    int v;

    pthread_mutex_lock(&loop_lock);
    v = *flag;
    pthread_mutex_unlock(&loop_lock);
    return v;
}

static void loop_set(int *flag, int v)
{
    pthread_mutex_lock(&loop_lock);
    *flag = v;
    pthread_mutex_unlock(&loop_lock);
}

static long loop_first_ok(void)
{
    long v;

    pthread_mutex_lock(&loop_lock);
    v = loop_first_ok_ms;
    pthread_mutex_unlock(&loop_lock);
    return v;
}

static void *loop_thread(void *arg)
{
    loop_t *w = arg;
    char echo[48], err[ASST_RESP_TEXT_MAX];
    asst_resp_reply_t r;
    asst_pipe_status_t st;

    for (long i = 0; !loop_get(&loop_stop); i++) {
        long t0 = tr_now_ms(), ms;
        int restarted = loop_get(&loop_restarted);

        apr_pool_clear(w->p);
        snprintf(echo, sizeof(echo), "%d-%ld", w->id, i);
        st = call(w->pp, w->p, &r, err, "ECHO", echo, (const char *)NULL);
        ms = tr_now_ms() - t0;
        if (ms > w->max_ms)
            w->max_ms = ms;
        switch (st) {
        case ASST_PIPE_OK:
            w->ok++;
            if (r.type != ASST_RESP_STRING || strcmp(r.str, echo) != 0) {
                if (w->mismatched++ == 0)
                    snprintf(w->first_bad, sizeof(w->first_bad), "ECHO %s got type %d '%s'",
                             echo, (int)r.type, r.str);
            }
            if (restarted) {
                pthread_mutex_lock(&loop_lock);
                if (loop_first_ok_ms == 0)
                    loop_first_ok_ms = tr_now_ms();
                pthread_mutex_unlock(&loop_lock);
            }
            continue;
        case ASST_PIPE_DOWN:
            w->down++;
            break;
        case ASST_PIPE_FAILED:
            w->failed++;
            break;
        case ASST_PIPE_STALE:
            w->stale++;
            break;
        default:
            w->other++;
        }
        if (!err[0])
            w->empty_err++;
        tr_sleep_ms(1);     /* a failed request is answered; the next one comes later */
    }
    return NULL;
}

static void loop_start(asst_pipe_t *pp, loop_t *ws, pthread_t *tids, int n)
{
    loop_set(&loop_stop, 0);
    loop_set(&loop_restarted, 0);
    pthread_mutex_lock(&loop_lock);
    loop_first_ok_ms = 0;
    pthread_mutex_unlock(&loop_lock);
    memset(ws, 0, sizeof(*ws) * (size_t)n);
    for (int t = 0; t < n; t++) {
        ws[t].pp = pp;
        ws[t].id = t;
        ck_assert_int_eq(apr_pool_create(&ws[t].p, pool), APR_SUCCESS);
    }
    for (int t = 0; t < n; t++)
        ck_assert_int_eq(pthread_create(&tids[t], NULL, loop_thread, &ws[t]), 0);
}

static void loop_join(pthread_t *tids, int n)
{
    loop_set(&loop_stop, 1);
    for (int t = 0; t < n; t++)
        ck_assert_int_eq(pthread_join(tids[t], NULL), 0);
}

/* Sums ws into one loop_t and checks what holds in every run: no
 * caller got another's reply, every failure says why, nobody hung. */
static loop_t loop_totals(const loop_t *ws, int n, long max_call_ms)
{
    loop_t sum;

    memset(&sum, 0, sizeof(sum));
    for (int t = 0; t < n; t++) {
        sum.ok += ws[t].ok;
        sum.down += ws[t].down;
        sum.failed += ws[t].failed;
        sum.stale += ws[t].stale;
        sum.other += ws[t].other;
        sum.empty_err += ws[t].empty_err;
        sum.mismatched += ws[t].mismatched;
        if (ws[t].max_ms > sum.max_ms)
            sum.max_ms = ws[t].max_ms;
    }
    fprintf(stderr, "  ok %ld down %ld failed %ld stale %ld mismatched %ld slowest %ld ms\n",
            sum.ok, sum.down, sum.failed, sum.stale, sum.mismatched, sum.max_ms);
    for (int t = 0; t < n; t++)
        ck_assert_msg(ws[t].mismatched == 0, "%ld calls got another caller's reply; first: %s",
                      sum.mismatched, ws[t].first_bad);
    ck_assert_int_eq(sum.other, 0);
    ck_assert_msg(sum.empty_err == 0, "%ld failed calls without err text", sum.empty_err);
    ck_assert_msg(sum.max_ms < max_call_ms, "a call took %ld ms", sum.max_ms);
    return sum;
}

#define KILL_THREADS 8

START_TEST(killed_and_restarted)
{
    asst_pipe_t *pp = make_pipe(500);
    loop_t ws[KILL_THREADS], sum;
    pthread_t tids[KILL_THREADS];
    long up, first_ok;

    loop_start(pp, ws, tids, KILL_THREADS);
    tr_sleep_ms(200);
    tr_stop(&srv, SIGKILL);
    tr_sleep_ms(300);
    tr_start(&srv);                       /* same socket path */
    up = tr_now_ms();
    loop_set(&loop_restarted, 1);
    while ((first_ok = loop_first_ok()) == 0 &&
           tr_now_ms() - up < 3000)
        tr_sleep_ms(5);
    tr_sleep_ms(100);
    loop_join(tids, KILL_THREADS);

    fprintf(stderr, "killed_and_restarted: first OK %ld ms after restart\n",
            first_ok ? first_ok - up : -1);
    sum = loop_totals(ws, KILL_THREADS, 1500);
    ck_assert_msg(first_ok != 0, "no call succeeded within 3 s of the restart");
    ck_assert_msg(first_ok - up < 1000, "first OK %ld ms after the restart", first_ok - up);
    ck_assert_int_gt(sum.ok, 0);
    ck_assert_int_gt(sum.down + sum.failed + sum.stale, 0);
    ck_assert_msg(sum.stale > 0, "no call reported the dropped connection as STALE");
    ck_assert_uint_ge(stats.connects, 2);
    ck_assert_uint_ge(stats.connect_failures, 1);
    ck_assert_uint_eq(stats.open, 1);
    ck_assert_uint_eq(stats.in_use, 0);
}
END_TEST

START_TEST(timeout_then_redial)
{
    asst_pipe_t *pp = make_pipe(200);
    asst_resp_reply_t r;
    char err[ASST_RESP_TEXT_MAX];
    redisReply *rep;
    long paused, t0, elapsed;

    CALL_OK(pp, "PING");
    rep = tr_command(&srv, "CLIENT PAUSE 1000");
    paused = tr_now_ms();
    freeReplyObject(rep);

    t0 = tr_now_ms();
    ck_assert_int_eq(CALL(pp, &r, err, "PING"), ASST_PIPE_FAILED);
    elapsed = tr_now_ms() - t0;
    fprintf(stderr, "timeout_then_redial: FAILED after %ld ms: %s\n", elapsed, err);
    ck_assert_msg(has(err, "timed out"), "err: %s", err);
    ck_assert_msg(elapsed >= 150 && elapsed < 800, "timed out after %ld ms", elapsed);
    ck_assert_uint_eq(stats.open, 0);
    ck_assert_uint_eq(stats.in_use, 0);

    if (paused + 1100 > tr_now_ms())
        tr_sleep_ms(paused + 1100 - tr_now_ms());   /* the pause is over */
    ck_assert_str_eq(CALL_OK(pp, "PING").str, "PONG");
    ck_assert_uint_eq(stats.connects, 2);
    ck_assert_uint_eq(stats.open, 1);
}
END_TEST

START_TEST(oversized_reply_fails_call)
{
    asst_pipe_t *pp = make_pipe(1000);
    char *big = apr_palloc(pool, 10240), *fits = apr_palloc(pool, 4000);
    asst_resp_reply_t r;
    char err[ASST_RESP_TEXT_MAX];
    redisReply *rep;
    long t0;

    memset(big, 'b', 10240);
    memset(fits, 'f', 4000);
    rep = tr_command(&srv, "SET big %b", big, (size_t)10240);
    freeReplyObject(rep);
    rep = tr_command(&srv, "SET fits %b", fits, (size_t)4000);
    freeReplyObject(rep);

    /* "$4000\r\n" + 4000 + "\r\n" fits the 4 KiB read buffer: cut, not failed */
    r = CALL_OK(pp, "GET", "fits");
    ck_assert_int_eq(r.type, ASST_RESP_STRING);
    ck_assert_uint_eq(r.len, 4000);
    ck_assert_uint_eq(strlen(r.str), ASST_RESP_TEXT_MAX - 1);

    t0 = tr_now_ms();
    ck_assert_int_eq(CALL(pp, &r, err, "GET", "big"), ASST_PIPE_FAILED);
    ck_assert_msg(has(err, "out of step"), "err: %s", err);
    ck_assert_int_lt(tr_now_ms() - t0, 500);
    ck_assert_uint_eq(stats.open, 0);

    ck_assert_int_eq(CALL_OK(pp, "INCR", "after").integer, 1);
    ck_assert_uint_eq(stats.connects, 2);
    ck_assert_uint_eq(stats.open, 1);
}
END_TEST

/* asst_pipe_close (the child's pool cleanup) while other threads are
 * calling: commands in flight fail with a reason, later calls dial again;
 * none crashes, hangs or gets another caller's reply. */
#define CLOSE_THREADS 4

START_TEST(close_while_calling)
{
    asst_pipe_t *pp = make_pipe(1000);
    loop_t ws[CLOSE_THREADS], sum;
    pthread_t tids[CLOSE_THREADS];
    long t0;

    loop_start(pp, ws, tids, CLOSE_THREADS);
    t0 = tr_now_ms();
    while (tr_now_ms() - t0 < 300) {
        asst_pipe_close(pp);
        tr_sleep_ms(1);
    }
    loop_join(tids, CLOSE_THREADS);
    fprintf(stderr, "close_while_calling:\n");
    sum = loop_totals(ws, CLOSE_THREADS, 1500);
    ck_assert_int_gt(sum.ok, 0);
    ck_assert_msg(sum.failed > 0, "no command in flight failed in 300 ms of closes");
    ck_assert_uint_eq(stats.in_use, 0);
    ck_assert_uint_le(stats.open, 1);
}
END_TEST

/* ---- nothing listening ---- */

START_TEST(down_then_held_down)
{
    asst_redis_conf_t conf;
    asst_pipe_t *pp;
    asst_resp_reply_t r;
    char err[ASST_RESP_TEXT_MAX], path[300];
    long t0, elapsed;

    snprintf(path, sizeof(path), "%s/nobody-%ld.sock", tr_base, (long)getpid());
    memset(&conf, 0, sizeof(conf));
    conf.path = path;
    conf.timeout_ms = 1000;
    pp = asst_pipe_create(pool, &conf, &stats);

    ck_assert_int_eq(CALL(pp, &r, err, "PING"), ASST_PIPE_DOWN);
    ck_assert_msg(err[0] != '\0', "DOWN without err text");
    ck_assert_uint_eq(stats.connect_failures, 1);
    ck_assert_uint_eq(stats.connects, 0);
    ck_assert_uint_eq(stats.open, 0);

    t0 = tr_now_ms();
    ck_assert_int_eq(CALL(pp, &r, err, "PING"), ASST_PIPE_DOWN);
    elapsed = tr_now_ms() - t0;
    ck_assert_msg(err[0] != '\0', "held-down DOWN without err text");
    ck_assert_msg(elapsed < 50, "held-down call took %ld ms", elapsed);
    ck_assert_uint_eq(stats.connect_failures, 1);   /* no new attempt */
    ck_assert_uint_eq(stats.in_use, 0);

    /* after the hold-down it tries again */
    tr_sleep_ms(300);
    ck_assert_int_eq(CALL(pp, &r, err, "PING"), ASST_PIPE_DOWN);
    ck_assert_uint_eq(stats.connect_failures, 2);
}
END_TEST

static Suite *pipe_suite(void)
{
    Suite *s = suite_create("pipe");
    TCase *basic = tcase_create("basic");
    TCase *threads = tcase_create("threads");
    TCase *fail = tcase_create("failures");
    TCase *down = tcase_create("down");

    tcase_add_unchecked_fixture(basic, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(basic, setup, teardown);
    tcase_set_timeout(basic, 30);
    tcase_add_test(basic, set_get_incr);
    tcase_add_test(basic, binary_argument_round_trip);
    tcase_add_test(basic, error_reply_keeps_connection);
    tcase_add_test(basic, close_then_redial);
    suite_add_tcase(s, basic);

    tcase_add_unchecked_fixture(threads, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(threads, setup, teardown);
    tcase_set_timeout(threads, 60);
    tcase_add_test(threads, threads_share_one_connection);
    tcase_add_test(threads, many_callers);
    suite_add_tcase(s, threads);

    tcase_add_unchecked_fixture(fail, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(fail, setup, teardown);
    tcase_set_timeout(fail, 30);
    tcase_add_test(fail, killed_and_restarted);
    tcase_add_test(fail, timeout_then_redial);
    tcase_add_test(fail, oversized_reply_fails_call);
    tcase_add_test(fail, close_while_calling);
    suite_add_tcase(s, fail);

    tcase_add_unchecked_fixture(down, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(down, setup_pool, teardown);
    tcase_set_timeout(down, 30);
    tcase_add_test(down, down_then_held_down);
    suite_add_tcase(s, down);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);   /* httpd and the worker ignore it too */
    return asst_unit_run(pipe_suite());
}
