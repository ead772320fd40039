#include <errno.h>
#include <poll.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "listen.h"

struct asst_db_listener {
    asst_db_t *db;
    const char *sql;                /* LISTEN "channel" */
    unsigned long generation;       /* of the connection that listens; 0: none */
    char payload[64];               /* of the notifications drained, when all alike */
    int mixed;                      /* they were not */
};

asst_db_listener_t *asst_db_listener_create(apr_pool_t *p, asst_db_t *db, const char *channel)
{
    asst_db_listener_t *l = apr_pcalloc(p, sizeof(*l));

    l->db = db;
    l->sql = apr_pstrcat(p, "LISTEN \"", channel, "\"", NULL);   /* a constant: no value in SQL */
    return l;
}

int asst_db_listener_ready(asst_db_listener_t *l)
{
    const char *err = NULL;

    if (!asst_db_conn(l->db, &err))
        return -1;
    if (l->generation == asst_db_generation(l->db))
        return 0;
    if (asst_db_exec_script(l->db, l->sql) != ASST_DB_OK)
        return -1;
    l->generation = asst_db_generation(l->db);
    return 0;
}

/* Every notification already read off the socket; 1 when there was one. */
static int drain(asst_db_listener_t *l, PGconn *conn)
{
    PGnotify *n;
    int got = 0;

    while ((n = PQnotifies(conn)) != NULL) {
        if (!got)
            apr_cpystrn(l->payload, n->extra ? n->extra : "", sizeof(l->payload));
        else if (strcmp(l->payload, n->extra ? n->extra : "") != 0)
            l->mixed = 1;
        got = 1;
        PQfreemem(n);
    }
    return got;
}

static int poll_ms(apr_interval_time_t timeout)
{
    apr_interval_time_t ms = apr_time_as_msec(timeout + 999);

    return timeout <= 0 ? 0 : ms > 24 * 3600 * 1000 ? 24 * 3600 * 1000 : (int)ms;
}

static int notified(asst_db_listener_t *l, const char **payload)
{
    if (payload)
        *payload = l->mixed ? NULL : l->payload;
    return 1;
}

int asst_db_listener_wait(asst_db_listener_t *l, int extra_fd, apr_interval_time_t timeout,
                          const char **payload)
{
    const char *err = NULL;
    PGconn *conn = asst_db_conn(l->db, &err);
    struct pollfd fds[2];
    int n = 1, rv;

    l->mixed = 0;
    if (!conn || l->generation != asst_db_generation(l->db))
        return -1;
    if (PQconsumeInput(conn) && drain(l, conn))
        return notified(l, payload);   /* arrived during the last statements */
    fds[0].fd = PQsocket(conn);
    fds[0].events = POLLIN;
    fds[1].fd = extra_fd;
    fds[1].events = POLLIN;
    n += extra_fd >= 0;
    rv = poll(fds, (nfds_t)n, poll_ms(timeout));
    if (rv < 0 && errno != EINTR)
        asst_log(ASST_LOG_WARN, "ASST02007: waiting for a notification failed: %s", strerror(errno));
    if (rv <= 0)
        return 0;
    if (n > 1 && (fds[1].revents & POLLIN))
        return 2;
    if (!PQconsumeInput(conn)) {
        asst_db_check(l->db, NULL);     /* the connection broke: drop it */
        return -1;
    }
    return drain(l, conn) ? notified(l, payload) : 0;
}
