#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
/* SHA1_Init/Update/Final: deprecated in OpenSSL 3 in favour of EVP, which
 * is exactly what this file avoids on the hot path (see asst_sig_key). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

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

/* HMAC-SHA1 (RFC 2104) kept as the two SHA-1 states after absorbing the
 * key XOR ipad and XOR opad; a signature copies them by value. OpenSSL 3's
 * EVP_MAC needs a provider context per use: 11 mallocs per signature
 * (measured), and malloc in each of httpd's worker threads, which httpd
 * itself never does there, cost every child ~100 KiB of malloc arenas. */
struct asst_sig_key {
    SHA_CTX inner;
    SHA_CTX outer;
};

static apr_status_t cleanse_key(void *data)
{
    OPENSSL_cleanse(data, sizeof(asst_sig_key_t));
    return APR_SUCCESS;
}

static void absorb_padded_key(SHA_CTX *ctx, const unsigned char *block, unsigned char pad)
{
    unsigned char padded[SHA_CBLOCK];

    for (int i = 0; i < SHA_CBLOCK; i++)
        padded[i] = block[i] ^ pad;
    SHA1_Init(ctx);
    SHA1_Update(ctx, padded, sizeof(padded));
    OPENSSL_cleanse(padded, sizeof(padded));
}

asst_sig_key_t *asst_sig_key_create(apr_pool_t *p, const char *token)
{
    asst_sig_key_t *key = apr_pcalloc(p, sizeof(*key));
    unsigned char block[SHA_CBLOCK] = { 0 };
    size_t len = strlen(token);

    apr_pool_cleanup_register(p, key, cleanse_key, apr_pool_cleanup_null);
    if (len > sizeof(block)) {          /* a long key is hashed first */
        SHA_CTX ctx;
        SHA1_Init(&ctx);
        SHA1_Update(&ctx, token, len);
        SHA1_Final(block, &ctx);
    }
    else
        memcpy(block, token, len);
    absorb_padded_key(&key->inner, block, 0x36);
    absorb_padded_key(&key->outer, block, 0x5c);
    OPENSSL_cleanse(block, sizeof(block));
    return key;
}

/* HMAC over url, then each name and value: the message is never copied. */
static int sign(const asst_sig_key_t *key, const char *url, const sorted_t *params,
                char out[ASST_SIG_B64_LEN + 1])
{
    unsigned char mac[SHA_DIGEST_LENGTH];
    SHA_CTX ctx = key->inner;

    SHA1_Update(&ctx, url, strlen(url));
    for (int i = 0; i < params->n; i++) {
        SHA1_Update(&ctx, params->items[i]->name, strlen(params->items[i]->name));
        SHA1_Update(&ctx, params->items[i]->value, strlen(params->items[i]->value));
    }
    SHA1_Final(mac, &ctx);
    ctx = key->outer;
    SHA1_Update(&ctx, mac, sizeof(mac));
    SHA1_Final(mac, &ctx);
    OPENSSL_cleanse(&ctx, sizeof(ctx));
    EVP_EncodeBlock((unsigned char *)out, mac, (int)sizeof(mac));
    return 1;
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
