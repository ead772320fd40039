#ifndef ASST_REGISTRY_H
#define ASST_REGISTRY_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "tool.h"

/* Every tool a planner can call, in one table (registry.c): calendar,
 * email and documents join it as rows, with no runner change. */

const asst_tool_t *asst_tools_find(const char *name);

/* The OpenAI `tools` array for every tool, as compact JSON text: the same
 * bytes every time (it is part of the prompt prefix providers cache). */
const char *asst_tools_openai_json(void);

/* Parses and validates a call's arguments against its tool's schema. On
 * success *args is the parsed object (json_object_put it) and 0 is
 * returned; otherwise -1 with a short message for the planner in *err
 * (unknown tool, broken JSON, or what the schema says). */
int asst_tools_check(apr_pool_t *p, const char *name, const char *arguments, const asst_tool_t **tool,
                     json_object **args, const char **err);

extern const asst_tool_t asst_tool_notes;
extern const asst_tool_t asst_tool_reminders;
extern const asst_tool_t asst_tool_memory;
extern const asst_tool_t asst_tool_settings;
extern const asst_tool_t asst_tool_help;

/* Everything the assistant can do, in one text (help.c). */
const char *asst_help_text(void);

#endif
