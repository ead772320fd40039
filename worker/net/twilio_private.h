#ifndef ASST_TWILIO_PRIVATE_H
#define ASST_TWILIO_PRIVATE_H

#include <json-c/json.h>

#include "asst_json.h"
#include "twilio.h"

/* Shared by the files of the Twilio client (sending, looking up). */
struct asst_twilio {
    asst_twilio_conf_t conf;    /* api_base without trailing slashes */
    const char *url;            /* the Messages.json endpoint */
    asst_http_client_t *http;
};

/* Appends name=value to a form (an array of asst_param_t). */
void asst_twilio_add_param(apr_array_header_t *form, const char *name, const char *value);

/* The response body as a JSON object (json_object_put it), or NULL. */
json_object *asst_twilio_parse_json(const asst_http_response_t *http);

#endif
