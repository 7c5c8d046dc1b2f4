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
