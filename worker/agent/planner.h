#ifndef ASST_PLANNER_H
#define ASST_PLANNER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "conf/worker_conf.h"

/* A planner decides the next step of a turn: call tools, or reply. The
 * runner (runner.h) asks it once per step with everything recorded so far
 * in this turn, journals each decision before acting on it, and feeds each
 * tool's result back. A planner keeps no state of its own between calls:
 * everything it needs is in asst_plan_input_t, so a turn resumed by another
 * process after a crash continues exactly where it stopped. */

typedef struct {
    const char *id;           /* unique within the turn; tool results name it */
    const char *name;         /* a tool of the registry (tools/registry.h) */
    const char *arguments;    /* JSON text, as the planner produced it */
    int untrusted;            /* the arguments carry content the person did not write
                               * (mail, documents): the call waits for YES */
} asst_call_t;

typedef enum { ASST_STEP_DECISION, ASST_STEP_TOOL } asst_step_kind_t;

/* One journal entry (sql/004_agent.sql turn_steps). */
typedef struct {
    asst_step_kind_t kind;
    int n;
    /* ASST_STEP_DECISION: either a reply (ends the turn) or calls */
    const char *reply;
    apr_array_header_t *calls;   /* of asst_call_t; NULL with a reply */
    const char *source;          /* who decided: a planner's name, "confirmed", "runner" */
    const char *zone;            /* "confirmed" answering a time zone question: the zone
                                  * the person gave, which the call runs in (tools/zone.h) */
    long prompt_tokens;          /* what the decision cost in model tokens (0: none) */
    long completion_tokens;
    /* ASST_STEP_TOOL: the result of one call */
    const char *call_id;
    const char *name;
    int ok;                      /* 0: the call failed; text says why */
    const char *text;            /* what the tool says, plain text for an SMS */
    int asks_confirmation;       /* the call was stored to wait for YES instead of run */
    int rejected;                /* the call failed the registry's check (tools/registry.h) */
    const char *untrusted;       /* text carries content the person did not write: whence */
} asst_step_t;

/* A planner that waits on the network need not block the process: when
 * the runner offers this, decide may start its request on `multi` and
 * return ASST_PLAN_WAIT. Once the answer is in `answer`, wake(baton) runs
 * (from the process's event loop); the runner then calls decide again
 * with the same input, and the planner decides from the answer. */
#define ASST_PLAN_WAIT 1

typedef struct {
    struct asst_http_multi *multi;   /* net/http.h */
    void (*wake)(void *baton);
    void *baton;
    void *answer;                /* the planner's own, from WAIT to the next decide */
} asst_plan_async_t;

typedef struct {
    long long user_id;
    const char *user_name;       /* may be NULL */
    const char *timezone;
    const char *body;            /* what the person texted */
    const char *last_list_kind;  /* the list they were last shown ("notes"...), or NULL */
    const apr_array_header_t *journal;   /* of asst_step_t, this turn so far */
    json_object *context;        /* chat messages (agent/context.h), NULL unless wants_context */
    const char *tools_json;      /* the OpenAI tools array (tools/registry.h) */
    apr_int64_t deadline_ms;     /* decide by then (asst_clock_monotonic_ms) */
    const char *use_rules;       /* non-NULL: a model planner must not ask its model
                                  * (why, for the reply: the person's daily budget) */
    asst_plan_async_t *async;    /* NULL: decide before returning */
} asst_plan_input_t;

typedef struct asst_planner asst_planner_t;
struct asst_planner {
    const char *name;
    int wants_context;           /* the runner builds in->context for it */
    int uses_model;              /* it spends model tokens: LLMDailyTokens applies */
    /* Fills *out (reply, or calls) with a decision; 0, or -1 when it could
     * not decide (the runner ends the turn with an apology), or
     * ASST_PLAN_WAIT (only with in->async). May take seconds (a network
     * call): no transaction is open meanwhile. */
    int (*decide)(const asst_planner_t *self, apr_pool_t *p, const asst_plan_input_t *in,
                  asst_step_t *out);
};

/* The planner the Planner directive names, made for this process (a
 * model planner holds its HTTP client); NULL when it cannot be made. */
const asst_planner_t *asst_planner_make(apr_pool_t *p, const char *name, const asst_worker_conf_t *conf);

/* The deterministic phrase planner (rules.c): the default, and the one the
 * others fall back to. */
extern const asst_planner_t asst_planner_rules;
/* An OpenAI-compatible chat model with tool calling (openai.c). */
const asst_planner_t *asst_planner_openai(apr_pool_t *p, const asst_worker_conf_t *conf);

#endif
