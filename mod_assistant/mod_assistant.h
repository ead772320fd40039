#ifndef MOD_ASSISTANT_H
#define MOD_ASSISTANT_H

#include <httpd.h>
#include <http_config.h>

#include "asst_keys.h"
#include "asst_pipe.h"
#include "asst_sig.h"

extern module AP_MODULE_DECLARE_DATA assistant_module;

#define ASST_UNSET (-1L)

typedef struct {
    long n;          /* ASST_UNSET, 0 = off */
    long window;
} asst_rate_t;

typedef struct {
    const char *redis_addr;
    const char *redis_password;
    long redis_timeout_ms;
    asst_pipe_t *pipe;           /* per child, made in child_init */
    int webhook_locations;       /* some <Location> here sets one of our handlers */
} asst_server_conf_t;

typedef struct {
    const char *path;            /* the section this came from, for messages */
    const char *handler;         /* our SetHandler seen in this section, if any */
    const char *location_handler;    /* any SetHandler in a <Location>; "" elsewhere */
    const asst_sig_key_t *token;     /* auth tokens, keyed into HMAC at startup */
    const asst_sig_key_t *token2;
    const char *account_sid;
    const char *public_url;
    const char *stream;
    long dedupe_ttl;
    long max_body;
    const char *spool_dir;
    asst_rate_t rate;
} asst_dir_conf_t;

#define ASST_HANDLER_SMS "assistant-sms"
#define ASST_HANDLER_STATUS "assistant-status"
#define ASST_HANDLER_METRICS "assistant-metrics"

#define ASST_DEFAULT_REDIS "127.0.0.1:6379"
#define ASST_DEFAULT_REDIS_TIMEOUT_MS 250
#define ASST_DEFAULT_DEDUPE_TTL 86400
#define ASST_DEFAULT_MAX_BODY 65536

#endif
