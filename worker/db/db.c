#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "asst_backoff.h"
#include "asst_log.h"
#include "db_private.h"

#define BACKOFF_MIN (100 * 1000)
#define BACKOFF_MAX (5 * 1000 * 1000)

static apr_time_t system_clock(void *baton)
{
    (void)baton;
    return apr_time_now();
}

static apr_status_t db_cleanup(void *data)
{
    asst_db_close(data);
    return APR_SUCCESS;
}

asst_db_t *asst_db_create(apr_pool_t *p, const char *conninfo)
{
    asst_db_t *db = apr_pcalloc(p, sizeof(*db));

    db->conninfo = apr_pstrdup(p, conninfo);
    db->now = system_clock;
    db->backoff_min = BACKOFF_MIN;
    db->backoff_max = BACKOFF_MAX;
    db->delay = BACKOFF_MIN;
    apr_pool_cleanup_register(p, db, db_cleanup, apr_pool_cleanup_null);
    return db;
}

void asst_db_set_clock(asst_db_t *db, asst_db_clock_fn *now, void *baton)
{
    db->now = now ? now : system_clock;
    db->clock_baton = baton;
}

void asst_db_set_backoff(asst_db_t *db, apr_interval_time_t min, apr_interval_time_t max)
{
    db->backoff_min = min > 0 ? min : 1;
    db->backoff_max = max > db->backoff_min ? max : db->backoff_min;
    db->delay = db->backoff_min;
}

/* libpq's messages end in a newline and may span lines: keep line one. */
void asst_db_note_error(asst_db_t *db, const char *sqlstate, const char *msg)
{
    size_t n;

    apr_cpystrn(db->sqlstate, sqlstate ? sqlstate : "", sizeof(db->sqlstate));
    apr_cpystrn(db->error, msg && *msg ? msg : "unknown PostgreSQL error", sizeof(db->error));
    n = strcspn(db->error, "\n");
    db->error[n] = '\0';
}

const char *asst_db_error(const asst_db_t *db)
{
    return db->error;
}

const char *asst_db_sqlstate(const asst_db_t *db)
{
    return db->sqlstate;
}

static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    asst_log(ASST_LOG_DEBUG, "ASST02005: PostgreSQL says: %.*s", (int)strcspn(message, "\n"),
             message);
}

/* connect_timeout and the application name come before the caller's
 * conninfo, so values it sets itself win (libpq: later keywords override). */
static PGconn *dial(const char *conninfo)
{
    static const char *const keys[] = { "connect_timeout", "fallback_application_name",
                                        "dbname", NULL };
    const char *values[] = { "5", "assistant-worker", conninfo, NULL };

    return PQconnectdbParams(keys, values, 1);
}

static void dial_failed(asst_db_t *db, PGconn *conn)
{
    asst_db_note_error(db, "", conn ? PQerrorMessage(conn) : "out of memory");
    PQfinish(conn);
    db->failures++;
    db->next_dial = db->now(db->clock_baton) + db->delay;
    asst_log(ASST_LOG_WARN, "ASST02001: cannot connect to PostgreSQL (attempt %u, next in %" APR_TIME_T_FMT
             " ms): %s", db->failures, apr_time_as_msec(db->delay), db->error);
    db->delay = asst_backoff_double(db->delay, db->delay, db->backoff_max);
}

static void dial_succeeded(asst_db_t *db, PGconn *conn)
{
    if (db->failures)
        asst_log(ASST_LOG_INFO, "ASST02003: connected to PostgreSQL again after %u failed attempts",
                 db->failures);
    else
        asst_log(ASST_LOG_DEBUG, "ASST02002: connected to PostgreSQL (server %d, pid %d)",
                 PQserverVersion(conn), PQbackendPID(conn));
    PQsetNoticeProcessor(conn, notice_to_log, db);
    db->conn = conn;
    db->generation++;
    db->failures = 0;
    db->delay = db->backoff_min;
    db->in_tx = 0;
}

PGconn *asst_db_conn(asst_db_t *db, const char **err)
{
    PGconn *conn;

    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return db->conn;
    if (db->conn)
        asst_db_check(db, NULL);             /* broken: drop it, remember a lost tx */
    if (db->now(db->clock_baton) < db->next_dial) {
        *err = db->error;
        return NULL;
    }
    conn = dial(db->conninfo);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        dial_failed(db, conn);
        *err = db->error;
        return NULL;
    }
    dial_succeeded(db, conn);
    return conn;
}

unsigned long asst_db_generation(const asst_db_t *db)
{
    return db->generation;
}

apr_interval_time_t asst_db_retry_in(asst_db_t *db)
{
    apr_time_t now = db->now(db->clock_baton);

    if (db->conn || now >= db->next_dial)
        return 0;
    return db->next_dial - now;
}

/* SQLSTATE classes that mean the session is gone or going: 08 connection
 * exception, 57P01-57P03 admin/crash shutdown, cannot connect now. */
static int connection_level(const char *state)
{
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
           strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

static void drop(asst_db_t *db)
{
    asst_log(ASST_LOG_WARN, "ASST02004: PostgreSQL connection lost%s: %s",
             db->in_tx ? " inside a transaction" : "", db->error);
    PQfinish(db->conn);
    db->conn = NULL;
    db->tx_lost = db->in_tx;
    db->in_tx = 0;
    db->next_dial = 0;                       /* redial at once; back off if that fails */
    db->delay = db->backoff_min;
}

asst_db_rc_t asst_db_check(asst_db_t *db, const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *state;

    if (db->conn && res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
        db->in_tx = PQtransactionStatus(db->conn) != PQTRANS_IDLE;
        return ASST_DB_OK;
    }
    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (res && st == PGRES_FATAL_ERROR) {
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        asst_db_note_error(db, state, primary ? primary : PQresultErrorMessage(res));
    }
    else if (res)
        asst_db_note_error(db, state, PQresStatus(st));
    else if (db->conn)
        asst_db_note_error(db, "", PQerrorMessage(db->conn));
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK || (state && connection_level(state))) {
        if (db->conn)
            drop(db);
        return ASST_DB_ECONN;
    }
    db->in_tx = PQtransactionStatus(db->conn) != PQTRANS_IDLE;
    asst_log(ASST_LOG_DEBUG, "ASST02006: statement failed (%s): %s", db->sqlstate, db->error);
    return ASST_DB_ESTMT;
}

void asst_db_close(asst_db_t *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
    db->in_tx = 0;
    db->tx_lost = 0;
}
