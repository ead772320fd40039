/* Unit tests for lib/asst_redis.c: address parsing and the per-process pool
 * of hiredis contexts, against private redis-server instances. */
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <hiredis/hiredis.h>

#include "asst_redis.h"
#include "redis_server.h"
#include "unit_main.h"

#define PASSWORD "s3cret-p4ss"

static apr_pool_t *pool;
static test_redis_t srv;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    tr_stop(&srv, SIGTERM);
    apr_pool_destroy(pool);
    pool = NULL;
}

static void setup_unix(void)
{
    setup();
    tr_start_unix(&srv, "unix");
}

static void setup_auth(void)
{
    setup();
    tr_start_tcp(&srv, "auth", PASSWORD);
}

static asst_redis_conf_t server_conf(const test_redis_t *r)
{
    asst_redis_conf_t conf;

    memset(&conf, 0, sizeof(conf));
    if (r->sock[0]) {
        conf.path = r->sock;
    }
    else {
        conf.host = "127.0.0.1";
        conf.port = r->port;
    }
    conf.password = r->password;
    conf.timeout_ms = 1000;
    conf.max_idle = 4;
    return conf;
}

static asst_redis_pool_t *make_pool(const asst_redis_conf_t *conf)
{
    asst_redis_pool_t *rp = asst_redis_pool_create(pool, conf, NULL);

    ck_assert_ptr_nonnull(rp);
    return rp;
}

static asst_redis_stats_t stats_of(asst_redis_pool_t *rp)
{
    asst_redis_stats_t st;

    memset(&st, 0xff, sizeof(st));
    asst_redis_stats(rp, &st);
    return st;
}

static redisContext *acquire_ok(asst_redis_pool_t *rp)
{
    const char *err = NULL;
    redisContext *c = asst_redis_acquire(rp, &err);

    ck_assert_msg(c != NULL, "acquire failed: %s", err ? err : "(no err)");
    ck_assert_int_eq(c->err, 0);
    return c;
}

/* 1 when PING on c answers PONG. */
static int ping(redisContext *c)
{
    redisReply *rep = redisCommand(c, "PING");
    int ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;

    if (rep)
        freeReplyObject(rep);
    return ok;
}

/* Acquires and PINGs; 1 on PONG. Releases the context as a caller would. */
static int pool_ping(asst_redis_pool_t *rp)
{
    const char *err = NULL;
    redisContext *c = asst_redis_acquire(rp, &err);
    int ok;

    if (!c)
        return 0;
    ok = ping(c);
    asst_redis_release(rp, c, !ok);
    return ok;
}

/* Polls until the server lists n client connections (up to 1 s). */
static void wait_server_clients(int n)
{
    long deadline = tr_now_ms() + 1000;
    int lines;

    for (;;) {
        redisReply *rep = tr_command(&srv, "CLIENT LIST");
        const char *q;

        ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
        for (lines = 0, q = rep->str; (q = strchr(q, '\n')) != NULL; q++)
            lines++;
        freeReplyObject(rep);
        if (lines == n)
            return;
        ck_assert_msg(tr_now_ms() < deadline, "server has %d clients, want %d", lines, n);
        tr_sleep_ms(20);
    }
}

/* ---- parse_addr ---- */

static asst_redis_conf_t parse_ok(const char *spec)
{
    asst_redis_conf_t conf;
    const char *err = NULL;

    memset(&conf, 0, sizeof(conf));
    ck_assert_msg(asst_redis_parse_addr(pool, spec, &conf, &err) == 0, "\"%s\": %s", spec,
                  err ? err : "(no err)");
    return conf;
}

START_TEST(parse_host_port)
{
    asst_redis_conf_t conf = parse_ok("127.0.0.1:6380");

    ck_assert_str_eq(conf.host, "127.0.0.1");
    ck_assert_int_eq(conf.port, 6380);
    ck_assert_ptr_null(conf.path);
}
END_TEST

START_TEST(parse_host_only)
{
    asst_redis_conf_t conf = parse_ok("localhost");

    ck_assert_str_eq(conf.host, "localhost");
    ck_assert_int_eq(conf.port, 6379);
    ck_assert_ptr_null(conf.path);
}
END_TEST

START_TEST(parse_ipv6)
{
    asst_redis_conf_t conf = parse_ok("[::1]:7000");

    ck_assert_str_eq(conf.host, "::1");
    ck_assert_int_eq(conf.port, 7000);
    ck_assert_ptr_null(conf.path);
}
END_TEST

START_TEST(parse_ipv6_without_port)
{
    asst_redis_conf_t conf = parse_ok("[::1]");

    ck_assert_str_eq(conf.host, "::1");
    ck_assert_int_eq(conf.port, 6379);
}
END_TEST

START_TEST(parse_ipv6_long)
{
    asst_redis_conf_t conf = parse_ok("[2001:db8::5:6380]:6381");

    ck_assert_str_eq(conf.host, "2001:db8::5:6380");
    ck_assert_int_eq(conf.port, 6381);
}
END_TEST

START_TEST(parse_unix)
{
    asst_redis_conf_t conf = parse_ok("unix:/tmp/x.sock");

    ck_assert_str_eq(conf.path, "/tmp/x.sock");
    ck_assert_ptr_null(conf.host);
}
END_TEST

START_TEST(parse_port_bounds)
{
    ck_assert_int_eq(parse_ok("h:1").port, 1);
    ck_assert_int_eq(parse_ok("h:65535").port, 65535);
}
END_TEST

static const char *const bad_addrs[] = {
    "host:0", "host:99999", "host:65536", "unix:", "", "host:", "host:abc",
    "host:63a", "host:-1", "[::1]:", "[::1", ":6379",
    "::1", "::", "a:b:6379", "::1:6379", "2001:db8::1", "[]:6379", "[]", "[::1]6379",
    "[::1]x", "[[::1]]:6379", "[::1]:6379:1",
};

START_TEST(parse_bad)
{
    asst_redis_conf_t conf;
    const char *err = NULL;

    memset(&conf, 0, sizeof(conf));
    ck_assert_msg(asst_redis_parse_addr(pool, bad_addrs[_i], &conf, &err) != 0,
                  "\"%s\" accepted", bad_addrs[_i]);
    ck_assert_msg(err != NULL && *err, "\"%s\": no err text", bad_addrs[_i]);
}
END_TEST

/* The reason names the brackets, not a bogus port or host. */
static const char *const unbracketed_v6[] = { "::1", "a:b:6379", "fe80::1:6379", "::1:" };

START_TEST(parse_bare_ipv6_says_brackets)
{
    asst_redis_conf_t conf;
    const char *err = NULL;

    memset(&conf, 0, sizeof(conf));
    ck_assert_int_ne(asst_redis_parse_addr(pool, unbracketed_v6[_i], &conf, &err), 0);
    ck_assert_msg(err && strstr(err, "need brackets: [::1]:6379"), "\"%s\": %s",
                  unbracketed_v6[_i], err ? err : "(no err)");
}
END_TEST

/* ---- pool on a unix socket ---- */

START_TEST(acquire_release_reuses)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp = make_pool(&conf);
    redisContext *c1, *c2;
    asst_redis_stats_t st;

    c1 = acquire_ok(rp);
    ck_assert(ping(c1));
    st = stats_of(rp);
    ck_assert_uint_eq(st.open, 1);
    ck_assert_uint_eq(st.in_use, 1);
    ck_assert_uint_eq(st.connects, 1);
    ck_assert_uint_eq(st.connect_failures, 0);
    asst_redis_release(rp, c1, 0);
    st = stats_of(rp);
    ck_assert_uint_eq(st.open, 1);
    ck_assert_uint_eq(st.in_use, 0);
    c2 = acquire_ok(rp);
    ck_assert_ptr_eq(c1, c2);
    ck_assert(ping(c2));
    ck_assert_uint_eq(stats_of(rp).connects, 1);
    asst_redis_release(rp, c2, 0);
}
END_TEST

START_TEST(field_of_a_flat_reply)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp = make_pool(&conf);
    redisContext *c = acquire_ok(rp);
    redisReply *add = redisCommand(c, "XADD asst-test-fields * env {} stream s1 n 7");
    redisReply *r = redisCommand(c, "XRANGE asst-test-fields - +");
    const redisReply *fields;

    ck_assert_ptr_nonnull(add);
    ck_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    fields = r->element[0]->element[1];
    ck_assert_str_eq(asst_redis_field(fields, "stream")->str, "s1");
    ck_assert_str_eq(asst_redis_field(fields, "n")->str, "7");
    ck_assert_ptr_null(asst_redis_field(fields, "s1"));          /* a value is no key */
    ck_assert_ptr_null(asst_redis_field(fields, "missing"));
    ck_assert_ptr_null(asst_redis_field(r->element[0]->element[0], "env"));   /* not an array */
    ck_assert_ptr_null(asst_redis_field(NULL, "env"));
    freeReplyObject(add);
    freeReplyObject(r);
    asst_redis_release(rp, c, 0);
}
END_TEST

START_TEST(two_in_use_then_max_idle)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp;
    redisContext *c1, *c2;
    asst_redis_stats_t st;

    conf.max_idle = 1;
    rp = make_pool(&conf);
    c1 = acquire_ok(rp);
    c2 = acquire_ok(rp);
    ck_assert_ptr_ne(c1, c2);
    st = stats_of(rp);
    ck_assert_uint_eq(st.open, 2);
    ck_assert_uint_eq(st.in_use, 2);
    ck_assert_uint_eq(st.connects, 2);
    asst_redis_release(rp, c1, 0);
    asst_redis_release(rp, c2, 0);
    st = stats_of(rp);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.open, 1);   /* only max_idle kept */
    wait_server_clients(2);          /* the idle one + the one asking */
}
END_TEST

START_TEST(broken_release_drops)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp = make_pool(&conf);
    redisContext *c1 = acquire_ok(rp);
    asst_redis_stats_t st;

    asst_redis_release(rp, c1, 1);
    st = stats_of(rp);
    ck_assert_uint_eq(st.open, 0);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert(pool_ping(rp));
    st = stats_of(rp);
    ck_assert_uint_eq(st.connects, 2);
    ck_assert_uint_eq(st.open, 1);
}
END_TEST

START_TEST(external_stats_block)
{
    asst_redis_conf_t conf = server_conf(&srv);
    static asst_redis_stats_t shared;   /* must outlive the pool, like shared memory */
    asst_redis_pool_t *rp;
    redisContext *c;

    memset(&shared, 0, sizeof(shared));
    rp = asst_redis_pool_create(pool, &conf, &shared);
    ck_assert_ptr_nonnull(rp);
    c = acquire_ok(rp);
    ck_assert_uint_eq(shared.connects, 1);
    ck_assert_uint_eq(shared.in_use, 1);
    ck_assert_uint_eq(shared.open, 1);
    asst_redis_release(rp, c, 0);
    ck_assert_uint_eq(shared.in_use, 0);
    ck_assert_uint_eq(stats_of(rp).connects, 1);
}
END_TEST

START_TEST(pool_close_drops_idle)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp = make_pool(&conf);

    ck_assert(pool_ping(rp));
    ck_assert_uint_eq(stats_of(rp).open, 1);
    asst_redis_pool_close(rp);
    ck_assert_uint_eq(stats_of(rp).open, 0);
}
END_TEST

START_TEST(command_timeout)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp;
    redisContext *c;
    redisReply *rep;
    long t0;

    conf.timeout_ms = 200;
    rp = make_pool(&conf);
    c = acquire_ok(rp);
    t0 = tr_now_ms();
    rep = redisCommand(c, "BLPOP asst-test-empty-list 3");   /* the server holds it 3 s */
    ck_assert_msg(rep == NULL, "BLPOP returned before the server timeout");
    ck_assert_int_ne(c->err, 0);
    ck_assert_int_lt(tr_now_ms() - t0, 1500);
    asst_redis_release(rp, c, 1);
    ck_assert_uint_eq(stats_of(rp).open, 0);
}
END_TEST

/* ---- AUTH ---- */

START_TEST(auth_right_password)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp = make_pool(&conf);

    ck_assert_str_eq(conf.password, PASSWORD);
    ck_assert_msg(pool_ping(rp), "PING after AUTH failed");
}
END_TEST

START_TEST(auth_wrong_password)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp;
    const char *err = NULL;
    asst_redis_stats_t st;

    conf.password = "not-the-password";
    rp = make_pool(&conf);
    ck_assert_ptr_null(asst_redis_acquire(rp, &err));
    ck_assert_msg(err != NULL && *err, "no err text");
    st = stats_of(rp);
    ck_assert_uint_ge(st.connect_failures, 1);
    ck_assert_uint_eq(st.open, 0);
    ck_assert_uint_eq(st.in_use, 0);
}
END_TEST

/* ---- failure, hold-down, recovery ---- */

START_TEST(killed_then_restarted)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp = make_pool(&conf);
    const char *err = NULL;
    long t0, deadline;

    ck_assert(pool_ping(rp));
    asst_redis_pool_close(rp);             /* no idle context left to reuse */
    tr_stop(&srv, SIGKILL);
    ck_assert_ptr_null(asst_redis_acquire(rp, &err));
    ck_assert_msg(err != NULL && *err, "no err text");
    ck_assert_uint_ge(stats_of(rp).connect_failures, 1);
    t0 = tr_now_ms();
    err = NULL;
    ck_assert_ptr_null(asst_redis_acquire(rp, &err));
    ck_assert_msg(err != NULL && *err, "no err text during hold-down");
    ck_assert_int_lt(tr_now_ms() - t0, 50);

    tr_start(&srv);
    deadline = tr_now_ms() + 3000;
    while (!pool_ping(rp)) {
        ck_assert_msg(tr_now_ms() < deadline, "pool did not reconnect within 3 s");
        tr_sleep_ms(50);
    }
    ck_assert_uint_ge(stats_of(rp).connects, 2);
}
END_TEST

START_TEST(stale_idle_context)
{
    asst_redis_conf_t conf = server_conf(&srv);
    asst_redis_pool_t *rp = make_pool(&conf);
    redisContext *c;
    int ok;

    ck_assert(pool_ping(rp));              /* leaves one idle context */
    tr_stop(&srv, SIGKILL);
    tr_start(&srv);
    c = acquire_ok(rp);
    ok = ping(c);                          /* fails if the pool handed out the dead one */
    asst_redis_release(rp, c, !ok);
    ck_assert_msg(pool_ping(rp), "no working context after a restart");
}
END_TEST

/* A listener whose accept queue is full: a connect to it hangs until the
 * client's timeout, like a host that drops packets. */
static int blackhole_listener(int *port, int fillers[2])
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int i;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 0), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    for (i = 0; i < 2; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    tr_sleep_ms(20);
    return fd;
}

START_TEST(hold_down_after_connect_timeout)
{
    asst_redis_conf_t conf;
    asst_redis_pool_t *rp;
    const char *err = NULL;
    int fillers[2], fd, port;
    long t0, first;

    fd = blackhole_listener(&port, fillers);
    memset(&conf, 0, sizeof(conf));
    conf.host = "127.0.0.1";
    conf.port = port;
    conf.timeout_ms = 300;
    conf.max_idle = 2;
    rp = make_pool(&conf);

    t0 = tr_now_ms();
    ck_assert_ptr_null(asst_redis_acquire(rp, &err));
    first = tr_now_ms() - t0;
    ck_assert_msg(first >= 200 && first < 2000, "first connect took %ld ms", first);
    ck_assert_uint_ge(stats_of(rp).connect_failures, 1);

    t0 = tr_now_ms();
    err = NULL;
    ck_assert_ptr_null(asst_redis_acquire(rp, &err));
    ck_assert_ptr_null(asst_redis_acquire(rp, &err));
    ck_assert_msg(err != NULL && *err, "no err text during hold-down");
    ck_assert_msg(tr_now_ms() - t0 < 100, "acquire during hold-down dialled again (%ld ms)",
                  tr_now_ms() - t0);
    close(fillers[0]);
    close(fillers[1]);
    close(fd);
}
END_TEST

/* ---- IPv6: a server listening on ::1 only ---- */

/* A free TCP port on ::1, or 0 when this host has no IPv6 loopback. */
static int free_port_v6(void)
{
    struct sockaddr_in6 sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET6, SOCK_STREAM, 0), port = 0;

    if (fd < 0)
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin6_port);
    close(fd);
    return port;
}

static void exec_v6_server(const test_redis_t *r)
{
    char port[16], logfile[300];

    snprintf(port, sizeof(port), "%d", r->port);
    snprintf(logfile, sizeof(logfile), "%s/redis.log", r->dir);
    execlp(tr_server_path(), tr_server_path(), "--port", port, "--bind", "::1", "--save", "",
           "--appendonly", "no", "--dir", r->dir, "--logfile", logfile, "--daemonize", "no",
           (char *)NULL);
    _exit(127);
}

/* Starts srv on [::1]:port (teardown stops it like the others); 0 when
 * this host has no IPv6 loopback. */
static int start_v6_server(void)
{
    pid_t parent = getpid();

    tr_init(&srv, "v6");
    if ((srv.port = free_port_v6()) == 0)
        return 0;
    srv.owner = parent;
    srv.pid = fork();
    ck_assert_int_ge(srv.pid, 0);
    if (srv.pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (getppid() != parent)
            _exit(126);
        exec_v6_server(&srv);
    }
    return srv.port;
}

/* Pings through the pool until the server answers (5 s). */
static void wait_pool_ping(asst_redis_pool_t *rp)
{
    long deadline = tr_now_ms() + 5000;
    int status;

    while (!pool_ping(rp)) {
        if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
            srv.pid = 0;
            ck_abort_msg("redis-server --bind ::1 exited; see %s/redis.log", srv.dir);
        }
        ck_assert_msg(tr_now_ms() < deadline, "no PONG through [::1]:%d within 5 s", srv.port);
        tr_sleep_ms(ASST_REDIS_HOLD_DOWN_USEC / 1000);
    }
}

START_TEST(connect_bracketed_ipv6)
{
    int port = start_v6_server();
    const char *addr, *err = NULL;
    asst_redis_pool_t *rp;

    if (!port) {
        fprintf(stderr, "connect_bracketed_ipv6 skipped: no IPv6 loopback (::1) here\n");
        return;
    }
    addr = apr_psprintf(pool, "[::1]:%d", port);
    rp = asst_redis_pool_open(pool, addr, NULL, 1000, 1, NULL, &err);
    ck_assert_msg(rp != NULL, "%s: %s", addr, err ? err : "(no err)");
    wait_pool_ping(rp);
    ck_assert_uint_eq(stats_of(rp).open, 1);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("redis");
    TCase *parse = tcase_create("parse_addr");
    TCase *unix_tc = tcase_create("pool-unix");
    TCase *auth = tcase_create("pool-auth");
    TCase *fail = tcase_create("pool-failure");
    TCase *hold = tcase_create("pool-hold-down");
    TCase *v6 = tcase_create("pool-ipv6");

    tcase_add_checked_fixture(parse, setup, teardown);
    tcase_add_test(parse, parse_host_port);
    tcase_add_test(parse, parse_host_only);
    tcase_add_test(parse, parse_ipv6);
    tcase_add_test(parse, parse_unix);
    tcase_add_test(parse, parse_port_bounds);
    tcase_add_test(parse, parse_ipv6_without_port);
    tcase_add_test(parse, parse_ipv6_long);
    tcase_add_loop_test(parse, parse_bad, 0, (int)(sizeof(bad_addrs) / sizeof(bad_addrs[0])));
    tcase_add_loop_test(parse, parse_bare_ipv6_says_brackets, 0,
                        (int)(sizeof(unbracketed_v6) / sizeof(unbracketed_v6[0])));
    suite_add_tcase(s, parse);

    tcase_add_unchecked_fixture(unix_tc, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(unix_tc, setup_unix, teardown);
    tcase_set_timeout(unix_tc, 30);
    tcase_add_test(unix_tc, acquire_release_reuses);
    tcase_add_test(unix_tc, two_in_use_then_max_idle);
    tcase_add_test(unix_tc, broken_release_drops);
    tcase_add_test(unix_tc, external_stats_block);
    tcase_add_test(unix_tc, pool_close_drops_idle);
    tcase_add_test(unix_tc, command_timeout);
    tcase_add_test(unix_tc, field_of_a_flat_reply);
    suite_add_tcase(s, unix_tc);

    tcase_add_unchecked_fixture(auth, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(auth, setup_auth, teardown);
    tcase_set_timeout(auth, 30);
    tcase_add_test(auth, auth_right_password);
    tcase_add_test(auth, auth_wrong_password);
    suite_add_tcase(s, auth);

    tcase_add_unchecked_fixture(fail, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(fail, setup_unix, teardown);
    tcase_set_timeout(fail, 30);
    tcase_add_test(fail, killed_then_restarted);
    tcase_add_test(fail, stale_idle_context);
    suite_add_tcase(s, fail);

    tcase_add_checked_fixture(hold, setup, teardown);
    tcase_set_timeout(hold, 30);
    tcase_add_test(hold, hold_down_after_connect_timeout);
    suite_add_tcase(s, hold);

    tcase_add_unchecked_fixture(v6, tr_base_setup, tr_base_teardown);
    tcase_add_checked_fixture(v6, setup, teardown);
    tcase_set_timeout(v6, 30);
    tcase_add_test(v6, connect_bracketed_ipv6);
    suite_add_tcase(s, v6);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);   /* httpd and the worker ignore it too */
    return asst_unit_run(redis_suite());
}
