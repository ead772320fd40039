#ifndef ASST_WORKER_CONF_H
#define ASST_WORKER_CONF_H

#include <apr_pools.h>

#include "asst_keys.h"
#include "worker_directives.h"

enum { ASST_SIGNUP_OPEN, ASST_SIGNUP_PAIRING, ASST_SIGNUP_CLOSED };
/* MissedPolicy: reminders that came due while no scheduler ran. */
enum { ASST_MISSED_FIRE, ASST_MISSED_SKIP };

#define ASST_CONF_FIELD_POSITIVE long
#define ASST_CONF_FIELD_INT long
#define ASST_CONF_FIELD_ENUM int
#define ASST_CONF_FIELD_STRING const char *
#define ASST_CONF_FIELD_SECRET_FILE const char *
#define ASST_CONF_FIELD_PATH const char *
#define ASST_CONF_FIELD_URL const char *
#define ASST_CONF_FIELD_REDIS_ADDR const char *

#define ASST_WORKER_FIELD(name, kind, field, dflt, choices, syntax, help) \
    ASST_CONF_FIELD_##kind field;

typedef struct {
    const char *path;        /* the file it was read from */
    apr_pool_t *pool;        /* everything below lives here */
    ASST_WORKER_DIRECTIVES(ASST_WORKER_FIELD)
} asst_worker_conf_t;

/* Reads and checks a worker.conf into a new subpool of p. Returns NULL with
 * *err ("file:line: message") when it is unusable; nothing is half-applied. */
asst_worker_conf_t *asst_worker_conf_load(apr_pool_t *p, const char *path, const char **err);

/* The name an ENUM directive chose ("max_tokens"); NULL for another kind. */
const char *asst_worker_conf_choice(apr_pool_t *p, const asst_worker_conf_t *c, const char *directive);
/* The name the Planner directive chose ("rules"). */
const char *asst_worker_conf_planner(apr_pool_t *p, const asst_worker_conf_t *c);
/* 1 when the Planner directive chose name. */
int asst_worker_conf_planner_is(const asst_worker_conf_t *c, const char *name);

/* Markdown reference of every directive, for docs/worker.conf.md. */
void asst_worker_conf_print_docs(void);

#endif
