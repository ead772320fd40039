#include <string.h>

#include <apr_strings.h>

#include "asst_json.h"
#include "asst_log.h"
#include "llm.h"

/* An agent child has many model requests open at once, so the breaker
 * sees bursts: it uses the window measured for Twilio (90 % of the last
 * 12 calls, retries counted, at least 10: random faults of 5 % open it
 * about never, a provider down after 11 calls) and probes again after
 * 10 s. The first version, 4 failures of the last 5, would open about
 * every 10 minutes at 50 calls/s with 5 % random faults. */
#define LLM_BREAKER_COOLDOWN_MS 10000
#define LLM_MAX_RESPONSE (256 * 1024)
#define RETRY_BASE_MS 250
#define RETRY_CAP_MS 4000
#define MIN_USEFUL_MS 500     /* no new attempt with less time than this left */

#define CHAT_RUN_SLICE_MS 1000     /* asst_llm_chat's wait per run; the run wakes for any progress */

struct asst_llm {
    asst_llm_conf_t conf;
    apr_pool_t *pool;
    asst_http_client_t *http;
    asst_http_multi_t *own;    /* asst_llm_chat's, made on its first call */
    const char *url;
    const char *auth;          /* "Authorization: Bearer ..." or NULL */
};

/* One asst_llm_start call, from its first attempt to done; in the
 * caller's pool, as is the request every attempt sends. */
typedef struct {
    asst_llm_t *llm;
    asst_http_multi_t *m;
    apr_pool_t *p;
    asst_http_request_t req;
    const char *headers[2];
    apr_int64_t deadline_ms;
    asst_llm_answer_t *ans;
    asst_llm_done_fn *done;
    void *baton;
} chat_t;

asst_llm_t *asst_llm_create(apr_pool_t *p, const asst_llm_conf_t *conf)
{
    asst_llm_t *llm = apr_pcalloc(p, sizeof(*llm));
    asst_http_conf_t hc;
    size_t len = strlen(conf->base_url);

    memset(&hc, 0, sizeof(hc));
    hc.name = "llm";
    hc.timeout_ms = conf->timeout_ms;
    hc.max_response = LLM_MAX_RESPONSE;
    hc.breaker_cooldown_ms = LLM_BREAKER_COOLDOWN_MS;     /* the rest: the defaults */
    if (!(llm->http = asst_http_client_create(p, &hc)))
        return NULL;
    llm->conf = *conf;
    llm->pool = p;
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
    return apr_psprintf(p, "%.*s,\"tools\":%s,\"tool_choice\":\"auto\",\"%s\":%ld%s%s}",
                        (int)strlen(head) - 1, head, tools_json,
                        conf->max_tokens_field ? conf->max_tokens_field : "max_tokens", conf->max_tokens,
                        conf->temperature ? ",\"temperature\":" : "", conf->temperature ? conf->temperature : "");
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

static const char *failure(apr_pool_t *p, const asst_http_response_t *res)
{
    if (res->result != ASST_HTTP_OK)
        return apr_psprintf(p, "%s%s%s", asst_http_result_name(res->result), res->error ? ": " : "",
                            res->error ? res->error : "");
    return apr_psprintf(p, "HTTP %d", res->status);
}

static void answer(void *baton)
{
    chat_t *chat = baton;

    chat->done(chat->baton, chat->ans);
}

static void on_response(void *baton, asst_http_response_t *res);

/* The next attempt, sent at start_ms; with too little time left for one,
 * the answer as it stands, from m's next run (a timer): done is never
 * called from inside asst_llm_start. */
static void attempt(chat_t *chat, apr_int64_t start_ms)
{
    apr_int64_t left = chat->deadline_ms - start_ms;

    if (left < MIN_USEFUL_MS) {
        asst_http_multi_at(chat->m, 0, answer, chat);
        return;
    }
    chat->ans->attempts++;
    chat->req.timeout_ms = (long)left;
    asst_http_start(chat->llm->http, chat->m, chat->p, &chat->req, start_ms, on_response, chat);
}

/* 1 when res settles the answer: a completion, or a failure that a retry
 * would not mend. */
static int settles(chat_t *chat, const asst_http_response_t *res)
{
    asst_llm_answer_t *ans = chat->ans;

    if (res->result == ASST_HTTP_OK && res->status == 200) {
        asst_llm_parse(chat->p, res->body, ans);
        return 1;
    }
    ans->error = failure(chat->p, res);
    if (asst_http_retryable(res) && res->result != ASST_HTTP_CIRCUIT_OPEN)
        return 0;
    ans->outcome = res->result == ASST_HTTP_CIRCUIT_OPEN ? ASST_LLM_UNAVAILABLE : ASST_LLM_REFUSED;
    return 1;
}

/* Queues the next attempt after a backoff; 0 when the deadline leaves no
 * useful time after it. */
static int retry(chat_t *chat, const asst_http_response_t *res)
{
    asst_llm_answer_t *ans = chat->ans;
    apr_int64_t wait = asst_http_backoff_ms(RETRY_BASE_MS, RETRY_CAP_MS, (unsigned)ans->attempts,
                                            res->retry_after_ms, asst_http_random());
    apr_int64_t at = asst_clock_monotonic_ms(NULL) + wait;

    if (at + MIN_USEFUL_MS > chat->deadline_ms)
        return 0;
    asst_log(ASST_LOG_INFO, "ASST01601: model request failed (%s); retry %d in %" APR_INT64_T_FMT " ms",
             ans->error, ans->attempts, wait);
    attempt(chat, at);
    return 1;
}

static void on_response(void *baton, asst_http_response_t *res)
{
    chat_t *chat = baton;

    if (settles(chat, res) || !retry(chat, res))
        answer(chat);
}

static void set_request(chat_t *chat, const char *body)
{
    asst_llm_t *llm = chat->llm;

    chat->headers[0] = llm->auth;
    chat->req.method = "POST";
    chat->req.url = llm->url;
    chat->req.headers = llm->auth ? chat->headers : NULL;
    chat->req.body = body;
    chat->req.body_len = strlen(body);
}

void asst_llm_start(asst_llm_t *llm, asst_http_multi_t *m, apr_pool_t *p, json_object *messages,
                    const char *tools_json, apr_int64_t deadline_ms, asst_llm_done_fn *done, void *baton)
{
    chat_t *chat = apr_pcalloc(p, sizeof(*chat));

    chat->llm = llm;
    chat->m = m;
    chat->p = p;
    chat->deadline_ms = deadline_ms;
    chat->done = done;
    chat->baton = baton;
    chat->ans = apr_pcalloc(p, sizeof(*chat->ans));
    chat->ans->outcome = ASST_LLM_UNAVAILABLE;
    chat->ans->error = "no time left";
    set_request(chat, request_body(p, &llm->conf, messages, tools_json));
    attempt(chat, asst_clock_monotonic_ms(NULL));
}

/* asst_llm_chat waits for its answer on a multi handle of its own. */
typedef struct {
    asst_llm_answer_t *out;
    int answered;
} waiter_t;

static void store(void *baton, asst_llm_answer_t *ans)
{
    waiter_t *w = baton;

    *w->out = *ans;
    w->answered = 1;
}

void asst_llm_chat(asst_llm_t *llm, apr_pool_t *p, json_object *messages, const char *tools_json,
                   apr_int64_t deadline_ms, asst_llm_answer_t *out)
{
    waiter_t w = { out, 0 };

    if (!llm->own && !(llm->own = asst_http_multi_create(llm->pool))) {
        memset(out, 0, sizeof(*out));
        out->outcome = ASST_LLM_UNAVAILABLE;
        out->error = "cannot create a curl multi handle";
        return;
    }
    asst_llm_start(llm, llm->own, p, messages, tools_json, deadline_ms, store, &w);
    /* a failing poll must not spin; curl's timeouts still end the call */
    while (!w.answered)
        if (asst_http_multi_run(llm->own, -1, CHAT_RUN_SLICE_MS) < 0)
            apr_sleep(apr_time_from_msec(10));
}
