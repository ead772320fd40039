/* Who delivers an outbox row, by its kind: a new kind of effect (an email
 * to send, a CalDAV event to write) is one more row in this table. */
#include <string.h>

#include <apr_strings.h>

#include "outbox_private.h"

static int sms_ready(const asst_outbox_t *ob)
{
    return ob->twilio != NULL;
}

static asst_twilio_outcome_t sms_send(asst_outbox_t *ob, apr_pool_t *p, const asst_outbox_row_t *row,
                                      asst_twilio_result_t *r)
{
    if (!row->to || !row->body) {
        r->error_message = "payload lacks to or body";
        return ASST_TWILIO_PERMANENT;
    }
    return asst_twilio_send(ob->twilio, p, row->to, row->body, r);
}

static const asst_deliverer_t deliverers[] = {
    { "sms", sms_ready, sms_send },
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
