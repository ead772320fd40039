#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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

static void sign(apr_pool_t *p, const char *token, const char *url, const char *data,
                 apr_size_t dlen, char out[ASST_SIG_B64_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    apr_size_t ulen = strlen(url);
    unsigned char *msg = apr_palloc(p, ulen + dlen);

    memcpy(msg, url, ulen);
    memcpy(msg + ulen, data, dlen);
    HMAC(EVP_sha1(), token, (int)strlen(token), msg, ulen + dlen, mac, &maclen);
    EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
}

void asst_sig_compute(apr_pool_t *p, const char *token, const char *url,
                      const apr_array_header_t *params, char out[ASST_SIG_B64_LEN + 1])
{
    apr_size_t dlen;
    const char *data = signed_params(p, params, &dlen);
    sign(p, token, url, data, dlen, out);
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

int asst_sig_valid(apr_pool_t *p, const char *url, const apr_array_header_t *params,
                   const char *signature, const char *const *tokens, int ntokens)
{
    const char *urls[2];
    apr_size_t dlen;
    const char *data;
    int ok = 0;

    if (!signature || strlen(signature) != ASST_SIG_B64_LEN)
        return 0;
    urls[0] = asst_sig_url_without_port(p, url);
    urls[1] = asst_sig_url_with_port(p, url);
    data = signed_params(p, params, &dlen);
    for (int t = 0; t < ntokens; t++) {
        if (!tokens[t])
            continue;
        for (int u = 0; u < 2; u++) {
            char expected[ASST_SIG_B64_LEN + 1];
            if (u == 1 && strcmp(urls[0], urls[1]) == 0)
                break;
            sign(p, tokens[t], urls[u], data, dlen, expected);
            ok |= sig_equal(expected, signature);
        }
    }
    return ok;
}
