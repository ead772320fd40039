#ifndef ASST_ADMIN_H
#define ASST_ADMIN_H

#include <apr_pools.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "asst_redis.h"
#include "db/db.h"
#include "conf/worker_conf.h"

/* assistant-admin: the operator's CLI. admin.c parses the command line and
 * holds what the commands share; each admin_*.c file is one group of
 * commands. Results go to stdout, problems to stderr. */

#define ADMIN_OK 0
#define ADMIN_FAIL 1         /* the command could not be done */
#define ADMIN_USAGE 2        /* the command line is wrong */

typedef struct {
    apr_pool_t *pool;
    const asst_worker_conf_t *conf;
    asst_db_t *db;
    asst_redis_pool_t *redis;
} asst_admin_t;

typedef int asst_admin_cmd_fn(asst_admin_t *a, int argc, const char *const *argv);

/* Print "assistant-admin: ..." to stderr and return ADMIN_FAIL / ADMIN_USAGE. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int asst_admin_fail(const char *fmt, ...);
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int asst_admin_usage(const char *fmt, ...);

/* BEGIN with asst.scope = system (the CLI spans users); ADMIN_OK or
 * ADMIN_FAIL after saying why. */
int asst_admin_begin(asst_admin_t *a);
int asst_admin_commit(asst_admin_t *a);
/* Rolls back, says "what: <database error>", returns ADMIN_FAIL. */
int asst_admin_db_fail(asst_admin_t *a, const char *what);

/* Appends an events row; data (consumed) gets "via" and "operator". */
asst_db_rc_t asst_admin_event(asst_admin_t *a, const char *user_id, const char *kind,
                              json_object *data);
/* {"via":"assistant-admin","operator":...} as JSON text, for SQL that
 * writes many events in one statement. */
const char *asst_admin_actor(asst_admin_t *a);

/* A connected Redis context (give it back with asst_redis_release), or
 * NULL after saying why. */
redisContext *asst_admin_redis(asst_admin_t *a);

/* 1 when s is E.164: '+', a non-zero digit, up to 14 more digits. */
int asst_admin_is_e164(const char *s);

/* Commands. argv holds the words after the command's name. */
int asst_admin_migrate(asst_admin_t *a, int argc, const char *const *argv);
int asst_admin_users(asst_admin_t *a, int argc, const char *const *argv);
int asst_admin_queue(asst_admin_t *a, int argc, const char *const *argv);
int asst_admin_dead(asst_admin_t *a, int argc, const char *const *argv);
int asst_admin_outbox(asst_admin_t *a, int argc, const char *const *argv);
int asst_admin_context(asst_admin_t *a, int argc, const char *const *argv);
int asst_admin_usage_cmd(asst_admin_t *a, int argc, const char *const *argv);

#endif
