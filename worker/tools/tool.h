#ifndef ASST_TOOL_H
#define ASST_TOOL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <json-c/json.h>

#include "db/tx.h"

/* A tool: what a planner may call. Each is one row of the registry
 * (registry.c), defined in its own file. */

/* What a handler works with. A transaction is open in tx, scoped to the
 * person by row-level security; the handler's effect, its events and the
 * journal step commit together. */
typedef struct {
    asst_tx_t *tx;
    apr_pool_t *p;
    const char *user_id;
    const char *phone;
    const char *timezone;
    apr_time_t now;
    int untrusted;               /* the arguments carry content the person did not write */
    const char *last_list_kind;  /* the list the person was last shown, or NULL */
    const apr_array_header_t *last_list_ids;   /* its row ids (const char *), in order */
    /* Set by a handler that shows a numbered list, so "delete 2" can follow. */
    const char *shown_kind;
    apr_array_header_t *shown_ids;
    /* The call waited for the person's time zone (zone.h) and they answered:
     * the zone they gave (YES to the guess, or one they named), and when
     * the call was first made, so its time words mean what they meant then. */
    const char *zone_answer;
    apr_time_t asked_at;
    /* Said before the result ("Your time zone is now ..."): set by zone.c. */
    const char *preface;
} asst_tool_ctx_t;

typedef struct {
    int ok;                      /* 0: did nothing; text says why */
    const char *text;            /* for the person, plain SMS text */
    /* text carries content the person did not write (mail, documents,
     * facts stored from them): where it came from. A model is shown it
     * marked as data, and a call that changes something after it in the
     * same turn waits for YES. */
    const char *untrusted;
    /* The handler asked the person's time zone instead of acting (zone.h):
     * the call waits, as made, for their answer, and text is the question.
     * asks_about says what waits ("set that reminder"), asks_zone is the
     * zone a YES confirms. */
    const char *asks_about;
    const char *asks_zone;
} asst_tool_result_t;

typedef void asst_tool_run_fn(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out);

/* Most tools take an "action" argument: a table of these runs it. */
typedef struct {
    const char *action;
    asst_tool_run_fn *run;
    const char *needs;           /* an argument the action cannot do without, or NULL */
    /* What it would do, phrased for "Reply YES to ...", when it needs the
     * person's YES first (deletes in bulk, sends, acts outside the
     * database); NULL when it may run at once. */
    const char *confirm;
    int reads;                   /* 1: it changes nothing (lists, searches) */
} asst_tool_action_t;

typedef struct {
    const char *name;
    const char *description;     /* terse: it is sent to an LLM with every turn */
    const char *schema;          /* JSON Schema of the arguments (tools/schema.h subset) */
    const asst_tool_action_t *actions;   /* by the "action" argument; or NULL and: */
    size_t nactions;
    asst_tool_run_fn *run;       /* a tool without actions */
    int reads;                   /* ... that changes nothing */
} asst_tool_t;

#define ASST_TOOL_ACTIONS(table) table, sizeof(table) / sizeof(table[0]), NULL, 0

/* Runs a call (its actions row, or run). Database failures leave ctx->tx
 * failed (the runner retries the step); anything else is told in out. */
void asst_tool_run(const asst_tool_t *tool, asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out);

/* The confirm phrase of the call's action, or NULL: it may run at once. */
const char *asst_tool_confirm(const asst_tool_t *tool, json_object *args);

/* 1 when the call changes nothing (a list, a search). */
int asst_tool_reads(const asst_tool_t *tool, json_object *args);

/* Helpers for handlers. */
void asst_tool_say(asst_tool_result_t *out, int ok, const char *text);
const char *asst_tool_arg(json_object *args, const char *key);   /* string or NULL */
int asst_tool_arg_int(json_object *args, const char *key);       /* 0 when absent */
/* The row id of item n (1-based) of the list of `kind` the person saw
 * last; without such a list, of all their rows of table (a constant of
 * the tool, never input) in id order, which is how lists are shown. NULL
 * when there is no such item. */
const char *asst_tool_list_item(asst_tool_ctx_t *ctx, const char *kind, const char *table, int n);
/* Deletes all the person's rows of table (a constant of the tool), records
 * event_kind with {"count": n} (never the texts), and returns n. */
const char *asst_tool_delete_all(asst_tool_ctx_t *ctx, const char *table, const char *event_kind);
/* Records res's first column as the list shown (kind), and returns its
 * rows as "1. text\n2. text" from column text_col. */
const char *asst_tool_show_list(asst_tool_ctx_t *ctx, const char *kind, PGresult *res, int text_col);
/* The same for rows whose text is composed by the tool: ids and texts
 * (both of const char *) side by side. */
const char *asst_tool_show_items(asst_tool_ctx_t *ctx, const char *kind, const apr_array_header_t *ids,
                                 const apr_array_header_t *texts);

#endif
