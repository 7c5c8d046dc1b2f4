"""Shared fixtures: real SQLite files under tmp_path and a real PostgreSQL database, an
injectable clock.

``database`` is a SQLite file, or a fresh schema in this run's own PostgreSQL database (the
server at LIVEBLOG_TEST_POSTGRES, else 127.0.0.1:5432; scripts/test starts one when none
answers). A PostgreSQL that does not answer fails the run: it is never skipped.

The tests whose meaning depends on storage (:data:`BOTH_BACKENDS`) run once on each backend,
as eventsourcing runs its recorder contract on each; the rest, which would only repeat the same
application code over another connection, run on SQLite. A test that names its backends itself
(``@pytest.mark.parametrize("backend", [...])``) keeps them.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from events import EventStore

from . import TEST_SYNCHRONOUS
from .postgres import SERVER, own_database, with_schema

BACKENDS = ["sqlite", "postgresql"]
_schemas = itertools.count(1)

#: the tests run on both backends (by folder, file or test name: the start of its pytest id),
#: and why their meaning depends on storage
BOTH_BACKENDS = {
    "tests/events/": "the event store's contract: positions, versions, locks, chain, upcasting",
    "tests/api/test_idempotency.py": "a key's one write under concurrent retries",
    "tests/api/test_redaction.py": "redaction rewrites stored rows and scrubs them from disk",
    "tests/api/test_erasure.py": "erasure leaves no byte on disk (VACUUM, WAL, dead tuples)",
    "tests/api/test_questions.py::test_deleting": "a deleted question leaves no byte on disk",
    "tests/api/test_polls.py": "votes counted exactly where each backend keeps them",
    "tests/api/test_checkpoints.py": "projection checkpoints, catch-up and rebuild",
    "tests/api/test_audit.py": "as-of replay from the stored log",
    "tests/api/test_access.py": "who may do what: the access table over each backend's data",
    "tests/api/test_changes.py": "long polls woken by each backend's watcher (files, LISTEN)",
    "tests/api/test_proof.py": "the Merkle tree kept beside the stored chain",
    "tests/api/test_webhooks.py": "the outbox's claims and retries",
    "tests/cli/test_audit_cli.py": "verify, rebuild, export, import and replay of stored logs",
    "tests/scheduler/": "due posts claimed once across processes",
    "tests/test_rebuild.py": "a rebuild reproduces every stored read model byte for byte",
    "tests/e2e/test_nodes.py": "several nodes on one database",
    "tests/e2e/test_votes.py": "votes on two nodes and through a kill -9, counted where kept",
    "tests/e2e/test_waiting.py": "waiting readers woken through each backend's watcher",
    "tests/e2e/test_backup.py": "a consistent backup of a live database, and its restore",
    "tests/e2e/test_scheduling.py": "deployments sharing one database publish once",
    "tests/e2e/test_webhooks.py": "a node killed mid-delivery: the stored outbox resends",
    "tests/e2e/test_http.py::test_restart": "a restart reads the same feed back from storage",
    "tests/e2e/test_http.py::test_two_editors": "one winner of two concurrent edits",
    "tests/e2e/test_http.py::test_verify": "the stored log against its stored checkpoints",
}


def pytest_generate_tests(metafunc):
    """Runs a test that uses ``backend`` (through ``database``, ``store``, ``app``...) on both
    backends when its file is in :data:`BOTH_BACKENDS`, else on SQLite."""
    if "backend" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if "backend" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return
    test = metafunc.definition.nodeid  # "tests/e2e/test_http.py::test_restart_gives..."
    both = any(test.startswith(prefix) for prefix in BOTH_BACKENDS)
    metafunc.parametrize("backend", BACKENDS if both else ["sqlite"])


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


#: the modules of the longest tests (the fuzz: 45-72 s a role; the cache's readers: 50 s)
LONGEST = ("test_fuzz.py", "test_cache.py")


def pytest_collection_modifyitems(config, items):
    """The longest tests first, each at the head of another worker's share, then the other
    slow ones (servers, browsers, several processes), then the rest: spread from the start,
    they do not leave one worker running the last of them alone.

    xdist's ``worksteal`` hands each worker one contiguous share of this order to begin with
    (of n tests, the first n // 3 to the first of three ...), and an idle worker then steals
    the end of another's share. Sorted only, the first worker got both fuzzes and the cache
    test (~250 s in a row). The other tests keep their modules together, so that a module's
    shared server (a module-scoped fixture) is started once, not once in every worker."""
    items.sort(key=lambda item: (item.path.name not in LONGEST,
                                 item.get_closest_marker("slow") is None))
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    longest = [item for item in items if item.path.name in LONGEST]
    if workers < 2 or not longest:
        return
    rest = items[len(longest):]
    shares: list[list[pytest.Item]] = []
    left = len(items)
    for share in range(workers):
        size = left // (workers - share)  # what worksteal sends this worker first
        left -= size
        head = longest[share::workers]
        shares.append(head + rest[:max(0, size - len(head))])
        del rest[:max(0, size - len(head))]
    items[:] = [item for share in shares for item in share] + rest


@pytest.fixture
def backend(request):
    """The test's backend: given by :func:`pytest_generate_tests`, or the test's own
    ``parametrize``."""
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
def app_config():
    """Settings a module's app has besides the test defaults (override it in the module)."""
    return {}


@pytest.fixture
def app(database, clock, app_config):
    from liveblog import create_app

    application = create_app({"TESTING": True, "DATABASE": database, "CLOCK": clock,
                              "SYNCHRONOUS": TEST_SYNCHRONOUS, **app_config})
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

    def headers(self, role="editor", name="Jane Roe", blogs=()):
        """:param blogs: ids of the blogs the token is a member of (editor or contributor)."""
        from liveblog.api.views import service
        from liveblog.service import Actor
        from liveblog.tokens import create_token

        with self.app.app_context():
            _, token = create_token(service(), role, name, Actor("cli", "tests"), blogs)
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
