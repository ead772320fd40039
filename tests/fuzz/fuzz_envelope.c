/* Envelope v1. The input decoded as JSON must not crash or leak, and what
 * decodes has the fields the worker relies on. The input parsed as a form
 * body, encoded and decoded again gives back what tests/unit/test_envelope.c
 * pins: sid, account, from, to, body ("" when absent), num_media (NumMedia
 * clamped to 0..10) with as many media, received_ms, and every param in
 * order, repeats of a name grouped at its first position. */
#include "asst_envelope.h"
#include "asst_form.h"
#include "fuzz.h"

static void check_decoded(const asst_envelope_t *env)
{
    REQUIRE(env->v == ASST_ENVELOPE_VERSION && env->sid && *env->sid && env->account);
    REQUIRE(env->media && env->params);
    for (int i = 0; i < env->params->nelts; i++) {
        const asst_param_t *prm = &APR_ARRAY_IDX(env->params, i, asst_param_t);
        REQUIRE(prm->name && prm->value);
    }
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static int expected_num_media(const apr_array_header_t *params)
{
    const char *s = asst_form_get(params, "NumMedia");
    long n = s ? strtol(s, NULL, 10) : 0;

    return n < 0 ? 0 : n > 10 ? 10 : (int)n;
}

static void check_media(const apr_array_header_t *params, const asst_envelope_t *env)
{
    REQUIRE(env->num_media == expected_num_media(params) && env->media->nelts == env->num_media);
    for (int i = 0; i < env->num_media; i++) {
        const asst_media_t *m = &APR_ARRAY_IDX(env->media, i, asst_media_t);
        char name[32];
        snprintf(name, sizeof(name), "MediaUrl%d", i);
        REQUIRE(m->url && strcmp(m->url, or_empty(asst_form_get(params, name))) == 0);
        snprintf(name, sizeof(name), "MediaContentType%d", i);
        REQUIRE(m->type && strcmp(m->type, or_empty(asst_form_get(params, name))) == 0);
    }
}

/* decoded: each name's values together, names in order of first appearance. */
static void check_params(const apr_array_header_t *params, const apr_array_header_t *decoded)
{
    const asst_param_t *in = (const asst_param_t *)params->elts;
    int k = 0;

    REQUIRE(decoded->nelts == params->nelts);
    for (int i = 0; i < params->nelts; i++) {
        int first = 0;
        while (strcmp(in[first].name, in[i].name) != 0)
            first++;
        for (int j = i; first == i && j < params->nelts; j++) {
            const asst_param_t *out = &APR_ARRAY_IDX(decoded, k, asst_param_t);
            if (strcmp(in[j].name, in[i].name) != 0)
                continue;
            REQUIRE(strcmp(out->name, in[j].name) == 0 && strcmp(out->value, in[j].value) == 0);
            k++;
        }
    }
}

static void round_trip(apr_pool_t *p, const apr_array_header_t *params, apr_int64_t received_ms)
{
    const char *sid = asst_form_get(params, "MessageSid"), *err = NULL;
    const char *json = asst_envelope_encode(p, params, received_ms);
    asst_envelope_t env;

    if (asst_envelope_decode(p, json, &env, &err) != 0) {
        REQUIRE(!sid || !*sid);      /* the only reason to refuse our own envelope */
        return;
    }
    check_decoded(&env);
    REQUIRE(strcmp(env.sid, sid) == 0);
    REQUIRE(strcmp(env.account, or_empty(asst_form_get(params, "AccountSid"))) == 0);
    REQUIRE(env.from && strcmp(env.from, or_empty(asst_form_get(params, "From"))) == 0);
    REQUIRE(env.to && strcmp(env.to, or_empty(asst_form_get(params, "To"))) == 0);
    REQUIRE(env.body && strcmp(env.body, or_empty(asst_form_get(params, "Body"))) == 0);
    REQUIRE(env.received_ms == received_ms);
    check_media(params, &env);
    check_params(params, env.params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    fuzz_input_t in = { data, size };
    const char *json = fuzz_field(p, &in, '\0', NULL), *err = NULL;
    apr_array_header_t *params;
    asst_envelope_t env;
    apr_int64_t received_ms = (apr_int64_t)size * 1000003;

    if (asst_envelope_decode(p, json, &env, &err) == 0)
        check_decoded(&env);
    else
        REQUIRE(err && *err);
    if (size >= sizeof(received_ms))
        memcpy(&received_ms, data + size - sizeof(received_ms), sizeof(received_ms));
    if (asst_form_parse(p, (const char *)data, size, &params) == ASST_FORM_OK)
        round_trip(p, params, received_ms);
    fuzz_pool_end(p);
    return 0;
}
