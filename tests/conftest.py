"""Shared fixtures: real SQLite files under tmp_path and a real PostgreSQL database, an
injectable clock.

``store``, ``app`` and everything built on them run once on each backend (the contract suite):
``database`` is a SQLite file, or a fresh schema in this run's own PostgreSQL database (the
server at LIVEBLOG_TEST_POSTGRES, else 127.0.0.1:5432; scripts/test starts one when none
answers). A PostgreSQL that does not answer fails the run: it is never skipped.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from events import EventStore

from .postgres import SERVER, own_database, with_schema

BACKENDS = ["sqlite", "postgresql"]
_schemas = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server():
    """This test run's own PostgreSQL database (created fresh, dropped at the end)."""
    try:
        psycopg.connect(SERVER, connect_timeout=5).close()
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL does not answer at {SERVER} ({e}); run scripts/test, which"
                    " starts one, or set LIVEBLOG_TEST_POSTGRES", pytrace=False)
    with own_database(SERVER, "liveblog_test") as url:
        yield url


def fresh_postgres(server: str) -> str:
    """A URL to a new, empty schema of this run's database."""
    return with_schema(server, f"t{next(_schemas)}_{secrets.token_hex(2)}")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database(backend, tmp_path, request):
    """Where a test's log lives: a SQLite file or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        return str(tmp_path / "test.db")
    return fresh_postgres(request.getfixturevalue("postgres_server"))


class Clock:
    """A clock tests can move: each call returns the current time, ``advance`` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2022, 1, 21, 13, 31, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"


@pytest.fixture
def store(database, clock):
    s = EventStore.open(database, clock=clock)
    yield s
    s.close()


# -- the application ------------------------------------------------------------------------


@pytest.fixture
def app(database, clock):
    from liveblog import create_app

    application = create_app({"TESTING": True, "DATABASE": database, "CLOCK": clock})
    yield application
    application.extensions["liveblog"].shutdown()


@pytest.fixture
def client(app):
    return app.test_client()


class Tokens:
    """Creates real tokens through the real service and returns request headers (flaskr's
    AuthActions)."""

    def __init__(self, app):
        self.app = app

    def headers(self, role="editor", name="Jane Roe"):
        from liveblog.api.views import service
        from liveblog.service import Actor
        from liveblog.tokens import create_token

        with self.app.app_context():
            _, token = create_token(service(), role, name, Actor("cli", "tests"))
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(app):
    return Tokens(app)


@pytest.fixture
def editor(tokens):
    return tokens.headers("editor", "Jane Roe")


@pytest.fixture
def auditor(tokens):
    return tokens.headers("auditor", "Audrey Auditor")


def log_head(app):
    """The log's head position: tests assert that failed requests appended nothing."""
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        return get_liveblog().store().head().position
