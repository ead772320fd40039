#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "asst_config.h"
#include "asst_envelope.h"
#include "asst_form.h"
#include "asst_ingest.h"
#include "asst_metrics.h"
#include "asst_sig.h"
#include "asst_spool.h"
#include "asst_webhook.h"
#include "mod_assistant.h"

APLOG_USE_MODULE(assistant);

static const char empty_twiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/* One webhook as it moves through the checks. */
typedef struct {
    request_rec *r;
    const asst_dir_conf_t *conf;
    asst_kind_t kind;
    apr_array_header_t *params;
    const char *sid;
    const char *key;           /* dedupe and spool key */
    const char *envelope;
    asst_outcome_t outcome;
    int observed;              /* counted in the metrics already */
} webhook_t;

/* Sets the outcome and returns the HTTP status to answer with. */
static int fail(webhook_t *w, asst_outcome_t outcome, int status)
{
    w->outcome = outcome;
    return status;
}

/* One brigade, no copy, flushed: Twilio has its answer before httpd logs
 * the request, and the core output filter sets nothing aside for later
 * (a set-aside pool per connection, measured at ~80 KiB per child). */
static int send_now(request_rec *r, const char *body, apr_size_t len)
{
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, ba);

    if (!r->header_only)
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_immortal_create(body, len, ba));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(ba));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

/* Counted before a flushed reply leaves, so whoever got the answer also
 * finds it in the metrics. */
static void observe(webhook_t *w)
{
    if (!w->observed)
        asst_metrics_observe(w->kind, w->outcome, apr_time_now() - w->r->request_time);
    w->observed = 1;
}

static int reply_twiml(webhook_t *w, asst_outcome_t outcome)
{
    w->outcome = outcome;
    observe(w);
    ap_set_content_type(w->r, "text/xml");
    ap_set_content_length(w->r, sizeof(empty_twiml) - 1);
    return send_now(w->r, empty_twiml, sizeof(empty_twiml) - 1);
}

/* 405 written here rather than by httpd, whose Allow header would list
 * TRACE as well; Twilio only ever POSTs. */
static int reply_method_not_allowed(webhook_t *w)
{
    static const char body[] = "Only POST is accepted here.\n";
    request_rec *r = w->r;

    w->outcome = ASST_OUT_BAD_METHOD;
    ap_discard_request_body(r);
    r->status = HTTP_METHOD_NOT_ALLOWED;
    apr_table_setn(r->headers_out, "Allow", "POST");
    ap_set_content_type(r, "text/plain");
    ap_set_content_length(r, sizeof(body) - 1);
    if (!r->header_only)
        ap_rwrite(body, sizeof(body) - 1, r);
    return OK;
}

static int is_form_content(const char *ct)
{
    static const char form[] = "application/x-www-form-urlencoded";
    apr_size_t n = sizeof(form) - 1;

    return ct && strncasecmp(ct, form, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body over the limit gets 413 without being read: the connection is
 * closed instead of drained. */
static int too_large(webhook_t *w, apr_off_t limit)
{
    w->r->connection->keepalive = AP_CONN_CLOSE;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, w->r,
                  "ASST00301: request body over AssistantMaxBody %" APR_OFF_T_FMT " bytes", limit);
    return fail(w, ASST_OUT_TOO_LARGE, HTTP_REQUEST_ENTITY_TOO_LARGE);
}

static int read_body(webhook_t *w, char **body, apr_size_t *len)
{
    request_rec *r = w->r;
    apr_off_t limit = asst_conf_long(w->conf->max_body, ASST_DEFAULT_MAX_BODY);
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t declared = cl ? apr_atoi64(cl) : -1;
    apr_size_t cap, got = 0;
    int rc;

    if (declared > limit)
        return too_large(w, limit);
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK)
        return fail(w, ASST_OUT_BAD_REQUEST, rc);
    cap = (apr_size_t)(declared >= 0 ? declared : limit) + 1;
    *body = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        long n;
        while ((n = ap_get_client_block(r, *body + got, cap - got)) > 0) {
            got += (apr_size_t)n;
            if (got > (apr_size_t)limit)
                return too_large(w, limit);
            if (got == cap)
                break;
        }
        if (n < 0)
            return fail(w, ASST_OUT_BAD_REQUEST, HTTP_BAD_REQUEST);
    }
    (*body)[got] = '\0';
    *len = got;
    return OK;
}

static int parse_form(webhook_t *w, char *body, apr_size_t len)
{
    asst_form_status_t st = asst_form_parse_inplace(w->r->pool, body, len, &w->params);

    if (st == ASST_FORM_OK)
        return OK;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, w->r, "ASST00302: malformed form body: %s",
                  asst_form_strerror(st));
    return fail(w, ASST_OUT_BAD_REQUEST, HTTP_BAD_REQUEST);
}

static const char *signed_url(const webhook_t *w)
{
    return w->r->args ? apr_pstrcat(w->r->pool, w->conf->public_url, "?", w->r->args, NULL)
                      : w->conf->public_url;
}

/* Logs the reason only: never the token or the signature we expected. */
static int check_signature(webhook_t *w)
{
    const char *given = apr_table_get(w->r->headers_in, "X-Twilio-Signature");
    const asst_sig_key_t *keys[2] = { w->conf->token, w->conf->token2 };
    const char *url = signed_url(w);

    if (given && asst_sig_valid_keys(w->r->pool, url, w->params, given, keys, 2))
        return OK;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, w->r,
                  "ASST00303: rejected webhook: %s (URL checked: %s, with and without "
                  "default port, %d token%s)",
                  given ? "X-Twilio-Signature does not match" : "no X-Twilio-Signature header",
                  url, w->conf->token2 ? 2 : 1, w->conf->token2 ? "s" : "");
    return fail(w, ASST_OUT_BAD_SIGNATURE, HTTP_FORBIDDEN);
}

static int missing(webhook_t *w, const char *field)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, w->r,
                  "ASST00304: signed webhook lacks %s or it is malformed", field);
    return fail(w, ASST_OUT_BAD_REQUEST, HTTP_BAD_REQUEST);
}

/* The fields the worker cannot do without, and the dedupe key. */
static int check_fields(webhook_t *w)
{
    const char *account = asst_form_get(w->params, "AccountSid");

    w->sid = asst_form_get(w->params, "MessageSid");
    if (!w->sid || !asst_spool_key_valid(w->sid))
        return missing(w, "MessageSid");
    if (!account || !*account)
        return missing(w, "AccountSid");
    if (w->kind == ASST_KIND_SMS) {
        const char *from = asst_form_get(w->params, "From");
        if (!from || !*from)
            return missing(w, "From");
        w->key = w->sid;
    }
    else {
        const char *status = asst_form_get(w->params, "MessageStatus");
        if (!status || !*status)
            return missing(w, "MessageStatus");
        w->key = apr_pstrcat(w->r->pool, w->sid, "-", status, NULL);
        if (!asst_spool_key_valid(w->key))
            return missing(w, "MessageStatus");
    }
    if (w->conf->account_sid && strcmp(account, w->conf->account_sid) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, w->r,
                      "ASST00305: rejected webhook for account %s (this location serves %s)",
                      account, w->conf->account_sid);
        return fail(w, ASST_OUT_BAD_SIGNATURE, HTTP_FORBIDDEN);
    }
    return OK;
}

/* ---- Redis, or the spool ---- */

static void ingest_request(const webhook_t *w, asst_ingest_t *q)
{
    apr_pool_t *p = w->r->pool;
    int status = w->kind == ASST_KIND_STATUS;

    memset(q, 0, sizeof(*q));
    q->seen_key = status ? apr_pstrcat(p, ASST_KEY_SEEN_STATUS, w->sid, ":",
                                       asst_form_get(w->params, "MessageStatus"), NULL)
                         : apr_pstrcat(p, ASST_KEY_SEEN, w->sid, NULL);
    q->stream = asst_conf_stream(w->conf, status);
    q->envelope = w->envelope;
    q->dedupe_ttl_s = asst_conf_long(w->conf->dedupe_ttl, ASST_DEFAULT_DEDUPE_TTL);
    if (!status && w->conf->rate.n > 0) {
        q->rate_key = apr_pstrcat(p, ASST_KEY_RATE, asst_form_get(w->params, "From"), NULL);
        q->rate_limit = w->conf->rate.n;
        q->rate_window_s = w->conf->rate.window;
    }
}

/* At most two tries: the second only when the first found the connection
 * closed by Redis (a restart), never after a timeout. */
static asst_ingest_result_t to_redis(webhook_t *w, const char **why)
{
    asst_server_conf_t *sconf = ap_get_module_config(w->r->server->module_config, &assistant_module);
    asst_ingest_t q;
    char id[64], err[128];
    int retry = 1;

    ingest_request(w, &q);
    for (int attempt = 0; attempt < 2 && retry; attempt++) {
        asst_ingest_result_t res = asst_ingest(sconf->pipe, w->r->pool, &q, id, err, &retry);
        if (res != ASST_INGEST_ERROR)
            return res;
        *why = apr_pstrdup(w->r->pool, err);
    }
    return ASST_INGEST_ERROR;
}

static int to_spool(webhook_t *w, const char *why)
{
    const char *kind = w->kind == ASST_KIND_SMS ? "sms" : "status";
    const char *what = NULL;
    apr_status_t rv;

    if (!w->conf->spool_dir) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, w->r,
                      "ASST00401: Redis unavailable (%s) and no AssistantSpoolDir: "
                      "answering 503 so Twilio retries %s", why, w->sid);
        return fail(w, ASST_OUT_REDIS_ERROR, HTTP_SERVICE_UNAVAILABLE);
    }
    rv = asst_spool_write(w->r->pool, w->conf->spool_dir, kind, w->key, w->envelope,
                          strlen(w->envelope), &what);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, w->r,
                      "ASST00402: Redis unavailable (%s) and spooling %s to %s failed at %s: "
                      "answering 503 so Twilio retries", why, w->sid, w->conf->spool_dir, what);
        return fail(w, ASST_OUT_REDIS_ERROR, HTTP_SERVICE_UNAVAILABLE);
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, w->r,
                  "ASST00403: Redis unavailable (%s); spooled %s %s", why, kind, w->sid);
    return reply_twiml(w, ASST_OUT_SPOOLED);
}

static int enqueue(webhook_t *w)
{
    const char *why = NULL;

    w->envelope = asst_envelope_encode(w->r->pool, w->params, apr_time_as_msec(w->r->request_time));
    switch (to_redis(w, &why)) {
    case ASST_INGEST_ACCEPTED:
        return reply_twiml(w, ASST_OUT_ACCEPTED);
    case ASST_INGEST_DUPLICATE:
        return reply_twiml(w, ASST_OUT_DUPLICATE);
    case ASST_INGEST_RATE_LIMITED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, w->r,
                      "ASST00306: sender over AssistantRateLimit, dropped %s", w->sid);
        return fail(w, ASST_OUT_RATE_LIMITED, HTTP_TOO_MANY_REQUESTS);
    default:
        return to_spool(w, why);
    }
}

static int process(webhook_t *w)
{
    char *body = NULL;
    apr_size_t len = 0;
    const char *problem = asst_conf_webhook_problem(w->conf);
    int rc;

    if (problem) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, w->r, "ASST00202: %s has %s",
                      w->r->handler, problem);
        return fail(w, ASST_OUT_BAD_REQUEST, HTTP_INTERNAL_SERVER_ERROR);
    }
    if (w->r->method_number != M_POST)
        return reply_method_not_allowed(w);
    if (!is_form_content(apr_table_get(w->r->headers_in, "Content-Type")))
        return fail(w, ASST_OUT_BAD_REQUEST, HTTP_UNSUPPORTED_MEDIA_TYPE);
    if ((rc = read_body(w, &body, &len)) != OK ||
        (rc = parse_form(w, body, len)) != OK ||
        (rc = check_signature(w)) != OK ||
        (rc = check_fields(w)) != OK)
        return rc;
    return enqueue(w);
}

int asst_webhook_handler(request_rec *r)
{
    webhook_t w;
    int rc;

    if (!r->handler)
        return DECLINED;
    memset(&w, 0, sizeof(w));
    if (strcmp(r->handler, ASST_HANDLER_SMS) == 0)
        w.kind = ASST_KIND_SMS;
    else if (strcmp(r->handler, ASST_HANDLER_STATUS) == 0)
        w.kind = ASST_KIND_STATUS;
    else
        return DECLINED;
    w.r = r;
    w.conf = ap_get_module_config(r->per_dir_config, &assistant_module);
    rc = process(&w);
    observe(&w);
    return rc;
}
