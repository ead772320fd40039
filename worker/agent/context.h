#ifndef ASST_CONTEXT_H
#define ASST_CONTEXT_H

#include <stddef.h>

#include <apr_pools.h>
#include <json-c/json.h>

/* The agent's context builder: the OpenAI-style chat `messages` array for
 * one turn, under a token budget (worker.conf ContextTokens). Pure: no
 * database, no I/O, no clock; the same input gives the same bytes.
 *
 * The messages, in an order that keeps the prefix byte-identical across
 * turns and people, so providers can cache it:
 *   1. {"role":"system","content": instructions}       never cut, never varies
 *   2. {"role":"system","content": "About the person: Name: Sam. Time zone:
 *      Europe/Berlin. Local time: ...\nWhat you remember about them:\n- fact"}
 *      Empty facts are left out; with no facts and no memories kept the
 *      whole message is left out. A memory's line breaks become spaces so
 *      each memory stays one "- " line.
 *   3. the recent turns, oldest first, as user/assistant messages
 *   4. {"role":"user","content": message}
 *
 * Tokens are approximated, with no tokenizer dependency: a text of n bytes
 * costs (n + 3) / 4 tokens (about 4 bytes a token in English BPE; it
 * overestimates ASCII code and underestimates CJK, which is fine for a
 * budget), each message costs ASST_CONTEXT_MESSAGE_OVERHEAD more (role and
 * framing), and tools_json, which providers count although it is not a
 * message, costs its text tokens once.
 *
 * When the whole does not fit the budget, it is cut in this order, each
 * step only as far as needed:
 *   1. recent turns, oldest first, one at a time (all go before any memory:
 *      the current message carries the turn, memories carry the person);
 *   2. memories, least relevant (the end of the array) first;
 *   3. the person's facts (name, time zone, local time) are never cut:
 *      they are small and the planner needs the time to schedule anything;
 *   4. the instructions, tools and current message are never dropped; the
 *      current message is truncated at a UTF-8 code point boundary, keeping
 *      its start, and ASST_CONTEXT_TRUNCATED is appended.
 * When even that cannot fit (the fixed part plus the marker exceeds the
 * budget: a misconfigured ContextTokens), it is built with no memories and
 * no recent turns, the current message whole (a readable request serves
 * better than a marker alone), and the report says over_budget. It never
 * fails. */

#define ASST_CONTEXT_MESSAGE_OVERHEAD 4
#define ASST_CONTEXT_TRUNCATED " [truncated]"

typedef enum {
    ASST_CONTEXT_USER,
    ASST_CONTEXT_ASSISTANT
} asst_context_role_t;

typedef struct {
    asst_context_role_t role;
    const char *text;
} asst_context_turn_t;

/* Each may be NULL or empty: that fact is left out. No phone number: the
 * model does not need it. */
typedef struct {
    const char *name;
    const char *timezone;     /* IANA, e.g. Europe/Berlin */
    const char *local_time;   /* formatted, e.g. Mon 30 Nov 2026 09:15 (Europe/Berlin) */
} asst_context_person_t;

/* NULL strings read as empty. */
typedef struct {
    const char *instructions;                /* the system prompt, the same for everyone */
    const char *tools_json;                  /* the `tools` array as JSON text; counted only */
    asst_context_person_t person;
    const char *const *memories;             /* most relevant first */
    int n_memories;
    const asst_context_turn_t *recent;       /* oldest first */
    int n_recent;
    const char *message;                     /* the current inbound text */
    int budget_tokens;
} asst_context_input_t;

typedef struct {
    size_t tokens;              /* of the result, tools included, as counted above */
    int memories_kept;
    int memories_dropped;
    int recent_kept;
    int recent_dropped;         /* the oldest ones */
    int message_truncated;
    int over_budget;            /* tokens > budget_tokens */
} asst_context_report_t;

/* Tokens of a text of `bytes` bytes, without message overhead. */
size_t asst_context_text_tokens(size_t bytes);

/* Tokens of a messages array plus tools_json (may be NULL), as counted
 * above: what the planner checks after appending tool results. */
size_t asst_context_count(const json_object *messages, const char *tools_json);

/* Builds the messages for one turn and fills *report. p holds scratch
 * only; the array is the caller's (json_object_put). */
json_object *asst_context_build(apr_pool_t *p, const asst_context_input_t *in,
                                asst_context_report_t *report);

#endif
