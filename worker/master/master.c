#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "roster.h"
#include "logfile.h"
#include "master.h"
#include "pidfile.h"
#include "selfpipe.h"

#define MAX_WORKERS 4096

typedef struct {
    asst_roster_t *roster;     /* the children and their bookkeeping */
    asst_worker_conf_t *conf;
    asst_privs_t privs;
    const char *pid_file;
    int stopping;            /* 0, SIGQUIT (drain) or SIGTERM (stop) */
} master_t;

const char *asst_master_conf_check(apr_pool_t *p, const asst_worker_conf_t *conf,
                                   asst_privs_t *privs)
{
    const char *err;

    if (conf->workers > MAX_WORKERS)
        return apr_psprintf(p, "%s: Workers %ld: at most %d", conf->path, conf->workers,
                            MAX_WORKERS);
    if ((err = asst_privs_resolve(p, conf->user, privs)) != NULL)
        return apr_psprintf(p, "%s: %s", conf->path, err);
    if (geteuid() != 0)
        privs->name = NULL;
    return NULL;
}

static void note_identity(const asst_worker_conf_t *conf)
{
    if (geteuid() != 0 && conf->user)
        asst_log(ASST_LOG_INFO, "ASST01504: User %s ignored: not started as root", conf->user);
    else if (geteuid() == 0 && !conf->user)
        asst_log(ASST_LOG_WARN, "ASST01505: started as root without User: the children run "
                 "as root too; set User to an unprivileged account");
}

static asst_msec_t shutdown_deadline(const master_t *m)
{
    return asst_roster_now() + m->conf->shutdown_timeout * 1000;
}

static void begin_drain(master_t *m)
{
    if (m->stopping)
        return;
    m->stopping = SIGQUIT;
    asst_roster_send_off(m->roster, SIGQUIT, 0);
    asst_roster_resize(m->roster, NULL, NULL);
    asst_log(ASST_LOG_INFO, "ASST01510: QUIT: draining: waiting for %d children to finish "
             "their turn and exit (no deadline; TERM to set one)",
             asst_roster_leaving(m->roster));
}

static void begin_stop(master_t *m, int sig)
{
    asst_msec_t deadline = shutdown_deadline(m);

    if (m->stopping == SIGTERM)
        return;
    m->stopping = SIGTERM;
    asst_roster_hurry(m->roster, SIGTERM, deadline);
    asst_roster_send_off(m->roster, SIGTERM, deadline);
    asst_roster_resize(m->roster, NULL, NULL);
    asst_log(ASST_LOG_INFO, "ASST01511: %s: stopping: waiting up to %ld s for %d children",
             sig == SIGINT ? "INT" : "TERM", m->conf->shutdown_timeout,
             asst_roster_leaving(m->roster));
}

static void reopen_log(void)
{
    apr_pool_t *tmp;
    const char *err;

    apr_pool_create(&tmp, NULL);
    if ((err = asst_logfile_reopen(tmp)) != NULL)
        asst_log(ASST_LOG_ERR, "ASST01512: %s; still writing to the old file", err);
    apr_pool_destroy(tmp);
}

/* A new config, checked and with its log file open, or NULL (logged). */
static asst_worker_conf_t *load_new(const master_t *m, apr_pool_t *gen, asst_privs_t *privs)
{
    asst_worker_conf_t *c;
    const char *err;

    if ((c = asst_worker_conf_load(gen, m->conf->path, &err)) == NULL
        || (err = asst_master_conf_check(gen, c, privs)) != NULL
        || (err = asst_logfile_open(gen, c->log_file, (asst_log_level_t)c->log_level)) != NULL) {
        reopen_log();
        asst_log(ASST_LOG_ERR, "ASST01513: HUP: %s; still running with the previous "
                 "configuration", err);
        return NULL;
    }
    if ((c->pid_file || m->pid_file)
        && (!c->pid_file || !m->pid_file || strcmp(c->pid_file, m->pid_file) != 0))
        asst_log(ASST_LOG_WARN, "ASST01514: HUP: a changed PidFile takes effect at the next "
                 "start; still %s", m->pid_file ? m->pid_file : "none");
    return c;
}

/* HUP: switch to the re-read config and replace every child. */
static void reload(master_t *m)
{
    apr_pool_t *gen;
    asst_privs_t privs;
    asst_worker_conf_t *c;

    apr_pool_create(&gen, NULL);
    if ((c = load_new(m, gen, &privs)) == NULL) {
        apr_pool_destroy(gen);
        return;
    }
    asst_roster_send_off(m->roster, SIGTERM, shutdown_deadline(m));
    apr_pool_destroy(apr_pool_parent_get(m->conf->pool));
    m->conf = c;
    m->privs = privs;
    asst_roster_resize(m->roster, m->conf, &m->privs);
    note_identity(m->conf);
    asst_log(ASST_LOG_INFO, "ASST01515: HUP: %s reloaded: starting %ld agent children and a "
             "scheduler; %d old children finishing their turn", m->conf->path,
             m->conf->workers, asst_roster_leaving(m->roster));
}

static void handle_signals(master_t *m)
{
    asst_selfpipe_drain();
    (void)asst_selfpipe_take(SIGCHLD);   /* the loop reaps on every wake-up */
    if (asst_selfpipe_take(SIGTERM))
        begin_stop(m, SIGTERM);
    if (asst_selfpipe_take(SIGINT))
        begin_stop(m, SIGINT);
    if (asst_selfpipe_take(SIGQUIT))
        begin_drain(m);
    if (asst_selfpipe_take(SIGHUP)) {
        if (m->stopping)
            asst_log(ASST_LOG_INFO, "ASST01516: HUP ignored: stopping");
        else
            reload(m);
    }
    if (asst_selfpipe_take(SIGUSR1))
        reopen_log();
}

static void wait_for_event(master_t *m)
{
    struct pollfd pfd;

    pfd.fd = asst_selfpipe_fd();
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, asst_roster_timeout(m->roster)) < 0 && errno != EINTR)
        asst_log(ASST_LOG_ERR, "ASST01517: poll: %s", strerror(errno));
}

static int start(master_t *m, apr_pool_t *pool)
{
    static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };
    const char *err;

    signal(SIGPIPE, SIG_IGN);
    if ((err = asst_master_conf_check(pool, m->conf, &m->privs)) != NULL
        || (err = asst_selfpipe_init(pool, sigs, (int)(sizeof(sigs) / sizeof(sigs[0])))) != NULL) {
        asst_log(ASST_LOG_ERR, "ASST01503: cannot start: %s", err);
        return -1;
    }
    m->roster = asst_roster_create(pool);
    asst_roster_resize(m->roster, m->conf, &m->privs);
    note_identity(m->conf);
    asst_log(ASST_LOG_INFO, "ASST01501: master started (pid %ld, config %s): %ld agent "
             "children and a scheduler", (long)getpid(), m->conf->path, m->conf->workers);
    return 0;
}

int asst_master_run(asst_worker_conf_t *conf, const char *pid_file)
{
    apr_pool_t *pool;
    master_t m;
    int rc = 0;

    memset(&m, 0, sizeof(m));
    apr_pool_create(&pool, NULL);
    m.conf = conf;
    m.pid_file = pid_file ? apr_pstrdup(pool, pid_file) : NULL;
    if (start(&m, pool) != 0)
        rc = 1;
    while (rc == 0 && (!m.stopping || asst_roster_leaving(m.roster) > 0)) {
        asst_roster_start_due(m.roster);
        wait_for_event(&m);
        handle_signals(&m);
        asst_roster_reap(m.roster);
        asst_roster_kill_overdue(m.roster);
    }
    asst_pidfile_remove(m.pid_file, getpid());
    if (rc == 0)
        asst_log(ASST_LOG_INFO, "ASST01502: stopped");
    apr_pool_destroy(apr_pool_parent_get(m.conf->pool));
    apr_pool_destroy(pool);
    return rc;
}
