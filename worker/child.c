/* What a child does: an agent consumes the streams and runs turns; the
 * scheduler retries due outbox rows and drains the edge's spool. */
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "agent/planner.h"
#include "asst_log.h"
#include "child.h"
#include "consumer.h"
#include "db/migrate.h"
#include "outbox.h"
#include "spool_drain.h"
#include "turn.h"
#include "work.h"

volatile sig_atomic_t asst_child_stop;

#define BLOCK_MS 1000              /* XREADGROUP wait: how often stop is noticed */
#define REDIS_TIMEOUT_MS 2000
#define IDLE_BACKOFF_USEC (500 * 1000)
#define MAX_BACKOFF_USEC (10 * 1000 * 1000)

static pid_t master_pid;

static int should_run(void)
{
    return !asst_child_stop && getppid() == master_pid;
}

/* Sleeps in short steps so TERM and the master's death are noticed. */
static void nap(apr_interval_time_t usec)
{
    while (usec > 0 && should_run()) {
        apr_interval_time_t step = usec > 100000 ? 100000 : usec;
        apr_sleep(step);
        usec -= step;
    }
}

static apr_interval_time_t grow(apr_interval_time_t backoff)
{
    backoff = backoff ? backoff * 2 : IDLE_BACKOFF_USEC;
    return backoff > MAX_BACKOFF_USEC ? MAX_BACKOFF_USEC : backoff;
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

    while (should_run()) {
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
        nap(backoff = grow(backoff));
    }
    return 0;
}

static int agent_loop(asst_work_t *w)
{
    long max_turns = w->conf->max_turns_per_child;
    apr_interval_time_t backoff = 0;
    apr_pool_t *ep = NULL;
    asst_entry_t entry;
    int held = 0;
    long turns = 0;

    while (should_run() && (max_turns == 0 || turns < max_turns)) {
        int rv;
        if (!held) {
            if (ep)
                apr_pool_destroy(ep);
            apr_pool_create(&ep, w->pool);
            rv = asst_consumer_next(w->consumer, ep, &entry, BLOCK_MS);
            if (rv < 0)
                nap(backoff = grow(backoff));
            held = rv > 0;
            if (!held)
                continue;
        }
        if (asst_work_entry(w, ep, &entry) == ASST_TURN_RETRY) {
            nap(backoff = grow(backoff));
            continue;
        }
        held = 0;
        backoff = 0;
        turns++;
    }
    if (max_turns && turns >= max_turns)
        asst_log(ASST_LOG_INFO, "ASST01004: retiring after %ld turns (MaxTurnsPerChild)", turns);
    return ASST_CHILD_EXIT_DONE;
}

/* Every pass: rows whose sender went away are found (within a second of
 * its death) and looked up, then due rows are sent. */
static int scheduler_loop(asst_work_t *w)
{
    while (should_run()) {
        apr_pool_t *p;
        int busy = 0;
        apr_pool_create(&p, w->pool);
        asst_outbox_sweep_orphans(w->outbox, p);
        busy |= asst_outbox_reconcile_due(w->outbox, p, 20) == 20;
        busy |= asst_outbox_deliver_due(w->outbox, p, 20) == 20;
        if (w->conf->spool_dir)
            busy |= asst_spool_drain(w, p, w->conf->spool_dir) > 0;
        apr_pool_destroy(p);
        if (!busy)
            nap(apr_time_from_sec(1));
    }
    return ASST_CHILD_EXIT_DONE;
}

static asst_work_t *make_work(apr_pool_t *p, const asst_worker_conf_t *conf, asst_child_role_t role)
{
    asst_work_t *w = apr_pcalloc(p, sizeof(*w));
    char host[256] = "localhost";
    asst_consumer_conf_t cc;
    const char *err;

    gethostname(host, sizeof(host) - 1);
    w->pool = p;
    w->conf = conf;
    w->planner = asst_planner_placeholder();
    w->db = asst_db_create(p, conf->database);
    w->twilio = make_twilio(p, conf);
    w->outbox = asst_outbox_create(p, w->db, w->twilio);
    /* NULL only for an address the config check already refused. */
    w->redis = asst_redis_pool_open(p, conf->redis, conf->redis_password, REDIS_TIMEOUT_MS, 1,
                                    NULL, &err);
    if (role == ASST_CHILD_AGENT) {
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

int asst_child_main(const asst_worker_conf_t *conf, asst_child_role_t role, int index)
{
    apr_pool_t *p;
    asst_work_t *w;
    int rc;

    master_pid = getppid();
    apr_pool_create(&p, NULL);
    w = make_work(p, conf, role);
    asst_log(ASST_LOG_INFO, "ASST01001: %s child %d started",
             role == ASST_CHILD_AGENT ? "agent" : "scheduler", index);
    if (!w->redis || wait_for_schema(w) != 0) {
        apr_pool_destroy(p);
        return ASST_CHILD_EXIT_STARTUP;
    }
    rc = role == ASST_CHILD_AGENT ? agent_loop(w) : scheduler_loop(w);
    apr_pool_destroy(p);
    return rc;
}
