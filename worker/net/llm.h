#ifndef ASST_LLM_H
#define ASST_LLM_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "agent/planner.h"
#include "http.h"

/* A client of an OpenAI-compatible chat completions API (OpenAI, Gemini's
 * OpenAI endpoint, llama.cpp's llama-server, Ollama, vLLM): one POST
 * {base}/chat/completions with the messages, the tools and
 * tool_choice "auto". Timeouts, 429 (Retry-After), 5xx and connection
 * errors are retried with backoff while the deadline allows; the circuit
 * breaker of net/http.h guards the base URL. The API key is never logged. */

typedef struct {
    const char *base_url;       /* up to and including /v1 */
    const char *api_key;        /* NULL: no Authorization header */
    const char *model;
    long timeout_ms;            /* one request */
    long max_tokens;
    const char *max_tokens_field;   /* "max_tokens" or "max_completion_tokens" */
    const char *temperature;    /* as configured, e.g. "0.2"; NULL: none sent */
} asst_llm_conf_t;

typedef enum {
    ASST_LLM_OK,                /* an answer: content and/or calls */
    ASST_LLM_UNAVAILABLE,       /* failed, circuit open, or no time left to retry */
    ASST_LLM_REFUSED,           /* a 4xx other than 429: the request is wrong */
    ASST_LLM_MALFORMED          /* a 200 that is not a chat completion */
} asst_llm_outcome_t;

typedef struct {
    asst_llm_outcome_t outcome;
    const char *content;        /* may be NULL with calls */
    apr_array_header_t *calls;  /* of asst_call_t; NULL or empty: none */
    long prompt_tokens;
    long completion_tokens;
    int attempts;
    const char *error;          /* why, when not OK */
} asst_llm_answer_t;

typedef struct asst_llm asst_llm_t;

/* NULL (logged) when libcurl cannot make a handle. */
asst_llm_t *asst_llm_create(apr_pool_t *p, const asst_llm_conf_t *conf);

/* Asks for the next message after messages (a JSON array), offering
 * tools_json (the registry's array), giving up at deadline_ms
 * (asst_clock_monotonic_ms()). Blocks: asst_llm_start on a multi handle of
 * the llm's own, run until the answer is in. */
void asst_llm_chat(asst_llm_t *llm, apr_pool_t *p, json_object *messages, const char *tools_json,
                   apr_int64_t deadline_ms, asst_llm_answer_t *out);

typedef void asst_llm_done_fn(void *baton, asst_llm_answer_t *ans);

/* asst_llm_chat without blocking: the request goes on m; retries (same
 * policy as asst_llm_chat: timeouts, 429 Retry-After, 5xx, connection
 * errors, backoff, nothing new with less than MIN_USEFUL_MS left before
 * deadline_ms) are queued on m with their start time; done gets the answer
 * (allocated in p) from inside asst_http_multi_run(m), exactly once, even
 * when there was no time left for a first attempt (then attempts is 0).
 * messages is read before this returns (the body is built at once); the
 * caller may put it. p must live until done runs. */
void asst_llm_start(asst_llm_t *llm, asst_http_multi_t *m, apr_pool_t *p, json_object *messages,
                    const char *tools_json, apr_int64_t deadline_ms, asst_llm_done_fn *done, void *baton);

/* The breaker's view of the provider: CLOSED, OPEN or HALF_OPEN. */
asst_breaker_state_t asst_llm_state(asst_llm_t *llm);

/* Parses a chat completion body into out (outcome OK or MALFORMED). */
void asst_llm_parse(apr_pool_t *p, const char *body, asst_llm_answer_t *out);

#endif
