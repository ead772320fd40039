#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/rand.h>

#include "asst_log.h"
#include "asst_sms.h"
#include "compliance.h"
#include "db/events.h"
#include "turn.h"

#define HELP_TEXT "This is your personal assistant. Text it what you need. " \
                  "Reply STOP to unsubscribe, START to resubscribe."
#define SMS_MAX_CHARS 1600

/* A transaction in progress: the first failure is kept and the rest of
 * the statements are skipped, so the steps read as a straight line. */
typedef struct {
    asst_db_t *db;
    apr_pool_t *p;
    asst_db_rc_t rc;
} tx_t;

#define FAILED(tx) ((tx)->rc != ASST_DB_OK)

typedef struct {
    const char *id;
    const char *phone;
    const char *name;
    const char *timezone;
    const char *status;
} user_t;

static PGresult *run(tx_t *tx, const char *sql, int n, const char *const *params)
{
    PGresult *res = NULL;

    if (!FAILED(tx))
        tx->rc = asst_db_exec(tx->db, &res, sql, n, params);
    return res;
}

static void exec0(tx_t *tx, const char *sql, int n, const char *const *params)
{
    PQclear(run(tx, sql, n, params));
}

/* The first column of the first row, or NULL. */
static const char *value(tx_t *tx, const char *sql, int n, const char *const *params)
{
    return FAILED(tx) ? NULL : asst_db_value(tx->db, tx->p, &tx->rc, sql, n, params);
}

static void step(tx_t *tx, asst_db_rc_t rc)
{
    if (!FAILED(tx))
        tx->rc = rc;
}

static void event(tx_t *tx, const char *user_id, const char *kind, const char *data_json)
{
    if (!FAILED(tx))
        tx->rc = asst_db_event(tx->db, user_id, kind, data_json);
}

static int find_user(tx_t *tx, const char *phone, user_t *u)
{
    const char *params[] = { phone };
    PGresult *res = run(tx, "SELECT id, name, timezone, status FROM users WHERE phone = $1", 1, params);
    int found = res && PQntuples(res) == 1;

    if (found) {
        u->id = apr_pstrdup(tx->p, PQgetvalue(res, 0, 0));
        u->name = asst_db_text(tx->p, res, 0, 1);
        u->timezone = apr_pstrdup(tx->p, PQgetvalue(res, 0, 2));
        u->status = apr_pstrdup(tx->p, PQgetvalue(res, 0, 3));
        u->phone = phone;
    }
    PQclear(res);
    return found;
}

/* 8 characters from an alphabet without 0/O and 1/I/L. */
static const char *pairing_code(apr_pool_t *p)
{
    static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    unsigned char rnd[8];
    char *code = apr_palloc(p, 9);

    RAND_bytes(rnd, sizeof(rnd));
    for (int i = 0; i < 8; i++)
        code[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
    code[8] = '\0';
    return code;
}

static void create_user(tx_t *tx, const asst_turn_t *turn, const char *phone, const char *status,
                        const char *code, user_t *u)
{
    const char *params[] = { phone, turn->conf->default_timezone, status, code };

    u->id = value(tx, "INSERT INTO users (phone, timezone, status, pairing_code) "
                      "VALUES ($1, $2, $3, $4) RETURNING id", 4, params);
    u->phone = phone;
    u->name = NULL;
    u->timezone = turn->conf->default_timezone;
    u->status = status;
    event(tx, u->id, "user_created",
          apr_psprintf(tx->p, "{\"status\":\"%s\",\"via\":\"signup\"}", status));
}

/* Queues text to the user as one message + outbox row per SMS part; the
 * parts share in_reply_to, which keeps them in order. */
static void queue_reply(tx_t *tx, asst_turn_t *turn, const user_t *u, const char *inbound_id,
                        const char *text)
{
    apr_array_header_t *parts = asst_sms_split(tx->p, text, SMS_MAX_CHARS);

    for (int i = 0; i < parts->nelts && !FAILED(tx); i++) {
        const char *part = APR_ARRAY_IDX(parts, i, const char *);
        const char *mparams[] = { u->id, part };
        const char *message_id = value(tx, "INSERT INTO messages (user_id, direction, body, status) "
                                           "VALUES ($1, 'out', $2, 'pending') RETURNING id", 2, mparams);
        const char *oparams[] = { u->id, u->phone, part, message_id, inbound_id };
        const char *outbox_id = value(tx,
            "INSERT INTO outbox (user_id, kind, payload, status, next_attempt_at, message_id, in_reply_to) "
            "VALUES ($1, 'sms', jsonb_build_object('to', $2::text, 'body', $3::text), 'pending', now(), $4, $5) "
            "RETURNING id", 5, oparams);
        if (outbox_id)
            APR_ARRAY_PUSH(turn->outbox_ids, long long) = apr_atoi64(outbox_id);
    }
    event(tx, u->id, "reply_queued", apr_psprintf(tx->p, "{\"parts\":%d}", parts->nelts));
}

static void set_status(tx_t *tx, const user_t *u, const char *status, const char *event_kind)
{
    const char *params[] = { u->id, status };
    exec0(tx, "UPDATE users SET status = $2, updated_at = now() WHERE id = $1", 2, params);
    event(tx, u->id, event_kind, "{}");
}

/* Unknown sender: 0 when the turn ends here (closed policy). */
static int sign_up(tx_t *tx, asst_turn_t *turn, const char *phone, user_t *u)
{
    switch (turn->conf->signup_policy) {
    case ASST_SIGNUP_OPEN:
        create_user(tx, turn, phone, "active", NULL, u);
        return 1;
    case ASST_SIGNUP_PAIRING: {
        const char *code = pairing_code(tx->p);
        create_user(tx, turn, phone, "pending", code, u);
        return 1;
    }
    default:
        asst_log(ASST_LOG_INFO, "ASST01201: ignored a message from unknown number %s (SignupPolicy closed)",
                 phone);
        event(tx, NULL, "unknown_sender_ignored", "{}");
        return 0;
    }
}

/* The new message's id; NULL when it was already stored by an earlier
 * delivery. */
static const char *store_inbound(tx_t *tx, const user_t *u, const asst_envelope_t *env)
{
    const char *params[] = { u->id, env->sid, env->body ? env->body : "" };
    const char *id = value(tx, "INSERT INTO messages (user_id, direction, twilio_sid, body, status) "
                               "VALUES ($1, 'in', $2, $3, 'received') "
                               "ON CONFLICT (twilio_sid) DO NOTHING RETURNING id", 3, params);
    if (id)
        event(tx, u->id, "message_received", apr_psprintf(tx->p, "{\"message_id\":%s}", id));
    return id;
}

static const char *pending_text(apr_pool_t *p, tx_t *tx, const user_t *u)
{
    const char *params[] = { u->id };
    const char *code = value(tx, "SELECT pairing_code FROM users WHERE id = $1", 1, params);
    return apr_psprintf(p, "Hi! This assistant is private. Your pairing code is %s: "
                           "ask the operator to approve it.", code ? code : "?");
}

/* What the person gets back, or NULL for silence. */
static const char *respond(tx_t *tx, asst_turn_t *turn, user_t *u, const asst_envelope_t *env,
                           int new_user)
{
    asst_keyword_t kw = asst_compliance_keyword(env->body);
    asst_turn_input_t in = { apr_atoi64(u->id), u->name, u->timezone, env->body };
    asst_plan_t plan = { NULL };

    if (kw == ASST_KEYWORD_STOP) {
        set_status(tx, u, "opted_out", "opted_out");
        return NULL;
    }
    /* A new pending user gets its code whatever the first text was. */
    if (strcmp(u->status, "pending") == 0)
        return new_user ? pending_text(tx->p, tx, u) : (kw == ASST_KEYWORD_HELP ? HELP_TEXT : NULL);
    if (kw == ASST_KEYWORD_START) {
        if (strcmp(u->status, "opted_out") == 0)
            set_status(tx, u, "active", "opted_in");
        return NULL;               /* Twilio confirms START itself */
    }
    if (strcmp(u->status, "active") != 0)
        return NULL;               /* opted out or blocked: never answer */
    if (kw == ASST_KEYWORD_HELP)
        return HELP_TEXT;
    if (turn->planner->plan(turn->planner, tx->p, &in, &plan) != 0)
        return NULL;
    return plan.reply;
}

static asst_turn_status_t finish(tx_t *tx, asst_turn_t *turn, int duplicate)
{
    if (!FAILED(tx) && !duplicate)
        step(tx, asst_db_commit(tx->db));
    if (FAILED(tx) || duplicate)
        asst_db_rollback(tx->db);
    if (FAILED(tx)) {
        turn->error = apr_pstrdup(tx->p, asst_db_error(tx->db));
        apr_array_clear(turn->outbox_ids);
        return ASST_TURN_RETRY;
    }
    return duplicate ? ASST_TURN_DUPLICATE : ASST_TURN_DONE;
}

asst_turn_status_t asst_turn_run(asst_db_t *db, apr_pool_t *p, const asst_envelope_t *env,
                                 asst_turn_t *turn)
{
    tx_t tx = { db, p, ASST_DB_OK };
    const char *lock[] = { env->from };
    const char *reply, *inbound_id = NULL;
    user_t u = { NULL, NULL, NULL, NULL, NULL };
    int new_user = 0;

    step(&tx, asst_db_begin_system(db));
    exec0(&tx, "SELECT pg_advisory_xact_lock(1, hashtext($1))", 1, lock);
    if (!FAILED(&tx) && !find_user(&tx, env->from, &u)) {
        if (!FAILED(&tx) && !sign_up(&tx, turn, env->from, &u))
            return finish(&tx, turn, 0);
        new_user = 1;
    }
    if (u.id)
        step(&tx, asst_db_set_user(db, apr_atoi64(u.id)));
    if (!FAILED(&tx) && !(inbound_id = store_inbound(&tx, &u, env)))
        return finish(&tx, turn, 1);
    reply = FAILED(&tx) ? NULL : respond(&tx, turn, &u, env, new_user);
    if (reply && !FAILED(&tx))
        queue_reply(&tx, turn, &u, inbound_id, reply);
    return finish(&tx, turn, 0);
}
