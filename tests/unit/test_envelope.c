/* Unit tests for lib/asst_envelope.c: the v1 JSON contract between the edge
 * and the worker. The encoded text is also parsed independently with json-c
 * to pin the field names and types. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <check.h>
#include <json-c/json.h>

#include "asst_envelope.h"
#include "asst_form.h"
#include "unit_main.h"

#define RECEIVED_MS APR_INT64_C(1700000000123)   /* needs more than 32 bits */
#define BODY "She said \"hi\" \\ o/\nline 2\ttab \001 caf\303\251 \360\237\230\200 </script>"
#define URL0 "https://api.twilio.com/2010-04-01/Accounts/AC01/Messages/MM01/Media/ME01"
#define URL1 "https://api.twilio.com/2010-04-01/Accounts/AC01/Messages/MM01/Media/ME02"

static apr_pool_t *pool;

static const asst_param_t mms_fields[] = {
    { "ToCountry", "US" },
    { "MessageSid", "MM0123456789abcdef0123456789abcdef" },
    { "AccountSid", "AC0123456789abcdef0123456789abcdef" },
    { "From", "+14155550123" },
    { "To", "+14155550100" },
    { "Body", BODY },
    { "NumMedia", "2" },
    { "MediaUrl0", URL0 },
    { "MediaContentType0", "image/jpeg" },
    { "Tag", "first" },
    { "MediaUrl1", URL1 },
    { "MediaContentType1", "image/png" },
    { "Tag", "second" },
    { "ApiVersion", "2010-04-01" },
};
#define N_MMS ((int)(sizeof(mms_fields) / sizeof(mms_fields[0])))

static const asst_param_t status_fields[] = {
    { "MessageSid", "SM0123456789abcdef0123456789abcdef" },
    { "MessageStatus", "undelivered" },
    { "ErrorCode", "30003" },
    { "AccountSid", "AC0123456789abcdef0123456789abcdef" },
    { "From", "+14155550100" },
    { "To", "+14155550123" },
};
#define N_STATUS ((int)(sizeof(status_fields) / sizeof(status_fields[0])))

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
}

static apr_array_header_t *make_params(const asst_param_t *f, int n)
{
    apr_array_header_t *a = apr_array_make(pool, n, sizeof(asst_param_t));
    int i;

    for (i = 0; i < n; i++)
        *(asst_param_t *)apr_array_push(a) = f[i];
    return a;
}

static char *encode_mms(void)
{
    char *json = asst_envelope_encode(pool, make_params(mms_fields, N_MMS), RECEIVED_MS);

    ck_assert_ptr_nonnull(json);
    return json;
}

static json_object *parse_json(const char *text)
{
    json_object *o = json_tokener_parse(text);

    ck_assert_msg(o != NULL, "not JSON: %s", text);
    ck_assert_msg(json_object_is_type(o, json_type_object), "not an object: %s", text);
    return o;
}

static json_object *field(json_object *o, const char *key, json_type type)
{
    json_object *v = NULL;

    ck_assert_msg(json_object_object_get_ex(o, key, &v), "missing \"%s\"", key);
    ck_assert_msg(json_object_is_type(v, type), "\"%s\" has type %s", key,
                  json_type_to_name(json_object_get_type(v)));
    return v;
}

static void assert_str_field(json_object *o, const char *key, const char *want)
{
    ck_assert_str_eq(json_object_get_string(field(o, key, json_type_string)), want);
}

static const char *param_value(const apr_array_header_t *params, const char *name, int nth)
{
    int i;

    for (i = 0; i < params->nelts; i++) {
        const asst_param_t *pa = &APR_ARRAY_IDX(params, i, asst_param_t);
        if (strcmp(pa->name, name) == 0 && nth-- == 0)
            return pa->value;
    }
    return NULL;
}

static void assert_decode_fails(const char *json)
{
    asst_envelope_t env;
    const char *err = NULL;

    memset(&env, 0, sizeof(env));
    ck_assert_msg(asst_envelope_decode(pool, json, &env, &err) == -1, "accepted: %s", json);
    ck_assert_msg(err != NULL && *err, "no error text for: %s", json);
}

/* ---- encode, checked with json-c ---- */

START_TEST(encode_top_level_fields)
{
    json_object *o = parse_json(encode_mms());

    ck_assert_int_eq(json_object_get_int(field(o, "v", json_type_int)), 1);
    assert_str_field(o, "sid", "MM0123456789abcdef0123456789abcdef");
    assert_str_field(o, "account", "AC0123456789abcdef0123456789abcdef");
    assert_str_field(o, "from", "+14155550123");
    assert_str_field(o, "to", "+14155550100");
    assert_str_field(o, "body", BODY);
    ck_assert_int_eq(json_object_get_int(field(o, "num_media", json_type_int)), 2);
    ck_assert(json_object_get_int64(field(o, "received_ms", json_type_int)) == RECEIVED_MS);
    json_object_put(o);
}
END_TEST

START_TEST(encode_no_extra_fields)
{
    static const char *const keys[] = { "v", "sid", "account", "from", "to", "body",
                                        "num_media", "media", "received_ms", "params" };
    json_object *o = parse_json(encode_mms());
    unsigned i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_msg(json_object_object_get_ex(o, keys[i], NULL), "missing %s", keys[i]);
    ck_assert_int_eq(json_object_object_length(o), (int)(sizeof(keys) / sizeof(keys[0])));
    json_object_put(o);
}
END_TEST

START_TEST(encode_media)
{
    json_object *o = parse_json(encode_mms());
    json_object *media = field(o, "media", json_type_array);
    json_object *m0, *m1;

    ck_assert_uint_eq(json_object_array_length(media), 2);
    m0 = json_object_array_get_idx(media, 0);
    m1 = json_object_array_get_idx(media, 1);
    ck_assert(json_object_is_type(m0, json_type_object));
    assert_str_field(m0, "url", URL0);
    assert_str_field(m0, "type", "image/jpeg");
    assert_str_field(m1, "url", URL1);
    assert_str_field(m1, "type", "image/png");
    json_object_put(o);
}
END_TEST

START_TEST(encode_params_object)
{
    json_object *o = parse_json(encode_mms());
    json_object *params = field(o, "params", json_type_object);
    json_object *tag = field(params, "Tag", json_type_array);
    int i;

    for (i = 0; i < N_MMS; i++)
        if (strcmp(mms_fields[i].name, "Tag") != 0)
            assert_str_field(params, mms_fields[i].name, mms_fields[i].value);
    ck_assert_int_eq(json_object_object_length(params), N_MMS - 1);   /* Tag once */
    ck_assert_uint_eq(json_object_array_length(tag), 2);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(tag, 0)), "first");
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(tag, 1)), "second");
    json_object_put(o);
}
END_TEST

START_TEST(encode_without_media)
{
    char *json = asst_envelope_encode(pool, make_params(status_fields, N_STATUS), RECEIVED_MS);
    json_object *o = parse_json(json);

    ck_assert_int_eq(json_object_get_int(field(o, "num_media", json_type_int)), 0);
    ck_assert_uint_eq(json_object_array_length(field(o, "media", json_type_array)), 0);
    assert_str_field(field(o, "params", json_type_object), "MessageStatus", "undelivered");
    json_object_put(o);
}
END_TEST

/* ---- decode ---- */

START_TEST(roundtrip_every_field)
{
    asst_envelope_t env;
    const char *err = NULL;
    const asst_media_t *m;

    memset(&env, 0, sizeof(env));
    ck_assert_int_eq(asst_envelope_decode(pool, encode_mms(), &env, &err), 0);
    ck_assert_int_eq(env.v, ASST_ENVELOPE_VERSION);
    ck_assert_str_eq(env.sid, "MM0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(env.account, "AC0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(env.from, "+14155550123");
    ck_assert_str_eq(env.to, "+14155550100");
    ck_assert_str_eq(env.body, BODY);
    ck_assert_int_eq(env.num_media, 2);
    ck_assert(env.received_ms == RECEIVED_MS);
    ck_assert_ptr_nonnull(env.media);
    ck_assert_int_eq(env.media->nelts, 2);
    m = &APR_ARRAY_IDX(env.media, 0, asst_media_t);
    ck_assert_str_eq(m[0].url, URL0);
    ck_assert_str_eq(m[0].type, "image/jpeg");
    ck_assert_str_eq(m[1].url, URL1);
    ck_assert_str_eq(m[1].type, "image/png");
}
END_TEST

START_TEST(roundtrip_params_flattened)
{
    asst_envelope_t env;
    const char *err = NULL;
    int i;

    memset(&env, 0, sizeof(env));
    ck_assert_int_eq(asst_envelope_decode(pool, encode_mms(), &env, &err), 0);
    ck_assert_ptr_nonnull(env.params);
    ck_assert_int_eq(env.params->nelts, N_MMS);
    for (i = 0; i < N_MMS; i++)
        if (strcmp(mms_fields[i].name, "Tag") != 0)
            ck_assert_str_eq(param_value(env.params, mms_fields[i].name, 0),
                             mms_fields[i].value);
    ck_assert_str_eq(param_value(env.params, "Tag", 0), "first");
    ck_assert_str_eq(param_value(env.params, "Tag", 1), "second");
    ck_assert_ptr_null(param_value(env.params, "Tag", 2));
    ck_assert_str_eq(asst_form_get(env.params, "Body"), BODY);
}
END_TEST

START_TEST(roundtrip_status_callback)
{
    char *json = asst_envelope_encode(pool, make_params(status_fields, N_STATUS), RECEIVED_MS);
    asst_envelope_t env;
    const char *err = NULL;

    memset(&env, 0, sizeof(env));
    ck_assert_msg(asst_envelope_decode(pool, json, &env, &err) == 0,
                  "status callback envelope rejected: %s (%s)", err ? err : "?", json);
    ck_assert_str_eq(env.sid, "SM0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(env.num_media, 0);
    ck_assert_str_eq(asst_form_get(env.params, "MessageStatus"), "undelivered");
    ck_assert_str_eq(asst_form_get(env.params, "ErrorCode"), "30003");
}
END_TEST

START_TEST(decode_handwritten)
{
    static const char json[] =
        "{\"v\":1,\"sid\":\"SM1\",\"account\":\"AC1\",\"from\":\"+1555\",\"to\":\"+1666\","
        "\"body\":\"caf\\u00e9 \\ud83d\\ude00\",\"num_media\":1,"
        "\"media\":[{\"url\":\"https://x/m\",\"type\":\"image/gif\"}],"
        "\"received_ms\":4102444800000,"
        "\"params\":{\"MessageSid\":\"SM1\",\"Tag\":[\"x\",\"y\"],\"Body\":\"caf\\u00e9\"}}";
    asst_envelope_t env;
    const char *err = NULL;

    memset(&env, 0, sizeof(env));
    ck_assert_int_eq(asst_envelope_decode(pool, json, &env, &err), 0);
    ck_assert_str_eq(env.sid, "SM1");
    ck_assert_str_eq(env.body, "caf\303\251 \360\237\230\200");
    ck_assert_int_eq(env.media->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(env.media, 0, asst_media_t).type, "image/gif");
    ck_assert(env.received_ms == APR_INT64_C(4102444800000));
    ck_assert_int_eq(env.params->nelts, 4);
    ck_assert_str_eq(param_value(env.params, "Tag", 1), "y");
}
END_TEST

START_TEST(decode_rejects_v2)
{
    assert_decode_fails("{\"v\":2,\"sid\":\"SM1\",\"account\":\"AC1\",\"from\":\"+1\",\"to\":\"+2\","
                        "\"body\":\"\",\"num_media\":0,\"media\":[],\"received_ms\":1,"
                        "\"params\":{}}");
}
END_TEST

START_TEST(decode_rejects_missing_v)
{
    assert_decode_fails("{\"sid\":\"SM1\",\"account\":\"AC1\",\"from\":\"+1\",\"to\":\"+2\","
                        "\"body\":\"\",\"num_media\":0,\"media\":[],\"received_ms\":1,"
                        "\"params\":{}}");
}
END_TEST

START_TEST(decode_rejects_missing_sid)
{
    assert_decode_fails("{\"v\":1,\"account\":\"AC1\",\"from\":\"+1\",\"to\":\"+2\","
                        "\"body\":\"\",\"num_media\":0,\"media\":[],\"received_ms\":1,"
                        "\"params\":{}}");
}
END_TEST

START_TEST(decode_rejects_malformed)
{
    assert_decode_fails("{\"v\":1,\"sid\":\"SM1\"");
    assert_decode_fails("{\"v\":1,\"sid\":}");
    assert_decode_fails("");
    assert_decode_fails("not json at all");
}
END_TEST

START_TEST(decode_rejects_non_object)
{
    assert_decode_fails("[1,2,3]");
    assert_decode_fails("42");
    assert_decode_fails("\"{\\\"v\\\":1}\"");
    assert_decode_fails("null");
}
END_TEST

/* Form fields are text; a null (found by fuzzing) used to come back as a
 * NULL value that the worker dereferenced. Such an entry is dead-lettered. */
START_TEST(decode_rejects_non_string_params)
{
    assert_decode_fails("{\"v\":1,\"sid\":\"SM1\",\"account\":\"AC1\",\"params\":{\"x\":null}}");
    assert_decode_fails("{\"v\":1,\"sid\":\"SM1\",\"account\":\"AC1\",\"params\":{\"x\":[\"a\",null]}}");
    assert_decode_fails("{\"v\":1,\"sid\":\"SM1\",\"account\":\"AC1\",\"params\":{\"x\":1}}");
    assert_decode_fails("{\"v\":1,\"sid\":\"SM1\",\"account\":\"AC1\",\"params\":{\"x\":{}}}");
}
END_TEST

START_TEST(now_ms_is_wall_clock)
{
    apr_int64_t before = apr_time_now() / 1000;
    apr_int64_t now = asst_now_ms();
    apr_int64_t after = apr_time_now() / 1000;

    ck_assert(now >= before - 1 && now <= after + 1);
}
END_TEST

static Suite *envelope_suite(void)
{
    Suite *s = suite_create("envelope");
    TCase *enc = tcase_create("encode");
    TCase *dec = tcase_create("decode");

    tcase_add_checked_fixture(enc, setup, teardown);
    tcase_add_test(enc, encode_top_level_fields);
    tcase_add_test(enc, encode_no_extra_fields);
    tcase_add_test(enc, encode_media);
    tcase_add_test(enc, encode_params_object);
    tcase_add_test(enc, encode_without_media);
    tcase_add_test(enc, now_ms_is_wall_clock);
    suite_add_tcase(s, enc);

    tcase_add_checked_fixture(dec, setup, teardown);
    tcase_add_test(dec, roundtrip_every_field);
    tcase_add_test(dec, roundtrip_params_flattened);
    tcase_add_test(dec, roundtrip_status_callback);
    tcase_add_test(dec, decode_handwritten);
    tcase_add_test(dec, decode_rejects_v2);
    tcase_add_test(dec, decode_rejects_missing_v);
    tcase_add_test(dec, decode_rejects_missing_sid);
    tcase_add_test(dec, decode_rejects_malformed);
    tcase_add_test(dec, decode_rejects_non_string_params);
    tcase_add_test(dec, decode_rejects_non_object);
    suite_add_tcase(s, dec);
    return s;
}

int main(void)
{
    return asst_unit_run(envelope_suite());
}
