#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "asst_form.h"
#include "asst_sig.h"

static int param_cmp(const void *a, const void *b)
{
    const asst_param_t *pa = *(const asst_param_t *const *)a;
    const asst_param_t *pb = *(const asst_param_t *const *)b;
    int c = strcmp(pa->name, pb->name);
    return c ? c : strcmp(pa->value, pb->value);
}

/* name1 value1 name2 value2 ... with params sorted by name, then value. */
static const char *signed_params(apr_pool_t *p, const apr_array_header_t *params, apr_size_t *len)
{
    const asst_param_t *items = (const asst_param_t *)params->elts;
    const asst_param_t **sorted;
    apr_size_t total = 0;
    char *buf, *d;
    int n = params->nelts;

    if (n == 0) {
        *len = 0;
        return "";
    }
    sorted = apr_palloc(p, sizeof(*sorted) * (apr_size_t)n);
    for (int i = 0; i < n; i++) {
        sorted[i] = &items[i];
        total += strlen(items[i].name) + strlen(items[i].value);
    }
    qsort(sorted, (size_t)n, sizeof(*sorted), param_cmp);
    d = buf = apr_palloc(p, total + 1);
    for (int i = 0; i < n; i++) {
        apr_size_t nl = strlen(sorted[i]->name), vl = strlen(sorted[i]->value);
        memcpy(d, sorted[i]->name, nl);
        memcpy(d + nl, sorted[i]->value, vl);
        d += nl + vl;
    }
    *d = '\0';
    *len = total;
    return buf;
}

struct asst_sig_key {
    EVP_MAC_CTX *ctx;       /* keyed, never finalised: each signature dups it */
};

static EVP_MAC *hmac;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void fetch_hmac(void)
{
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static apr_status_t free_key(void *data)
{
    EVP_MAC_CTX_free(((asst_sig_key_t *)data)->ctx);
    return APR_SUCCESS;
}

asst_sig_key_t *asst_sig_key_create(apr_pool_t *p, const char *token)
{
    asst_sig_key_t *key = apr_pcalloc(p, sizeof(*key));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
        OSSL_PARAM_construct_end()
    };

    pthread_once(&hmac_once, fetch_hmac);
    if (!hmac || !(key->ctx = EVP_MAC_CTX_new(hmac)))
        return NULL;
    apr_pool_cleanup_register(p, key, free_key, apr_pool_cleanup_null);
    if (!EVP_MAC_init(key->ctx, (const unsigned char *)token, strlen(token), params))
        return NULL;
    return key;
}

/* url and data are fed separately: no copy of the message. */
static int sign(const asst_sig_key_t *key, const char *url, const char *data, apr_size_t dlen,
                char out[ASST_SIG_B64_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(key->ctx);
    int ok = ctx && EVP_MAC_update(ctx, (const unsigned char *)url, strlen(url)) &&
             EVP_MAC_update(ctx, (const unsigned char *)data, dlen) &&
             EVP_MAC_final(ctx, mac, &maclen, sizeof(mac));

    EVP_MAC_CTX_free(ctx);
    out[0] = '\0';
    if (ok)
        EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
    return ok;
}

void asst_sig_compute(apr_pool_t *p, const char *token, const char *url,
                      const apr_array_header_t *params, char out[ASST_SIG_B64_LEN + 1])
{
    apr_size_t dlen;
    const char *data = signed_params(p, params, &dlen);
    asst_sig_key_t *key = asst_sig_key_create(p, token);

    out[0] = '\0';
    if (key)
        sign(key, url, data, dlen, out);
}

/* Splits url into [prefix "scheme://userinfo@host"][":port"][rest]. Returns 0
 * when url has no "scheme://". */
typedef struct {
    const char *host_end;   /* where ":port" (or the rest) starts */
    const char *rest;       /* path, query, fragment */
    int https;
} url_parts_t;

static int split_url(const char *url, url_parts_t *u)
{
    const char *sep = strstr(url, "://"), *netloc, *host, *c;

    if (!sep)
        return 0;
    netloc = sep + 3;
    u->rest = netloc + strcspn(netloc, "/?#");
    host = netloc;
    for (c = netloc; c < u->rest; c++)       /* the host follows the last '@' */
        if (*c == '@')
            host = c + 1;
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(u->rest - host));
        host = rb ? rb + 1 : u->rest;
    }
    c = memchr(host, ':', (size_t)(u->rest - host));
    u->host_end = c ? c : u->rest;
    u->https = (size_t)(sep - url) == 5 && strncasecmp(url, "https", 5) == 0;
    return 1;
}

static int has_port(const url_parts_t *u)
{
    return u->host_end != u->rest && u->host_end + 1 < u->rest;
}

const char *asst_sig_url_with_port(apr_pool_t *p, const char *url)
{
    url_parts_t u;

    if (!split_url(url, &u) || has_port(&u))
        return url;
    return apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(u.host_end - url)),
                       u.https ? ":443" : ":80", u.rest, NULL);
}

const char *asst_sig_url_without_port(apr_pool_t *p, const char *url)
{
    url_parts_t u;

    if (!split_url(url, &u) || !has_port(&u))
        return url;
    return apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(u.host_end - url)),
                       u.rest, NULL);
}

static int sig_equal(const char *expected, const char *given)
{
    /* Both are ASST_SIG_B64_LEN long here; the length check is not secret. */
    return CRYPTO_memcmp(expected, given, ASST_SIG_B64_LEN) == 0;
}

int asst_sig_valid_keys(apr_pool_t *p, const char *url, const apr_array_header_t *params,
                        const char *signature, const asst_sig_key_t *const *keys, int nkeys)
{
    const char *urls[2];
    apr_size_t dlen;
    const char *data;

    if (!signature || strlen(signature) != ASST_SIG_B64_LEN)
        return 0;
    urls[0] = asst_sig_url_without_port(p, url);
    urls[1] = asst_sig_url_with_port(p, url);
    data = signed_params(p, params, &dlen);
    /* Which key or URL form matched is no secret: stop at the first match. */
    for (int k = 0; k < nkeys; k++) {
        for (int u = 0; keys[k] && u < 2; u++) {
            char expected[ASST_SIG_B64_LEN + 1];
            if (u == 1 && strcmp(urls[0], urls[1]) == 0)
                break;
            if (sign(keys[k], urls[u], data, dlen, expected) && sig_equal(expected, signature))
                return 1;
        }
    }
    return 0;
}

int asst_sig_valid(apr_pool_t *p, const char *url, const apr_array_header_t *params,
                   const char *signature, const char *const *tokens, int ntokens)
{
    const asst_sig_key_t **keys = apr_pcalloc(p, sizeof(*keys) * (apr_size_t)(ntokens > 0 ? ntokens : 1));

    for (int t = 0; t < ntokens; t++)
        keys[t] = tokens[t] ? asst_sig_key_create(p, tokens[t]) : NULL;
    return asst_sig_valid_keys(p, url, params, signature, keys, ntokens);
}
