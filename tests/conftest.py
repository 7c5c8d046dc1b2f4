"""Shared fixtures: real SQLite files under tmp_path, an injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events import EventStore


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
def store(db_path, clock):
    s = EventStore.open(db_path, clock=clock)
    yield s
    s.close()


# -- the application ------------------------------------------------------------------------


@pytest.fixture
def app(db_path, clock):
    from liveblog import create_app

    application = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock})
    yield application
    application.extensions["liveblog.db"].close()


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
        from liveblog.db import get_db

        return get_db().store().head().position
