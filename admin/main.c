#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "admin.h"
#include "asst_log.h"
#include "db/events.h"
#include "db/migrate.h"

static const char usage_text[] =
    "usage: assistant-admin [-v] -f worker.conf COMMAND\n"
    "\n"
    "  migrate [--check]          apply the schema migrations this binary carries\n"
    "                             (--check: only say whether any are missing)\n"
    "  users list                 phone, name, status, timezone, created\n"
    "  users add +E164 [--name NAME] [--tz ZONE]\n"
    "                             add an active user; --tz: their zone, confirmed (else\n"
    "                             DefaultTimezone, and their first reminder asks theirs)\n"
    "  users approve CODE         activate the pending user with that pairing code\n"
    "  users block +E164          nothing from or to that number is handled\n"
    "  users unblock +E164        back to the status it had before the block\n"
    "  queue                      stream length and pending entries, dead letters,\n"
    "                             outbox rows by status\n"
    "  dead list                  entries of the dead-letter stream, with reasons\n"
    "  dead replay ID|--all       put dead letters back on their stream\n"
    "  outbox retry ID|--failed   failed outbox rows become pending, attempts reset\n"
    "  usage [DAYS]               model tokens per person per day (default 7 days)\n"
    "  context +E164 TEXT [N]     what a planner would be shown if that person texted\n"
    "                             TEXT now (ContextTokens), and how long it took (N runs)\n"
    "\n"
    "  -f FILE   worker.conf (Database, Redis, Stream... are read from it)\n"
    "  -v        log debug messages\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 wrong command line.\n";

static void complain(const char *fmt, va_list ap, const char *after)
{
    fputs("assistant-admin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(after, stderr);
}

int asst_admin_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    complain(fmt, ap, "\n");
    va_end(ap);
    return ADMIN_FAIL;
}

int asst_admin_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    complain(fmt, ap, "\n(assistant-admin -h for help)\n");
    va_end(ap);
    return ADMIN_USAGE;
}

int asst_admin_db_fail(asst_admin_t *a, const char *what)
{
    const char *state = asst_db_sqlstate(a->db);

    asst_admin_fail("%s: %s%s%s%s", what, asst_db_error(a->db), *state ? " (SQLSTATE " : "",
                    state, *state ? ")" : "");
    asst_db_rollback(a->db);
    return ADMIN_FAIL;
}

int asst_admin_begin(asst_admin_t *a)
{
    const char *err;

    if (!asst_db_conn(a->db, &err))
        return asst_admin_fail("cannot connect to PostgreSQL: %s", err);
    if (asst_db_begin_system(a->db) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot start a transaction");
    return ADMIN_OK;
}

int asst_admin_commit(asst_admin_t *a)
{
    if (asst_db_commit(a->db) != ASST_DB_OK)
        return asst_admin_db_fail(a, "commit failed");
    return ADMIN_OK;
}

/* Who ran the command: the sudo caller if any, else the login name. */
static const char *operator_name(apr_pool_t *p)
{
    const char *sudo = getenv("SUDO_USER");
    struct passwd *pw;

    if (sudo && *sudo)
        return sudo;
    pw = getpwuid(getuid());
    return pw ? apr_pstrdup(p, pw->pw_name) : apr_psprintf(p, "uid %ld", (long)getuid());
}

static json_object *actor_object(asst_admin_t *a)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "via", json_object_new_string("assistant-admin"));
    json_object_object_add(o, "operator", json_object_new_string(operator_name(a->pool)));
    return o;
}

const char *asst_admin_actor(asst_admin_t *a)
{
    json_object *o = actor_object(a);
    const char *text = apr_pstrdup(a->pool, json_object_to_json_string(o));

    json_object_put(o);
    return text;
}

asst_db_rc_t asst_admin_event(asst_admin_t *a, const char *user_id, const char *kind,
                              json_object *data)
{
    const char *json;
    asst_db_rc_t rc;

    json_object_object_add(data, "via", json_object_new_string("assistant-admin"));
    json_object_object_add(data, "operator", json_object_new_string(operator_name(a->pool)));
    json = json_object_to_json_string(data);
    rc = asst_db_event(a->db, user_id, kind, json);
    json_object_put(data);
    return rc;
}

redisContext *asst_admin_redis(asst_admin_t *a)
{
    const char *err;
    redisContext *c;

    if (!a->redis &&
        !(a->redis = asst_redis_pool_open(a->pool, a->conf->redis, a->conf->redis_password, 3000, 1,
                                          NULL, &err))) {
        asst_admin_fail("Redis %s: %s", a->conf->redis, err);
        return NULL;
    }
    if (!(c = asst_redis_acquire(a->redis, &err)))
        asst_admin_fail("Redis %s: %s", a->conf->redis, err);
    return c;
}

int asst_admin_is_e164(const char *s)
{
    size_t n;

    if (s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    n = strspn(s + 1, "0123456789");
    return s[1 + n] == '\0' && n >= 2 && n <= 15;
}

static const struct {
    const char *name;
    asst_admin_cmd_fn *fn;
} commands[] = {
    { "migrate", asst_admin_migrate },
    { "users", asst_admin_users },
    { "queue", asst_admin_queue },
    { "dead", asst_admin_dead },
    { "outbox", asst_admin_outbox },
    { "context", asst_admin_context },
    { "usage", asst_admin_usage_cmd },
};

static asst_admin_cmd_fn *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].fn;
    return NULL;
}

static int run(apr_pool_t *pool, const char *conf_path, int verbose, int argc,
               const char *const *argv)
{
    asst_admin_cmd_fn *fn = find_command(argv[0]);
    asst_admin_t a = { pool, NULL, NULL, NULL };
    const char *err;

    if (!fn)
        return asst_admin_usage("unknown command '%s'", argv[0]);
    if (!(a.conf = asst_worker_conf_load(pool, conf_path, &err)))
        return asst_admin_fail("%s", err);
    asst_log_set(NULL, NULL, verbose ? ASST_LOG_DEBUG : ASST_LOG_INFO);
    a.db = asst_db_create(pool, a.conf->database);
    asst_db_set_backoff(a.db, 1, 1);         /* one attempt per command: no waiting */
    return fn(&a, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    const char *conf_path = NULL;
    int verbose = 0, opt, rc;
    apr_pool_t *pool;

    while ((opt = getopt(argc, argv, "+f:vh")) != -1) {
        switch (opt) {
        case 'f': conf_path = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': fputs(usage_text, stdout); return ADMIN_OK;
        default: return asst_admin_usage("unknown option");
        }
    }
    if (optind < argc && strcmp(argv[optind], "--help") == 0) {
        fputs(usage_text, stdout);
        return ADMIN_OK;
    }
    if (!conf_path)
        return asst_admin_usage("-f worker.conf is required");
    if (optind >= argc)
        return asst_admin_usage("no command given");
    apr_initialize();
    apr_pool_create(&pool, NULL);
    rc = run(pool, conf_path, verbose, argc - optind, (const char *const *)argv + optind);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
