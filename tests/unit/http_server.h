/* A tiny HTTP/1.1 server for the outbound client's unit tests
 * (test_http.c, test_llm.c): a thread of the test process listening on
 * 127.0.0.1 at a free port, a thread per connection, keep-alive. The path
 * says what to answer, its segments in any order:
 *   /delay/N        wait N ms before answering
 *   /status/N       answer status N (default 200)
 *   /seq/A,B,C      the k-th request to any /seq path answers the k-th
 *                   status of the list (the last one repeats)
 *   /retry-after/N  send Retry-After: N
 *   /close          close the connection after the answer
 * other segments are ignored (so an LLM base URL may carry them before
 * /chat/completions). A 200 carries a chat completion whose content is
 * "hi"; other statuses "status N". It counts connections and requests and
 * notes when requests arrive.
 *
 * Started by a test (check forks one process per test, so the server dies
 * with it); hs_stop() only stops accepting. */
#ifndef TEST_HTTP_SERVER_H
#define TEST_HTTP_SERVER_H

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <check.h>

#if defined(__GNUC__)
#define HS_UNUSED __attribute__((unused))
#else
#define HS_UNUSED
#endif

#define HS_COMPLETION "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0," \
    "\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]," \
    "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1,\"total_tokens\":13}}"

typedef struct {
    int started;
    int fd;
    int port;
    pthread_t acceptor;
    pthread_mutex_t lock;
    int connections;
    int requests;
    int seq_hits;
    long first_request_ms;     /* 0: none yet */
    long last_request_ms;
} hs_server_t;

static hs_server_t hs;

static long hs_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hs_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* What one request asks for, from its path. */
typedef struct {
    long delay_ms;
    int status;
    int close;
    long retry_after;          /* -1: none */
} hs_plan_t;

static int hs_seq_status(const char *list)
{
    int k, i;

    pthread_mutex_lock(&hs.lock);
    k = hs.seq_hits++;
    pthread_mutex_unlock(&hs.lock);
    for (i = 0; i < k && strchr(list, ','); i++)
        list = strchr(list, ',') + 1;
    return atoi(list);
}

/* Each segment is read with the one before it as its key. */
static hs_plan_t hs_plan(char *path)
{
    hs_plan_t plan = { 0, 200, 0, -1 };
    char *save = NULL, *key = NULL, *seg;

    for (seg = strtok_r(path, "/", &save); seg; key = seg, seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, "close") == 0)
            plan.close = 1;
        else if (!key)
            continue;
        else if (strcmp(key, "delay") == 0)
            plan.delay_ms = atol(seg);
        else if (strcmp(key, "status") == 0)
            plan.status = atoi(seg);
        else if (strcmp(key, "seq") == 0)
            plan.status = hs_seq_status(seg);
        else if (strcmp(key, "retry-after") == 0)
            plan.retry_after = atol(seg);
    }
    return plan;
}

static int hs_send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int hs_answer(int fd, const hs_plan_t *plan)
{
    char head[512], body[64], ra[64] = "";
    const char *text = body;

    if (plan->status == 200)
        text = HS_COMPLETION;
    else
        snprintf(body, sizeof(body), "status %d", plan->status);
    if (plan->retry_after >= 0)
        snprintf(ra, sizeof(ra), "Retry-After: %ld\r\n", plan->retry_after);
    snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: %s\r\n%s\r\n", plan->status, strlen(text),
             plan->close ? "close" : "keep-alive", ra);
    if (hs_send_all(fd, head, strlen(head)) != 0 || hs_send_all(fd, text, strlen(text)) != 0)
        return -1;
    return 0;
}

static size_t hs_content_length(const char *head)
{
    const char *line = strstr(head, "\r\n");

    for (; line && line[2] != '\r'; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            return (size_t)atol(line + 17);
    return 0;
}

static void hs_note_request(void)
{
    long now = hs_now_ms();

    pthread_mutex_lock(&hs.lock);
    hs.requests++;
    if (!hs.first_request_ms)
        hs.first_request_ms = now;
    hs.last_request_ms = now;
    pthread_mutex_unlock(&hs.lock);
}

/* Reads one request (headers and body) into buf, after the *have bytes
 * already there; its length, 0 at EOF or when it does not fit. */
static size_t hs_read_request(int fd, char *buf, size_t size, size_t *have)
{
    for (;;) {
        char *end;
        ssize_t n;

        buf[*have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
            size_t total = (size_t)(end + 4 - buf) + hs_content_length(buf);
            if (*have >= total)
                return total;
        }
        if (*have + 1 >= size || (n = recv(fd, buf + *have, size - 1 - *have, 0)) <= 0)
            return 0;
        *have += (size_t)n;
    }
}

static void *hs_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static const size_t size = 256 * 1024;
    char *buf = malloc(size);
    size_t have = 0, len;

    while (buf && (len = hs_read_request(fd, buf, size, &have)) > 0) {
        char path[1024] = "";
        hs_plan_t plan;

        hs_note_request();
        sscanf(buf, "%*s %1023s", path);
        plan = hs_plan(path);
        if (plan.delay_ms > 0)
            hs_sleep_ms(plan.delay_ms);
        if (hs_answer(fd, &plan) != 0 || plan.close)
            break;
        memmove(buf, buf + len, have - len);
        have -= len;
    }
    free(buf);
    close(fd);
    return NULL;
}

static void *hs_accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_t t;
        int fd = accept(hs.fd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;            /* hs_stop shut the socket down */
        }
        pthread_mutex_lock(&hs.lock);
        hs.connections++;
        pthread_mutex_unlock(&hs.lock);
        if (pthread_create(&t, NULL, hs_connection, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
}

/* Starts the server; returns its port. */
HS_UNUSED static int hs_start(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    memset(&hs, 0, sizeof(hs));
    pthread_mutex_init(&hs.lock, NULL);
    hs.fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(hs.fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(hs.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(hs.fd, (struct sockaddr *)&sa, &len), 0);
    ck_assert_int_eq(listen(hs.fd, 64), 0);
    hs.port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&hs.acceptor, NULL, hs_accept_loop, NULL), 0);
    hs.started = 1;
    return hs.port;
}

/* Stops accepting, if started (connections being answered finish on
 * their own); a checked teardown, for CK_FORK=no runs. */
HS_UNUSED static void hs_stop(void)
{
    if (!hs.started)
        return;
    shutdown(hs.fd, SHUT_RDWR);
    pthread_join(hs.acceptor, NULL);
    close(hs.fd);
    hs.started = 0;
}

HS_UNUSED static int hs_count(const int *field)
{
    int n;

    pthread_mutex_lock(&hs.lock);
    n = *field;
    pthread_mutex_unlock(&hs.lock);
    return n;
}

HS_UNUSED static long hs_first_request_ms(void)
{
    long ms;

    pthread_mutex_lock(&hs.lock);
    ms = hs.first_request_ms;
    pthread_mutex_unlock(&hs.lock);
    return ms;
}

#endif
