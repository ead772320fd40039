/* Unit tests for lib/asst_sig.c against vectors computed by Twilio's own
 * helper library (tests/vectors/gen_sig_vectors.py). */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "asst_form.h"
#include "asst_sig.h"
#include "../vectors/sig_vectors.h"
#include "unit_main.h"
#include "unit_pool.h"

static apr_array_header_t *vector_params(const sig_vector_t *v)
{
    apr_array_header_t *a = apr_array_make(pool, v->nparams + 1, sizeof(asst_param_t));
    int i;

    for (i = 0; i < v->nparams; i++) {
        asst_param_t *pa = apr_array_push(a);
        pa->name = v->params[i].name;
        pa->value = v->params[i].value;
    }
    return a;
}

static int vector_valid(const sig_vector_t *v, const apr_array_header_t *params,
                        const char *signature)
{
    return asst_sig_valid(pool, v->validate_url, params, signature, v->tokens, v->ntokens);
}

/* The first vector that must validate with a single token. */
static const sig_vector_t *good_vector(void)
{
    int i;

    for (i = 0; i < SIG_VECTOR_COUNT; i++)
        if (sig_vectors[i].valid && sig_vectors[i].ntokens == 1 && sig_vectors[i].nparams > 3)
            return &sig_vectors[i];
    ck_abort_msg("no valid vector");
    return NULL;
}

/* ---- vectors ---- */

START_TEST(vector_compute)
{
    const sig_vector_t *v = &sig_vectors[_i];
    char out[ASST_SIG_B64_LEN + 1];

    memset(out, 'X', sizeof(out));
    asst_sig_compute(pool, v->token, v->url, vector_params(v), out);
    ck_assert_msg(strcmp(out, v->signature) == 0, "vector %d (%s): got %.*s, want %s",
                  _i, v->desc, ASST_SIG_B64_LEN + 1, out, v->signature);
}
END_TEST

START_TEST(vector_valid_as_twilio_says)
{
    const sig_vector_t *v = &sig_vectors[_i];

    ck_assert_msg(vector_valid(v, vector_params(v), v->signature) == v->valid,
                  "vector %d (%s): asst_sig_valid != %d", _i, v->desc, v->valid);
}
END_TEST

START_TEST(vector_tampered_param_fails)
{
    const sig_vector_t *v = &sig_vectors[_i];
    apr_array_header_t *params = vector_params(v);
    asst_param_t *pa;

    pa = apr_array_push(params);     /* an extra field Twilio never signed */
    pa->name = "Injected";
    pa->value = "1";
    ck_assert_msg(vector_valid(v, params, v->signature) == 0,
                  "vector %d (%s): extra param still validates", _i, v->desc);
}
END_TEST

START_TEST(url_with_port)
{
    const sig_url_vector_t *u = &sig_url_vectors[_i];

    ck_assert_str_eq(asst_sig_url_with_port(pool, u->url), u->with_port);
}
END_TEST

START_TEST(url_without_port)
{
    const sig_url_vector_t *u = &sig_url_vectors[_i];

    ck_assert_str_eq(asst_sig_url_without_port(pool, u->url), u->without_port);
}
END_TEST

/* ---- hand-written edge cases ---- */

START_TEST(changed_value_fails)
{
    const sig_vector_t *v = good_vector();
    apr_array_header_t *params = vector_params(v);
    asst_param_t *pa = &APR_ARRAY_IDX(params, params->nelts - 1, asst_param_t);

    pa->value = apr_pstrcat(pool, pa->value, "x", NULL);
    ck_assert_int_eq(vector_valid(v, params, v->signature), 0);
}
END_TEST

START_TEST(params_order_does_not_matter)
{
    const sig_vector_t *v = good_vector();
    apr_array_header_t *rev = apr_array_make(pool, v->nparams, sizeof(asst_param_t));
    int i;

    for (i = v->nparams - 1; i >= 0; i--) {
        asst_param_t *pa = apr_array_push(rev);
        pa->name = v->params[i].name;
        pa->value = v->params[i].value;
    }
    ck_assert_int_eq(vector_valid(v, rev, v->signature), 1);
}
END_TEST

START_TEST(caller_params_not_reordered)
{
    const sig_vector_t *v = good_vector();
    apr_array_header_t *params = vector_params(v);
    char out[ASST_SIG_B64_LEN + 1];
    int i;

    asst_sig_compute(pool, v->token, v->url, params, out);
    ck_assert_int_eq(vector_valid(v, params, v->signature), 1);
    ck_assert_int_eq(params->nelts, v->nparams);
    for (i = 0; i < v->nparams; i++)
        ck_assert_str_eq(APR_ARRAY_IDX(params, i, asst_param_t).name, v->params[i].name);
}
END_TEST

START_TEST(tokens_with_null_entries)
{
    const sig_vector_t *v = good_vector();
    apr_array_header_t *params = vector_params(v);
    const char *right_last[3] = { NULL, "wrongwrongwrongwrongwrongwrong00", NULL };
    const char *only_null[2] = { NULL, NULL };

    right_last[2] = v->token;
    ck_assert_int_eq(asst_sig_valid(pool, v->validate_url, params, v->signature,
                                    right_last, 3), 1);
    ck_assert_int_eq(asst_sig_valid(pool, v->validate_url, params, v->signature,
                                    only_null, 2), 0);
    ck_assert_int_eq(asst_sig_valid(pool, v->validate_url, params, v->signature,
                                    right_last, 0), 0);
    /* ntokens bounds the array: the right token beyond it must not count */
    ck_assert_int_eq(asst_sig_valid(pool, v->validate_url, params, v->signature,
                                    right_last, 2), 0);
}
END_TEST

START_TEST(signature_wrong_length)
{
    const sig_vector_t *v = good_vector();
    apr_array_header_t *params = vector_params(v);
    char *shorter = apr_pstrndup(pool, v->signature, ASST_SIG_B64_LEN - 1);
    char *longer = apr_pstrcat(pool, v->signature, "=", NULL);
    char *prefix = apr_pstrndup(pool, v->signature, 4);

    ck_assert_int_eq(vector_valid(v, params, shorter), 0);
    ck_assert_int_eq(vector_valid(v, params, longer), 0);
    ck_assert_int_eq(vector_valid(v, params, prefix), 0);
}
END_TEST

START_TEST(signature_empty)
{
    const sig_vector_t *v = good_vector();

    ck_assert_int_eq(vector_valid(v, vector_params(v), ""), 0);
}
END_TEST

START_TEST(signature_one_char_flipped)
{
    const sig_vector_t *v = good_vector();
    apr_array_header_t *params = vector_params(v);
    char *sig = apr_pstrdup(pool, v->signature);
    static const int pos[] = { 0, 13, ASST_SIG_B64_LEN - 2, ASST_SIG_B64_LEN - 1 };
    unsigned k;

    for (k = 0; k < sizeof(pos) / sizeof(pos[0]); k++) {
        int i = pos[k];
        char saved = sig[i];
        sig[i] = saved == 'A' ? 'Q' : 'A';   /* differs in data bits */
        ck_assert_msg(vector_valid(v, params, sig) == 0, "flipped char %d validates", i);
        sig[i] = saved;
    }
    ck_assert_int_eq(vector_valid(v, params, sig), 1);
}
END_TEST

START_TEST(signature_with_trailing_space)
{
    const sig_vector_t *v = good_vector();
    char *sig = apr_pstrcat(pool, v->signature, " ", NULL);

    ck_assert_int_eq(vector_valid(v, vector_params(v), sig), 0);
}
END_TEST

START_TEST(compute_is_28_chars)
{
    const sig_vector_t *v = good_vector();
    char out[ASST_SIG_B64_LEN + 1];

    asst_sig_compute(pool, v->token, v->url, vector_params(v), out);
    ck_assert_uint_eq(strlen(out), ASST_SIG_B64_LEN);
    ck_assert_int_eq(out[ASST_SIG_B64_LEN - 1], '=');
}
END_TEST

/* The HMAC construction over SHA-1 states equals OpenSSL's own HMAC for
 * keys shorter than, equal to and longer than SHA-1's 64-byte block (a long
 * key is hashed first): the Twilio vectors only use 32-character tokens. */
START_TEST(same_as_openssl_hmac_for_any_key_length)
{
    static const size_t lens[] = { 1, 31, 32, 63, 64, 65, 128, 200 };
    const char *url = "https://example.com/sms?x=1";
    apr_array_header_t *params = apr_array_make(pool, 2, sizeof(asst_param_t));
    asst_param_t *pa = apr_array_push(params);

    pa->name = "Body";
    pa->value = "caf\303\251 50%";
    pa = apr_array_push(params);
    pa->name = "A";
    pa->value = "";
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *token = apr_palloc(pool, lens[i] + 1), ours[ASST_SIG_B64_LEN + 1];
        char theirs[ASST_SIG_B64_LEN + 1];
        const char *msg = apr_pstrcat(pool, url, "A", "", "Body", pa[-1].value, NULL);
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;

        for (size_t j = 0; j < lens[i]; j++)
            token[j] = (char)('!' + (j * 7 + i) % 90);
        token[lens[i]] = '\0';
        asst_sig_compute(pool, token, url, params, ours);
        ck_assert_ptr_nonnull(HMAC(EVP_sha1(), token, (int)lens[i], (const unsigned char *)msg,
                                   strlen(msg), mac, &maclen));
        EVP_EncodeBlock((unsigned char *)theirs, mac, (int)maclen);
        ck_assert_msg(strcmp(ours, theirs) == 0, "key length %zu: %s != %s", lens[i], ours, theirs);
    }
}
END_TEST

static Suite *sig_suite(void)
{
    Suite *s = suite_create("sig");
    TCase *vec = tcase_create("twilio-vectors");
    TCase *url = tcase_create("url-port");
    TCase *edge = tcase_create("edge");

    tcase_add_checked_fixture(vec, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(vec, vector_compute, 0, SIG_VECTOR_COUNT);
    tcase_add_loop_test(vec, vector_valid_as_twilio_says, 0, SIG_VECTOR_COUNT);
    tcase_add_loop_test(vec, vector_tampered_param_fails, 0, SIG_VECTOR_COUNT);
    suite_add_tcase(s, vec);

    tcase_add_checked_fixture(url, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(url, url_with_port, 0, SIG_URL_VECTOR_COUNT);
    tcase_add_loop_test(url, url_without_port, 0, SIG_URL_VECTOR_COUNT);
    suite_add_tcase(s, url);

    tcase_add_checked_fixture(edge, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(edge, changed_value_fails);
    tcase_add_test(edge, params_order_does_not_matter);
    tcase_add_test(edge, caller_params_not_reordered);
    tcase_add_test(edge, tokens_with_null_entries);
    tcase_add_test(edge, signature_wrong_length);
    tcase_add_test(edge, signature_empty);
    tcase_add_test(edge, signature_one_char_flipped);
    tcase_add_test(edge, signature_with_trailing_space);
    tcase_add_test(edge, compute_is_28_chars);
    tcase_add_test(edge, same_as_openssl_hmac_for_any_key_length);
    suite_add_tcase(s, edge);
    return s;
}

int main(void)
{
    return asst_unit_run(sig_suite());
}
