#ifndef ASST_JSON_H
#define ASST_JSON_H

#include <apr_pools.h>
#include <json-c/json.h>

/* Reading JSON decoded with json-c (writing is asst_jsonw.h). */

/* obj's member key copied into p when it is a string; NULL when obj is
 * NULL, the member is absent, or it is not a string. */
const char *asst_json_str(apr_pool_t *p, const json_object *obj, const char *key);

#endif
