/* Twilio signatures. The input is token 0xff url 0xff params 0xff
 * signature 0xff flip, params as raw name=value&... (no decoding). A
 * computed signature is 28 base64 characters, validates for the URL as
 * given and for either port variant of it, and stops validating when any
 * one character changes; a signature from the input validates only if it
 * is one of those. */
#include "asst_form.h"
#include "asst_sig.h"
#include "fuzz.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static apr_array_header_t *raw_params(apr_pool_t *p, char *s)
{
    apr_array_header_t *params = apr_array_make(p, 8, sizeof(asst_param_t));
    char *pair;

    while ((pair = strsep(&s, "&")) != NULL) {
        asst_param_t *prm = apr_array_push(params);
        char *eq = strchr(pair, '=');
        if (eq)
            *eq = '\0';
        prm->name = pair;
        prm->value = eq ? eq + 1 : "";
    }
    return params;
}

/* One character of sig, chosen by flip, becomes another base64 character. */
static void change_one(char *sig, unsigned flip)
{
    unsigned at = flip % ASST_SIG_B64_LEN;
    char c = b64[flip % 64];

    sig[at] = c != sig[at] ? c : b64[(flip + 1) % 64];
}

static int valid(apr_pool_t *p, const char *token, const char *url,
                 const apr_array_header_t *params, const char *sig)
{
    const char *tokens[] = { NULL, "not the token", token };
    int one = asst_sig_valid(p, url, params, sig, &tokens[2], 1);

    REQUIRE(asst_sig_valid(p, url, params, sig, tokens, 3) == one);
    return one;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    fuzz_input_t in = { data, size };
    const char *token = fuzz_field(p, &in, 0xff, NULL);
    const char *url = fuzz_field(p, &in, 0xff, NULL);
    apr_array_header_t *params = raw_params(p, fuzz_field(p, &in, 0xff, NULL));
    const char *given = fuzz_field(p, &in, 0xff, NULL);
    unsigned flip = in.left ? in.at[0] : 0;
    const char *with_port = asst_sig_url_with_port(p, url);
    const char *without_port = asst_sig_url_without_port(p, url);
    char sig[ASST_SIG_B64_LEN + 1], sig_with[ASST_SIG_B64_LEN + 1],
         sig_without[ASST_SIG_B64_LEN + 1], flipped[ASST_SIG_B64_LEN + 1];

    REQUIRE(strcmp(with_port, url) == 0 || strcmp(without_port, url) == 0);
    asst_sig_compute(p, token, url, params, sig);
    REQUIRE(strlen(sig) == ASST_SIG_B64_LEN && strspn(sig, b64) == ASST_SIG_B64_LEN - 1
            && sig[ASST_SIG_B64_LEN - 1] == '=');
    REQUIRE(valid(p, token, url, params, sig) == 1);

    memcpy(flipped, sig, sizeof(sig));
    change_one(flipped, flip);
    REQUIRE(valid(p, token, url, params, flipped) == 0);

    asst_sig_compute(p, token, with_port, params, sig_with);
    asst_sig_compute(p, token, without_port, params, sig_without);
    REQUIRE(valid(p, token, url, params, sig_with) == 1);
    REQUIRE(valid(p, token, url, params, sig_without) == 1);
    if (valid(p, token, url, params, given))
        REQUIRE(strcmp(given, sig) == 0 || strcmp(given, sig_with) == 0
                || strcmp(given, sig_without) == 0);
    fuzz_pool_end(p);
    return 0;
}
