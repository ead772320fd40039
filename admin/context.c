/* assistant-admin context PHONE TEXT [REPEAT]: what a planner that reads
 * context (an LLM) would be shown if PHONE texted TEXT now, under
 * ContextTokens, and how long gathering and building it took. REPEAT > 1
 * builds it that many times and prints the p50 and p95 (bench/agent). */
#include <stdio.h>
#include <stdlib.h>

#include <apr_strings.h>

#include "admin.h"
#include "agent/context_load.h"
#include "tools/registry.h"

static int by_value(const void *a, const void *b)
{
    apr_interval_time_t x = *(const apr_interval_time_t *)a, y = *(const apr_interval_time_t *)b;
    return x < y ? -1 : x > y;
}

static const char *user_of(asst_admin_t *a, const char *phone)
{
    asst_db_rc_t rc;

    return asst_db_value(a->db, a->pool, &rc, "SELECT id FROM users WHERE phone = $1", ASST_DB_ARGS(phone));
}

/* One gather-and-build in its own transaction scoped to the person, as
 * the runner does it; its duration, or -1. */
static apr_interval_time_t build_once(asst_admin_t *a, const char *user_id, const char *text, int print)
{
    apr_time_t t0 = apr_time_now();
    asst_context_report_t report;
    json_object *messages;
    asst_tx_t tx;

    asst_tx_begin(&tx, a->db, a->pool, user_id);
    messages = asst_context_load(&tx, user_id, "9223372036854775807", text, asst_tools_openai_json(),
                                 (int)a->conf->context_tokens, &report);
    if (asst_tx_finish(&tx) != ASST_DB_OK || !messages) {
        json_object_put(messages);
        return -1;
    }
    if (print) {
        printf("%s\n", json_object_to_json_string_ext(messages, JSON_C_TO_STRING_PRETTY));
        printf("tokens %zu of %ld; memories kept %d, dropped %d; recent kept %d, dropped %d%s%s\n",
               report.tokens, a->conf->context_tokens, report.memories_kept, report.memories_dropped,
               report.recent_kept, report.recent_dropped, report.message_truncated ? "; message truncated" : "",
               report.over_budget ? "; OVER BUDGET" : "");
    }
    json_object_put(messages);
    return apr_time_now() - t0;
}

int asst_admin_context(asst_admin_t *a, int argc, const char *const *argv)
{
    int repeat = argc == 3 ? atoi(argv[2]) : 1;
    apr_interval_time_t *took;
    const char *user_id;

    if (argc < 2 || argc > 3 || repeat < 1)
        return asst_admin_usage("usage: context PHONE TEXT [REPEAT]");
    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    user_id = user_of(a, argv[0]);
    if (asst_admin_commit(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (!user_id)
        return asst_admin_fail("no user %s", argv[0]);
    took = apr_pcalloc(a->pool, sizeof(*took) * (size_t)repeat);
    for (int i = 0; i < repeat; i++)
        if ((took[i] = build_once(a, user_id, argv[1], i == 0)) < 0)
            return asst_admin_db_fail(a, "cannot build the context");
    qsort(took, (size_t)repeat, sizeof(*took), by_value);
    printf("built in p50 %.3f ms, p95 %.3f ms over %d run%s\n", took[repeat / 2] / 1000.0,
           took[(repeat * 95) / 100 < repeat ? (repeat * 95) / 100 : repeat - 1] / 1000.0, repeat,
           repeat == 1 ? "" : "s");
    return ADMIN_OK;
}
