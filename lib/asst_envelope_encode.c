/* Envelope v1 written straight into the pool (asst_jsonw): no malloc on
 * httpd's hot path. asst_envelope_decode (json-c) reads it back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_envelope.h"
#include "asst_form.h"
#include "asst_jsonw.h"

static void field(asst_jsonw_t *w, const char *key, const char *value)
{
    asst_jsonw_key(w, key);
    asst_jsonw_string(w, value);
}

/* What both passes of the writer need, looked up once. */
typedef struct {
    const apr_array_header_t *params;
    const char *sid, *account, *from, *to, *body;
    int num_media;
    const char **media_url, **media_type;
    int *repeats;        /* per param: how many share its name; 0 after the first */
    apr_int64_t received_ms;
} prepared_t;

static int num_media_of(const apr_array_header_t *params)
{
    const char *s = asst_form_get(params, "NumMedia");
    long n = s ? strtol(s, NULL, 10) : 0;
    return n < 0 ? 0 : n > 10 ? 10 : (int)n;   /* Twilio sends at most 10 */
}

static void prepare_media(apr_pool_t *p, prepared_t *e)
{
    e->media_url = apr_palloc(p, sizeof(char *) * (apr_size_t)(e->num_media + 1));
    e->media_type = apr_palloc(p, sizeof(char *) * (apr_size_t)(e->num_media + 1));
    for (int i = 0; i < e->num_media; i++) {
        char name[32];
        snprintf(name, sizeof(name), "MediaUrl%d", i);
        e->media_url[i] = asst_form_get(e->params, name);
        snprintf(name, sizeof(name), "MediaContentType%d", i);
        e->media_type[i] = asst_form_get(e->params, name);
    }
}

static void prepare_repeats(apr_pool_t *p, prepared_t *e)
{
    const asst_param_t *items = (const asst_param_t *)e->params->elts;
    int n = e->params->nelts;

    e->repeats = apr_pcalloc(p, sizeof(int) * (apr_size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        int first = i;
        for (int j = 0; j < i && first == i; j++)
            if (strcmp(items[j].name, items[i].name) == 0)
                first = j;
        e->repeats[first]++;
    }
}

static void prepare(apr_pool_t *p, const apr_array_header_t *params, apr_int64_t received_ms,
                    prepared_t *e)
{
    e->params = params;
    e->sid = asst_form_get(params, "MessageSid");
    e->account = asst_form_get(params, "AccountSid");
    e->from = asst_form_get(params, "From");
    e->to = asst_form_get(params, "To");
    e->body = asst_form_get(params, "Body");
    e->num_media = num_media_of(params);
    e->received_ms = received_ms;
    prepare_media(p, e);
    prepare_repeats(p, e);
}

static void media(asst_jsonw_t *w, const prepared_t *e)
{
    asst_jsonw_key(w, "media");
    asst_jsonw_open(w, '[');
    for (int i = 0; i < e->num_media; i++) {
        asst_jsonw_open(w, '{');
        field(w, "url", e->media_url[i]);
        field(w, "type", e->media_type[i]);
        asst_jsonw_close(w, '}');
    }
    asst_jsonw_close(w, ']');
}

/* Every field as a string, in the order received; a field repeated in the
 * form becomes an array of its values, at its first position. */
static void params_object(asst_jsonw_t *w, const prepared_t *e)
{
    const asst_param_t *items = (const asst_param_t *)e->params->elts;
    int n = e->params->nelts;

    asst_jsonw_key(w, "params");
    asst_jsonw_open(w, '{');
    for (int i = 0; i < n; i++) {
        if (e->repeats[i] == 0)
            continue;
        asst_jsonw_key(w, items[i].name);
        if (e->repeats[i] == 1) {
            asst_jsonw_string(w, items[i].value);
            continue;
        }
        asst_jsonw_open(w, '[');
        for (int j = i; j < n; j++)
            if (strcmp(items[j].name, items[i].name) == 0)
                asst_jsonw_string(w, items[j].value);
        asst_jsonw_close(w, ']');
    }
    asst_jsonw_close(w, '}');
}

static void envelope(asst_jsonw_t *w, const prepared_t *e)
{
    asst_jsonw_open(w, '{');
    asst_jsonw_key(w, "v");
    asst_jsonw_int(w, ASST_ENVELOPE_VERSION);
    field(w, "sid", e->sid);
    field(w, "account", e->account);
    field(w, "from", e->from);
    field(w, "to", e->to);
    field(w, "body", e->body);
    asst_jsonw_key(w, "num_media");
    asst_jsonw_int(w, e->num_media);
    media(w, e);
    asst_jsonw_key(w, "received_ms");
    asst_jsonw_int(w, e->received_ms);
    params_object(w, e);
    asst_jsonw_close(w, '}');
}

char *asst_envelope_encode(apr_pool_t *p, const apr_array_header_t *params,
                           apr_int64_t received_ms)
{
    asst_jsonw_t w;
    prepared_t e;

    prepare(p, params, received_ms, &e);
    asst_jsonw_begin(&w);
    do
        envelope(&w, &e);
    while (asst_jsonw_next(&w, p));
    return (char *)asst_jsonw_text(&w);
}
