"""PostgreSQL databases and schemas of their own, for the tests and the benchmarks (no pytest
here: the benchmarks' environment has none)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

#: the server the tests and benchmarks use: LIVEBLOG_TEST_POSTGRES, else the machine's own
SERVER = os.environ.get("LIVEBLOG_TEST_POSTGRES",
                        "postgresql://postgres@127.0.0.1:5432/postgres")


def with_database(url: str, name: str) -> str:
    """``url`` naming the database ``name`` instead."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def with_schema(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` (created if missing) for everything."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    options = quote(f"-csearch_path={schema}")
    return url + ("&" if "?" in url else "?") + f"options={options}"


@contextlib.contextmanager
def own_database(server: str, prefix: str) -> Iterator[str]:
    """A new database on ``server`` for the block, dropped after it (connections and all).

    :raises psycopg.OperationalError: the server does not answer.
    """
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        # a commit waits for no fsync: a lost commit would need this server to crash, which no
        # test does (SQLite's test apps and servers commit alike: tests.TEST_SYNCHRONOUS)
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
