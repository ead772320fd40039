#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "admin.h"

typedef struct {
    const char *id;
    const char *status;
} user_row_t;

/* ---- users list ---- */

static int width(PGresult *res, int col, const char *title)
{
    int w = (int)strlen(title);

    for (int i = 0; i < PQntuples(res); i++)
        if (PQgetlength(res, i, col) > w)
            w = PQgetlength(res, i, col);
    return w;
}

static void print_users(PGresult *res)
{
    static const char *titles[] = { "PHONE", "NAME", "STATUS", "TIMEZONE", "CREATED" };
    int w[4];

    for (int c = 0; c < 4; c++)
        w[c] = width(res, c, titles[c]);
    printf("%-*s  %-*s  %-*s  %-*s  %s\n", w[0], titles[0], w[1], titles[1], w[2], titles[2],
           w[3], titles[3], titles[4]);
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-*s  %-*s  %-*s  %-*s  %s\n", w[0], PQgetvalue(res, i, 0), w[1],
               PQgetvalue(res, i, 1), w[2], PQgetvalue(res, i, 2), w[3], PQgetvalue(res, i, 3),
               PQgetvalue(res, i, 4));
    if (PQntuples(res) == 0)
        printf("(no users)\n");
}

static int users_list(asst_admin_t *a, int argc, const char *const *argv)
{
    PGresult *res;

    if (argc != 0)
        return asst_admin_usage("usage: users list");
    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (asst_db_exec(a->db, &res,
                     "SELECT phone, coalesce(name, '-'), "
                     "       status || CASE WHEN flagged THEN ',flagged' ELSE '' END, timezone, "
                     "       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' "
                     "FROM users ORDER BY created_at, id", 0, NULL) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot list users");
    print_users(res);
    PQclear(res);
    return asst_admin_commit(a);
}

/* ---- users add ---- */

typedef struct {
    const char *phone, *name, *tz;
    int tz_confirmed;
} add_args_t;

static int parse_add(asst_admin_t *a, int argc, const char *const *argv, add_args_t *args)
{
    args->phone = args->name = NULL;
    args->tz = NULL;
    for (int i = 0; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--name") == 0 ? &args->name
                          : strcmp(argv[i], "--tz") == 0   ? &args->tz
                                                           : NULL;
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else if (slot || argv[i][0] == '-' || args->phone)
            return asst_admin_usage("usage: users add +E164 [--name NAME] [--tz ZONE]");
        else
            args->phone = argv[i];
    }
    if (!args->phone)
        return asst_admin_usage("usage: users add +E164 [--name NAME] [--tz ZONE]");
    /* a zone the operator names is confirmed: the person is not asked (docs/agent.md) */
    args->tz_confirmed = args->tz != NULL;
    if (!args->tz)
        args->tz = a->conf->default_timezone;
    if (!asst_admin_is_e164(args->phone))
        return asst_admin_usage("'%s' is not an E.164 number (+ and 2 to 15 digits, e.g. +15551234567)",
                                args->phone);
    return ADMIN_OK;
}

static int known_timezone(asst_admin_t *a, const char *tz)
{
    asst_db_rc_t rc;
    const char *v = asst_db_value(a->db, a->pool, &rc,
                                  "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)",
                                  ASST_DB_ARGS(tz));
    return rc != ASST_DB_OK ? -1 : v && strcmp(v, "t") == 0;
}

static int already_there(asst_admin_t *a, const char *phone)
{
    const char *status = asst_db_value(a->db, a->pool, NULL,
                                       "SELECT status FROM users WHERE phone = $1", ASST_DB_ARGS(phone));
    asst_db_rollback(a->db);
    if (status && strcmp(status, "pending") == 0)
        return asst_admin_fail("%s is already a user, pending: approve it with `users approve CODE`",
                               phone);
    return asst_admin_fail("%s is already a user (%s)", phone, status ? status : "?");
}

static int users_add(asst_admin_t *a, int argc, const char *const *argv)
{
    add_args_t args;
    const char *id;
    asst_db_rc_t rc;
    int tz_ok;
    json_object *data;

    if (parse_add(a, argc, argv, &args) != ADMIN_OK)
        return ADMIN_USAGE;
    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if ((tz_ok = known_timezone(a, args.tz)) < 0)
        return asst_admin_db_fail(a, "cannot check the timezone");
    if (!tz_ok) {
        asst_db_rollback(a->db);
        return asst_admin_fail("unknown timezone '%s' (an IANA name such as Europe/Paris)", args.tz);
    }
    id = asst_db_value(a->db, a->pool, &rc,
                       "INSERT INTO users (phone, name, timezone, timezone_confirmed, status) "
                       "VALUES ($1, $2, $3, $4, 'active') ON CONFLICT (phone) DO NOTHING RETURNING id",
                       ASST_DB_ARGS(args.phone, args.name, args.tz, args.tz_confirmed ? "true" : "false"));
    if (rc != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot add the user");
    if (!id)
        return already_there(a, args.phone);
    data = json_object_new_object();
    json_object_object_add(data, "status", json_object_new_string("active"));
    json_object_object_add(data, "timezone", json_object_new_string(args.tz));
    json_object_object_add(data, "timezone_confirmed", json_object_new_boolean(args.tz_confirmed));
    if (asst_admin_event(a, id, "user_added", data) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot record the event");
    if (asst_admin_commit(a) != ADMIN_OK)
        return ADMIN_FAIL;
    printf("added %s (user %s): active, timezone %s\n", args.phone, id, args.tz);
    return ADMIN_OK;
}

/* ---- users approve ---- */

static int users_approve(asst_admin_t *a, int argc, const char *const *argv)
{
    PGresult *res;
    char *code;
    const char *id, *phone;

    if (argc != 1)
        return asst_admin_usage("usage: users approve CODE");
    code = apr_pstrdup(a->pool, argv[0]);
    for (char *c = code; *c; c++)
        *c = (char)toupper((unsigned char)*c);     /* codes are upper case; people type either */
    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (asst_db_exec(a->db, &res,
                     "UPDATE users SET status = 'active', pairing_code = NULL "
                     "WHERE pairing_code = $1 AND status = 'pending' RETURNING id, phone",
                     ASST_DB_ARGS(code)) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot approve");
    if (PQntuples(res) == 0) {
        PQclear(res);
        asst_db_rollback(a->db);
        return asst_admin_fail("no pending user has the pairing code %s", code);
    }
    id = apr_pstrdup(a->pool, PQgetvalue(res, 0, 0));
    phone = apr_pstrdup(a->pool, PQgetvalue(res, 0, 1));
    PQclear(res);
    if (asst_admin_event(a, id, "user_approved", json_object_new_object()) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot record the event");
    if (asst_admin_commit(a) != ADMIN_OK)
        return ADMIN_FAIL;
    printf("approved %s (user %s): active\n", phone, id);
    return ADMIN_OK;
}

/* ---- users block / unblock ---- */

/* Locks the user's row; ADMIN_OK with u filled, or ADMIN_FAIL said. */
static int lock_user(asst_admin_t *a, const char *phone, user_row_t *u)
{
    PGresult *res;

    if (asst_db_exec(a->db, &res, "SELECT id, status FROM users WHERE phone = $1 FOR UPDATE",
                     ASST_DB_ARGS(phone)) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot look the user up");
    if (PQntuples(res) == 0) {
        PQclear(res);
        asst_db_rollback(a->db);
        return asst_admin_fail("no user has the number %s", phone);
    }
    u->id = apr_pstrdup(a->pool, PQgetvalue(res, 0, 0));
    u->status = apr_pstrdup(a->pool, PQgetvalue(res, 0, 1));
    PQclear(res);
    return ADMIN_OK;
}

/* What unblock returns to: the status the last block took the user from,
 * so a block never undoes an opt-out. */
static const char *status_before_block(asst_admin_t *a, const user_row_t *u)
{
    const char *was = asst_db_value(a->db, a->pool, NULL,
                                    "SELECT data->>'from' FROM events WHERE user_id = $1 "
                                    "AND kind = 'user_blocked' ORDER BY id DESC LIMIT 1",
                                    ASST_DB_ARGS(u->id));
    if (was && (strcmp(was, "active") == 0 || strcmp(was, "pending") == 0 ||
                strcmp(was, "opted_out") == 0))
        return was;
    return "active";
}

static int set_status(asst_admin_t *a, const user_row_t *u, const char *to, const char *kind)
{
    json_object *data = json_object_new_object();

    json_object_object_add(data, "from", json_object_new_string(u->status));
    json_object_object_add(data, "to", json_object_new_string(to));
    if (asst_db_exec(a->db, NULL, "UPDATE users SET status = $2 WHERE id = $1",
                     ASST_DB_ARGS(u->id, to)) != ASST_DB_OK) {
        json_object_put(data);
        return asst_admin_db_fail(a, "cannot change the status");
    }
    if (asst_admin_event(a, u->id, kind, data) != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot record the event");
    return asst_admin_commit(a);
}

static int users_block(asst_admin_t *a, int argc, const char *const *argv, int block)
{
    user_row_t u = { NULL, NULL };
    const char *to;

    if (argc != 1 || !asst_admin_is_e164(argv[0]))
        return asst_admin_usage("usage: users %s +E164", block ? "block" : "unblock");
    if (asst_admin_begin(a) != ADMIN_OK || lock_user(a, argv[0], &u) != ADMIN_OK)
        return ADMIN_FAIL;
    if (block == (strcmp(u.status, "blocked") == 0)) {
        asst_db_rollback(a->db);
        printf("%s is %s: nothing to do\n", argv[0], block ? "already blocked" : u.status);
        return ADMIN_OK;
    }
    to = block ? "blocked" : status_before_block(a, &u);
    if (set_status(a, &u, to, block ? "user_blocked" : "user_unblocked") != ADMIN_OK)
        return ADMIN_FAIL;
    printf("%s %s (user %s): %s, was %s\n", block ? "blocked" : "unblocked", argv[0], u.id, to,
           u.status);
    return ADMIN_OK;
}

int asst_admin_users(asst_admin_t *a, int argc, const char *const *argv)
{
    const char *sub = argc > 0 ? argv[0] : "";

    if (strcmp(sub, "list") == 0)
        return users_list(a, argc - 1, argv + 1);
    if (strcmp(sub, "add") == 0)
        return users_add(a, argc - 1, argv + 1);
    if (strcmp(sub, "approve") == 0)
        return users_approve(a, argc - 1, argv + 1);
    if (strcmp(sub, "block") == 0 || strcmp(sub, "unblock") == 0)
        return users_block(a, argc - 1, argv + 1, strcmp(sub, "block") == 0);
    return asst_admin_usage("usage: users list|add|approve|block|unblock ...");
}
