#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <json-c/json.h>

#include "asst_envelope.h"
#include "asst_form.h"
#include "asst_json.h"

apr_int64_t asst_now_ms(void)
{
    return (apr_int64_t)(apr_time_now() / 1000);
}

static void decode_media(apr_pool_t *p, json_object *root, asst_envelope_t *env)
{
    json_object *arr;

    env->media = apr_array_make(p, 2, sizeof(asst_media_t));
    if (!json_object_object_get_ex(root, "media", &arr) || !json_object_is_type(arr, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *m = json_object_array_get_idx(arr, i);
        asst_media_t *media = apr_array_push(env->media);
        media->url = asst_json_str(p, m, "url");
        media->type = asst_json_str(p, m, "type");
    }
}

/* Form fields are text: anything else (null, numbers, objects) did not
 * come from mod_assistant, and the entry goes to the dead letters. */
static int push_param(apr_pool_t *p, apr_array_header_t *params, const char *name, json_object *v,
                      const char **err)
{
    asst_param_t *param;

    if (!json_object_is_type(v, json_type_string)) {
        *err = apr_psprintf(p, "envelope param %.64s is not a string", name);
        return -1;
    }
    param = apr_array_push(params);
    param->name = apr_pstrdup(p, name);
    param->value = apr_pstrdup(p, json_object_get_string(v));
    return 0;
}

static int decode_params(apr_pool_t *p, json_object *root, asst_envelope_t *env, const char **err)
{
    json_object *obj;

    env->params = apr_array_make(p, 24, sizeof(asst_param_t));
    if (!json_object_object_get_ex(root, "params", &obj) || !json_object_is_type(obj, json_type_object))
        return 0;
    json_object_object_foreach(obj, name, v) {
        if (!json_object_is_type(v, json_type_array)) {
            if (push_param(p, env->params, name, v, err) != 0)
                return -1;
            continue;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (push_param(p, env->params, name, json_object_array_get_idx(v, i), err) != 0)
                return -1;
    }
    return 0;
}

static int decode_fields(apr_pool_t *p, json_object *root, asst_envelope_t *env, const char **err)
{
    json_object *v;

    if (!json_object_object_get_ex(root, "v", &v) || !json_object_is_type(v, json_type_int)) {
        *err = "envelope has no version";
        return -1;
    }
    env->v = json_object_get_int(v);
    if (env->v != ASST_ENVELOPE_VERSION) {
        *err = apr_psprintf(p, "unknown envelope version %d", env->v);
        return -1;
    }
    env->sid = asst_json_str(p, root, "sid");
    env->account = asst_json_str(p, root, "account");
    if (!env->sid || !*env->sid || !env->account) {
        *err = "envelope lacks sid or account";
        return -1;
    }
    env->from = asst_json_str(p, root, "from");
    env->to = asst_json_str(p, root, "to");
    env->body = asst_json_str(p, root, "body");
    env->num_media = json_object_object_get_ex(root, "num_media", &v) ? json_object_get_int(v) : 0;
    env->received_ms = json_object_object_get_ex(root, "received_ms", &v) ? json_object_get_int64(v) : 0;
    decode_media(p, root, env);
    return decode_params(p, root, env, err);
}

int asst_envelope_decode(apr_pool_t *p, const char *json, asst_envelope_t *env,
                         const char **err)
{
    json_object *root = json_tokener_parse(json);
    int rc;

    memset(env, 0, sizeof(*env));
    if (!root || !json_object_is_type(root, json_type_object)) {
        *err = "envelope is not a JSON object";
        json_object_put(root);
        return -1;
    }
    rc = decode_fields(p, root, env, err);
    json_object_put(root);
    return rc;
}
