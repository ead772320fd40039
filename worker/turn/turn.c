#include <string.h>

#include <apr_strings.h>
#include <openssl/rand.h>

#include "agent/runner.h"
#include "asst_log.h"
#include "compliance.h"
#include "db/users.h"
#include "reply.h"
#include "turn.h"

#define HELP_TEXT "This is your personal assistant. Text it what you need. " \
                  "Reply STOP to unsubscribe, START to resubscribe."

/* What the intake transaction found the text to need. */
typedef enum {
    INTAKE_ANSWERED,     /* sign-up or a keyword answered it (or silence): committed */
    INTAKE_DUPLICATE,    /* an earlier delivery finished it */
    INTAKE_AGENT,        /* a turn for the agent, new or left running by a dead process */
} intake_t;

typedef struct {
    asst_user_t u;
    const char *inbound_id;
    const char *turn_id;
    int fresh;                   /* a new turn: state holds the person's agent state */
    asst_agent_state_t state;
} intake_result_t;

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

/* Unknown sender: 0 when the turn ends here (closed policy). */
static int sign_up(asst_tx_t *tx, asst_turn_t *turn, const char *phone, asst_user_t *u)
{
    const char *zone = turn->conf->default_timezone;

    switch (turn->conf->signup_policy) {
    case ASST_SIGNUP_OPEN:
        asst_db_user_create(tx, phone, zone, "active", NULL, u);
        return 1;
    case ASST_SIGNUP_PAIRING:
        asst_db_user_create(tx, phone, zone, "pending", pairing_code(tx->p), u);
        return 1;
    default:
        asst_log(ASST_LOG_INFO, "ASST01201: ignored a message from unknown number %s (SignupPolicy closed)",
                 phone);
        asst_tx_event(tx, NULL, "unknown_sender_ignored", "{}");
        return 0;
    }
}

/* A redelivered text: its turn if a dead process left it running. */
static const char *unfinished_turn(asst_tx_t *tx, const asst_envelope_t *env, const char **inbound_id)
{
    PGresult *res = asst_tx_query(tx, "SELECT m.id, t.id FROM messages m JOIN turns t ON t.message_id = m.id "
                                      "WHERE m.twilio_sid = $1 AND t.status = 'running'", ASST_DB_ARGS(env->sid));
    const char *turn_id = NULL;

    if (res && PQntuples(res) == 1) {
        *inbound_id = apr_pstrdup(tx->p, PQgetvalue(res, 0, 0));
        turn_id = apr_pstrdup(tx->p, PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return turn_id;
}

static const char *pending_text(asst_tx_t *tx, const asst_user_t *u)
{
    const char *code = asst_db_user_pairing_code(tx, u);
    return apr_psprintf(tx->p, "Hi! This assistant is private. Your pairing code is %s: "
                               "ask the operator to approve it.", code ? code : "?");
}

/* Everything before a planner: 1 with *reply (NULL for silence) when the
 * text is answered here, 0 when it goes to the agent. */
static int before_planner(asst_tx_t *tx, asst_user_t *u, const asst_envelope_t *env, int new_user, const char **reply)
{
    asst_keyword_t kw = asst_compliance_keyword(env->body);

    *reply = NULL;
    if (kw == ASST_KEYWORD_STOP) {
        asst_db_user_set_status(tx, u, "opted_out", "opted_out");
        return 1;
    }
    /* A new pending user gets its code whatever the first text was. */
    if (strcmp(u->status, "pending") == 0) {
        *reply = new_user ? pending_text(tx, u) : (kw == ASST_KEYWORD_HELP ? HELP_TEXT : NULL);
        return 1;
    }
    if (kw == ASST_KEYWORD_START) {
        if (strcmp(u->status, "opted_out") == 0)
            asst_db_user_set_status(tx, u, "active", "opted_in");
        return 1;                  /* Twilio confirms START itself */
    }
    if (strcmp(u->status, "active") != 0)
        return 1;                  /* opted out or blocked: never answer */
    if (kw == ASST_KEYWORD_HELP) {
        *reply = HELP_TEXT;
        return 1;
    }
    return 0;
}

static intake_t intake_steps(asst_tx_t *tx, asst_turn_t *turn, const asst_envelope_t *env, intake_result_t *in)
{
    const char *reply = NULL;
    int new_user = 0;

    if (!asst_db_user_find(tx, env->from, &in->u)) {
        if (ASST_TX_FAILED(tx) || !sign_up(tx, turn, env->from, &in->u))
            return INTAKE_ANSWERED;
        new_user = 1;
    }
    if (ASST_TX_FAILED(tx))
        return INTAKE_ANSWERED;
    asst_tx_step(tx, asst_db_set_user(tx->db, apr_atoi64(in->u.id)));
    if (!ASST_TX_FAILED(tx) && !(in->inbound_id = asst_db_message_in(tx, &in->u, env->sid, env->body))) {
        in->turn_id = unfinished_turn(tx, env, &in->inbound_id);
        return in->turn_id ? INTAKE_AGENT : INTAKE_DUPLICATE;
    }
    if (ASST_TX_FAILED(tx) || before_planner(tx, &in->u, env, new_user, &reply)) {
        if (reply)
            asst_reply_queue(tx, in->u.id, in->u.phone, in->inbound_id, reply, turn->outbox_ids);
        return INTAKE_ANSWERED;
    }
    in->turn_id = asst_tx_value(tx, "INSERT INTO turns (user_id, message_id, planner) VALUES ($1, $2, $3) "
                                    "RETURNING id", ASST_DB_ARGS(in->u.id, in->inbound_id, turn->planner->name));
    asst_state_load(tx, in->u.id, &in->state);
    in->fresh = 1;
    return INTAKE_AGENT;
}

/* Finds or signs up the sender and stores the text, in one transaction. */
static asst_db_rc_t intake(asst_db_t *db, apr_pool_t *p, asst_turn_t *turn, const asst_envelope_t *env,
                           intake_result_t *in, intake_t *what)
{
    asst_tx_t tx;

    memset(in, 0, sizeof(*in));
    asst_tx_begin(&tx, db, p, NULL);
    *what = intake_steps(&tx, turn, env, in);
    if (*what == INTAKE_DUPLICATE && !ASST_TX_FAILED(&tx)) {
        asst_db_rollback(db);
        return ASST_DB_OK;
    }
    return asst_tx_finish(&tx);
}

/* A turn waiting for its planner: what it resumes with. Its lock lives
 * on the connection it was taken on (generation). */
struct asst_turn_waiting {
    asst_run_t run;
    unsigned long generation;
};

static asst_run_t *agent_run(asst_db_t *db, apr_pool_t *p, asst_turn_t *turn, const asst_envelope_t *env,
                             const intake_result_t *in)
{
    asst_run_t *run = apr_pcalloc(p, sizeof(*run));

    run->db = db;
    run->p = p;
    run->conf = turn->conf;
    run->planner = turn->planner;
    run->user_id = in->u.id;
    run->phone = in->u.phone;
    run->user_name = in->u.name;
    run->timezone = in->u.timezone;
    run->turn_id = in->turn_id;
    run->inbound_id = in->inbound_id;
    run->body = env->body ? env->body : "";
    run->outbox_ids = turn->outbox_ids;
    run->state = in->fresh ? apr_pmemdup(p, &in->state, sizeof(in->state)) : NULL;
    run->async = turn->async;
    return run;
}

/* Turns of one person never interleave: a session-level advisory lock on
 * their number, held from intake to reply. It dies with the connection,
 * so a killed process never leaves it behind. Without async it is waited
 * for; with async a lock held elsewhere is BUSY at once. */
static asst_turn_status_t lock_person(asst_db_t *db, apr_pool_t *p, asst_turn_t *turn, const char *phone)
{
    asst_db_rc_t rc;
    const char *got;

    if (!turn->async)
        rc = asst_db_exec(db, NULL, "SELECT pg_advisory_lock(1, hashtext($1))", ASST_DB_ARGS(phone));
    else if ((got = asst_db_value(db, p, &rc, "SELECT pg_try_advisory_lock(1, hashtext($1))",
                                  ASST_DB_ARGS(phone))) && strcmp(got, "f") == 0)
        return ASST_TURN_BUSY;
    return rc == ASST_DB_OK ? ASST_TURN_DONE : ASST_TURN_RETRY;
}

static void unlock_person(asst_db_t *db, const char *phone)
{
    asst_db_exec(db, NULL, "SELECT pg_advisory_unlock(1, hashtext($1))", ASST_DB_ARGS(phone));
}

static asst_turn_status_t retry(asst_db_t *db, apr_pool_t *p, asst_turn_t *turn)
{
    turn->error = apr_pstrdup(p, asst_db_error(db));
    apr_array_clear(turn->outbox_ids);
    return ASST_TURN_RETRY;
}

/* Runs the agent; a turn whose planner is thinking keeps its lock and is
 * parked in turn->waiting. */
static asst_turn_status_t run_agent(asst_db_t *db, apr_pool_t *p, asst_turn_t *turn, asst_run_t *run)
{
    int rv = asst_runner_run(run);

    if (rv == ASST_RUN_WAIT) {
        if (!turn->waiting) {
            turn->waiting = apr_pcalloc(p, sizeof(*turn->waiting));
            turn->waiting->run = *run;
            turn->waiting->generation = asst_db_generation(db);
        }
        return ASST_TURN_WAIT;
    }
    turn->waiting = NULL;
    return rv == 0 ? ASST_TURN_DONE : retry(db, p, turn);
}

/* After WAIT. A connection lost meanwhile took the lock with it: the
 * entry starts again from intake, which resumes the turn's journal. */
static asst_turn_status_t resume(asst_db_t *db, apr_pool_t *p, const asst_envelope_t *env, asst_turn_t *turn)
{
    asst_turn_status_t st;

    if (asst_db_generation(db) != turn->waiting->generation) {
        turn->waiting = NULL;
        turn->error = "the database connection was lost while the planner was thinking";
        apr_array_clear(turn->outbox_ids);
        return ASST_TURN_RETRY;
    }
    st = run_agent(db, p, turn, &turn->waiting->run);
    if (st != ASST_TURN_WAIT)
        unlock_person(db, env->from);
    return st;
}

asst_turn_status_t asst_turn_run(asst_db_t *db, apr_pool_t *p, const asst_envelope_t *env, asst_turn_t *turn)
{
    asst_turn_status_t st;
    intake_result_t in;
    intake_t what;

    if (turn->waiting)
        return resume(db, p, env, turn);
    if ((st = lock_person(db, p, turn, env->from)) != ASST_TURN_DONE)
        return st == ASST_TURN_RETRY ? retry(db, p, turn) : st;
    if (intake(db, p, turn, env, &in, &what) != ASST_DB_OK)
        st = retry(db, p, turn);
    else if (what == INTAKE_DUPLICATE)
        st = ASST_TURN_DUPLICATE;
    else if (what == INTAKE_AGENT)
        st = run_agent(db, p, turn, agent_run(db, p, turn, env, &in));
    if (st != ASST_TURN_WAIT)
        unlock_person(db, env->from);
    return st;
}
