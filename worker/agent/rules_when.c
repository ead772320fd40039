/* A reminder's spoken time into the reminders tool's arguments (see
 * rules_when.h). What the phrases mean is reminders/when.h's business. */
#include <string.h>

#include "reminders/when.h"
#include "rules_when.h"

int asst_rules_when_to_at(apr_pool_t *p, json_object *args, apr_time_t now, const char *zone,
                          const char **err)
{
    json_object *when;
    const char *phrase;
    asst_when_spec_t spec;

    if (!args || !json_object_object_get_ex(args, "when", &when))
        return 0;
    phrase = json_object_get_string(when);
    if (asst_when_resolve(p, phrase, now, zone ? zone : "UTC", &spec, err) < 0)
        return -1;
    if (strlen(phrase) <= ASST_RULES_MAX_WORDING)   /* the tool's limit; always so today */
        json_object_object_add(args, "wording", json_object_new_string(phrase));
    json_object_object_add(args, "at", json_object_new_string(spec.local));
    if (spec.rrule)
        json_object_object_add(args, "rrule", json_object_new_string(spec.rrule));
    json_object_object_del(args, "when");   /* phrase points into it: last */
    return 0;
}
