"""A private PostgreSQL for the end-to-end tests (imported by conftest.py;
the server is harness.postgres's).

One server per session, and a fresh database per test owned by the ordinary
LOGIN role `assistant` (not a superuser, no BYPASSRLS).

Fixtures:
  pg_server  the session's PostgresServer, running (tests may stop()/start()/
             kill() it; it is started again before the next test)
  pg         a PgDatabase: a fresh database for this test, dropped after it;
             .dsn (owner `assistant`), .super_dsn (superuser), .url,
             .query()/.execute()/.run() through psql, .server
"""

import os

import pytest

import stack  # noqa: F401  (puts tests/ on sys.path)
from harness.postgres import PG_BINDIR, PgDatabase, PostgresServer, PsqlError  # noqa: F401

__all__ = ["_pg_session", "pg_server", "pg"]


@pytest.fixture(scope="session")
def _pg_session(base_dir):
    if not PG_BINDIR or not os.access(os.path.join(PG_BINDIR, "psql"), os.X_OK):
        pytest.skip("PostgreSQL not installed (Debian: postgresql, postgresql-client)")
    server = PostgresServer(base_dir).initdb().start().setup_roles()
    yield server
    server.stop()


@pytest.fixture
def pg_server(_pg_session):
    """The session's PostgreSQL, running. Tests may stop()/start()/restart() it."""
    if not _pg_session.running:
        _pg_session.restart()
    yield _pg_session
    if not _pg_session.running:
        _pg_session.restart()


_db_counter = [0]


@pytest.fixture
def pg(pg_server):
    """A fresh, empty database owned by `assistant`, dropped after the test."""
    _db_counter[0] += 1
    db = PgDatabase(pg_server, "t%d_%d" % (os.getpid(), _db_counter[0])).create()
    yield db
    if not pg_server.running:
        pg_server.restart()
    db.drop()
