#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <apr_tables.h>

#include "asst_log.h"
#include "backoff.h"
#include "roster.h"
#include "spawn.h"

typedef struct {
    pid_t pid;               /* 0: not running */
    const asst_child_role_t *role;
    int index;
    asst_msec_t started;
    asst_msec_t start_at;    /* when pid is 0: not before */
    long delay;              /* the backoff that preceded the current start */
} slot_t;

typedef struct {
    pid_t pid;
    const asst_child_role_t *role;
    int index;
    asst_msec_t kill_at;     /* 0: no deadline */
    int killed;
} leaver_t;

struct asst_roster {
    const asst_worker_conf_t *conf;
    const asst_privs_t *privs;
    slot_t *slots;           /* malloc'd: replaced on every resize */
    int nslots;
    apr_array_header_t *leaving;   /* of leaver_t */
};

asst_msec_t asst_roster_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (asst_msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *role_name(const asst_child_role_t *role)
{
    return role->name;
}

static void describe(char *buf, size_t size, int status)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "was killed by signal %d (%s%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(buf, size, "ended with wait status %d", status);
}

asst_roster_t *asst_roster_create(apr_pool_t *p)
{
    asst_roster_t *r = apr_pcalloc(p, sizeof(*r));

    r->leaving = apr_array_make(p, 8, sizeof(leaver_t));
    return r;
}

static long children_wanted(const asst_worker_conf_t *conf)
{
    long n = 0;

    for (const asst_child_role_t *role = asst_child_roles; role->name; role++)
        n += role->count(conf);
    return n;
}

/* Slots in table order: every child of the first role, then the next. */
static void assign_roles(slot_t *slots, const asst_worker_conf_t *conf)
{
    int i = 0;

    for (const asst_child_role_t *role = asst_child_roles; role->name; role++)
        for (long k = 0; k < role->count(conf); k++, i++) {
            slots[i].role = role;
            slots[i].index = (int)k;
        }
}

void asst_roster_resize(asst_roster_t *r, const asst_worker_conf_t *conf,
                        const asst_privs_t *privs)
{
    long n;

    free(r->slots);
    r->slots = NULL;
    r->nslots = 0;
    r->conf = conf;
    r->privs = privs;
    if (!conf)
        return;
    n = children_wanted(conf);
    if ((r->slots = calloc((size_t)n, sizeof(slot_t))) == NULL) {
        asst_log(ASST_LOG_ERR, "ASST01521: out of memory for %ld children", n);
        return;
    }
    r->nslots = (int)n;
    assign_roles(r->slots, conf);
}

static void start_slot(asst_roster_t *r, slot_t *s, asst_msec_t now)
{
    pid_t pid = asst_spawn_child(r->conf, r->privs, s->role, s->index);

    if (pid < 0) {
        s->delay = asst_backoff_next(s->delay);
        s->start_at = now + s->delay;
        asst_log(ASST_LOG_ERR, "ASST01522: cannot fork %s child %d: %s; trying again in %ld s",
                 role_name(s->role), s->index, strerror(errno), s->delay / 1000);
        return;
    }
    s->pid = pid;
    s->started = now;
    asst_log(ASST_LOG_DEBUG, "ASST01523: started %s child %d, pid %ld", role_name(s->role),
             s->index, (long)pid);
}

void asst_roster_start_due(asst_roster_t *r)
{
    asst_msec_t now = asst_roster_now();

    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].pid == 0 && r->slots[i].start_at <= now)
            start_slot(r, &r->slots[i], now);
}

static void slot_exited(slot_t *s, int status)
{
    asst_msec_t now = asst_roster_now();
    long uptime = (long)(now - s->started);
    char how[96], when[32];

    describe(how, sizeof(how), status);
    s->delay = asst_backoff_delay(s->delay, uptime, status);
    s->start_at = now + s->delay;
    if (s->delay)
        snprintf(when, sizeof(when), "in %ld s", s->delay / 1000);
    else
        snprintf(when, sizeof(when), "now");
    if (WIFEXITED(status) && WEXITSTATUS(status) == ASST_CHILD_EXIT_DONE)
        asst_log(ASST_LOG_INFO, "ASST01524: %s child %d (pid %ld) retired after %.1f s; "
                 "starting a new one", role_name(s->role), s->index, (long)s->pid,
                 uptime / 1000.0);
    else
        asst_log(ASST_LOG_ERR, "ASST01525: %s child %d (pid %ld) %s after %.1f s; restarting "
                 "it %s", role_name(s->role), s->index, (long)s->pid, how, uptime / 1000.0, when);
    s->pid = 0;
}

static void leaver_exited(asst_roster_t *r, int i, int status)
{
    leaver_t *l = &APR_ARRAY_IDX(r->leaving, i, leaver_t);
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == ASST_CHILD_EXIT_DONE;
    char how[96];

    describe(how, sizeof(how), status);
    asst_log(clean ? ASST_LOG_INFO : ASST_LOG_WARN, "ASST01526: %s child %d (pid %ld), told "
             "to stop, %s", role_name(l->role), l->index, (long)l->pid, how);
    *l = APR_ARRAY_IDX(r->leaving, r->leaving->nelts - 1, leaver_t);
    r->leaving->nelts--;
}

static int exited(asst_roster_t *r, pid_t pid, int status)
{
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].pid == pid) {
            slot_exited(&r->slots[i], status);
            return 1;
        }
    for (int i = 0; i < r->leaving->nelts; i++)
        if (APR_ARRAY_IDX(r->leaving, i, leaver_t).pid == pid) {
            leaver_exited(r, i, status);
            return 1;
        }
    return 0;
}

void asst_roster_reap(asst_roster_t *r)
{
    pid_t pid;
    int status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (!exited(r, pid, status))
            asst_log(ASST_LOG_DEBUG, "ASST01527: reaped pid %ld, not a child we know",
                     (long)pid);
}

void asst_roster_send_off(asst_roster_t *r, int sig, asst_msec_t kill_at)
{
    for (int i = 0; i < r->nslots; i++) {
        slot_t *s = &r->slots[i];
        leaver_t *l;

        if (s->pid == 0)
            continue;
        kill(s->pid, sig);
        l = apr_array_push(r->leaving);
        l->pid = s->pid;
        l->role = s->role;
        l->index = s->index;
        l->kill_at = kill_at;
        l->killed = 0;
        s->pid = 0;
    }
}

void asst_roster_hurry(asst_roster_t *r, int sig, asst_msec_t kill_at)
{
    for (int i = 0; i < r->leaving->nelts; i++) {
        leaver_t *l = &APR_ARRAY_IDX(r->leaving, i, leaver_t);

        if (l->killed)
            continue;
        kill(l->pid, sig);
        if (!l->kill_at || kill_at < l->kill_at)
            l->kill_at = kill_at;
    }
}

void asst_roster_kill_overdue(asst_roster_t *r)
{
    asst_msec_t now = asst_roster_now();

    for (int i = 0; i < r->leaving->nelts; i++) {
        leaver_t *l = &APR_ARRAY_IDX(r->leaving, i, leaver_t);

        if (l->killed || !l->kill_at || now < l->kill_at)
            continue;
        kill(l->pid, SIGKILL);
        l->killed = 1;
        asst_log(ASST_LOG_WARN, "ASST01528: %s child %d (pid %ld) still running at the end of "
                 "ShutdownTimeout: killed", role_name(l->role), l->index, (long)l->pid);
    }
}

int asst_roster_leaving(const asst_roster_t *r)
{
    return r->leaving->nelts;
}

static asst_msec_t next_due(const asst_roster_t *r)
{
    asst_msec_t next = -1;

    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].pid == 0 && (next < 0 || r->slots[i].start_at < next))
            next = r->slots[i].start_at;
    for (int i = 0; i < r->leaving->nelts; i++) {
        const leaver_t *l = &APR_ARRAY_IDX(r->leaving, i, leaver_t);
        if (!l->killed && l->kill_at && (next < 0 || l->kill_at < next))
            next = l->kill_at;
    }
    return next;
}

int asst_roster_timeout(const asst_roster_t *r)
{
    asst_msec_t next = next_due(r), now = asst_roster_now();

    if (next < 0)
        return -1;
    if (next <= now)
        return 0;
    return next - now > 3600000 ? 3600000 : (int)(next - now);
}
