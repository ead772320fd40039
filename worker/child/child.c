/* A child process: what every role shares (its connections, waiting for
 * the schema, noticing TERM and the master's death); the roles' loops are
 * in roles.c. */
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "agent/planner.h"
#include "asst_backoff.h"
#include "asst_log.h"
#include "child.h"
#include "consumer.h"
#include "db/migrate.h"
#include "outbox/outbox.h"
#include "spool_drain.h"
#include "turn/turn.h"
#include "work.h"

volatile sig_atomic_t asst_child_stop;

#define REDIS_TIMEOUT_MS 2000
#define IDLE_BACKOFF_USEC (500 * 1000)
#define MAX_BACKOFF_USEC (10 * 1000 * 1000)

static pid_t master_pid;

int asst_child_should_run(void)
{
    return !asst_child_stop && getppid() == master_pid;
}

void asst_child_nap(apr_interval_time_t usec)
{
    while (usec > 0 && asst_child_should_run()) {
        apr_interval_time_t step = usec > 100000 ? 100000 : usec;
        apr_sleep(step);
        usec -= step;
    }
}

apr_interval_time_t asst_child_backoff(apr_interval_time_t backoff)
{
    return asst_backoff_double(backoff, IDLE_BACKOFF_USEC, MAX_BACKOFF_USEC);
}

static asst_twilio_t *make_twilio(apr_pool_t *p, const asst_worker_conf_t *conf)
{
    asst_twilio_conf_t tc;

    if (!conf->twilio_account_sid) {
        asst_log(ASST_LOG_WARN, "ASST01002: TwilioAccountSid is not set: replies wait in the outbox");
        return NULL;
    }
    memset(&tc, 0, sizeof(tc));
    tc.api_base = conf->twilio_api_base;
    tc.account_sid = conf->twilio_account_sid;
    tc.auth_token = conf->twilio_auth_token;
    tc.from = conf->twilio_from;
    tc.messaging_service_sid = conf->twilio_messaging_service_sid;
    tc.status_callback_url = conf->twilio_status_callback_url;
    tc.timeout_ms = conf->twilio_timeout;
    tc.breaker_failure_rate = (int)conf->twilio_breaker_failure_rate;
    tc.breaker_window = (int)conf->twilio_breaker_window;
    tc.breaker_min_calls = (int)conf->twilio_breaker_min_calls;
    tc.breaker_cooldown_ms = conf->twilio_breaker_cooldown;
    return asst_twilio_create(p, &tc);
}

/* Blocks until the schema is usable. 0, or -1 when it never will be
 * without an operator (too old, or RLS would not apply). */
static int wait_for_schema(asst_work_t *w)
{
    apr_interval_time_t backoff = 0;

    while (asst_child_should_run()) {
        apr_pool_t *p;
        const char *err = NULL;
        asst_schema_t st;

        apr_pool_create(&p, w->pool);
        st = asst_db_schema_check(w->db, p, w->conf->path, &err);
        if (st == ASST_SCHEMA_OK) {
            apr_pool_destroy(p);
            return 0;
        }
        asst_log(st == ASST_SCHEMA_ERROR ? ASST_LOG_WARN : ASST_LOG_ERR,
                 "ASST01003: database not ready: %s", err ? err : asst_db_error(w->db));
        apr_pool_destroy(p);
        if (st != ASST_SCHEMA_ERROR)
            return -1;
        asst_child_nap(backoff = asst_child_backoff(backoff));
    }
    return 0;
}

static asst_work_t *make_work(apr_pool_t *p, const asst_worker_conf_t *conf,
                              const asst_child_role_t *role)
{
    asst_work_t *w = apr_pcalloc(p, sizeof(*w));
    char host[256] = "localhost";
    asst_consumer_conf_t cc;
    const char *err;

    gethostname(host, sizeof(host) - 1);
    w->pool = p;
    w->conf = conf;
    w->planner = asst_planner_make(p, asst_worker_conf_planner(p, conf), conf);
    w->db = asst_db_create(p, conf->database);
    w->twilio = make_twilio(p, conf);
    w->outbox = asst_outbox_create(p, w->db, w->twilio);
    /* NULL only for an address the config check already refused. */
    w->redis = asst_redis_pool_open(p, conf->redis, conf->redis_password, REDIS_TIMEOUT_MS, 1,
                                    NULL, &err);
    if (role->consumes_streams) {
        memset(&cc, 0, sizeof(cc));
        cc.streams[0] = conf->stream;
        cc.streams[1] = conf->status_stream;
        cc.nstreams = 2;
        cc.host = apr_pstrdup(p, host);
        cc.consumer = apr_psprintf(p, "%s:%ld", host, (long)getpid());
        cc.claim_idle_ms = conf->claim_idle;
        cc.max_deliveries = conf->max_deliveries;
        cc.timeout_ms = REDIS_TIMEOUT_MS;
        w->consumer = asst_consumer_create(p, &cc, w->redis);
    }
    return w;
}

int asst_child_main(const asst_worker_conf_t *conf, const asst_child_role_t *role, int index)
{
    apr_pool_t *p;
    asst_work_t *w;
    int rc;

    master_pid = getppid();
    apr_pool_create(&p, NULL);
    w = make_work(p, conf, role);
    asst_log(ASST_LOG_INFO, "ASST01001: %s child %d started", role->name, index);
    if (!w->planner)
        asst_log(ASST_LOG_ERR, "ASST01008: planner %s cannot be made in this process",
                 asst_worker_conf_planner(p, conf));
    if (!w->redis || !w->planner || wait_for_schema(w) != 0) {
        apr_pool_destroy(p);
        return ASST_CHILD_EXIT_STARTUP;
    }
    rc = role->main(w);
    apr_pool_destroy(p);
    return rc;
}
