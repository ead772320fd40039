#include <apr_strings.h>

#include "asst_json.h"

const char *asst_json_str(apr_pool_t *p, const json_object *obj, const char *key)
{
    json_object *v;

    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return apr_pstrdup(p, json_object_get_string(v));
}
