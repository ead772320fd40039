#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "asst_form.h"
#include "asst_log.h"
#include "twilio_private.h"

static const char *dup_or_null(apr_pool_t *p, const char *s)
{
    return s && *s ? apr_pstrdup(p, s) : NULL;
}

/* Without trailing slashes: the paths joined to it start with one. */
static const char *api_base(apr_pool_t *p, const char *configured)
{
    const char *base = configured && *configured ? configured : ASST_TWILIO_API_BASE;
    apr_size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    return apr_pstrmemdup(p, base, n);
}

static const char *messages_url(apr_pool_t *p, const char *api_base, const char *sid)
{
    return apr_psprintf(p, "%s/2010-04-01/Accounts/%s/Messages.json", api_base, asst_http_escape(p, sid));
}

static const char *conf_problem(const asst_twilio_conf_t *conf)
{
    if (!conf->account_sid || !*conf->account_sid)
        return "no account SID";
    if (!conf->auth_token || !*conf->auth_token)
        return "no auth token";
    if ((!conf->from || !*conf->from)
        && (!conf->messaging_service_sid || !*conf->messaging_service_sid))
        return "neither a From number nor a messaging service SID";
    return NULL;
}

asst_twilio_t *asst_twilio_create(apr_pool_t *p, const asst_twilio_conf_t *conf)
{
    asst_twilio_t *tw = apr_pcalloc(p, sizeof(*tw));
    asst_http_conf_t hc = { .name = "twilio",
                            .connect_timeout_ms = conf->connect_timeout_ms,
                            .timeout_ms = conf->timeout_ms,
                            .max_response = ASST_TWILIO_MAX_RESPONSE,
                            .breaker_failure_rate = conf->breaker_failure_rate,
                            .breaker_window = conf->breaker_window,
                            .breaker_min_calls = conf->breaker_min_calls,
                            .breaker_cooldown_ms = conf->breaker_cooldown_ms,
                            .clock = conf->clock, .clock_baton = conf->clock_baton };
    const char *problem = conf_problem(conf);

    if (problem) {
        asst_log(ASST_LOG_ERR, "ASST03024: twilio: cannot send: %s", problem);
        return NULL;
    }
    tw->conf = *conf;
    tw->conf.api_base = api_base(p, conf->api_base);
    tw->conf.account_sid = apr_pstrdup(p, conf->account_sid);
    tw->conf.auth_token = apr_pstrdup(p, conf->auth_token);
    tw->conf.from = dup_or_null(p, conf->from);
    tw->conf.messaging_service_sid = dup_or_null(p, conf->messaging_service_sid);
    tw->conf.status_callback_url = dup_or_null(p, conf->status_callback_url);
    tw->url = messages_url(p, tw->conf.api_base, tw->conf.account_sid);
    tw->http = asst_http_client_create(p, &hc);
    return tw->http ? tw : NULL;
}

asst_http_client_t *asst_twilio_http(asst_twilio_t *tw)
{
    return tw->http;
}

long asst_twilio_timeout_ms(const asst_twilio_t *tw)
{
    return asst_http_timeout_ms(tw->http);
}

const char *asst_twilio_outcome_name(asst_twilio_outcome_t outcome)
{
    switch (outcome) {
    case ASST_TWILIO_SENT: return "sent";
    case ASST_TWILIO_RETRY: return "retry";
    case ASST_TWILIO_PERMANENT: return "permanent";
    }
    return "?";
}

void asst_twilio_add_param(apr_array_header_t *form, const char *name, const char *value)
{
    asst_param_t *kv = apr_array_push(form);

    kv->name = name;
    kv->value = value;
}

static apr_array_header_t *message_form(apr_pool_t *p, const asst_twilio_conf_t *conf,
                                        const char *to, const char *body)
{
    apr_array_header_t *form = apr_array_make(p, 4, sizeof(asst_param_t));

    asst_twilio_add_param(form, "To", to);
    if (conf->messaging_service_sid)
        asst_twilio_add_param(form, "MessagingServiceSid", conf->messaging_service_sid);
    else
        asst_twilio_add_param(form, "From", conf->from);
    asst_twilio_add_param(form, "Body", body);
    if (conf->status_callback_url)
        asst_twilio_add_param(form, "StatusCallback", conf->status_callback_url);
    return form;
}

/* ---- the reply ---- */

static int json_int(json_object *obj, const char *key)
{
    json_object *v;

    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return 0;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int(v);
    if (json_object_is_type(v, json_type_string))
        return atoi(json_object_get_string(v));
    return 0;
}

json_object *asst_twilio_parse_json(const asst_http_response_t *http)
{
    json_tokener *tok = json_tokener_new();
    json_object *obj;

    if (!tok)
        return NULL;
    obj = json_tokener_parse_ex(tok, http->body, (int)http->body_len);
    if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

static asst_twilio_outcome_t outcome_of(const asst_http_response_t *http)
{
    if (asst_http_retryable(http))
        return ASST_TWILIO_RETRY;
    if (http->status >= 200 && http->status < 300)
        return ASST_TWILIO_SENT;
    return ASST_TWILIO_PERMANENT;
}

void asst_twilio_classify(apr_pool_t *p, const asst_http_response_t *http,
                          asst_twilio_result_t *res)
{
    json_object *reply = http->result == ASST_HTTP_OK ? asst_twilio_parse_json(http) : NULL;

    memset(res, 0, sizeof(*res));
    res->outcome = outcome_of(http);
    res->transport = http->result;
    res->http_status = http->status;
    res->retry_after_ms = http->retry_after_ms;
    if (res->outcome == ASST_TWILIO_SENT) {
        res->sid = asst_json_str(p, reply, "sid");
        res->status = asst_json_str(p, reply, "status");
    }
    else {
        res->error_code = json_int(reply, "code");
        res->error_message = asst_json_str(p, reply, "message");
        res->more_info = asst_json_str(p, reply, "more_info");
    }
    if (!res->error_message && http->result != ASST_HTTP_OK)
        res->error_message = http->error;
    json_object_put(reply);
}

/* "HTTP 503, error 20500: ..." or "timeout: ..." for the log. */
static const char *reason(apr_pool_t *p, const asst_twilio_result_t *res)
{
    const char *why = res->error_message ? res->error_message : "no message";

    if (res->transport != ASST_HTTP_OK)
        return apr_psprintf(p, "%s: %s", asst_http_result_name(res->transport), why);
    return apr_psprintf(p, "HTTP %d, error %d: %s", res->http_status, res->error_code, why);
}

static void log_result(apr_pool_t *p, const char *to, const asst_twilio_result_t *res)
{
    switch (res->outcome) {
    case ASST_TWILIO_SENT:
        if (!res->sid)
            asst_log(ASST_LOG_WARN, "ASST03023: twilio: HTTP %d for the message to %s "
                     "carried no message sid", res->http_status, to);
        else
            asst_log(ASST_LOG_DEBUG, "ASST03020: twilio: message %s to %s accepted (%s)",
                     res->sid, to, res->status ? res->status : "no status");
        break;
    case ASST_TWILIO_RETRY:
        /* an open circuit is reported once, by the HTTP client */
        asst_log(res->transport == ASST_HTTP_CIRCUIT_OPEN ? ASST_LOG_DEBUG : ASST_LOG_INFO,
                 "ASST03022: twilio: message to %s not sent, retryable: %s", to, reason(p, res));
        break;
    case ASST_TWILIO_PERMANENT:
        asst_log(ASST_LOG_WARN, "ASST03021: twilio: message to %s refused: %s",
                 to, reason(p, res));
        break;
    }
}

/* The Messages API request for one message, in p: a request started on a
 * multi handle must outlive the call that started it. */
static const asst_http_request_t *message_request(asst_twilio_t *tw, apr_pool_t *p, const char *to,
                                                  const char *body)
{
    asst_http_request_t *req = apr_pcalloc(p, sizeof(*req));

    req->method = "POST";
    req->url = tw->url;
    req->form = message_form(p, &tw->conf, to, body);
    req->user = tw->conf.account_sid;
    req->password = tw->conf.auth_token;
    return req;
}

static asst_twilio_outcome_t conclude(apr_pool_t *p, const char *to, const asst_http_response_t *http,
                                      asst_twilio_result_t *res)
{
    asst_twilio_classify(p, http, res);
    log_result(p, to, res);
    return res->outcome;
}

asst_twilio_outcome_t asst_twilio_send(asst_twilio_t *tw, apr_pool_t *p, const char *to,
                                       const char *body, asst_twilio_result_t *res)
{
    asst_http_response_t http;

    asst_http_request(tw->http, p, message_request(tw, p, to, body), &http);
    return conclude(p, to, &http, res);
}

/* A send started on a multi handle, until Twilio's answer is in. */
typedef struct {
    apr_pool_t *p;
    const char *to;
    asst_twilio_done_fn *done;
    void *baton;
    asst_twilio_result_t res;
} sending_t;

static void answered(void *baton, asst_http_response_t *http)
{
    sending_t *s = baton;
    asst_twilio_outcome_t outcome = conclude(s->p, s->to, http, &s->res);

    s->done(s->baton, outcome, &s->res);
}

void asst_twilio_send_start(asst_twilio_t *tw, asst_http_multi_t *m, apr_pool_t *p, const char *to,
                            const char *body, asst_twilio_done_fn *done, void *baton)
{
    sending_t *s = apr_pcalloc(p, sizeof(*s));

    s->p = p;
    s->to = apr_pstrdup(p, to);
    s->done = done;
    s->baton = baton;
    asst_http_start(tw->http, m, p, message_request(tw, p, s->to, apr_pstrdup(p, body)), 0, answered, s);
}
