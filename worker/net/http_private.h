#ifndef ASST_HTTP_PRIVATE_H
#define ASST_HTTP_PRIVATE_H

#include <curl/curl.h>

#include "http.h"

/* Shared by the blocking client (http.c) and the multi handle
 * (http_multi.c): one way to set a request up on an easy handle, one way
 * to read its result, one way to ask and tell the breaker. */

struct asst_http_client {
    asst_http_conf_t conf;
    CURL *curl;                /* the blocking path's handle */
    asst_breaker_t breaker;
    char errbuf[CURL_ERROR_SIZE];
};

/* One request on one easy handle, from setup to result: what the curl
 * callbacks collect and what must live until the transfer ends. */
typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    int truncated;
    const char *retry_after;
    struct curl_slist *headers;
    char *errbuf;              /* CURL_ERROR_SIZE bytes, the handle's */
    apr_int64_t started_ms;
} asst_http_exchange_t;

/* 0, or -1 (logged) when libcurl cannot be initialised. */
int asst_http_global_init(void);

apr_int64_t asst_http_now_ms(asst_http_client_t *c);

/* A response that says nothing yet: no status, empty body, no Retry-After. */
void asst_http_response_init(asst_http_response_t *res);

/* 1 when the breaker lets req go now; otherwise res says why not (logged). */
int asst_http_may_send(asst_http_client_t *c, const asst_http_request_t *req, asst_http_response_t *res);

/* Sets req up on curl (a handle fresh or reset), collecting into x; the
 * body and the strings req points to must outlive the transfer. */
void asst_http_prepare(asst_http_client_t *c, CURL *curl, apr_pool_t *p, const asst_http_request_t *req,
                       asst_http_exchange_t *x, char *errbuf);

/* Fills res from a finished transfer (rc its result) and frees x's header
 * list; the handle still needs curl_easy_reset to forget the password. */
void asst_http_fill(asst_http_client_t *c, CURL *curl, asst_http_exchange_t *x, CURLcode rc,
                    asst_http_response_t *res);

/* Logs a sent request's outcome and records it in the breaker. */
void asst_http_settle(asst_http_client_t *c, const asst_http_request_t *req, asst_http_response_t *res);

#endif
