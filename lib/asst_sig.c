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

/* The params sorted by name, then value: the order Twilio signs them in. */
typedef struct {
    const asst_param_t **items;
    int n;
} sorted_t;

static void sort_params(apr_pool_t *p, const apr_array_header_t *params, sorted_t *out)
{
    const asst_param_t *items = (const asst_param_t *)params->elts;

    out->n = params->nelts;
    out->items = apr_palloc(p, sizeof(*out->items) * (apr_size_t)(out->n ? out->n : 1));
    for (int i = 0; i < out->n; i++)
        out->items[i] = &items[i];
    qsort(out->items, (size_t)out->n, sizeof(*out->items), param_cmp);
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

/* HMAC over url, then each name and value: the message is never copied. */
static int sign(const asst_sig_key_t *key, const char *url, const sorted_t *params,
                char out[ASST_SIG_B64_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(key->ctx);
    int ok = ctx && EVP_MAC_update(ctx, (const unsigned char *)url, strlen(url));

    for (int i = 0; ok && i < params->n; i++)
        ok = EVP_MAC_update(ctx, (const unsigned char *)params->items[i]->name,
                            strlen(params->items[i]->name)) &&
             EVP_MAC_update(ctx, (const unsigned char *)params->items[i]->value,
                            strlen(params->items[i]->value));
    ok = ok && EVP_MAC_final(ctx, mac, &maclen, sizeof(mac));
    EVP_MAC_CTX_free(ctx);
    out[0] = '\0';
    if (ok)
        EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
    return ok;
}

void asst_sig_compute(apr_pool_t *p, const char *token, const char *url,
                      const apr_array_header_t *params, char out[ASST_SIG_B64_LEN + 1])
{
    asst_sig_key_t *key = asst_sig_key_create(p, token);
    sorted_t sorted;

    sort_params(p, params, &sorted);
    out[0] = '\0';
    if (key)
        sign(key, url, &sorted, out);
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
    sorted_t sorted;

    if (!signature || strlen(signature) != ASST_SIG_B64_LEN)
        return 0;
    urls[0] = asst_sig_url_without_port(p, url);
    urls[1] = asst_sig_url_with_port(p, url);
    sort_params(p, params, &sorted);
    /* Which key or URL form matched is no secret: stop at the first match. */
    for (int k = 0; k < nkeys; k++) {
        for (int u = 0; keys[k] && u < 2; u++) {
            char expected[ASST_SIG_B64_LEN + 1];
            if (u == 1 && strcmp(urls[0], urls[1]) == 0)
                break;
            if (sign(keys[k], urls[u], &sorted, expected) && sig_equal(expected, signature))
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
