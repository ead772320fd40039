#ifndef ASST_AGENT_STATE_H
#define ASST_AGENT_STATE_H

#include <apr_tables.h>
#include <apr_time.h>

#include "db/tx.h"

/* What the agent carries from one text to the next (agent_state,
 * sql/004_agent.sql). Name, time zone and quiet hours live on users. */
typedef struct {
    /* An action waiting for YES, exactly as it will run. */
    const char *pending_name;        /* NULL: nothing pending */
    const char *pending_arguments;   /* JSON text */
    const char *pending_prompt;      /* "delete all your notes" */
    int pending_expired;
    /* It waits for the person's time zone (tools/zone.h), not for YES:
     * the zone a YES confirms, NULL otherwise; and when it was asked. */
    const char *pending_zone;
    apr_time_t pending_asked_at;
    /* The numbered list the person was last shown. */
    const char *last_list_kind;      /* NULL: none */
    apr_array_header_t *last_list_ids;   /* of const char * */
} asst_agent_state_t;

void asst_state_load(asst_tx_t *tx, const char *user_id, asst_agent_state_t *st);
void asst_state_set_list(asst_tx_t *tx, const char *user_id, const char *kind, const apr_array_header_t *ids);
/* Stores a call to run on YES within ttl_sec; or, with a zone, to run on
 * the person's answer to a question about their time zone (YES: that
 * zone), asked at asked_at. */
void asst_state_set_pending(asst_tx_t *tx, const char *user_id, const char *name, const char *arguments,
                            const char *prompt, const char *zone, apr_time_t asked_at, long ttl_sec);
void asst_state_clear_pending(asst_tx_t *tx, const char *user_id);

#endif
