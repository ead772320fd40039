/* Who delivers an outbox row, by its kind: a new kind of effect (an email
 * to send, a CalDAV event to write) is one more row in this table. */
#include <string.h>

#include <apr_strings.h>

#include "outbox_private.h"

static int sms_ready(const asst_outbox_t *ob)
{
    return ob->twilio != NULL;
}

static const char *sms_unsendable(const asst_outbox_row_t *row)
{
    return !row->to || !row->body ? "payload lacks to or body" : NULL;
}

static asst_twilio_outcome_t sms_send(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *row,
                                      asst_twilio_result_t *r)
{
    return asst_twilio_send(ob->twilio, p, row->to, row->body, r);
}

static void sms_start(asst_outbox_t *ob, asst_http_multi_t *m, apr_pool_t *p, const asst_outbox_row_t *row,
                      asst_twilio_done_fn *done, void *baton)
{
    asst_twilio_send_start(ob->twilio, m, p, row->to, row->body, done, baton);
}

static const asst_deliverer_t deliverers[] = {
    { "sms", sms_ready, sms_unsendable, sms_send, sms_start },
};

#define NDELIVERERS (sizeof(deliverers) / sizeof(deliverers[0]))

const asst_deliverer_t *asst_deliverer_for(const char *kind)
{
    for (size_t i = 0; kind && i < NDELIVERERS; i++)
        if (strcmp(deliverers[i].kind, kind) == 0)
            return &deliverers[i];
    return NULL;
}

const char *asst_deliverer_ready_kinds(const asst_outbox_t *ob, apr_pool_t *p)
{
    const char *list = NULL;

    for (size_t i = 0; i < NDELIVERERS; i++)
        if (deliverers[i].ready(ob))
            list = list ? apr_pstrcat(p, list, ",", deliverers[i].kind, NULL) : deliverers[i].kind;
    return list ? apr_pstrcat(p, "{", list, "}", NULL) : NULL;
}
