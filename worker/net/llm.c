#include <string.h>

#include <apr_strings.h>

#include "asst_json.h"
#include "asst_log.h"
#include "llm.h"

/* A model provider is called a few times a minute per process, not
 * hundreds: the breaker opens on 4 failures of the last 5 (retries
 * count), and probes again after 10 s. */
#define LLM_BREAKER_WINDOW 5
#define LLM_BREAKER_MIN_CALLS 4
#define LLM_BREAKER_FAILURE_RATE 80
#define LLM_BREAKER_COOLDOWN_MS 10000
#define LLM_MAX_RESPONSE (256 * 1024)
#define RETRY_BASE_MS 250
#define RETRY_CAP_MS 4000
#define MIN_USEFUL_MS 500     /* no new attempt with less time than this left */

struct asst_llm {
    asst_llm_conf_t conf;
    asst_http_client_t *http;
    const char *url;
    const char *auth;          /* "Authorization: Bearer ..." or NULL */
};

asst_llm_t *asst_llm_create(apr_pool_t *p, const asst_llm_conf_t *conf)
{
    asst_llm_t *llm = apr_pcalloc(p, sizeof(*llm));
    asst_http_conf_t hc;
    size_t len = strlen(conf->base_url);

    memset(&hc, 0, sizeof(hc));
    hc.name = "llm";
    hc.timeout_ms = conf->timeout_ms;
    hc.max_response = LLM_MAX_RESPONSE;
    hc.breaker_failure_rate = LLM_BREAKER_FAILURE_RATE;
    hc.breaker_window = LLM_BREAKER_WINDOW;
    hc.breaker_min_calls = LLM_BREAKER_MIN_CALLS;
    hc.breaker_cooldown_ms = LLM_BREAKER_COOLDOWN_MS;
    if (!(llm->http = asst_http_client_create(p, &hc)))
        return NULL;
    llm->conf = *conf;
    while (len > 0 && conf->base_url[len - 1] == '/')
        len--;
    llm->url = apr_pstrcat(p, apr_pstrndup(p, conf->base_url, len), "/chat/completions", NULL);
    llm->auth = conf->api_key ? apr_pstrcat(p, "Authorization: Bearer ", conf->api_key, NULL) : NULL;
    return llm;
}

asst_breaker_state_t asst_llm_state(asst_llm_t *llm)
{
    return asst_http_breaker_state(llm->http);
}

/* The body: messages first, then the tools, so that what is the same on
 * every turn leads the prompt providers cache. */
static const char *request_body(apr_pool_t *p, const asst_llm_conf_t *conf, json_object *messages,
                                const char *tools_json)
{
    json_object *o = json_object_new_object();
    const char *head;

    json_object_object_add(o, "model", json_object_new_string(conf->model));
    json_object_object_add(o, "messages", json_object_get(messages));
    head = apr_pstrdup(p, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    /* head ends with '}': the tools (already JSON text) and the options follow */
    return apr_psprintf(p, "%.*s,\"tools\":%s,\"tool_choice\":\"auto\",\"max_tokens\":%ld,\"temperature\":%s}",
                        (int)strlen(head) - 1, head, tools_json, conf->max_tokens, conf->temperature);
}

static long long_at(json_object *o, const char *key)
{
    json_object *v;

    return o && json_object_object_get_ex(o, key, &v) ? (long)json_object_get_int64(v) : 0;
}

/* tool_calls -> asst_call_t; 0, or -1 when one is not a function call. */
static int parse_calls(apr_pool_t *p, json_object *array, asst_llm_answer_t *out)
{
    out->calls = apr_array_make(p, 2, sizeof(asst_call_t));
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        json_object *tc = json_object_array_get_idx(array, i), *fn;
        asst_call_t *call = apr_array_push(out->calls);

        if (!json_object_object_get_ex(tc, "function", &fn))
            return -1;
        call->id = asst_json_str(p, tc, "id");
        call->name = asst_json_str(p, fn, "name");
        call->arguments = asst_json_str(p, fn, "arguments");
        if (!call->id)
            call->id = apr_psprintf(p, "call_%" APR_SIZE_T_FMT, i);   /* some local servers send none */
        if (!call->name)
            return -1;
    }
    return 0;
}

void asst_llm_parse(apr_pool_t *p, const char *body, asst_llm_answer_t *out)
{
    json_object *o = body ? json_tokener_parse(body) : NULL, *choices, *message = NULL, *calls, *usage;

    out->outcome = ASST_LLM_MALFORMED;
    out->error = "the answer is not a chat completion";
    if (!o || !json_object_object_get_ex(o, "choices", &choices)
        || !json_object_is_type(choices, json_type_array) || json_object_array_length(choices) < 1
        || !json_object_object_get_ex(json_object_array_get_idx(choices, 0), "message", &message)) {
        json_object_put(o);
        return;
    }
    out->content = asst_json_str(p, message, "content");
    if (json_object_object_get_ex(message, "tool_calls", &calls) && json_object_is_type(calls, json_type_array)
        && parse_calls(p, calls, out) != 0) {
        json_object_put(o);
        return;
    }
    if (json_object_object_get_ex(o, "usage", &usage)) {
        out->prompt_tokens = long_at(usage, "prompt_tokens");
        out->completion_tokens = long_at(usage, "completion_tokens");
    }
    out->outcome = ASST_LLM_OK;
    out->error = NULL;
    json_object_put(o);
}

static void post(asst_llm_t *llm, apr_pool_t *p, const char *body, long timeout_ms, asst_http_response_t *res)
{
    const char *headers[] = { llm->auth, NULL };
    asst_http_request_t req;

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = llm->url;
    req.headers = llm->auth ? headers : NULL;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = timeout_ms;
    asst_http_request(llm->http, p, &req, res);
}

static const char *failure(apr_pool_t *p, const asst_http_response_t *res)
{
    if (res->result != ASST_HTTP_OK)
        return apr_psprintf(p, "%s%s%s", asst_http_result_name(res->result), res->error ? ": " : "",
                            res->error ? res->error : "");
    return apr_psprintf(p, "HTTP %d", res->status);
}

void asst_llm_chat(asst_llm_t *llm, apr_pool_t *p, json_object *messages, const char *tools_json,
                   apr_int64_t deadline_ms, asst_llm_answer_t *out)
{
    const char *body = request_body(p, &llm->conf, messages, tools_json);
    asst_http_response_t res;

    memset(out, 0, sizeof(*out));
    out->outcome = ASST_LLM_UNAVAILABLE;
    out->error = "no time left";
    for (;;) {
        apr_int64_t left = deadline_ms - asst_clock_monotonic_ms(NULL), wait;

        if (left < MIN_USEFUL_MS)
            return;
        out->attempts++;
        post(llm, p, body, (long)left, &res);
        if (res.result == ASST_HTTP_OK && res.status == 200) {
            asst_llm_parse(p, res.body, out);
            return;
        }
        out->error = failure(p, &res);
        if (!asst_http_retryable(&res) || res.result == ASST_HTTP_CIRCUIT_OPEN) {
            out->outcome = res.result == ASST_HTTP_CIRCUIT_OPEN ? ASST_LLM_UNAVAILABLE : ASST_LLM_REFUSED;
            return;
        }
        wait = asst_http_backoff_ms(RETRY_BASE_MS, RETRY_CAP_MS, (unsigned)out->attempts, res.retry_after_ms,
                                    asst_http_random());
        if (asst_clock_monotonic_ms(NULL) + wait + MIN_USEFUL_MS > deadline_ms)
            return;
        asst_log(ASST_LOG_INFO, "ASST01601: model request failed (%s); retry %d in %" APR_INT64_T_FMT " ms",
                 out->error, out->attempts, wait);
        apr_sleep(apr_time_from_msec(wait));
    }
}
