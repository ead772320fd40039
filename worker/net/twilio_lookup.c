/* Reading Twilio's own log of messages (the Messages list resource), to
 * learn whether a send whose outcome we lost was accepted after all.
 * Twilio's Messages API has no idempotency key; its log is the only
 * witness. */
#include <string.h>

#include <apr_date.h>
#include <apr_strings.h>

#include "asst_form.h"
#include "asst_log.h"
#include "twilio_private.h"

/* Small pages: a page of long bodies must fit the response limit. */
#define PAGE_SIZE "20"
#define MAX_PAGES 10

typedef struct {
    const char *to;
    const char *body;
    apr_time_t since;
    apr_array_header_t *found;      /* asst_twilio_logged_t, newest first */
    int reached_since;              /* a message older than since was seen */
} search_t;

/* Newest first, filtered by To and our sender. No DateSent filter: a
 * message still queued has no date_sent yet and would be missed. */
static const char *first_page_url(asst_twilio_t *tw, apr_pool_t *p, const char *to)
{
    apr_array_header_t *q = apr_array_make(p, 3, sizeof(asst_param_t));

    asst_twilio_add_param(q, "To", to);
    if (!tw->conf.messaging_service_sid)
        asst_twilio_add_param(q, "From", tw->conf.from);
    asst_twilio_add_param(q, "PageSize", PAGE_SIZE);
    return apr_pstrcat(p, tw->url, "?", asst_http_form_encode(p, q), NULL);
}

/* next_page_uri is a path on the API host. */
static const char *next_page_url(asst_twilio_t *tw, apr_pool_t *p, json_object *page)
{
    const char *next = asst_json_str(p, page, "next_page_uri");

    return next && *next ? apr_pstrcat(p, tw->conf.api_base, next, NULL) : NULL;
}

static int ours(asst_twilio_t *tw, apr_pool_t *p, json_object *m, const search_t *s)
{
    const char *direction = asst_json_str(p, m, "direction");
    const char *to = asst_json_str(p, m, "to");
    const char *body = asst_json_str(p, m, "body");
    const char *service = asst_json_str(p, m, "messaging_service_sid");

    if (!direction || strncmp(direction, "outbound", 8) != 0)
        return 0;
    if (tw->conf.messaging_service_sid && (!service || strcmp(service, tw->conf.messaging_service_sid)))
        return 0;
    return to && body && strcmp(to, s->to) == 0 && strcmp(body, s->body) == 0;
}

static void take_page(asst_twilio_t *tw, apr_pool_t *p, json_object *page, search_t *s)
{
    json_object *list;

    if (!json_object_object_get_ex(page, "messages", &list) || !json_object_is_type(list, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *m = json_object_array_get_idx(list, i);
        const char *created = asst_json_str(p, m, "date_created");
        apr_time_t when = created ? apr_date_parse_rfc(created) : APR_DATE_BAD;
        asst_twilio_logged_t *hit;

        if (when != APR_DATE_BAD && when < s->since) {
            s->reached_since = 1;
            continue;
        }
        if (!ours(tw, p, m, s))
            continue;
        hit = apr_array_push(s->found);
        hit->sid = asst_json_str(p, m, "sid");
        hit->status = asst_json_str(p, m, "status");
        hit->created = when;
    }
}

static void fail(apr_pool_t *p, const asst_http_response_t *http, const char *why,
                 asst_twilio_result_t *res)
{
    asst_twilio_classify(p, http, res);
    if (!res->error_message || res->outcome == ASST_TWILIO_SENT)
        res->error_message = why;
    if (res->outcome == ASST_TWILIO_SENT)
        res->outcome = ASST_TWILIO_RETRY;
}

/* One page into s; the next page's URL, NULL at the end, or "" on failure. */
static const char *read_page(asst_twilio_t *tw, apr_pool_t *p, const char *url, search_t *s,
                             asst_twilio_result_t *res)
{
    asst_http_request_t req = { 0 };
    asst_http_response_t http;
    json_object *page;
    const char *next;

    req.method = "GET";
    req.url = url;
    req.user = tw->conf.account_sid;
    req.password = tw->conf.auth_token;
    asst_http_request(tw->http, p, &req, &http);
    if (http.result != ASST_HTTP_OK || http.status != 200 || http.truncated
        || !(page = asst_twilio_parse_json(&http))) {
        fail(p, &http, http.truncated ? "message list too long" : "no message list", res);
        return "";
    }
    take_page(tw, p, page, s);
    next = s->reached_since ? NULL : next_page_url(tw, p, page);
    json_object_put(page);
    return next;
}

int asst_twilio_find_sent(asst_twilio_t *tw, apr_pool_t *p, const char *to, const char *body,
                          apr_time_t since, apr_array_header_t **found, asst_twilio_result_t *res)
{
    search_t s = { to, body, since, apr_array_make(p, 2, sizeof(asst_twilio_logged_t)), 0 };
    const char *url = first_page_url(tw, p, to);

    memset(res, 0, sizeof(*res));
    for (int page = 0; url && page < MAX_PAGES; page++) {
        url = read_page(tw, p, url, &s, res);
        if (url && !*url) {
            asst_log(ASST_LOG_INFO, "ASST03025: twilio: could not read the messages sent to %s: %s",
                     to, res->error_message ? res->error_message : "unknown error");
            return -1;
        }
    }
    if (url)
        asst_log(ASST_LOG_WARN, "ASST03026: twilio: more than %d pages of messages to %s since the "
                 "send; looked no further", MAX_PAGES, to);
    *found = s.found;
    return 0;
}
