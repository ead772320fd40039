#ifndef ASST_SCHEMA_H
#define ASST_SCHEMA_H

#include <stddef.h>

#include <json-c/json.h>

/* The tool registry checks every tool call (from the LLM or the rules
 * planner) against the tool's JSON Schema before the tool runs; the error
 * goes back to the model, so it names the argument and what was expected,
 * never the value (it may be a secret, or megabytes).
 *
 * Supported: type (a name or an array of names), enum, properties,
 * required, additionalProperties: false, minLength/maxLength (code points),
 * minimum/maximum, items, minItems/maxItems. Every other keyword is ignored,
 * as are keywords that do not apply to the value's type. */

/* Errors never exceed this, NUL included; an errbuf this big is never cut. */
#define ASST_SCHEMA_ERR_MAX 200

/* 0 when args satisfy schema; else -1 with a message in errbuf, e.g.
 * `argument "action" must be one of: add, list` or `unknown argument "foo"`.
 * The first failure wins: in an object, required names (in their order),
 * then unknown names (in args order), then each property in declaration
 * order, recursively. args NULL (JSON null or no arguments at all) counts
 * as {} when the schema's type allows an object. A NULL schema accepts
 * anything. errbuf may be NULL. */
int asst_schema_validate(const json_object *schema, const json_object *args, char *errbuf,
                         size_t errlen);

#endif
