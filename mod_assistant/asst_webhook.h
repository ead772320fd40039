#ifndef ASST_WEBHOOK_H
#define ASST_WEBHOOK_H

#include <httpd.h>

/* assistant-sms and assistant-status: validate Twilio's webhook and queue
 * it in Redis in one round trip, or spool it when Redis is unreachable. */
int asst_webhook_handler(request_rec *r);

#endif
