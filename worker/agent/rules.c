/* The rules planner: deterministic, no network. The first decision of a
 * turn is the phrase parser's tool call (rules_parse.h); once the tool has
 * answered, its words are the reply. Anything it does not understand gets
 * what it can do. */
#include <apr_strings.h>

#include "planner.h"
#include "rules_parse.h"
#include "rules_when.h"
#include "tools/registry.h"

#define QUOTE_MAX 40   /* characters of their text quoted back: enough to recognise it */

/* The first QUOTE_MAX characters (not bytes) of text, "..." if cut. */
static const char *quote(apr_pool_t *p, const char *text)
{
    size_t i = 0;
    int chars = 0;

    while (text[i] && chars < QUOTE_MAX)
        if (((unsigned char)text[++i] & 0xC0) != 0x80)
            chars++;
    return text[i] ? apr_pstrcat(p, apr_pstrndup(p, text, i), "...", NULL) : text;
}

static const asst_step_t *last_tool_result(const apr_array_header_t *journal)
{
    for (int i = journal->nelts - 1; i >= 0; i--)
        if (APR_ARRAY_IDX(journal, i, asst_step_t).kind == ASST_STEP_TOOL)
            return &APR_ARRAY_IDX(journal, i, asst_step_t);
    return NULL;
}

static void call_parsed_tool(apr_pool_t *p, const asst_rules_call_t *parsed, asst_step_t *out)
{
    asst_call_t *call;

    out->calls = apr_array_make(p, 1, sizeof(asst_call_t));
    call = apr_array_push(out->calls);
    call->id = "rules-1";
    call->name = parsed->tool;
    call->arguments = apr_pstrdup(p, json_object_to_json_string_ext(parsed->args, JSON_C_TO_STRING_PLAIN));
}

static int decide(const asst_planner_t *self, apr_pool_t *p, const asst_plan_input_t *in, asst_step_t *out)
{
    const asst_step_t *result = last_tool_result(in->journal);
    asst_rules_call_t parsed;
    const char *err;

    (void)self;
    if (result) {
        out->reply = result->text;
        return 0;
    }
    asst_rules_parse(p, in->body, in->last_list_kind, &parsed);
    if (!parsed.tool) {
        out->reply = apr_psprintf(p, "Sorry, I didn't understand \"%s\". %s", quote(p, in->body),
                                  asst_help_text());
        return 0;
    }
    if (asst_rules_when_to_at(p, parsed.args, apr_time_now(), in->timezone, &err) < 0)
        out->reply = err;   /* a time we cannot use: say why, call nothing */
    else
        call_parsed_tool(p, &parsed, out);
    json_object_put(parsed.args);
    return 0;
}

const asst_planner_t asst_planner_rules = { "rules", 0, 0, decide };
