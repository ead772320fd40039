#ifndef ASST_ENVELOPE_H
#define ASST_ENVELOPE_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Envelope v1, the contract between the edge and the worker (DESIGN.md):
 * {"v":1,"sid","account","from","to","body","num_media",
 *  "media":[{"url","type"}],"received_ms","params":{every form field}}
 * A form field sent more than once becomes an array of strings in "params".
 * Status callbacks use the same envelope; their MessageStatus and ErrorCode
 * are in "params". */

#define ASST_ENVELOPE_VERSION 1

typedef struct {
    int v;
    const char *sid;
    const char *account;
    const char *from;
    const char *to;
    const char *body;
    int num_media;
    apr_array_header_t *media;      /* of asst_media_t */
    apr_int64_t received_ms;
    apr_array_header_t *params;     /* of asst_param_t, repeats flattened */
} asst_envelope_t;

typedef struct {
    const char *url;
    const char *type;
} asst_media_t;

/* JSON text of the envelope built from the webhook's form params. */
char *asst_envelope_encode(apr_pool_t *p, const apr_array_header_t *params,
                           apr_int64_t received_ms);

/* Parses an envelope. Returns 0, or -1 with *err set (bad JSON, missing
 * field, or a version this code does not know: such entries belong in the
 * dead-letter stream, never silently dropped). */
int asst_envelope_decode(apr_pool_t *p, const char *json, asst_envelope_t *env,
                         const char **err);

apr_int64_t asst_now_ms(void);

#endif
