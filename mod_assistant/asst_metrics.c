#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <apr_shm.h>
#include <ap_mpm.h>
#include <http_log.h>
#include <http_protocol.h>

#include "asst_metrics.h"
#include "mod_assistant.h"

APLOG_USE_MODULE(assistant);

static const char *const outcome_names[ASST_OUT_COUNT] = {
    "accepted", "duplicate", "bad_signature", "too_large", "bad_method",
    "bad_request", "rate_limited", "spooled", "redis_error"
};
static const char *const kind_names[ASST_KIND_COUNT] = { "sms", "status" };

/* Upper bounds in microseconds and as Prometheus prints them; the last
 * bucket is +Inf. */
static const apr_interval_time_t bounds_usec[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000
};
static const char *const bounds_text[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
    "1", "2.5"
};
#define NBOUNDS ((int)(sizeof(bounds_usec) / sizeof(bounds_usec[0])))

typedef struct {
    pid_t pid;                    /* 0: free */
    asst_redis_stats_t redis;
} child_slot_t;

typedef struct {
    apr_uint64_t requests[ASST_KIND_COUNT][ASST_OUT_COUNT];
    apr_uint64_t buckets[ASST_KIND_COUNT][NBOUNDS + 1];
    apr_uint64_t sum_usec[ASST_KIND_COUNT];
    apr_uint64_t retired_connects;
    apr_uint64_t retired_connect_failures;
    int nslots;
    child_slot_t slots[];
} metrics_t;

static metrics_t *metrics;

#define ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static int slot_count(void)
{
    int daemons = 0;

    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons) != APR_SUCCESS || daemons < 1)
        daemons = 16;
    /* Old and new generations overlap during a graceful restart. */
    return daemons * 2 + 8;
}

apr_status_t asst_metrics_init(server_rec *s)
{
    static const char key[] = "mod_assistant-metrics";
    metrics_t **retained = ap_retained_data_get(key);
    apr_shm_t *shm;
    apr_size_t size;
    apr_status_t rv;
    int nslots;

    if (retained) {
        metrics = *retained;
        return APR_SUCCESS;
    }
    nslots = slot_count();
    size = sizeof(metrics_t) + sizeof(child_slot_t) * (apr_size_t)nslots;
    rv = apr_shm_create(&shm, size, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "ASST00501: cannot create %lu bytes of shared memory for metrics",
                     (unsigned long)size);
        return rv;
    }
    metrics = apr_shm_baseaddr_get(shm);
    memset(metrics, 0, size);
    metrics->nslots = nslots;
    retained = ap_retained_data_create(key, sizeof(*retained));
    *retained = metrics;
    return APR_SUCCESS;
}

static int pid_alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno != ESRCH;
}

/* A slot's counters outlive its child in the retired totals. */
static void retire(child_slot_t *slot)
{
    ADD(metrics->retired_connects, slot->redis.connects);
    ADD(metrics->retired_connect_failures, slot->redis.connect_failures);
    memset(&slot->redis, 0, sizeof(slot->redis));
}

static int claim(child_slot_t *slot, pid_t expected, pid_t me)
{
    return __atomic_compare_exchange_n(&slot->pid, &expected, me, 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

static apr_status_t release_slot(void *data)
{
    child_slot_t *slot = data;

    retire(slot);
    __atomic_store_n(&slot->pid, 0, __ATOMIC_RELEASE);
    return APR_SUCCESS;
}

asst_redis_stats_t *asst_metrics_child_stats(apr_pool_t *pchild)
{
    pid_t me = getpid();

    for (int pass = 0; metrics && pass < 2; pass++) {
        for (int i = 0; i < metrics->nslots; i++) {
            child_slot_t *slot = &metrics->slots[i];
            pid_t owner = LOAD(slot->pid);
            if (pass == 0 ? owner != 0 : (owner == 0 || pid_alive(owner)))
                continue;
            if (!claim(slot, owner, me))
                continue;
            if (owner != 0)
                retire(slot);         /* a child that crashed left it */
            apr_pool_cleanup_register(pchild, slot, release_slot, apr_pool_cleanup_null);
            return &slot->redis;
        }
    }
    return NULL;
}

void asst_metrics_observe(asst_kind_t kind, asst_outcome_t outcome, apr_interval_time_t elapsed)
{
    int b = 0;

    if (!metrics)
        return;
    while (b < NBOUNDS && elapsed > bounds_usec[b])
        b++;
    ADD(metrics->requests[kind][outcome], 1);
    ADD(metrics->buckets[kind][b], 1);
    ADD(metrics->sum_usec[kind], (apr_uint64_t)(elapsed > 0 ? elapsed : 0));
}

/* ---- Prometheus text exposition ---- */

static void print_requests(request_rec *r)
{
    ap_rputs("# HELP assistant_requests_total Webhook requests by handler and outcome.\n"
             "# TYPE assistant_requests_total counter\n", r);
    for (int k = 0; k < ASST_KIND_COUNT; k++)
        for (int o = 0; o < ASST_OUT_COUNT; o++)
            ap_rprintf(r, "assistant_requests_total{handler=\"%s\",outcome=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       kind_names[k], outcome_names[o], LOAD(metrics->requests[k][o]));
}

static void print_histogram(request_rec *r)
{
    ap_rputs("# HELP assistant_request_duration_seconds Time from request line to response.\n"
             "# TYPE assistant_request_duration_seconds histogram\n", r);
    for (int k = 0; k < ASST_KIND_COUNT; k++) {
        apr_uint64_t cumulative = 0;
        for (int b = 0; b <= NBOUNDS; b++) {
            cumulative += LOAD(metrics->buckets[k][b]);
            ap_rprintf(r, "assistant_request_duration_seconds_bucket{handler=\"%s\",le=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", kind_names[k], b < NBOUNDS ? bounds_text[b] : "+Inf",
                       cumulative);
        }
        ap_rprintf(r, "assistant_request_duration_seconds_sum{handler=\"%s\"} %.6f\n",
                   kind_names[k], LOAD(metrics->sum_usec[k]) / 1e6);
        ap_rprintf(r, "assistant_request_duration_seconds_count{handler=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   kind_names[k], cumulative);
    }
}

static void print_redis(request_rec *r)
{
    apr_uint64_t open = 0, in_use = 0;
    apr_uint64_t connects = LOAD(metrics->retired_connects);
    apr_uint64_t failures = LOAD(metrics->retired_connect_failures);

    for (int i = 0; i < metrics->nslots; i++) {
        child_slot_t *slot = &metrics->slots[i];
        pid_t owner = LOAD(slot->pid);
        if (owner == 0)
            continue;
        connects += LOAD(slot->redis.connects);
        failures += LOAD(slot->redis.connect_failures);
        if (pid_alive(owner)) {
            open += LOAD(slot->redis.open);
            in_use += LOAD(slot->redis.in_use);
        }
    }
    ap_rprintf(r, "# HELP assistant_redis_connections Redis connections held by httpd children.\n"
               "# TYPE assistant_redis_connections gauge\n"
               "assistant_redis_connections{state=\"open\"} %" APR_UINT64_T_FMT "\n"
               "assistant_redis_connections{state=\"in_use\"} %" APR_UINT64_T_FMT "\n"
               "# HELP assistant_redis_connects_total Successful connects to Redis.\n"
               "# TYPE assistant_redis_connects_total counter\n"
               "assistant_redis_connects_total %" APR_UINT64_T_FMT "\n"
               "# HELP assistant_redis_connect_failures_total Failed connects to Redis.\n"
               "# TYPE assistant_redis_connect_failures_total counter\n"
               "assistant_redis_connect_failures_total %" APR_UINT64_T_FMT "\n",
               open, in_use, connects, failures);
}

int asst_metrics_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, ASST_HANDLER_METRICS) != 0)
        return DECLINED;
    r->allowed = (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!metrics)
        return HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only)
        return OK;
    print_requests(r);
    print_histogram(r);
    print_redis(r);
    return OK;
}
