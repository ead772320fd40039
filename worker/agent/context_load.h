#ifndef ASST_CONTEXT_LOAD_H
#define ASST_CONTEXT_LOAD_H

#include <json-c/json.h>

#include "context.h"
#include "db/tx.h"

/* Gathers what the context builder (context.h) is given, for one person
 * and one inbound text, in tx (scoped to the person), and builds it:
 *   - who they are: name, IANA zone, their local date and time now;
 *   - up to ASST_CONTEXT_MEMORIES memories: of the ASST_CONTEXT_SEARCHED
 *     most recently used, those sharing words with the text first
 *     (full-text rank, any word), then the most recently used;
 *   - the last ASST_CONTEXT_RECENT texts before this one, both ways.
 * The instructions come first and never vary (the cacheable prefix). */

#define ASST_CONTEXT_MEMORIES 12
#define ASST_CONTEXT_RECENT 10
#define ASST_CONTEXT_SEARCHED "500"

/* The fixed instructions every planner that reads context gets. */
extern const char asst_context_instructions[];

/* The messages (json_object_put them), or NULL when tx failed. */
json_object *asst_context_load(asst_tx_t *tx, const char *user_id, const char *inbound_id, const char *body,
                               const char *tools_json, int budget_tokens, asst_context_report_t *report);

#endif
