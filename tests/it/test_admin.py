"""assistant-admin against a real PostgreSQL and Redis: migrations, the schema
check the worker runs, users, queue, dead letters, outbox retry, and the
row-level security that keeps one user's rows from another's turn.

The binary: $ASST_ADMIN, else assistant-admin on PATH, else the newest
build*/worker/assistant-admin under the repository (or /tmp/build-db)."""

import glob
import json
import os
import shutil
import subprocess
import threading

import pytest

import stack
from fixtures_pg import PsqlError

# The migrations this tree carries: [(version, name)], from sql/NNN_name.sql.
MIGRATIONS = sorted((int(os.path.basename(f)[:3]), os.path.basename(f)[4:-4])
                    for f in glob.glob(os.path.join(stack.REPO_ROOT, "sql", "[0-9][0-9][0-9]_*.sql")))
LATEST = MIGRATIONS[-1][0]

A_PHONE = "+15551230001"
B_PHONE = "+15551230002"


def find_admin():
    env = os.environ.get("ASST_ADMIN")
    if env:
        return os.path.abspath(env)
    on_path = shutil.which("assistant-admin")
    if on_path:
        return on_path
    hits = glob.glob(os.path.join(stack.REPO_ROOT, "build*", "worker", "assistant-admin"))
    hits += glob.glob("/tmp/build-db/worker/assistant-admin")
    hits = [h for h in hits if os.access(h, os.X_OK)]
    return max(hits, key=os.path.getmtime) if hits else None


ADMIN = find_admin()
pytestmark = pytest.mark.skipif(ADMIN is None, reason="assistant-admin not built (set ASST_ADMIN)")


class Admin:
    def __init__(self, test_dir, dsn, redis_addr, name="worker.conf"):
        self.conf = stack.write_file(os.path.join(test_dir, name),
                                     'Database "%s"\nRedis %s\n' % (dsn, redis_addr))

    def run(self, *args, rc=0):
        r = subprocess.run([ADMIN, "-f", self.conf] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        if rc is not None:
            assert r.returncode == rc, "%s -> %d, wanted %d\nstdout: %s\nstderr: %s" % (
                " ".join(args), r.returncode, rc, r.stdout, r.stderr)
        return r


@pytest.fixture
def admin(test_dir, pg, redis_server):
    return Admin(test_dir, pg.dsn, redis_server.addr)


@pytest.fixture
def migrated(admin, pg):
    admin.run("migrate")
    return admin


def sys_rows(pg, sql):
    """Rows as the owner role in system scope (what delivery and admin see)."""
    return pg.query(sql, scope="system")


def add_user(pg, phone, status="active", code=None):
    return pg.value("INSERT INTO users (phone, status, pairing_code) VALUES (:'p', :'s', %s) "
                    "RETURNING id" % ("NULL" if code is None else ":'c'"),
                    scope="system", variables={"p": phone, "s": status, "c": code or ""})


def events_of(pg, user_id):
    return [r[0] for r in sys_rows(pg, "SELECT kind FROM events WHERE user_id = %d ORDER BY id"
                                       % int(user_id))]


# --------------------------------------------------------------------------
# migrations and the schema check


def test_migrate_twice_second_is_noop(admin, pg):
    r = admin.run("migrate")
    assert "applied %d migrations" % len(MIGRATIONS) in r.stdout
    assert "ASST02101" in r.stderr and "001_init" in r.stderr
    before = pg.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    assert [row[:2] for row in before] == [[str(v), n] for v, n in MIGRATIONS]
    assert MIGRATIONS[:2] == [(1, "init"), (2, "rls")]

    r = admin.run("migrate")
    assert "nothing to do" in r.stdout
    assert pg.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") == before

    owners = pg.query("SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity, "
                      "c.relforcerowsecurity FROM pg_class c WHERE c.relname IN "
                      "('users', 'messages', 'outbox', 'events') ORDER BY 1")
    assert owners == [[t, "assistant", "t", "t"] for t in ("events", "messages", "outbox", "users")]


def test_concurrent_migrates_apply_once(admin, pg):
    results = []

    def go():
        results.append(admin.run("migrate", rc=None))
    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert sum("applied %d migrations" % len(MIGRATIONS) in r.stdout for r in results) == 1
    assert pg.value("SELECT count(*) FROM schema_migrations") == str(len(MIGRATIONS))


def test_schema_check_names_the_command(admin, pg):
    hint = "assistant-admin -f %s migrate" % admin.conf
    r = admin.run("migrate", "--check", rc=1)
    assert "no assistant schema" in r.stderr and hint in r.stderr

    admin.run("migrate")
    r = admin.run("migrate", "--check")
    assert "up to date (version %d)" % LATEST in r.stdout

    # an older schema: what a binary one migration ahead of the database sees
    pg.execute("DELETE FROM schema_migrations WHERE version = %d" % LATEST)
    r = admin.run("migrate", "--check", rc=1)
    assert "at version %d but this binary needs %d" % (LATEST - 1, LATEST) in r.stderr
    assert "%03d_%s is missing" % MIGRATIONS[-1] in r.stderr and hint in r.stderr


def test_schema_check_refuses_a_superuser(test_dir, pg, redis_server, migrated):
    su = Admin(test_dir, pg.super_dsn, redis_server.addr, name="super.conf")
    r = su.run("migrate", "--check", rc=1)
    assert "superuser" in r.stderr and "row-level security" in r.stderr
    r = su.run("migrate")
    assert "nothing to do" in r.stdout and "ASST02106" in r.stderr


def test_broken_migration_is_rolled_back(admin, pg):
    # a table in the way: 001 fails as a whole and nothing is recorded
    pg.execute("CREATE TABLE users (x int)")
    r = admin.run("migrate", rc=1)
    assert "migration 001_init failed" in r.stderr
    assert pg.value("SELECT count(*) FROM schema_migrations") == "0"
    assert pg.value("SELECT to_regclass('messages') IS NULL") == "t"


# --------------------------------------------------------------------------
# users


def test_users_add_list(migrated, pg):
    r = migrated.run("users", "add", A_PHONE, "--name", "Ada L", "--tz", "Europe/Paris")
    assert "added %s" % A_PHONE in r.stdout
    migrated.run("users", "add", B_PHONE)
    lines = migrated.run("users", "list").stdout.splitlines()
    assert lines[0].split() == ["PHONE", "NAME", "STATUS", "TIMEZONE", "CREATED"]
    assert A_PHONE in lines[1] and "Ada L" in lines[1] and "active" in lines[1] \
        and "Europe/Paris" in lines[1] and "UTC" in lines[1]
    assert B_PHONE in lines[2] and " - " in lines[2] and "UTC" in lines[2]
    uid = pg.value("SELECT id FROM users WHERE phone = '%s'" % A_PHONE, scope="system")
    ev = sys_rows(pg, "SELECT kind, data->>'timezone', data->>'via' FROM events "
                      "WHERE user_id = %s" % uid)
    assert ev == [["user_added", "Europe/Paris", "assistant-admin"]]

    r = migrated.run("users", "add", A_PHONE, rc=1)
    assert "already a user" in r.stderr
    r = migrated.run("users", "add", "+1555123", "--tz", "Mars/Olympus", rc=1)
    assert "unknown timezone" in r.stderr
    for bad in ("5551230003", "+0555123", "+1", "+1555123456789012", "+1555abc"):
        r = migrated.run("users", "add", bad, rc=2)
        assert "E.164" in r.stderr
    migrated.run("users", "add", A_PHONE, "--bogus", rc=2)
    assert pg.value("SELECT count(*) FROM users", scope="system") == "2"


def test_users_list_empty_and_flagged(migrated, pg):
    assert "(no users)" in migrated.run("users", "list").stdout
    uid = add_user(pg, A_PHONE)
    pg.execute("UPDATE users SET flagged = true WHERE id = %s" % uid, scope="system")
    assert "active,flagged" in migrated.run("users", "list").stdout


def test_users_approve(migrated, pg):
    uid = add_user(pg, A_PHONE, status="pending", code="K7M2P9QX")
    r = migrated.run("users", "approve", "k7m2p9qx")          # case does not matter
    assert "approved %s" % A_PHONE in r.stdout
    assert sys_rows(pg, "SELECT status, pairing_code IS NULL FROM users WHERE id = %s" % uid) \
        == [["active", "t"]]
    assert events_of(pg, uid) == ["user_approved"]
    r = migrated.run("users", "approve", "K7M2P9QX", rc=1)
    assert "no pending user" in r.stderr
    migrated.run("users", "approve", rc=2)
    # a pending user cannot be "added" past its pairing
    add_user(pg, B_PHONE, status="pending", code="AAAABBBB")
    r = migrated.run("users", "add", B_PHONE, rc=1)
    assert "users approve" in r.stderr


def test_users_block_unblock(migrated, pg):
    uid = add_user(pg, A_PHONE)
    r = migrated.run("users", "block", A_PHONE)
    assert "blocked %s" % A_PHONE in r.stdout
    assert pg.value("SELECT status FROM users WHERE id = %s" % uid, scope="system") == "blocked"
    r = migrated.run("users", "block", A_PHONE)
    assert "already blocked" in r.stdout
    migrated.run("users", "unblock", A_PHONE)
    assert pg.value("SELECT status FROM users WHERE id = %s" % uid, scope="system") == "active"
    assert "nothing to do" in migrated.run("users", "unblock", A_PHONE).stdout
    assert events_of(pg, uid) == ["user_blocked", "user_unblocked"]
    data = sys_rows(pg, "SELECT data->>'from', data->>'to' FROM events WHERE user_id = %s "
                        "ORDER BY id" % uid)
    assert data == [["active", "blocked"], ["blocked", "active"]]

    # a block never undoes an opt-out
    oid = add_user(pg, B_PHONE, status="opted_out")
    migrated.run("users", "block", B_PHONE)
    migrated.run("users", "unblock", B_PHONE)
    assert pg.value("SELECT status FROM users WHERE id = %s" % oid, scope="system") == "opted_out"

    r = migrated.run("users", "block", "+15559999999", rc=1)
    assert "no user" in r.stderr
    migrated.run("users", "block", rc=2)
    migrated.run("users", "frobnicate", rc=2)


# --------------------------------------------------------------------------
# queue, dead letters, outbox


def make_outbox(pg, uid, status, error=None):
    mid = pg.value("INSERT INTO messages (user_id, direction, body, status) "
                   "VALUES (%s, 'out', 'hi', :'st') RETURNING id" % uid, scope="system",
                   variables={"st": "failed" if status == "failed" else "pending"})
    return pg.value("INSERT INTO outbox (user_id, kind, payload, status, attempts, last_error, "
                    "message_id, next_attempt_at) VALUES (%s, 'sms', '{\"body\":\"hi\"}', :'st', 5, "
                    "%s, %s, now() + interval '1 hour') RETURNING id"
                    % (uid, "'HTTP 400'" if error else "NULL", mid),
                    scope="system", variables={"st": status})


def envelope(sid, from_=A_PHONE):
    return json.dumps({"v": 1, "sid": sid, "from": from_, "to": "+15005550006", "body": "hello",
                       "account": "AC1", "num_media": 0, "media": [], "received_ms": 1,
                       "params": {}})


def test_queue(migrated, pg, rdb):
    uid = add_user(pg, A_PHONE)
    for status in ("pending", "pending", "sent", "failed"):
        make_outbox(pg, uid, status)
    for i in range(3):
        rdb.xadd("{asst}:in", {"env": envelope("SM%d" % i)})
    rdb.xgroup_create("{asst}:in", "workers", id="0")
    rdb.xreadgroup("workers", "host:1", {"{asst}:in": ">"}, count=2)
    rdb.xadd("{asst}:dead", {"reason": "x", "env": envelope("SMd")})

    out = migrated.run("queue").stdout
    assert "stream {asst}:in: 3 entries, 2 pending in group workers (1 consumers)" in out
    assert "stream {asst}:status: 0 entries, no group workers yet" in out
    assert "dead letters {asst}:dead: 1 entries" in out
    assert "outbox: pending 2 (due 0), sending 0, unknown 0, sent 1, failed 1" in out


def test_queue_reports_outbox_when_redis_is_down(migrated, pg, redis_server):
    redis_server.stop()
    r = migrated.run("queue", rc=1)
    assert "Redis" in r.stderr
    assert "outbox: pending 0" in r.stdout


def dead_entry(rdb, sid, reason="max deliveries (5) exceeded", stream="{asst}:in", env=True):
    fields = {"stream": stream, "id": "1-0", "reason": reason, "deliveries": "5"}
    fields["env"] = envelope(sid) if env else ""
    return rdb.xadd("{asst}:dead", fields)


def test_dead_list_and_replay(migrated, pg, rdb):
    assert "(no dead letters)" in migrated.run("dead", "list").stdout
    d1 = dead_entry(rdb, "SMone", reason="unknown envelope version 9")
    d2 = dead_entry(rdb, "SMtwo")
    d3 = dead_entry(rdb, "SMstat", stream="{asst}:status")
    out = migrated.run("dead", "list").stdout.splitlines()
    assert out[0].startswith(d1) and 'reason="unknown envelope version 9"' in out[0]
    assert "sid=SMone" in out[0] and "from=%s" % A_PHONE in out[0] and "hello" not in out[0]
    assert out[1].startswith(d2) and out[2].startswith(d3)
    assert "3 dead letters" in out[3]

    r = migrated.run("dead", "replay", d1)
    assert "replayed %s to {asst}:in" % d1 in r.stdout
    entries = rdb.xrange("{asst}:in")
    assert len(entries) == 1 and json.loads(entries[0][1]["env"])["sid"] == "SMone"
    assert [e[0] for e in rdb.xrange("{asst}:dead")] == [d2, d3]
    ev = sys_rows(pg, "SELECT user_id IS NULL, data->>'dead_id', data->>'new_id', data->>'sid' "
                      "FROM events WHERE kind = 'dead_replayed'")
    assert ev == [["t", d1, entries[0][0], "SMone"]]

    r = migrated.run("dead", "replay", d1, rc=1)
    assert "no dead letter" in r.stderr

    migrated.run("dead", "replay", "--all")
    assert rdb.xlen("{asst}:dead") == 0
    assert [json.loads(e[1]["env"])["sid"] for e in rdb.xrange("{asst}:in")] == ["SMone", "SMtwo"]
    assert [json.loads(e[1]["env"])["sid"] for e in rdb.xrange("{asst}:status")] == ["SMstat"]
    assert pg.value("SELECT count(*) FROM events WHERE kind = 'dead_replayed'", scope="system") == "3"


def test_dead_replay_keeps_entries_without_envelope(migrated, pg, rdb):
    d = dead_entry(rdb, "SMx", env=False)
    r = migrated.run("dead", "replay", "--all", rc=1)
    assert "no envelope" in r.stderr
    assert [e[0] for e in rdb.xrange("{asst}:dead")] == [d]
    assert pg.value("SELECT count(*) FROM events", scope="system") == "0"
    for bad in (["dead"], ["dead", "replay"], ["dead", "replay", "abc"], ["dead", "purge"]):
        migrated.run(*bad, rc=2)


def test_outbox_retry(migrated, pg):
    uid = add_user(pg, A_PHONE)
    f1 = make_outbox(pg, uid, "failed", error=True)
    f2 = make_outbox(pg, uid, "failed", error=True)
    sent = make_outbox(pg, uid, "sent")

    r = migrated.run("outbox", "retry", sent, rc=1)
    assert "is sent, not failed" in r.stderr
    r = migrated.run("outbox", "retry", "999999", rc=1)
    assert "no outbox row" in r.stderr

    migrated.run("outbox", "retry", f1)
    row = sys_rows(pg, "SELECT o.status, o.attempts, o.next_attempt_at <= now(), m.status "
                       "FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.id = %s" % f1)
    assert row == [["pending", "0", "t", "pending"]]
    assert pg.value("SELECT status FROM outbox WHERE id = %s" % f2, scope="system") == "failed"

    r = migrated.run("outbox", "retry", "--failed")
    assert "1 failed outbox row is pending again" in r.stdout
    assert sys_rows(pg, "SELECT status, count(*) FROM outbox GROUP BY 1 ORDER BY 1") == \
        [["pending", "2"], ["sent", "1"]]
    ev = sys_rows(pg, "SELECT data->>'outbox_id', data->>'last_error', data->>'via' FROM events "
                      "WHERE kind = 'outbox_retried' ORDER BY id")
    assert ev == [[f1, "HTTP 400", "assistant-admin"], [f2, "HTTP 400", "assistant-admin"]]
    assert "0 failed outbox rows are pending again" in migrated.run("outbox", "retry", "--failed").stdout
    for bad in (["outbox"], ["outbox", "retry"], ["outbox", "retry", "x1"], ["outbox", "list"]):
        migrated.run(*bad, rc=2)


# --------------------------------------------------------------------------
# row-level security


@pytest.fixture
def two_users(migrated, pg):
    """Users A and B, each with a message, an outbox row and an event."""
    ids = []
    for phone in (A_PHONE, B_PHONE):
        uid = add_user(pg, phone)
        make_outbox(pg, uid, "pending")
        pg.execute("INSERT INTO events (user_id, kind) VALUES (%s, 'test')" % uid, scope="system")
        ids.append(int(uid))
    return ids


def test_rls_user_sees_only_own_rows(two_users, pg):
    a, b = two_users
    for table in ("messages", "outbox", "events"):
        rows = pg.query("SELECT DISTINCT user_id FROM %s" % table, user_id=a)
        assert rows == [[str(a)]], table
        assert pg.value("SELECT count(*) FROM %s WHERE user_id = %d" % (table, b), user_id=a) == "0"
    assert pg.query("SELECT id FROM users", user_id=a) == [[str(a)]]
    assert pg.query("UPDATE messages SET body = 'x' WHERE user_id = %d RETURNING id" % b,
                    user_id=a) == []
    assert pg.query("UPDATE outbox SET status = 'sent' WHERE user_id = %d RETURNING id" % b,
                    user_id=a) == []
    assert pg.query("DELETE FROM outbox WHERE user_id = %d RETURNING id" % b, user_id=a) == []
    assert pg.query("UPDATE users SET name = 'x' WHERE id = %d RETURNING id" % b, user_id=a) == []
    # nothing of B's changed
    assert sys_rows(pg, "SELECT m.body, o.status FROM messages m JOIN outbox o ON o.message_id = m.id "
                        "WHERE m.user_id = %d" % b) == [["hi", "pending"]]


def test_rls_refuses_writes_for_another_user(two_users, pg):
    a, b = two_users
    for sql in ("INSERT INTO messages (user_id, direction, body, status) VALUES (%d, 'in', 'x', 'received')",
                "INSERT INTO outbox (user_id, kind) VALUES (%d, 'sms')",
                "INSERT INTO events (user_id, kind) VALUES (%d, 'test')",
                "UPDATE messages SET user_id = %d"):
        rc, _, err = pg.run(sql % b, user_id=a, check=False)
        assert rc != 0 and "row-level security" in err, sql
    # its own rows it can write
    pg.execute("INSERT INTO messages (user_id, direction, body, status) VALUES (%d, 'in', 'x', "
               "'received')" % a, user_id=a)
    # events about no one are system-scope only
    rc, _, err = pg.run("INSERT INTO events (kind) VALUES ('test')", user_id=a, check=False)
    assert rc != 0 and "row-level security" in err


def test_rls_system_scope_and_no_scope(two_users, pg):
    a, b = two_users
    for table in ("messages", "outbox", "events"):
        assert pg.value("SELECT count(DISTINCT user_id) FROM %s" % table, scope="system") == "2"
        # with neither setting: nothing at all, and no error once a SET LOCAL
        # earlier in the session has left the setting at ''
        rows = pg.query("BEGIN;\nSELECT set_config('asst.user_id', '%d', true) \\g /dev/null\n"
                        "COMMIT;\nSELECT count(*) FROM %s;" % (a, table))
        assert rows == [["0"]], table
    # a user id does not widen a system scope, nor does '' scope mean system
    assert pg.value("SELECT count(*) FROM messages", scope="") == "0"


def test_rls_binds_owner_not_superuser(two_users, pg):
    # the owner role is bound (FORCE), a superuser is not: hence the worker's
    # non-superuser role and the schema check that refuses a superuser
    assert pg.value("SELECT count(*) FROM messages") == "0"
    assert pg.value("SELECT count(*) FROM messages", user="postgres") == "2"


def test_events_are_append_only(two_users, pg):
    for sql in ("UPDATE events SET kind = 'x'", "DELETE FROM events", "TRUNCATE events"):
        for user in ("assistant", "postgres"):
            with pytest.raises(PsqlError, match="append-only"):
                pg.run(sql, user=user, scope="system")
    assert pg.value("SELECT count(*) FROM events", scope="system") == "2"


# --------------------------------------------------------------------------
# the C database layer (tests/unit/test_db, built by make check) live


def test_db_layer_live(pg):
    binary = os.path.join(os.path.dirname(os.path.dirname(ADMIN)), "tests", "unit", "test_db")
    if not os.access(binary, os.X_OK):
        pytest.skip("%s not built (make check builds it)" % binary)
    r = subprocess.run([binary], env=dict(os.environ, ASST_TEST_PG_DSN=pg.dsn, CK_FORK="yes"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0, r.stdout
    assert "unset" not in r.stdout


# --------------------------------------------------------------------------
# failures and usage


def test_unreachable_database(test_dir, redis_server):
    port = stack.free_port()
    bad = Admin(test_dir, "host=127.0.0.1 port=%d dbname=x user=assistant connect_timeout=2" % port,
                redis_server.addr, name="bad.conf")
    for args in (["users", "list"], ["migrate"], ["migrate", "--check"], ["outbox", "retry", "--failed"]):
        r = bad.run(*args, rc=1)
        assert "cannot connect to PostgreSQL" in r.stderr, args


def test_usage(test_dir):
    def run(*args):
        return subprocess.run([ADMIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=30)
    assert run("-h").returncode == 0 and "users approve CODE" in run("-h").stdout
    assert run().returncode == 2
    assert run("users", "list").returncode == 2                 # no -f
    conf = stack.write_file(os.path.join(test_dir, "w.conf"), "Workers 2\n")
    assert run("-f", conf).returncode == 2                      # no command
    assert run("-f", conf, "frobnicate").returncode == 2
    r = run("-f", os.path.join(test_dir, "missing.conf"), "queue")
    assert r.returncode == 1 and "missing.conf" in r.stderr
    bad = stack.write_file(os.path.join(test_dir, "bad.conf"), "Workers many\n")
    r = run("-f", bad, "queue")
    assert r.returncode == 1 and "bad.conf:1" in r.stderr
