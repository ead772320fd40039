#include <string.h>

#include <apr_strings.h>

#include "registry.h"
#include "schema.h"

static const asst_tool_t *const tools[] = {
    &asst_tool_notes,
    &asst_tool_reminders,
    &asst_tool_memory,
    &asst_tool_settings,
    &asst_tool_help,
};

#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

/* Parsed once per process, on first use (children are single-threaded). */
static json_object *schemas[NTOOLS];
static char *openai_json;

const asst_tool_t *asst_tools_find(const char *name)
{
    for (size_t i = 0; name && i < NTOOLS; i++)
        if (strcmp(tools[i]->name, name) == 0)
            return tools[i];
    return NULL;
}

static size_t index_of(const asst_tool_t *tool)
{
    size_t i = 0;

    while (i < NTOOLS - 1 && tools[i] != tool)
        i++;
    return i;
}

static json_object *schema_of(size_t i)
{
    if (!schemas[i])
        schemas[i] = json_tokener_parse(tools[i]->schema);
    return schemas[i];
}

static json_object *openai_tool(size_t i)
{
    json_object *fn = json_object_new_object(), *tool = json_object_new_object();

    json_object_object_add(fn, "name", json_object_new_string(tools[i]->name));
    json_object_object_add(fn, "description", json_object_new_string(tools[i]->description));
    json_object_object_add(fn, "parameters", json_object_get(schema_of(i)));
    json_object_object_add(tool, "type", json_object_new_string("function"));
    json_object_object_add(tool, "function", fn);
    return tool;
}

const char *asst_tools_openai_json(void)
{
    json_object *array;

    if (openai_json)
        return openai_json;
    array = json_object_new_array();
    for (size_t i = 0; i < NTOOLS; i++)
        json_object_array_add(array, openai_tool(i));
    openai_json = strdup(json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN));
    json_object_put(array);
    return openai_json;
}

/* A model may send "" or null for no arguments: both are {}. */
static json_object *parse_arguments(const char *arguments, int *broken)
{
    enum json_tokener_error error = json_tokener_success;
    json_object *args = arguments && *arguments ? json_tokener_parse_verbose(arguments, &error) : NULL;

    *broken = error != json_tokener_success;
    return args || *broken ? args : json_object_new_object();
}

int asst_tools_check(apr_pool_t *p, const char *name, const char *arguments, const asst_tool_t **tool,
                     json_object **args, const char **err)
{
    char why[ASST_SCHEMA_ERR_MAX];
    int broken;

    *args = NULL;
    if (!(*tool = asst_tools_find(name))) {
        *err = apr_psprintf(p, "unknown tool \"%s\"", name ? name : "");
        return -1;
    }
    *args = parse_arguments(arguments, &broken);
    if (broken) {
        *err = "arguments are not valid JSON";
        return -1;
    }
    if (asst_schema_validate(schema_of(index_of(*tool)), *args, why, sizeof(why)) != 0) {
        json_object_put(*args);
        *args = NULL;
        *err = apr_pstrdup(p, why);
        return -1;
    }
    return 0;
}
