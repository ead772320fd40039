/* Private redis-server instances for the unit tests (test_redis.c,
 * test_ingest.c). Included by one test program each, so everything is
 * static; TR_UNUSED keeps -Wunused-function quiet for helpers one program
 * does not need.
 *
 * Cleanup is safe in check's fork mode: a checked fixture starts servers in
 * the forked test process, and a failing assertion there _exit()s without
 * running teardown; so each server is started with PR_SET_PDEATHSIG=SIGKILL
 * (it dies with the test process), and the directories live under a base
 * directory that an unchecked fixture (the runner process) removes. */
#ifndef TEST_REDIS_SERVER_H
#define TEST_REDIS_SERVER_H

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <check.h>
#include <hiredis/hiredis.h>
#include "unit_main.h"

#if defined(__GNUC__)
#define TR_UNUSED __attribute__((unused))
#else
#define TR_UNUSED
#endif

typedef struct {
    pid_t pid;            /* 0 when not running */
    pid_t owner;          /* process that started it */
    char dir[200];
    char sock[256];       /* unix socket path, "" for TCP */
    int port;             /* TCP port, 0 for unix socket */
    const char *password; /* requirepass, or NULL */
} test_redis_t;

static char tr_base[64];   /* base dir, made and removed by the runner process */

TR_UNUSED static long tr_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TR_UNUSED static void tr_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Unchecked fixture, runner process: one base dir per TCase. */
TR_UNUSED static void tr_base_setup(void)
{
    if (asst_unit_mkdtemp(tr_base, sizeof(tr_base), "redis") != 0) {
        perror("mkdtemp");
        exit(EXIT_FAILURE);
    }
}

TR_UNUSED static void tr_base_teardown(void)
{
    asst_unit_remove_tree(tr_base);
}

/* A TCP port on 127.0.0.1 that nothing listens on right now. */
TR_UNUSED static int tr_free_port(void)
{
    int fd, port = asst_unit_bound_port(&fd);

    close(fd);
    return port;
}

static const char *tr_server_path(void)
{
    const char *s = getenv("REDIS_SERVER");

    return (s && *s) ? s : "redis-server";
}

static void tr_exec(const test_redis_t *r)
{
    char port[16], logfile[300];
    const char *argv[24];
    int n = 0;

    snprintf(port, sizeof(port), "%d", r->port);
    snprintf(logfile, sizeof(logfile), "%s/redis.log", r->dir);
    argv[n++] = tr_server_path();
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    if (r->sock[0]) {
        argv[n++] = "--unixsocket";
        argv[n++] = r->sock;
        argv[n++] = "--unixsocketperm";
        argv[n++] = "700";
    }
    if (r->password) {
        argv[n++] = "--requirepass";
        argv[n++] = r->password;
    }
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = r->dir;
    argv[n++] = "--logfile";
    argv[n++] = logfile;
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    argv[n] = NULL;
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

/* A direct hiredis connection (not the pool), authenticated; NULL if down. */
static redisContext *tr_connect(const test_redis_t *r)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = r->sock[0] ? redisConnectUnixWithTimeout(r->sock, tv)
                                 : redisConnectWithTimeout("127.0.0.1", r->port, tv);
    redisReply *rep;

    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (r->password) {
        rep = redisCommand(c, "AUTH %s", r->password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            if (rep)
                freeReplyObject(rep);
            redisFree(c);
            return NULL;
        }
        freeReplyObject(rep);
    }
    return c;
}

static int tr_ping(const test_redis_t *r)
{
    redisContext *c = tr_connect(r);
    redisReply *rep;
    int ok;

    if (!c)
        return 0;
    rep = redisCommand(c, "PING");
    ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
    if (rep)
        freeReplyObject(rep);
    redisFree(c);
    return ok;
}

/* (Re)starts r with its existing dir/socket/port; waits until it answers. */
static void tr_start(test_redis_t *r)
{
    long deadline = tr_now_ms() + 5000;
    pid_t parent = getpid();
    int status;

    if (r->sock[0])
        unlink(r->sock);
    r->owner = parent;
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (getppid() != parent)
            _exit(126);
        tr_exec(r);
    }
    while (!tr_ping(r)) {
        if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
            r->pid = 0;
            ck_abort_msg("%s exited (status %d); see %s/redis.log", tr_server_path(),
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, r->dir);
        }
        ck_assert_msg(tr_now_ms() < deadline, "redis-server did not answer within 5 s");
        tr_sleep_ms(10);
    }
}

static void tr_init(test_redis_t *r, const char *name)
{
    static unsigned seq;   /* unique under CK_FORK=no, where the pid repeats */

    memset(r, 0, sizeof(*r));
    ck_assert_msg(tr_base[0] != '\0', "tr_base_setup not run");
    snprintf(r->dir, sizeof(r->dir), "%s/%s-%ld-%u", tr_base, name, (long)getpid(), ++seq);
    ck_assert_int_eq(mkdir(r->dir, 0700), 0);
}

/* A server on a unix socket only (--port 0). */
TR_UNUSED static void tr_start_unix(test_redis_t *r, const char *name)
{
    tr_init(r, name);
    snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
    tr_start(r);
}

/* A server on a free 127.0.0.1 port, with requirepass when password. */
TR_UNUSED static void tr_start_tcp(test_redis_t *r, const char *name, const char *password)
{
    tr_init(r, name);
    r->port = tr_free_port();
    r->password = password;
    tr_start(r);
}

/* Stops r (SIGKILL for a crash, SIGTERM for a shutdown) and reaps it. */
TR_UNUSED static void tr_stop(test_redis_t *r, int sig)
{
    if (r->pid > 0 && r->owner == getpid()) {
        kill(r->pid, sig);
        while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    r->pid = 0;
}

/* One command on a fresh direct connection; the reply must not be an error. */
TR_UNUSED static redisReply *tr_command(const test_redis_t *r, const char *fmt, ...)
{
    redisContext *c = tr_connect(r);
    redisReply *rep;
    va_list ap;

    ck_assert_msg(c != NULL, "cannot connect to the test redis");
    va_start(ap, fmt);
    rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    ck_assert_msg(rep != NULL, "no reply to %s", fmt);
    ck_assert_msg(rep->type != REDIS_REPLY_ERROR, "%s: %s", fmt, rep->str);
    return rep;
}

TR_UNUSED static long long tr_command_int(const test_redis_t *r, const char *fmt, ...)
{
    redisContext *c = tr_connect(r);
    redisReply *rep;
    long long v;
    va_list ap;

    ck_assert_msg(c != NULL, "cannot connect to the test redis");
    va_start(ap, fmt);
    rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    ck_assert_msg(rep && rep->type == REDIS_REPLY_INTEGER, "%s: not an integer reply", fmt);
    v = rep->integer;
    freeReplyObject(rep);
    return v;
}

#endif
