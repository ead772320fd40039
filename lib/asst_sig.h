#ifndef ASST_SIG_H
#define ASST_SIG_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Twilio's X-Twilio-Signature: base64(HMAC-SHA1(auth token,
 *   url + concat(name + value for params sorted by name, then value))).
 * Twilio is inconsistent about default ports, so validation tries the URL
 * both with and without its port, as Twilio's helper libraries do. */

#define ASST_SIG_B64_LEN 28   /* base64 of a 20-byte SHA-1 digest */

/* An auth token keyed into HMAC-SHA1 once: OpenSSL's SHA-1 states after
 * the padded key, so checking a signature allocates nothing. Made while
 * httpd reads its configuration; wiped when p is destroyed. Never NULL. */
typedef struct asst_sig_key asst_sig_key_t;

asst_sig_key_t *asst_sig_key_create(apr_pool_t *p, const char *token);

/* As asst_sig_valid, with keys made by asst_sig_key_create (NULLs skipped). */
int asst_sig_valid_keys(apr_pool_t *p, const char *url, const apr_array_header_t *params,
                        const char *signature, const asst_sig_key_t *const *keys, int nkeys);

/* out receives the NUL-terminated base64 signature. */
void asst_sig_compute(apr_pool_t *p, const char *token, const char *url,
                      const apr_array_header_t *params, char out[ASST_SIG_B64_LEN + 1]);

/* The URL with the scheme's default port added when it has none, and with
 * any port removed; either may equal url. */
const char *asst_sig_url_with_port(apr_pool_t *p, const char *url);
const char *asst_sig_url_without_port(apr_pool_t *p, const char *url);

/* 1 when signature matches any of tokens[0..ntokens) (NULLs skipped) for
 * either port variant of url. Constant-time comparison. */
int asst_sig_valid(apr_pool_t *p, const char *url, const apr_array_header_t *params,
                   const char *signature, const char *const *tokens, int ntokens);

#endif
